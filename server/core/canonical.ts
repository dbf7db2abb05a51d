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

/**
 * Whether JCS can write `text`: false when it holds a lone UTF-16 surrogate (U+D800 to U+DFFF
 * without its pair), which JSON text may spell as "\ud800" but no UTF-8 encoding holds.
 * (String.prototype.isWellFormed, ES2024: Node 22 has it, the ES2023 typings do not.)
 */
export function isWellFormedText(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/** What a schema says of text that fails isWellFormedText. */
export const LONE_SURROGATE_MESSAGE =
  "contains a lone UTF-16 surrogate (\\ud800 to \\udfff without its pair): it has no UTF-8 and no canonical form";

/** Largest magnitude of a JSON number every JCS implementation writes the same way: 2^53 − 1. */
export const MAX_INTEROPERABLE_INTEGER = Number.MAX_SAFE_INTEGER;

/**
 * Why a number in a record is not one every JCS implementation writes identically, or null
 * when it is: an integer within ±(2^53 − 1), never negative zero. (JCS writes numbers as
 * ECMAScript does; canonicalisers in other languages differ on exponents such as 1e-7 and on
 * -0, so a verifier there would compute another digest for the same record.)
 */
export function interoperableNumberFault(value: number): string | null {
  if (!Number.isSafeInteger(value)) {
    return 'must be an integer between -(2^53 - 1) and 2^53 - 1 (write a decimal as a string, e.g. "1234.50")';
  }
  if (Object.is(value, -0)) return "must not be negative zero (write 0)";
  return null;
}
