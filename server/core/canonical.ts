/**
 * RFC 8785 JSON Canonicalization Scheme (JCS), through the maintained `canonicalize` package:
 * the canonical bytes of a record are what its digest commits to.
 */
import canonicalize from "canonicalize";

/** The JCS canonical form of a JSON value. Precondition: plain JSON (no undefined, NaN, Infinity, BigInt). */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError("value has no JSON form");
  return text;
}

const encoder = new TextEncoder();

/** UTF-8 bytes of the canonical form. */
export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalJson(value));
}
