/**
 * The shapes of the gateway's answers that the web console reads (besides the burden API's, in
 * burdenResponses.ts), as zod schemas and their types: the console imports them rather than
 * keeping copies, and test/console/console.test.ts parses real answers with them so the two
 * cannot drift. In the core so that the browser bundle may import them.
 */
import { z } from "zod";
import { amendsSchema, fieldValueSchema } from "./recordSchema.ts";

const hash32 = z.string().regex(/^0x[0-9a-f]{64}$/, "must be 0x followed by 64 lower-case hex digits");

/**
 * An RFC 9457 problem, the only way the API reports an error: catalogue errors keep their code,
 * title and status; `errors` lists every field at fault of a request.invalid.
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  errors?: unknown;
  [extension: string]: unknown;
}

/** GET /v1/info: the deployment a client signs for and verifies against. */
export const gatewayInfoSchema = z.object({
  name: z.string(),
  chainId: z.number().int(),
  rpcUrl: z.string(),
  contracts: z.object({ DutyLedger: z.string() }),
  deployBlock: z.number().int(),
  logId: hash32,
  treeSize: z.number().int(),
  eip712: z.unknown(),
  leafFormat: z.string(),
  /** The record suites accepted, with their parameters (core/smSuite.ts). */
  suites: z.array(z.looseObject({ name: z.string() })).optional(),
});
export type GatewayInfo = z.infer<typeof gatewayInfoSchema>;

/** A checkpoint as GET /v1/checkpoints serves it: no nonce, raw transaction or creation time. */
export const publicCheckpointSchema = z.object({
  logId: hash32,
  size: z.number().int(),
  root: hash32,
  previousSize: z.number().int(),
  status: z.enum(["sent", "anchored"]),
  transactionHash: z.string().optional(),
  blockNumber: z.number().int().optional(),
  anchoredAt: z.number().int().optional().describe("Unix seconds"),
});
export type PublicCheckpoint = z.infer<typeof publicCheckpointSchema>;

/** GET /v1/checkpoints. */
export const checkpointsResponseSchema = z.object({ checkpoints: z.array(publicCheckpointSchema) });

/** Status of a record in a unit's timeline. */
export const timelineStatusSchema = z.enum(["pending", "anchored", "superseded", "withdrawn"]);
export type TimelineStatus = z.infer<typeof timelineStatusSchema>;

/** One record of GET /v1/units/{unitId}/records: no salt and no personal field. */
export const timelineRecordSchema = z.object({
  recordId: hash32,
  leafIndex: z.number().int(),
  leafHash: hash32,
  envelope: z.looseObject({
    version: z.number().int(),
    logId: hash32.optional(),
    unitId: hash32,
    dutyTypeId: hash32,
    performedAt: z.number().int().describe("Unix seconds"),
    fields: z.record(z.string(), fieldValueSchema).describe("the fields its duty type does not mark personal"),
    demandId: hash32.optional(),
    amends: amendsSchema.optional(),
  }),
  signature: z.string(),
  signer: z.string(),
  acceptedAt: z.number().int().describe("Unix seconds"),
  anchored: z.boolean(),
  status: timelineStatusSchema,
  amendedBy: hash32.optional(),
});
export type TimelineRecord = z.infer<typeof timelineRecordSchema>;

/** GET /v1/units/{unitId}/records. */
export const unitRecordsResponseSchema = z.object({
  unitId: hash32,
  total: z.number().int(),
  records: z.array(timelineRecordSchema),
});
export type UnitRecordsResponse = z.infer<typeof unitRecordsResponseSchema>;
