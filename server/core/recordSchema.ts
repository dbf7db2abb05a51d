/**
 * The record envelope's schema (zod), apart from core/record.ts so that code which only hashes
 * records (the verify workers) does not load zod: each worker thread that did held
 * noticeably more memory.
 */
import { z } from "zod";
import { LONE_SURROGATE_MESSAGE, isWellFormedText } from "./canonical.ts";

const bytes32 = z
  .string()
  .regex(/^0x[0-9a-f]{64}$/, "must be 0x followed by 64 lower-case hex digits")
  .describe("32 bytes as 0x-prefixed lower-case hex");

/**
 * Text a record may hold: a string that has a canonical (UTF-8) form, so that a lone surrogate
 * is refused here, naming its field, before anything hashes the record.
 */
export const recordText = () => z.string().refine(isWellFormedText, LONE_SURROGATE_MESSAGE);

/**
 * Field values a duty-type schema can describe: strings, numbers, booleans. Which numbers a
 * field takes (integers every JCS writes alike) is the duty type's check: core/dutyType.ts.
 */
export const fieldValueSchema = z.union([recordText().max(4000), z.number().finite(), z.boolean()]);

/**
 * A record's link to an earlier record of the same unit: a correction replaces its content, a
 * withdrawal retracts it. The earlier record stays in the log; verifying it reports the link.
 */
export const amendsSchema = z
  .object({
    recordId: bytes32.describe("the record id being corrected or withdrawn"),
    kind: z.enum(["correction", "withdrawal"]).describe("correction replaces the content; withdrawal retracts it"),
    reason: recordText().min(1).max(500).describe("why, in the unit's words"),
  })
  .strict();

/**
 * The record envelope, version 1: no longer accepted for new records unless the operator allows
 * it for a transition (docs/operations.md), still verified wherever a log holds it. Every key is required except the two links, `amends` and
 * `demandId`; no others are allowed. An absent link is absent from the canonical bytes, so
 * records without links have the same digest as before links existed.
 */
export const recordEnvelopeV1Schema = z
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
    fields: z.record(recordText().min(1).max(64), fieldValueSchema).describe("the duty type's fields, by name"),
    salt: bytes32.describe("32 random bytes, so that the digest reveals nothing about low-entropy fields"),
    amends: amendsSchema.optional().describe("set when this record corrects or withdraws an earlier one"),
    demandId: bytes32.optional().describe("set when this record answers an evidence demand (its demand id)"),
  })
  .strict();

/**
 * The record envelope, version 2: version 1's keys and `logId`, the log the record is meant for.
 * The unit's signature covers it (docs/protocol.md §3), so no other log of the deployment can
 * take the record.
 */
export const recordEnvelopeV2Schema = z
  .object({
    ...recordEnvelopeV1Schema.shape,
    version: z.literal(2).describe("envelope version"),
    logId: bytes32.describe("the id of the log the record is meant for (its gateway's /v1/info logId)"),
    suite: z
      .literal("sm2-sm3")
      .optional()
      .describe(
        "set for the 国密 suite: SM3 record digest, SM2 signature (docs/protocol.md §3, The 国密 (SM) suite); absent: EIP-712",
      ),
  })
  .strict();

/** A record envelope of either version, told apart by `version`. */
export const recordEnvelopeSchema = z.discriminatedUnion("version", [recordEnvelopeV1Schema, recordEnvelopeV2Schema]);

export type RecordEnvelopeV1 = z.infer<typeof recordEnvelopeV1Schema>;
export type RecordEnvelopeV2 = z.infer<typeof recordEnvelopeV2Schema>;
export type RecordEnvelope = RecordEnvelopeV1 | RecordEnvelopeV2;
