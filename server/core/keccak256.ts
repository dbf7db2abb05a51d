/**
 * Keccak-256 (Ethereum's, with Keccak's 0x01 padding, not SHA3-256's 0x06) for the core. Pure
 * JavaScript by default, so the core runs anywhere (a browser, a worker); the gateway, its verify
 * workers and the CLI swap in a native one (server/crypto/nativeHashes.ts), several times faster
 * on the 66- and 160-byte inputs of an EIP-712 digest. Both compute the same function:
 * test/crypto/nativeHashes.test.ts compares them.
 */
import { keccak_256 as pureKeccak256 } from "@noble/hashes/sha3.js";

export type Keccak256 = (data: Uint8Array) => Uint8Array;

let implementation: Keccak256 = pureKeccak256;

export function keccak256(data: Uint8Array): Uint8Array {
  return implementation(data);
}

/** Replaces the implementation; `null` restores the pure one. Returns the one it replaced. */
export function useKeccak256(replacement: Keccak256 | null): Keccak256 {
  const replaced = implementation;
  implementation = replacement ?? pureKeccak256;
  return replaced;
}
