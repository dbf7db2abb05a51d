/**
 * The 国密 (SM) suite of duty records (docs/protocol.md §3, "The 国密 (SM) suite"): the record digest is SM3 of the
 * envelope's canonical bytes, the unit signs a fixed-layout byte string with SM2 (SM3, the
 * GM/T 0009 default user ID), and the log leaf has its own magic, "DPG1". A record says it is
 * of this suite in its envelope (`suite: "sm2-sm3"`, version 2 only), so its digest, message and
 * leaf can never be taken for the EIP-712 suite's.
 *
 * SM2 signatures do not recover their key, so the suite's signature value carries the public
 * key in front of the signature: X ‖ Y ‖ r ‖ s, 32 bytes each. The registry's signer slot for
 * such a key is its key id, right160(SM3(X ‖ Y)), the address FISCO BCOS gives an SM2 key.
 */
import { sm2 } from "sm-crypto-v2";
import { bytesToHex, decodeHex } from "./bytes.ts";
import { concat } from "./eip712.ts";
import { sm3 } from "./sm3.ts";

/** The suites a record can be of, by the name receipts and /v1/info use. */
export const SUITE_EIP712 = "eip712-secp256k1";
export const SUITE_SM2 = "sm2-sm3";
export type SuiteName = typeof SUITE_EIP712 | typeof SUITE_SM2;

/** ASCII "DPG1": the SM-suite record leaf's magic and version. */
export const SM_LEAF_MAGIC = Uint8Array.of(0x44, 0x50, 0x47, 0x31);

/** ASCII domain tag that starts every SM-suite signed message. */
export const SM_RECORD_TAG = "dutyproof/sm2-record/v1";

/** The user ID of GM/T 0009's default, which SM2 UKeys and sm-crypto-v2 use. */
export const SM2_DEFAULT_USER_ID = "1234567812345678";

/** Bytes of the suite's signature value: X ‖ Y ‖ r ‖ s. */
export const SM_SIGNATURE_BYTES = 128;

/** Bytes of an SM-suite leaf: magic ‖ record digest ‖ signature value. */
export const SM_LEAF_BYTES = 4 + 32 + SM_SIGNATURE_BYTES;

/** SM2's group order n (GM/T 0003.5). */
export const SM2_N = 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n;

const TAG_BYTES = new TextEncoder().encode(SM_RECORD_TAG);

/** `value` as `bytes` big-endian bytes. Precondition: 0 <= value < 256^bytes. */
function uintBytes(value: number | bigint, bytes: number): Uint8Array {
  let n = BigInt(value);
  if (n < 0n || n >= 1n << BigInt(8 * bytes)) throw new RangeError(`not an unsigned ${8 * bytes}-bit value`);
  const out = new Uint8Array(bytes);
  for (let i = bytes - 1; i >= 0; i--, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
}

function fixedHex(hex: string, bytes: number, what: string): Uint8Array {
  const out = typeof hex === "string" ? decodeHex(hex) : null;
  if (!out || out.length !== bytes) throw new RangeError(`${what} must be ${bytes} bytes of 0x hex`);
  return out;
}

/** What an SM-suite signature binds, besides the record digest. */
export interface SmRecordBinding {
  chainId: number;
  /** The DutyLedger contract's address. */
  contract: string;
  /** The log the record was signed for. */
  logId: string;
  unitId: string;
  dutyTypeId: string;
  performedAt: number;
}

/**
 * The 187 bytes a unit signs with SM2: "dutyproof/sm2-record/v1" ‖ chainId (uint64) ‖ contract
 * (20) ‖ logId (32) ‖ unitId (32) ‖ dutyTypeId (32) ‖ performedAt (uint64) ‖ record digest (32),
 * integers big-endian. Every part has a fixed length, so no two bindings share a byte string.
 */
export function smSigningBytes(binding: SmRecordBinding, recordDigest: Uint8Array): Uint8Array {
  if (recordDigest.length !== 32) throw new RangeError("expected 32 bytes of record digest");
  return concat([
    TAG_BYTES,
    uintBytes(binding.chainId, 8),
    fixedHex(binding.contract, 20, "contract"),
    fixedHex(binding.logId, 32, "logId"),
    fixedHex(binding.unitId, 32, "unitId"),
    fixedHex(binding.dutyTypeId, 32, "dutyTypeId"),
    uintBytes(binding.performedAt, 8),
    recordDigest,
  ]);
}

/** The key id (signer slot) of an SM2 public key X ‖ Y (64 bytes): right160(SM3(X ‖ Y)), lower case. */
export function smKeyId(publicKey: Uint8Array): string {
  if (publicKey.length !== 64) throw new RangeError("an SM2 public key is 64 bytes X ‖ Y");
  return bytesToHex(sm3(publicKey).subarray(12));
}

/** Whether a signature value, as 0x hex, has the SM suite's shape (128 bytes) rather than EIP-712's (65). */
export function isSmSignature(signature: unknown): signature is string {
  return typeof signature === "string" && signature.length === 2 + 2 * SM_SIGNATURE_BYTES;
}

/** The suite a signature value belongs to, by its length. */
export function suiteOfSignature(signature: string): SuiteName {
  return isSmSignature(signature) ? SUITE_SM2 : SUITE_EIP712;
}

/** The suite a record envelope declares (absent: the EIP-712 suite). */
export function suiteOfEnvelope(envelope: object): SuiteName {
  return "suite" in envelope && envelope.suite === SUITE_SM2 ? SUITE_SM2 : SUITE_EIP712;
}

function inScalarRange(bytes: Uint8Array): boolean {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n > 0n && n < SM2_N;
}

type PublicPoint = ReturnType<typeof sm2.precomputePublicKey>;

/**
 * Precomputed multiplication tables of the keys that signed most recently, least recently used
 * first: a unit signs many records with one key, and with its table a verification costs a
 * fraction of one without. A table is built only on a key's second valid signature, so keys
 * seen once (a forger's throwaway keys) cost no table and no memory; the window and the count
 * bound the memory each verify worker spends on tables.
 */
const tables = new Map<string, PublicPoint>();
const MAX_TABLES = 128;
const TABLE_WINDOW = 6;
/** Keys with one valid signature and no table yet (strings only; cleared when full). */
const verifiedOnce = new Set<string>();
const MAX_VERIFIED_ONCE = 10_000;

/** The key's table (refreshed as most recently used), or the key itself if it is on the curve, else null. */
function publicPointOf(publicKeyHex: string): PublicPoint | string | null {
  const table = tables.get(publicKeyHex);
  if (table) {
    tables.delete(publicKeyHex);
    tables.set(publicKeyHex, table);
    return table;
  }
  // A point off the curve makes the library throw, not answer false: never a usable key.
  try {
    return sm2.verifyPublicKey(publicKeyHex) ? publicKeyHex : null;
  } catch {
    return null;
  }
}

/** Counts a valid signature by a key without a table; builds its table on the second. */
function rememberVerified(publicKeyHex: string): void {
  if (!verifiedOnce.has(publicKeyHex)) {
    if (verifiedOnce.size >= MAX_VERIFIED_ONCE) verifiedOnce.clear();
    verifiedOnce.add(publicKeyHex);
    return;
  }
  verifiedOnce.delete(publicKeyHex);
  if (tables.size >= MAX_TABLES) tables.delete(tables.keys().next().value!);
  tables.set(publicKeyHex, sm2.precomputePublicKey(publicKeyHex, TABLE_WINDOW));
}

/**
 * The key id that signed `message` with SM2 (SM3, default user ID), or null: null for a value
 * that is not 128 bytes of hex, a public key not on the curve, r or s outside 1..n-1, or a
 * signature that does not verify.
 */
export function smSignerOf(message: Uint8Array, signature: string): string | null {
  const bytes = isSmSignature(signature) ? decodeHex(signature) : null;
  if (!bytes) return null;
  const publicKey = bytes.subarray(0, 64);
  const r = bytes.subarray(64, 96);
  const s = bytes.subarray(96, 128);
  if (!inScalarRange(r) || !inScalarRange(s)) return null;
  const publicKeyHex = `04${bytesToHex(publicKey).slice(2)}`;
  const point = publicPointOf(publicKeyHex);
  if (!point) return null;
  try {
    const ok = sm2.doVerifySignature(message, bytesToHex(bytes.subarray(64)).slice(2), point, {
      hash: true,
      userId: SM2_DEFAULT_USER_ID,
    });
    if (!ok) return null;
    if (typeof point === "string") rememberVerified(publicKeyHex);
    return smKeyId(publicKey);
  } catch {
    return null;
  }
}

/**
 * Signs `message` with an SM2 private key (32 bytes hex, with or without 0x): the signature
 * value X ‖ Y ‖ r ‖ s as 0x hex. For clients (the CLI, the console) and tests; the gateway never
 * holds a unit's key.
 */
export function smSign(message: Uint8Array, privateKey: string, fixedNonce?: string): string {
  const key = privateKey.startsWith("0x") ? privateKey.slice(2) : privateKey;
  const publicKey = sm2.getPublicKeyFromPrivateKey(key); // 04 ‖ X ‖ Y
  // A fixed nonce only reproduces published vectors: a real signature takes a fresh random one.
  const pointPool = fixedNonce === undefined ? undefined : [noncepoint(fixedNonce)];
  const signature = sm2.doSignature(message, key, {
    hash: true,
    publicKey,
    userId: SM2_DEFAULT_USER_ID,
    ...(pointPool ? { pointPool } : {}),
  });
  return `0x${publicKey.slice(2)}${signature}`.toLowerCase();
}

/** The nonce k (0x hex) and the x coordinate of kG, as sm-crypto-v2 takes a precomputed point. */
function noncepoint(k: string): { k: bigint; x1: bigint } {
  const hex = k.startsWith("0x") ? k.slice(2) : k;
  const point = sm2.getPublicKeyFromPrivateKey(hex);
  return { k: BigInt(`0x${hex}`), x1: BigInt(`0x${point.slice(2, 66)}`) };
}

/** A new SM2 key: its private key and public key X ‖ Y as 0x hex, and its key id. */
export function smGenerateKey(): { privateKey: string; publicKey: string; keyId: string } {
  const { privateKey, publicKey } = sm2.generateKeyPairHex();
  const xy = decodeHex(`0x${publicKey.slice(2)}`)!;
  return { privateKey: `0x${privateKey.padStart(64, "0")}`, publicKey: bytesToHex(xy), keyId: smKeyId(xy) };
}

/** The public key X ‖ Y (0x hex) of an SM2 private key. */
export function smPublicKeyOf(privateKey: string): string {
  const key = privateKey.startsWith("0x") ? privateKey.slice(2) : privateKey;
  return `0x${sm2.getPublicKeyFromPrivateKey(key).slice(2)}`;
}

/**
 * The log leaf of an SM-suite record: "DPG1" ‖ record digest (32) ‖ X ‖ Y ‖ r ‖ s (128), 164
 * bytes. Committing to the key and the signature binds the leaf to the key that signed it.
 */
export function smLeafDataOf(digest: Uint8Array, signature: Uint8Array): Uint8Array {
  if (digest.length !== 32 || signature.length !== SM_SIGNATURE_BYTES)
    throw new RangeError("digest must be 32 bytes and the SM signature value 128");
  const data = new Uint8Array(SM_LEAF_BYTES);
  data.set(SM_LEAF_MAGIC, 0);
  data.set(digest, 4);
  data.set(signature, 36);
  return data;
}

/** The suites a gateway accepts, with their parameters, as GET /v1/info lists them. */
export function suitesAccepted() {
  return [
    {
      name: SUITE_EIP712,
      envelope: "no `suite` member",
      recordDigest: "SHA-256(JCS(envelope))",
      signature: "EIP-712 (the `eip712` definition beside), secp256k1, 65 bytes r ‖ s ‖ v, low s",
      signer: "the recovered address",
      leaf: "'DPL1' ‖ recordDigest ‖ signature",
    },
    {
      name: SUITE_SM2,
      envelope: 'version 2 with "suite": "sm2-sm3"',
      recordDigest: "SM3(JCS(envelope))",
      signedBytes: `'${SM_RECORD_TAG}' ‖ chainId (uint64) ‖ contract (20) ‖ logId ‖ unitId ‖ dutyTypeId ‖ performedAt (uint64) ‖ recordDigest`,
      signature: `SM2 with SM3 (GB/T 32918.2, curve sm2p256v1), user ID "${SM2_DEFAULT_USER_ID}"; value X ‖ Y ‖ r ‖ s, 128 bytes`,
      signer: "key id right160(SM3(X ‖ Y))",
      leaf: "'DPG1' ‖ recordDigest ‖ X ‖ Y ‖ r ‖ s",
    },
  ];
}
