/**
 * The burden-reduction part of the OpenAPI document, generated from the zod schemas the
 * handlers validate with (server/burden/demand.ts, server/http/burdenRouter.ts).
 */
import { z } from "zod";
import { demandSubmissionSchema } from "../burden/demand.ts";
import { burdenQuerySchemas } from "./burdenRouter.ts";
import {
  demandReceiptSchema,
  demandPublicViewSchema,
  demandViewSchema,
  dutyListSchema,
  reportSchema,
  summarySchema,
  tasksSchema,
  unitDemandsSchema,
} from "./burdenResponses.ts";

const jsonOk = (description: string) => ({
  description,
  content: { "application/json": { schema: { type: "object" } } },
});
/** A JSON answer whose shape is the named component schema. */
const jsonRef = (description: string, name: string) => ({
  description,
  content: { "application/json": { schema: { $ref: `#/components/schemas/${name}` } } },
});
const outputSchema = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { target: "draft-2020-12", unrepresentable: "any", io: "output" });
const toSchema = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { target: "draft-2020-12", unrepresentable: "any", io: "input" });
const hashParam = (name: string, description: string) => ({
  name,
  in: "path",
  required: true,
  description,
  schema: { type: "string", pattern: "^0x[0-9a-f]{64}$" },
});
const bearer = [{ bearer: [] }];

/** Query parameters of a zod object schema, one OpenAPI parameter per key. */
function queryParameters(schema: z.ZodObject) {
  const json = toSchema(schema) as { properties?: Record<string, object>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: "query",
    required: (json.required ?? []).includes(name) && !("default" in s),
    schema: s,
  }));
}

export function burdenSchemas() {
  return {
    DemandSubmission: toSchema(demandSubmissionSchema),
    DutyListChange: toSchema(burdenQuerySchemas.dutyListChange),
    DemandView: outputSchema(demandViewSchema),
    DemandPublicView: outputSchema(demandPublicViewSchema),
    DemandReceipt: outputSchema(demandReceiptSchema),
    Tasks: outputSchema(tasksSchema),
    UnitDemands: outputSchema(unitDemandsSchema),
    DutyList: outputSchema(dutyListSchema),
    BurdenReport: outputSchema(reportSchema),
    MonthlySummary: outputSchema(summarySchema),
  };
}

/** Bearer tokens, issued by the operator with `dutyproof token issue`. */
export const securitySchemes = { bearer: { type: "http", scheme: "bearer" } };

/** The paths; `p` is the document's problem+json response. */
export function burdenPaths(p: object) {
  const demandId = hashParam("demandId", "SHA-256 of the demand envelope's JCS bytes");
  const unitId = hashParam("unitId", "the unit's registry id");
  return {
    "/v1/demands/eip712": {
      get: {
        summary: "The EIP-712 definition inspectors sign demands with (domain of records, type EvidenceDemand)",
        responses: { 200: jsonOk("definition") },
      },
    },
    "/v1/demands": {
      post: {
        summary:
          "An inspector's signed evidence demand: answered from the ledger, absorbed as a duplicate, refused (off-list, over quota) or turned into a task; logged as a DPD1 leaf",
        parameters: queryParameters(burdenQuerySchemas.createDemand),
        requestBody: {
          required: true,
          content: { "application/json": { schema: { $ref: "#/components/schemas/DemandSubmission" } } },
        },
        responses: {
          201: jsonRef(
            "decided and logged: demand, signature, outcome, leafIndex, answeredBy, package URL (evidence inline with include=package)",
            "DemandView",
          ),
          200: jsonRef(
            "already logged (idempotent): DemandView to those entitled (as GET), else DemandPublicView; include=package then needs the inspector's signature (as GET …/package)",
            "DemandView",
          ),
          400: p,
          401: p,
          403: p,
          415: p,
          422: p,
          503: p,
        },
      },
    },
    "/v1/demands/{demandId}": {
      get: {
        summary:
          "A demand, its outcome and the records that answer it, for a token of the unit, the demanding department, an auditor or the operator; anyone else gets DemandPublicView (logged, where, decision)",
        parameters: [demandId],
        security: [{}, { bearer: [] }],
        responses: {
          200: {
            description: "the demand in full, or its public view",
            content: {
              "application/json": {
                schema: {
                  oneOf: [
                    { $ref: "#/components/schemas/DemandView" },
                    { $ref: "#/components/schemas/DemandPublicView" },
                  ],
                },
              },
            },
          },
          404: p,
          422: p,
        },
      },
    },
    "/v1/demands/{demandId}/receipt": {
      get: {
        summary: "Inclusion proof of the demand's log entry in an anchored checkpoint (202 while pending)",
        parameters: [demandId],
        responses: { 200: jsonRef("anchored", "DemandReceipt"), 202: jsonRef("pending", "DemandReceipt"), 404: p },
      },
    },
    "/v1/demands/{demandId}/package": {
      get: {
        summary:
          'Evidence package: an export bundle (dutyproof/bundle/v1) of the matching records with receipts, for the demanding inspector only: "Authorization: DutyproofInspector <signedAt>.<EIP-191 signature of packageRequestMessage>", good for 5 minutes',
        parameters: [demandId],
        responses: { 200: jsonOk("bundle"), 401: p, 403: p, 404: p },
      },
    },
    "/v1/units/{unitId}/tasks": {
      get: {
        summary:
          "The unit's tasks: demands it answers by attesting with envelope.demandId, and admitted on-site inspections",
        parameters: [unitId, ...queryParameters(burdenQuerySchemas.tasks)],
        security: bearer,
        responses: { 200: jsonRef("tasks", "Tasks"), 401: p, 403: p, 422: p },
      },
    },
    "/v1/units/{unitId}/demands": {
      get: {
        summary: "Every demand made on the unit, newest first",
        parameters: [unitId],
        security: bearer,
        responses: { 200: jsonRef("demands", "UnitDemands"), 401: p, 403: p },
      },
    },
    "/v1/units/{unitId}/duty-list": {
      get: {
        summary: "The unit's duty list (权责清单): every catalog duty type, on the list or why not",
        parameters: [unitId],
        responses: { 200: jsonRef("duty list", "DutyList"), 422: p },
      },
      patch: {
        summary: "Add duty types to, or remove them from, the unit's list (operator token)",
        parameters: [unitId],
        security: bearer,
        requestBody: {
          required: true,
          content: { "application/json": { schema: { $ref: "#/components/schemas/DutyListChange" } } },
        },
        responses: { 200: jsonRef("duty list", "DutyList"), 401: p, 403: p, 422: p },
      },
    },
    "/v1/units/{unitId}/summary": {
      get: {
        summary: "Monthly summary (月汇总) generated from the unit's records, with a verifiable bundle",
        parameters: [unitId, ...queryParameters(burdenQuerySchemas.summary)],
        security: bearer,
        responses: { 200: jsonRef("summary", "MonthlySummary"), 401: p, 403: p, 422: p },
      },
    },
    "/v1/burden/report": {
      get: {
        summary:
          "Burden report per unit, department or month: demands, answered from the ledger, duplicates, refusals, on-site use against quota, emergencies, hours saved (JSON or CSV)",
        parameters: queryParameters(burdenQuerySchemas.report),
        security: bearer,
        responses: {
          200: {
            description: "report",
            content: {
              "application/json": { schema: { $ref: "#/components/schemas/BurdenReport" } },
              "text/csv": { schema: { type: "string" } },
            },
          },
          401: p,
          403: p,
          422: p,
        },
      },
    },
  };
}
