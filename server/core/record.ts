/**
 * The duty record: its envelope, canonical bytes, digest, the message its unit signs, and the
 * log leaf it becomes. docs/protocol.md §3 defines each with worked vectors.
 */
import { sha256 } from "./sha256.ts";
import { z } from "zod";
import { bytesToHex, hexToBytes } from "./bytes.ts";
import { canonicalBytes } from "./canonical.ts";
import { type Hash, hashLeaf } from "./merkle/hasher.ts";

const bytes32 = z
  .string()
  .regex(/^0x[0-9a-f]{64}$/, "must be 0x followed by 64 lower-case hex digits")
  .describe("32 bytes as 0x-prefixed lower-case hex");

/** Field values a duty-type schema can describe: strings, numbers, booleans. */
export const fieldValueSchema = z.union([z.string().max(4000), z.number().finite(), z.boolean()]);

/**
 * A record's link to an earlier record of the same unit: a correction replaces its content, a
 * withdrawal retracts it. The earlier record stays in the log; verifying it reports the link.
 */
export const amendsSchema = z
  .object({
    recordId: bytes32.describe("the record id being corrected or withdrawn"),
    kind: z.enum(["correction", "withdrawal"]).describe("correction replaces the content; withdrawal retracts it"),
    reason: z.string().min(1).max(500).describe("why, in the unit's words"),
  })
  .strict();

/**
 * The record envelope, version 1. Every key is required except the two links, `amends` and
 * `demandId`; no others are allowed. An absent link is absent from the canonical bytes, so
 * records without links have the same digest as before links existed.
 */
export const recordEnvelopeSchema = z
  .object({
    version: z.literal(1).describe("envelope version"),
    unitId: bytes32.describe("the attesting unit's registry id"),
    dutyTypeId: bytes32.describe("SHA-256 of the duty type's canonical schema document"),
    performedAt: z
      .number()
      .int()
      .min(946684800, "must be Unix seconds after 2000-01-01")
      .max(4102444800, "must be Unix seconds before 2100-01-01")
      .describe("when the duty was performed, Unix seconds"),
    fields: z.record(z.string().min(1).max(64), fieldValueSchema).describe("the duty type's fields, by name"),
    salt: bytes32.describe("32 random bytes, so that the digest reveals nothing about low-entropy fields"),
    amends: amendsSchema.optional().describe("set when this record corrects or withdraws an earlier one"),
    demandId: bytes32.optional().describe("set when this record answers an evidence demand (its demand id)"),
  })
  .strict();

export type RecordEnvelope = z.infer<typeof recordEnvelopeSchema>;

/** SHA-256 of the envelope's RFC 8785 canonical bytes. Its hex form is the record id. */
export function recordDigest(envelope: RecordEnvelope): Hash {
  return sha256(canonicalBytes(envelope));
}

/** The EIP-712 message a unit signs for a record (see eip712.ts for the types). */
export interface DutyRecordMessage {
  unitId: string;
  dutyTypeId: string;
  performedAt: number;
  recordDigest: string;
}

/**
 * The signed message of a record. Pass `digest` when it is already known (it must be the
 * envelope's record digest, or for an erased record the digest the log keeps) to save hashing
 * the envelope again.
 */
export function signedMessageOf(
  envelope: Pick<RecordEnvelope, "unitId" | "dutyTypeId" | "performedAt">,
  digest: Hash = recordDigest(envelope as RecordEnvelope),
): DutyRecordMessage {
  return {
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
 * r ‖ s ‖ v). Committing to the signature binds the leaf to the key that signed it.
 * Precondition: digest is 32 bytes, signature 65 bytes.
 */
export function leafDataOf(digest: Hash, signature: string): Uint8Array {
  const sig = hexToBytes(signature);
  if (digest.length !== 32 || sig.length !== 65) throw new RangeError("digest must be 32 bytes and signature 65");
  const data = new Uint8Array(4 + 32 + 65);
  data.set(LEAF_MAGIC, 0);
  data.set(digest, 4);
  data.set(sig, 36);
  return data;
}

/** The RFC 9162 leaf hash of a signed record. */
export function leafHashOf(digest: Hash, signature: string): Hash {
  return hashLeaf(leafDataOf(digest, signature));
}
