/**
 * The shapes of the burden API's answers, as zod schemas: they feed the OpenAPI document, the
 * web console takes its types from them, and test/burden/demands.test.ts parses real answers
 * with them so neither can drift. In the core so that the browser bundle may import them.
 */
import { z } from "zod";
import { DECISIONS, demandEnvelopeSchema, demandOutcomeSchema } from "./demand.ts";
import { bundleSchema } from "./verifier.ts";

const hash32 = z.string().regex(/^0x[0-9a-f]{64}$/, "must be 0x followed by 64 lower-case hex digits");

export const demandViewSchema = z.object({
  demandId: hash32,
  demand: demandEnvelopeSchema,
  signature: z.string(),
  outcome: demandOutcomeSchema,
  outcomeDigest: hash32,
  leafIndex: z.number().int().describe("the demand's leaf in the log"),
  leafHash: hash32,
  answeredBy: z.array(hash32).describe("records of the asked unit that carry this demand id"),
  package: z.string().describe("URL of the evidence package"),
  evidence: bundleSchema.optional().describe("the evidence package, with include=package"),
});

/** A demand as anyone may see it: logged, where, and its decision (burden/BurdenService.ts publicDemandView). */
export const demandPublicViewSchema = z.object({
  demandId: hash32,
  leafIndex: z.number().int(),
  leafHash: hash32,
  unitId: hash32,
  onSite: z.boolean(),
  decision: z.enum(DECISIONS),
  decidedAt: z.number().int(),
  outcomeDigest: hash32,
});

/** A demand as lists show it (tasks, a unit's demands). */
export const demandListItemSchema = z.object({
  demandId: hash32,
  leafIndex: z.number().int(),
  unitId: hash32,
  dutyTypeIds: z.array(hash32),
  from: z.number().int(),
  to: z.number().int(),
  onSite: z.boolean(),
  emergency: z.boolean(),
  department: z.string(),
  inspector: z.string(),
  decision: z.enum(DECISIONS),
  duplicateOf: hash32.optional(),
  decidedAt: z.number().int(),
  month: z.string().describe("YYYY-MM of decidedAt, UTC+8"),
  countsAgainstQuota: z.boolean(),
});

export const tasksSchema = z.object({
  unitId: hash32,
  tasks: z.array(demandListItemSchema.extend({ status: z.enum(["open", "answered"]), answeredBy: z.array(hash32) })),
});

export const unitDemandsSchema = z.object({ unitId: hash32, demands: z.array(demandListItemSchema) });

export const dutyListSchema = z.object({
  unitId: hash32,
  level: z.number().int(),
  added: z.array(hash32),
  removed: z.array(hash32),
  dutyTypes: z.array(
    z.object({
      dutyTypeId: hash32,
      code: z.string(),
      title: z.object({ "zh-CN": z.string(), en: z.string() }),
      onList: z.boolean(),
      reason: z.enum(["not_in_catalog", "inactive", "level_not_applicable", "removed_from_unit_list"]).optional(),
    }),
  ),
});

const reportRowSchema = z.object({
  key: z.string().describe("unit id, department code or YYYY-MM"),
  demands: z.number().int(),
  answeredFromLedger: z.number().int(),
  duplicatesAbsorbed: z.number().int(),
  offListRefused: z.number().int(),
  overQuotaRefused: z.number().int(),
  tasksCreated: z.number().int(),
  tasksAnswered: z.number().int(),
  onSiteAdmitted: z.number().int().describe("on-site inspections counted against the quota"),
  onSiteQuotaPerYear: z.number().int().optional().describe("unit rows only"),
  emergencies: z.number().int(),
  overQuotaWithoutEmergency: z.number().int().describe("admitted beyond the yearly quota without emergency: 0"),
  hoursSaved: z.number(),
});

const kindReportRowSchema = z.object({
  key: z.string().describe("unit id, department code or YYYY-MM"),
  received: z.number().int().describe("requests of every kind, evidence demands included"),
  byKind: z.record(z.string(), z.number().int()).describe("received, per kind"),
  answeredFromLedger: z.number().int(),
  merged: z.number().int().describe("meetings combined and visits joined"),
  absorbed: z.number().int().describe("duplicates absorbed"),
  refused: z.number().int(),
  refusedByReason: z.record(z.string(), z.number().int()).describe("refusals per reason code"),
  tasks: z.number().int().describe("tasks and admissions the unit acts on"),
  meetingHours: z.number().describe("attendee-hours of the meetings the unit attends"),
  formItemsAsked: z.number().int(),
  formItemsFromLedger: z.number().int(),
  secondmentDays: z.number().int().describe("days of admitted secondments"),
  hoursSaved: z.number(),
});

export const reportSchema = z.object({
  groupBy: z.enum(["unit", "department", "month"]),
  from: z.number().int().optional(),
  to: z.number().int().optional(),
  rows: z.array(reportRowSchema),
  totals: reportRowSchema,
  requests: z
    .object({
      groupBy: z.enum(["unit", "department", "month"]),
      rows: z.array(kindReportRowSchema),
      totals: kindReportRowSchema,
    })
    .optional()
    .describe("every kind of burden (demands and the gate's requests), grouped as the report"),
  emergencies: z
    .array(
      z.object({
        demandId: hash32,
        unitId: hash32,
        department: z.string(),
        decidedAt: z.number().int(),
        reason: z.string().describe("the emergency as the inspector stated it"),
      }),
    )
    .describe("every on-site inspection admitted as an emergency in the period"),
});

export const summarySchema = z.object({
  unitId: hash32,
  month: z.string(),
  from: z.number().int(),
  to: z.number().int(),
  records: z.number().int(),
  anchored: z.number().int(),
  pending: z.number().int(),
  byDutyType: z.array(
    z.object({
      dutyTypeId: hash32,
      code: z.string(),
      title: z.object({ "zh-CN": z.string(), en: z.string() }),
      count: z.number().int(),
    }),
  ),
  answeredDemands: z.number().int().describe("records of the month that answer a demand"),
  demandsReceived: z.number().int(),
  bundle: bundleSchema,
});

export const demandReceiptSchema = z.object({
  status: z.enum(["anchored", "pending"]),
  demandId: hash32,
  leafHash: hash32,
  leafIndex: z.number().int(),
  treeSize: z.number().int().optional(),
  root: hash32.optional(),
  inclusionProof: z.array(hash32).optional(),
  logId: hash32.optional(),
  chainId: z.number().int().optional(),
  contract: z.string().optional(),
  transactionHash: z.string().optional(),
  blockNumber: z.number().int().optional(),
  anchoredAt: z.number().int().optional(),
  checkpointNote: z
    .string()
    .optional()
    .describe("the signed checkpoint (c2sp.org/tlog-checkpoint note, with cosignatures) the proof leads to"),
});

export type DemandView = z.infer<typeof demandViewSchema>;
export type DemandListItem = z.infer<typeof demandListItemSchema>;
export type Tasks = z.infer<typeof tasksSchema>;
export type UnitDemands = z.infer<typeof unitDemandsSchema>;
export type BurdenReport = z.infer<typeof reportSchema>;
