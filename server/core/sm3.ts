/**
 * SM3 (GB/T 32905) for the core. sm-crypto-v2's pure implementation by default, so the core runs
 * anywhere (a browser, a worker); the gateway swaps in Node's OpenSSL (server/crypto/nativeHashes.ts).
 * Both compute the same function: test/core/smSuite.test.ts compares them.
 */
import { sm3 as pureSm3Hex } from "sm-crypto-v2";
import { hexToBytes } from "./bytes.ts";

type Sm3 = (data: Uint8Array) => Uint8Array;

const pureSm3: Sm3 = (data) => hexToBytes(`0x${pureSm3Hex(data)}`);

let implementation: Sm3 = pureSm3;

/** The 32-byte SM3 digest of `data`. */
export function sm3(data: Uint8Array): Uint8Array {
  return implementation(data);
}

/** Replaces the implementation; `null` restores the pure one. */
export function useSm3(replacement: Sm3 | null): void {
  implementation = replacement ?? pureSm3;
}
