/**
 * The duty record: its envelope, canonical bytes, digest, the message its unit signs, and the
 * log leaf it becomes. docs/protocol.md §3 defines each with worked vectors.
 */
import { sha256 } from "./sha256.ts";
import type { RecordEnvelope } from "./recordSchema.ts";
import { bytesToHex, hexToBytes } from "./bytes.ts";
import { canonicalBytes } from "./canonical.ts";
import { type Hash, hashLeaf } from "./merkle/hasher.ts";
import { SUITE_SM2, SM_SIGNATURE_BYTES, smLeafDataOf } from "./smSuite.ts";
import { sm3 } from "./sm3.ts";

export type { RecordEnvelope };

/**
 * The digest of the envelope's RFC 8785 canonical bytes: SHA-256, or SM3 for a record of the SM
 * suite (`suite: "sm2-sm3"`, core/smSuite.ts). Its hex form is the record id.
 */
export function recordDigest(envelope: RecordEnvelope): Hash {
  const bytes = canonicalBytes(envelope);
  return "suite" in envelope && envelope.suite === SUITE_SM2 ? sm3(bytes) : sha256(bytes);
}

/** The EIP-712 message a unit signs for a record (see eip712.ts for the types). */
export interface DutyRecordMessage {
  /** The log the record is meant for; set for envelope version 2, absent for version 1. */
  logId?: string;
  unitId: string;
  dutyTypeId: string;
  performedAt: number;
  recordDigest: string;
}

/**
 * The signed message of a record: version 2 envelopes carry their log's id into it. Pass
 * `digest` when it is already known (it must be the envelope's record digest, or for an erased
 * record the digest the log keeps) to save hashing the envelope again.
 */
export function signedMessageOf(
  envelope: Pick<RecordEnvelope, "unitId" | "dutyTypeId" | "performedAt"> & { logId?: string },
  digest: Hash = recordDigest(envelope as RecordEnvelope),
): DutyRecordMessage {
  return {
    ...(envelope.logId !== undefined ? { logId: envelope.logId } : {}),
    unitId: envelope.unitId,
    dutyTypeId: envelope.dutyTypeId,
    performedAt: envelope.performedAt,
    recordDigest: bytesToHex(digest),
  };
}

/** ASCII "DPL1": the leaf format's magic and version. */
export const LEAF_MAGIC = Uint8Array.of(0x44, 0x50, 0x4c, 0x31);

/**
 * The log leaf of a signed record: "DPL1" ‖ record digest (32 bytes) ‖ signature (65 bytes,
 * r ‖ s ‖ v), the signature as 0x hex or as its bytes. Committing to the signature binds the
 * leaf to the key that signed it. An SM-suite signature value (128 bytes) makes the suite's
 * "DPG1" leaf instead (core/smSuite.ts). Precondition: digest is 32 bytes, signature 65 or 128.
 */
export function leafDataOf(digest: Hash, signature: string | Uint8Array): Uint8Array {
  const sig = typeof signature === "string" ? hexToBytes(signature) : signature;
  if (sig.length === SM_SIGNATURE_BYTES) return smLeafDataOf(digest, sig);
  if (digest.length !== 32 || sig.length !== 65) throw new RangeError("digest must be 32 bytes and signature 65");
  const data = new Uint8Array(4 + 32 + 65);
  data.set(LEAF_MAGIC, 0);
  data.set(digest, 4);
  data.set(sig, 36);
  return data;
}

/** The RFC 9162 leaf hash of a signed record. */
export function leafHashOf(digest: Hash, signature: string | Uint8Array): Hash {
  return hashLeaf(leafDataOf(digest, signature));
}
