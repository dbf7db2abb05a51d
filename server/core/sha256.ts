/**
 * SHA-256 for the core. Pure JavaScript by default, so the core runs anywhere (a browser, a
 * worker); the gateway swaps in Node's native implementation (server/crypto/nativeHashes.ts),
 * several times faster on the short inputs a log hashes. Both compute the same function:
 * test/crypto/nativeHashes.test.ts compares them.
 */
import { sha256 as pureSha256 } from "@noble/hashes/sha2.js";

type Sha256 = (data: Uint8Array) => Uint8Array;

let implementation: Sha256 = pureSha256;

export function sha256(data: Uint8Array): Uint8Array {
  return implementation(data);
}

/** Replaces the implementation; `null` restores the pure one. */
export function useSha256(replacement: Sha256 | null): void {
  implementation = replacement ?? pureSha256;
}
