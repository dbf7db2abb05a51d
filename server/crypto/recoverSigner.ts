/**
 * Signer recovery for EIP-712 digests with native secp256k1 (libsecp256k1 prebuilt in the npm
 * package), much faster than pure JavaScript; falls back to ethers where the native
 * module cannot load.
 */
import { createRequire } from "node:module";
import { bytesToHex } from "../core/bytes.ts";
import { type SignatureParts, parseSignature } from "../core/eip712.ts";
import { keccak256 } from "../core/keccak256.ts";

interface NativeSecp256k1 {
  ecdsaRecover(signature: Uint8Array, recovery: number, message: Uint8Array, compressed: boolean): Uint8Array;
}

let native: NativeSecp256k1 | null = null;
try {
  native = createRequire(import.meta.url)("secp256k1/bindings.js") as NativeSecp256k1;
} catch {
  native = null;
}
/**
 * ethers' recovery, loaded only where the native module is missing: the verify workers import
 * this module, and ethers held several MB of every worker's memory.
 */
let fallback: ((digest: Uint8Array, signature: string) => string) | null = null;
function recoverWithEthers(digest: Uint8Array, signature: string): string {
  fallback ??= (createRequire(import.meta.url)("ethers") as typeof import("ethers")).recoverAddress;
  return fallback(digest, signature);
}

/**
 * Addresses of recently recovered public keys. A unit signs many records with one key, so the
 * keccak256 of its public key is computed once, not once per record. Bounded: cleared when full.
 */
const addressOfKey = new Map<string, string>();
const MAX_CACHED_KEYS = 10_000;

function addressOf(publicKey: Uint8Array): string {
  const key = bytesToHex(publicKey);
  let address = addressOfKey.get(key);
  if (address === undefined) {
    address = bytesToHex(keccak256(publicKey.subarray(1)).subarray(12));
    if (addressOfKey.size >= MAX_CACHED_KEYS) addressOfKey.clear();
    addressOfKey.set(key, address);
  }
  return address;
}

/**
 * The checksum-free lower-case address that signed `digest`, or null for a malformed, high-s
 * or unrecoverable signature.
 */
export function recoverSigner(digest: Uint8Array, signature: string): string | null {
  const parts = parseSignature(signature);
  return parts ? recoverSignerFromParts(digest, parts) : null;
}

/**
 * recoverSigner for a signature already split by parseSignature or signatureParts (the
 * gateway needs its bytes for the leaf too).
 */
export function recoverSignerFromParts(digest: Uint8Array, parts: SignatureParts): string | null {
  try {
    if (native) {
      // r ‖ s: the first 64 of the signature's bytes.
      const publicKey = native.ecdsaRecover(parts.bytes.subarray(0, 64), parts.recovery, digest, false);
      return addressOf(publicKey);
    }
    return recoverWithEthers(digest, bytesToHex(parts.bytes)).toLowerCase();
  } catch {
    return null;
  }
}
