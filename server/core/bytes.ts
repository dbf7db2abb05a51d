/**
 * Hex and byte helpers shared by the core. Hex strings are lower case with a 0x prefix.
 *
 * Written out with lookup tables, validating while decoding, rather than a regular expression
 * and then a library call: the gateway decodes several hashes and a signature for every record
 * it accepts, and measured this way a signature decodes in less than half the time.
 * test/core/bytes.test.ts checks both directions against @noble/hashes' codec.
 */

/** The value of each hex digit by its character code, -1 for any other character. */
const digitValue = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) digitValue[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  digitValue[0x41 + i] = 10 + i; // A-F
  digitValue[0x61 + i] = 10 + i; // a-f
}

/**
 * Decodes 0x-prefixed hex into a new array; null unless it is whole bytes of hex digits. For
 * input that may be bad: one pass both checks and decodes.
 */
export function decodeHex(value: string): Uint8Array | null {
  const length = value.length;
  if (length % 2 !== 0 || value.charCodeAt(0) !== 0x30 || value.charCodeAt(1) !== 0x78) return null;
  const out = new Uint8Array((length - 2) / 2);
  for (let i = 0, at = 2; at < length; i++, at += 2) {
    const high = value.charCodeAt(at);
    const low = value.charCodeAt(at + 1);
    const h = high < 128 ? digitValue[high]! : -1;
    const l = low < 128 ? digitValue[low]! : -1;
    if ((h | l) < 0) return null;
    out[i] = (h << 4) | l;
  }
  return out;
}

/** Decodes 0x-prefixed hex of whole bytes; throws a TypeError for anything else. */
export function hexToBytes(hex: string): Uint8Array {
  const bytes = typeof hex === "string" ? decodeHex(hex) : null;
  if (!bytes) throw new TypeError(`not 0x-prefixed hex of whole bytes: ${String(JSON.stringify(hex)).slice(0, 80)}`);
  return bytes;
}

/** The character codes of the lower-case hex digits. */
const hexDigitCodes = Uint8Array.from("0123456789abcdef", (c) => c.charCodeAt(0));
const asciiDecoder = new TextDecoder();
/** Reused for the usual short inputs (hashes, keys, signatures); longer ones get their own. */
const scratch = new Uint8Array(2 + 2 * 1024);

/**
 * Encodes bytes as lower-case 0x-prefixed hex, as one flat string. Appending two digits at a
 * time (`out += …`) makes V8 build a rope of about one node per byte: a 65-byte key then holds
 * some 2 KB until it is next read whole, and the verify workers' cache of recovered keys grew by
 * 20 MB each under forged signatures (docs/security.md, "Memory under hostile input"). Decoding
 * the digit codes at once gives a flat string of 2n + 2 characters, and costs less time too.
 */
export function bytesToHex(bytes: Uint8Array): string {
  const length = 2 + 2 * bytes.length;
  const out = length <= scratch.length ? scratch.subarray(0, length) : new Uint8Array(length);
  out[0] = 0x30;
  out[1] = 0x78;
  for (let i = 0, at = 2; i < bytes.length; i++, at += 2) {
    const byte = bytes[i]!;
    out[at] = hexDigitCodes[byte >> 4]!;
    out[at + 1] = hexDigitCodes[byte & 15]!;
  }
  return asciiDecoder.decode(out);
}

/** Constant-length byte equality. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
