/** Hex and byte helpers shared by the core. Hex strings are lower case with a 0x prefix. */
import { bytesToHex as toHex, hexToBytes as fromHex } from "@noble/hashes/utils.js";

const hexPattern = /^0x(?:[0-9a-fA-F]{2})*$/;

/** Whether `value` is a 0x-prefixed hex string of whole bytes (of `length` bytes if given). */
export function isHex(value: unknown, length?: number): value is string {
  if (typeof value !== "string" || !hexPattern.test(value)) return false;
  return length === undefined || value.length === 2 + 2 * length;
}

/** Decodes 0x-prefixed hex. Precondition: `isHex(hex)`. */
export function hexToBytes(hex: string): Uint8Array {
  if (!isHex(hex)) throw new TypeError(`not 0x-prefixed hex of whole bytes: ${JSON.stringify(hex).slice(0, 80)}`);
  return fromHex(hex.slice(2));
}

/** Encodes bytes as lower-case 0x-prefixed hex. */
export function bytesToHex(bytes: Uint8Array): string {
  return "0x" + toHex(bytes);
}

/** Constant-length byte equality. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
