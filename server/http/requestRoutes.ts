/**
 * The routes of burden requests beyond evidence (meetings, data requests, inspections,
 * evaluations, secondments) and of the gate's administrative lists, spread into the route table
 * (routes.ts) beside the evidence demands' routes.
 */
import { z } from "zod";
import type { DemandDependencies } from "../app/demand.ts";
import {
  changeDataList,
  dataPackage,
  departmentRequests,
  requestFor,
  requestReceipt,
  setLeadDepartments,
  submitRequest,
  unitRequests,
} from "../app/request.ts";
import { requestEip712Definition } from "../core/request.ts";
import { hash32 } from "./parseQuery.ts";
import { type Route, type TokenScope, route } from "./route.ts";
import { streamJson } from "./streamJson.ts";

const PUBLIC = { kind: "public" } as const;
const bearer = (...scopes: TokenScope[]) => ({ kind: "bearer", scopes }) as const;
const optionalBearer = (...scopes: TokenScope[]) => ({ kind: "bearer", scopes, optional: true }) as const;
const ok = (description: string, schema?: object | string) => ({ description, ...(schema ? { schema } : {}) });

const code = z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, "must be a lower-case code (a-z, 0-9, -)");
const catalogItem = z.string().regex(/^[a-z][a-z0-9.-]{0,127}$/, "must be a data catalogue code");

/** The path and body schemas of the request routes. */
export const requestRouteSchemas = {
  requestParams: z.object({ requestId: hash32.describe("SHA-256 of the request envelope's JCS bytes") }).strict(),
  unitParams: z.object({ unitId: hash32.describe("the unit's registry id") }).strict(),
  // Any short text: a code that names no department lists nothing, and auth is answered first.
  departmentParams: z.object({ department: z.string().min(1).max(128).describe("a department code") }).strict(),
  leadDepartments: z
    .object({
      leads: z
        .record(code, code.or(z.literal("")))
        .describe('domain code -> lead department code ("" removes the lead)'),
    })
    .strict(),
  dataListChange: z
    .object({
      add: z.array(catalogItem).max(256).default([]).describe("data catalogue items to put on the data list"),
      remove: z.array(catalogItem).max(256).default([]).describe("data catalogue items to take off it"),
    })
    .strict(),
};

/** The routes of burden requests and of the gate's lists. */
export function requestRoutes(deps: DemandDependencies): Route[] {
  const { service } = deps;
  const s = requestRouteSchemas;
  return [
    route({
      method: "GET",
      path: "/v1/requests/eip712",
      summary: "The EIP-712 definition departments sign burden requests with (domain of records, type BurdenRequest)",
      auth: PUBLIC,
      responses: { 200: ok("definition") },
      handle: () => ({ json: requestEip712Definition(service.domain, service.logId) }),
    }),
    route({
      method: "POST",
      path: "/v1/requests",
      summary:
        "A department's signed burden request (kind inspection, evaluation, meeting, data or secondment) decided by the gate in its fixed order: refused (reason code), absorbed as a duplicate, answered from the ledger, merged into a joint visit or combined meeting, a task, or admitted; logged as a DPR1 leaf. Evidence demands go to POST /v1/demands",
      auth: optionalBearer("unit", "inspector:<department>", "auditor", "operator"),
      body: { limitBytes: 64 * 1024, ref: "RequestSubmission" },
      responses: {
        201: ok(
          "decided and logged: request, signature, outcome, leafIndex, leafHash (package URL for data answered)",
          "RequestView",
        ),
        200: ok("already logged (idempotent): RequestView to those entitled, else its public view", "RequestView"),
      },
      problems: [400, 401, 403, 413, 415, 422, 503],
      handle: async ({ body, token }) => {
        const answer = await submitRequest(deps, body, token);
        return { status: answer.status, json: answer.view };
      },
    }),
    route({
      method: "GET",
      path: "/v1/requests/{requestId}",
      summary:
        "A burden request and its outcome, for a token of the unit, the requesting department, an auditor or the operator; anyone else gets its public view (logged, where, kind, decision)",
      auth: optionalBearer("unit", "inspector:<department>", "auditor", "operator"),
      params: s.requestParams,
      responses: { 200: ok("the request in full, or its public view", "RequestView") },
      problems: [404, 422],
      handle: async ({ params, token }) => ({ json: await requestFor(deps, token, params.requestId) }),
    }),
    route({
      method: "GET",
      path: "/v1/requests/{requestId}/receipt",
      summary: "Inclusion proof of the request's log entry in an anchored checkpoint (202 while pending)",
      auth: PUBLIC,
      params: s.requestParams,
      responses: { 200: ok("anchored"), 202: ok("pending") },
      problems: [404, 422],
      handle: async ({ params }) => {
        const receipt = await requestReceipt(deps, params.requestId);
        return { status: receipt.status === "pending" ? 202 : 200, json: receipt };
      },
    }),
    route({
      method: "GET",
      path: "/v1/requests/{requestId}/package",
      summary:
        "Data package of a data request: an export bundle (dutyproof/bundle/v1) of the records answering its items, with receipts, for the requesting inspector only (signature of packageRequestMessage over the request id)",
      auth: { kind: "inspector-signature" },
      params: s.requestParams,
      responses: { 200: ok("bundle") },
      problems: [401, 403, 404, 422],
      handle: async ({ params, authorization, res }) => {
        await streamJson(res, await dataPackage(deps, authorization, params.requestId));
      },
    }),
    route({
      method: "GET",
      path: "/v1/units/{unitId}/requests",
      summary:
        "What the unit must act on: tasks (data items the ledger lacks, admitted visits, evaluations, meetings with the roles that attend, secondments), merged meetings, joint visits and conflicting directives flagged",
      auth: bearer("unit", "auditor"),
      params: s.unitParams,
      responses: { 200: ok("the unit's requests") },
      problems: [401, 403, 422],
      handle: async ({ params, token }) => ({ json: await unitRequests(deps, token!, params.unitId) }),
    }),
    route({
      method: "GET",
      path: "/v1/departments/{department}/requests",
      summary: "A department's own burden requests, newest first, and the conflicts flagged to it",
      auth: bearer("inspector:<department>", "auditor", "operator"),
      params: s.departmentParams,
      responses: { 200: ok("the department's requests") },
      problems: [401, 403, 422],
      handle: async ({ params, token }) => ({ json: await departmentRequests(deps, token!, params.department) }),
    }),
    route({
      method: "GET",
      path: "/v1/burden/gate",
      summary: "The gate's lists: the lead department of each domain and the data catalogue items on the data list",
      auth: PUBLIC,
      responses: { 200: ok("lead departments and data list") },
      handle: async () => ({ json: await service.requests.gateLists() }),
    }),
    route({
      method: "PATCH",
      path: "/v1/burden/lead-departments",
      summary: "Set the lead department of domains (谁主管谁考核): operator token, an audited admin act",
      auth: bearer("operator"),
      body: { limitBytes: 64 * 1024, schema: s.leadDepartments },
      responses: { 200: ok("lead departments and data list") },
      problems: [401, 403, 413, 415, 422],
      handle: async ({ body, token }) => ({ json: await setLeadDepartments(deps, token!, body.leads) }),
    }),
    route({
      method: "PATCH",
      path: "/v1/burden/data-list",
      summary: "Add data catalogue items to, or remove them from, the data list (数据清单): operator token, audited",
      auth: bearer("operator"),
      body: { limitBytes: 64 * 1024, schema: s.dataListChange },
      responses: { 200: ok("lead departments and data list") },
      problems: [401, 403, 413, 415, 422],
      handle: async ({ body, token }) => ({ json: await changeDataList(deps, token!, body) }),
    }),
  ];
}
