/**
 * The EIP-712 definition units sign with. The domain binds a signature to one chain and one
 * DutyLedger deployment, so a record signed for a test network is worthless on another; from
 * record envelope version 2 the message's `logId` member binds it to one log of that deployment
 * too, so a record signed for one gateway is worthless on another gateway of the same ledger.
 */
import { decodeHex, hexToBytes } from "./bytes.ts";
import { keccak256 } from "./keccak256.ts";
import type { DutyRecordMessage } from "./record.ts";

export const EIP712_PRIMARY_TYPE = "DutyRecord";

/** The message types of record envelope version 1 (no log binding; still verified, no longer signed). */
export const eip712Types = {
  DutyRecord: [
    { name: "unitId", type: "bytes32" },
    { name: "dutyTypeId", type: "bytes32" },
    { name: "performedAt", type: "uint64" },
    { name: "recordDigest", type: "bytes32" },
  ],
} as const;

/** The message types of record envelope version 2: version 1's members after the log's id. */
export const eip712TypesV2 = {
  DutyRecord: [
    { name: "logId", type: "bytes32" },
    { name: "unitId", type: "bytes32" },
    { name: "dutyTypeId", type: "bytes32" },
    { name: "performedAt", type: "uint64" },
    { name: "recordDigest", type: "bytes32" },
  ],
} as const;

export interface Eip712Domain {
  name: "dutyproof";
  version: "1";
  chainId: number;
  verifyingContract: string;
}

export function eip712Domain(chainId: number, verifyingContract: string): Eip712Domain {
  return { name: "dutyproof", version: "1", chainId, verifyingContract };
}

/**
 * The definition served at /v1/info, in the shape EIP-712 libraries take: the version 2 message,
 * whose `logId` member a signer sets to the log's id (served beside it).
 */
export function eip712Definition(chainId: number, verifyingContract: string) {
  return {
    domain: eip712Domain(chainId, verifyingContract),
    types: eip712TypesV2,
    primaryType: EIP712_PRIMARY_TYPE,
  };
}

const utf8 = (text: string) => new TextEncoder().encode(text);

/** keccak256 of the EIP-712 type strings (printf '%s' 'DutyRecord(…)' | keccak-256sum). */
const DOMAIN_TYPEHASH = keccak256(
  utf8("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
);
const DUTY_RECORD_TYPEHASH = keccak256(
  utf8("DutyRecord(bytes32 unitId,bytes32 dutyTypeId,uint64 performedAt,bytes32 recordDigest)"),
);
const DUTY_RECORD_V2_TYPEHASH = keccak256(
  utf8("DutyRecord(bytes32 logId,bytes32 unitId,bytes32 dutyTypeId,uint64 performedAt,bytes32 recordDigest)"),
);

/** `bytes` right-aligned in a 32-byte ABI word. */
export function word(bytes: Uint8Array): Uint8Array {
  if (bytes.length > 32) throw new RangeError("an ABI word holds at most 32 bytes");
  const out = new Uint8Array(32);
  out.set(bytes, 32 - bytes.length);
  return out;
}

/** An unsigned integer as a 32-byte big-endian ABI word. */
export function uintWord(value: number | bigint): Uint8Array {
  let n = BigInt(value);
  if (n < 0n) throw new RangeError("unsigned values only");
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0 && n > 0n; i--, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const separators = new Map<string, Uint8Array>();
/** The last domain object asked for: a worker is handed one per job and asks once per record. */
let lastDomain: { domain: Eip712Domain; separator: Uint8Array } | null = null;

/** hashStruct(EIP712Domain) of the domain, cached: it changes only with the deployment. */
export function domainSeparator(domain: Eip712Domain): Uint8Array {
  if (lastDomain?.domain === domain) return lastDomain.separator;
  const key = `${domain.chainId}:${domain.verifyingContract.toLowerCase()}`;
  let separator = separators.get(key);
  if (!separator) {
    separator = keccak256(
      concat([
        DOMAIN_TYPEHASH,
        keccak256(utf8(domain.name)),
        keccak256(utf8(domain.version)),
        uintWord(domain.chainId),
        word(hexToBytes(domain.verifyingContract.toLowerCase())),
      ]),
    );
    separators.set(key, separator);
  }
  lastDomain = { domain, separator };
  return separator;
}

/** Writes 0x-prefixed hex of exactly `bytes` bytes into `out` at `at`, right-aligned in a word. */
function putHex(out: Uint8Array, at: number, hex: string, bytes: number): void {
  if (hex.length !== 2 + 2 * bytes) throw new RangeError(`expected ${bytes} bytes of hex`);
  const bytesAt = hexToBytes(hex);
  out.set(bytesAt, at + 32 - bytes);
}

function putUint(out: Uint8Array, at: number, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError("unsigned safe integers only");
  let n = value;
  for (let i = at + 31; i >= at && n > 0; i--) {
    out[i] = n % 256;
    n = Math.floor(n / 256);
  }
}

/**
 * The 32-byte EIP-712 digest that is signed: keccak256(0x1901 ‖ domainSeparator ‖
 * hashStruct(message)). Written out rather than through a generic encoder because it runs once
 * per submitted record; test/core/record.test.ts checks it against ethers' encoder.
 */
export function typedDataDigest(domain: Eip712Domain, message: DutyRecordMessage): Uint8Array {
  return recordMessageDigest(domain, message, hexToBytes(message.recordDigest));
}

/**
 * typedDataDigest with the record digest as bytes (`message.recordDigest` is not read): the
 * gateway has just computed it, and a hex round trip per record is wasted work. A message with
 * `logId` is a version 2 message, one without a version 1 message: the two type hashes differ,
 * so a signature of one never verifies as the other.
 */
export function recordMessageDigest(
  domain: Eip712Domain,
  message: Pick<DutyRecordMessage, "logId" | "unitId" | "dutyTypeId" | "performedAt">,
  recordDigest: Uint8Array,
): Uint8Array {
  if (recordDigest.length !== 32) throw new RangeError("expected 32 bytes of record digest");
  const v2 = message.logId !== undefined;
  const struct = new Uint8Array(v2 ? 192 : 160);
  struct.set(v2 ? DUTY_RECORD_V2_TYPEHASH : DUTY_RECORD_TYPEHASH, 0);
  const at = v2 ? 32 : 0;
  if (v2) putHex(struct, 32, message.logId!, 32);
  putHex(struct, at + 32, message.unitId, 32);
  putHex(struct, at + 64, message.dutyTypeId, 32);
  putUint(struct, at + 96, message.performedAt);
  struct.set(recordDigest, at + 128);
  const outer = new Uint8Array(66);
  outer[0] = 0x19;
  outer[1] = 0x01;
  outer.set(domainSeparator(domain), 2);
  outer.set(keccak256(struct), 34);
  return keccak256(outer);
}

/** secp256k1 group order n and n/2: signatures must have s <= n/2 (EIP-2). */
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
export const SECP256K1_HALF_N = SECP256K1_N >> 1n;

const N_BYTES = uintWord(SECP256K1_N);
const HALF_N_BYTES = uintWord(SECP256K1_HALF_N);

/** Compares the 32-byte big-endian numbers `a` (at `at`) and `b`: negative, zero or positive. */
function compareWord(a: Uint8Array, at: number, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const d = a[at + i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

function isZeroWord(a: Uint8Array, at: number): boolean {
  for (let i = 0; i < 32; i++) if (a[at + i] !== 0) return false;
  return true;
}

/** A signature's parts; `bytes` is the whole 65-byte r ‖ s ‖ v. */
export interface SignatureParts {
  bytes: Uint8Array;
  r: Uint8Array;
  s: Uint8Array;
  recovery: 0 | 1;
}

/**
 * Splits a 65-byte r‖s‖v signature, checking its shape; returns null when malformed or high-s:
 * r and s must be in 1..n-1, s at most n/2, v 27 or 28. Byte comparisons, not bigints: this runs
 * for every submitted record.
 */
export function parseSignature(signature: string): SignatureParts | null {
  const bytes = signatureBytes(signature);
  return bytes && signatureParts(bytes);
}

/** The 65 bytes of a signature given as 0x hex; null unless it is 130 hex digits. No range checks. */
export function signatureBytes(signature: string): Uint8Array | null {
  return typeof signature === "string" && signature.length === 132 ? decodeHex(signature) : null;
}

/** parseSignature for the signature's 65 bytes. */
export function signatureParts(bytes: Uint8Array): SignatureParts | null {
  if (bytes.length !== 65) return null;
  if (isZeroWord(bytes, 0) || compareWord(bytes, 0, N_BYTES) >= 0) return null;
  if (isZeroWord(bytes, 32) || compareWord(bytes, 32, HALF_N_BYTES) > 0) return null;
  const v = bytes[64]!;
  if (v !== 27 && v !== 28) return null;
  return { bytes, r: bytes.subarray(0, 32), s: bytes.subarray(32, 64), recovery: v === 27 ? 0 : 1 };
}
