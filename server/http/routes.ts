/**
 * The route table of the gateway's HTTP API: every route declared once, with its method, path,
 * auth scope, schemas and handler. The dispatcher (dispatch.ts) serves it and /openapi.json
 * (openApiDocument.ts) describes it; a route not in this table is not served.
 *
 * To add a route: append an entry to the list `gatewayRoutes` returns (or to a list of your own
 * spread into it), call a use case of server/app from its handler, and give it the
 * dependencies it needs through GatewayRouteDependencies. Nothing else needs to change.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { type AttestDependencies, attestBatch, attestOne } from "../app/attest.ts";
import {
  burdenReport,
  changeDutyList,
  type DemandDependencies,
  demandFor,
  evidencePackage,
  monthlySummary,
  submitDemand,
  unitDemands,
  unitTasks,
} from "../app/demand.ts";
import { type EraseDependencies, eraseWithOperatorSignature } from "../app/erase.ts";
import { dutyTypeCatalog, gatewayInfo } from "../app/info.ts";
import { checkpointHistory, consistencyProof, inclusionProof, latestCheckpoint, receiptByHash } from "../app/prove.ts";
import type { Readiness } from "../app/readiness.ts";
import { type RecordReadDependencies, auditFeed, exportRecords, recordContent, unitTimeline } from "../app/records.ts";
import { chainFactsFor } from "../app/verify.ts";
import { demandEip712Definition } from "../burden/demand.ts";
import { reportCsv } from "../burden/report.ts";
import type { CatalogEntry } from "../catalog/loadCatalog.ts";
import type { Deployment } from "../chain/deployment.ts";
import type { Clock } from "../core/clock.ts";
import { DutyproofError } from "../core/errors.ts";
import { type TrustAnchors, trustFileOf } from "../core/trust.ts";
import type { UnitName } from "../core/unitDirectory.ts";
import type { LedgerStore } from "../store/LedgerStore.ts";
import type { LiveMonitor } from "../burden/LiveMonitor.ts";
import { consoleFiles, tipPageContentSecurityPolicy } from "./consoleRoutes.ts";
import { requestRoutes } from "./requestRoutes.ts";
import { liveRoutes } from "./liveRoutes.ts";
import { hash32 } from "./parseQuery.ts";
import type { Route, TokenScope } from "./route.ts";
import { route } from "./route.ts";
import { streamJson } from "./streamJson.ts";
import { type TlogRouteOptions, tlogRoutes } from "./tlogRoutes.ts";
import { type TipRouteDependencies, tipRoutes } from "./tipRoutes.ts";

export interface GatewayRouteDependencies {
  store: LedgerStore;
  deployment: Deployment;
  catalog: () => CatalogEntry[];
  clock: Clock;
  /** What tokens may read, and the record reads decided by it. */
  records: RecordReadDependencies;
  attest: AttestDependencies & { maxBatch?: number | undefined };
  /** The chain endpoint the gateway reads (verify, chain facts). */
  rpcUrl: string;
  /** The chain endpoint /v1/info publishes (credentials redacted, or /v1/rpc). */
  publishedRpcUrl: string;
  trust: TrustAnchors;
  ready: () => Promise<Readiness>;
  /** Verifies evidence against the chain (app/verify.ts); absent: POST /v1/verify answers 404. */
  verify?: ((body: unknown) => Promise<unknown>) | undefined;
  /** Prometheus text of GET /metrics; absent: no such route. */
  metrics?: { contentType: string; render: () => Promise<string> } | undefined;
  /** POST /v1/rpc in embedded mode (chainRpcEndpoint.ts); absent: no such route. */
  chainRpc?: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;
  /** Erasure by the operator key; absent: no admin routes. */
  erase?: EraseDependencies | undefined;
  /** Evidence demands, duty lists and burden reports; absent: none of those routes. */
  demands?: DemandDependencies | undefined;
  /** Live monitoring of the burden (burden/LiveMonitor.ts); absent: no live or digest routes. */
  live?: LiveMonitor | undefined;
  /** Where the built console lives (tests may build elsewhere). */
  consoleBuildDir?: string | undefined;
  /** The log in the C2SP layout: signed checkpoints, tiles and entry bundles (tlogRoutes.ts). */
  tlog?: TlogRouteOptions | undefined;
  /** The operator's unit directory (server/catalog/UnitDirectory.ts); absent: no unit names. */
  unitNames?: (() => UnitName[]) | undefined;
  /** Anonymous tips (tipRoutes.ts); absent: none of those routes. */
  tips?: TipRouteDependencies | undefined;
  /** The OpenAPI document and the docs page, derived from this table by the caller. */
  documents: { openApi: () => string; docsPage: () => string };
}

const size = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const recordIdParams = z.object({ recordId: hash32.describe("SHA-256 of the envelope's JCS bytes") }).strict();
const hashParams = z.object({ hash: hash32.describe("record id or leaf hash") }).strict();
const unitParams = z.object({ unitId: hash32.describe("the unit's registry id") }).strict();
const demandParams = z.object({ demandId: hash32.describe("SHA-256 of the demand envelope's JCS bytes") }).strict();

/** The query, path and body schemas of the routes (built once: zod compiles a schema on its first parse). */
export const routeSchemas = {
  inclusion: z.object({ leafHash: hash32, treeSize: size }).strict(),
  consistency: z.object({ from: size, to: size }).strict(),
  export: z
    .object({
      unitId: hash32,
      dutyTypeId: hash32.optional(),
      from: z.coerce.number().int().optional().describe("performedAt lower bound, Unix seconds"),
      to: z.coerce.number().int().optional().describe("performedAt upper bound (exclusive), Unix seconds"),
    })
    .strict(),
  audit: z
    .object({
      from: z.coerce.number().int().min(0).default(0),
      limit: z.coerce.number().int().min(1).max(5000).default(1000),
    })
    .strict(),
  checkpoints: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict(),
  chainFacts: z
    .object({
      chainId: z.coerce.number().int().min(1),
      contract: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be an address"),
      logId: hash32,
      treeSize: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
      unitId: hash32,
      signedLogId: hash32.optional().describe("a carried-over record's log (its receipt's signedLogId)"),
    })
    .strict(),
  unitRecords: z
    .object({
      dutyTypeId: hash32.optional(),
      from: z.coerce.number().int().optional().describe("performedAt lower bound, Unix seconds"),
      to: z.coerce.number().int().optional().describe("performedAt upper bound (exclusive), Unix seconds"),
      limit: z.coerce.number().int().min(1).max(5000).default(500),
    })
    .strict(),
  erase: z
    .object({
      recordId: hash32,
      order: z.string().describe("reference of the order that requires the erasure"),
      signedAt: z.number().int().describe("Unix seconds when the operator signed"),
    })
    .strict(),
  createDemand: z.object({ include: z.enum(["package"]).optional() }).strict(),
  tasks: z.object({ status: z.enum(["open", "answered", "all"]).default("open") }).strict(),
  dutyListChange: z
    .object({
      add: z.array(hash32).max(64).default([]).describe("duty type ids to put on the unit's list"),
      remove: z.array(hash32).max(64).default([]).describe("duty type ids to take off the unit's list"),
    })
    .strict(),
  summary: z
    .object({
      month: z
        .string()
        .regex(/^\d{4}-(0[1-9]|1[0-2])$/, "must be YYYY-MM")
        .describe("calendar month, UTC+8"),
    })
    .strict(),
  report: z
    .object({
      groupBy: z.enum(["unit", "department", "month"]).default("unit"),
      from: z.coerce.number().int().min(0).optional().describe("decided at or after, Unix seconds"),
      to: z.coerce.number().int().min(0).optional().describe("decided before, Unix seconds"),
      unitId: hash32.optional(),
      department: z.string().max(64).optional(),
      format: z.enum(["json", "csv"]).default("json"),
    })
    .strict(),
};

const PUBLIC = { kind: "public" } as const;
const bearer = (...scopes: TokenScope[]) => ({ kind: "bearer", scopes }) as const;
const optionalBearer = (...scopes: TokenScope[]) => ({ kind: "bearer", scopes, optional: true }) as const;
/** Who reads a unit's records: the unit, a department for its own duty types (and granted ones), an auditor. */
const RECORD_READERS = bearer("unit", "inspector:<department>", "auditor");
const ok = (description: string, schema?: object | string) => ({ description, ...(schema ? { schema } : {}) });

/** The routes of a gateway with `deps`: the whole HTTP API. */
export function gatewayRoutes(deps: GatewayRouteDependencies): Route[] {
  const { store, deployment } = deps;
  const sources = { store, deployment };
  const batchSchema = z
    .object({
      items: z
        .array(z.unknown())
        .min(1)
        .max(deps.attest.maxBatch ?? 1000),
    })
    .strict();
  const consoleHandler = consoleFiles(deps.consoleBuildDir);
  const tipPageHandler = consoleFiles(deps.consoleBuildDir, tipPageContentSecurityPolicy);

  const probes: Route[] = [
    route({
      method: "GET",
      path: "/livez",
      summary: "The process is alive",
      auth: PUBLIC,
      unlimited: true,
      responses: { 200: ok("alive") },
      handle: () => ({ json: { status: "ok" } }),
    }),
    route({
      method: "GET",
      path: "/readyz",
      summary: "Chain and store are usable",
      auth: PUBLIC,
      unlimited: true,
      responses: { 200: ok("ready"), 503: ok("not ready") },
      handle: async () => {
        const state = await deps.ready();
        return {
          status: state.ready ? 200 : 503,
          json: { status: state.ready ? "ready" : "not ready", checks: state.checks },
        };
      },
    }),
    ...(deps.metrics
      ? [
          route({
            method: "GET",
            path: "/metrics",
            summary: "Prometheus metrics: ingest, backlog, checkpoint lag, anchoring failures, chain head, store size",
            auth: PUBLIC,
            responses: { 200: { description: "Prometheus text format", type: "text/plain" } },
            handle: async () => ({ text: await deps.metrics!.render(), type: deps.metrics!.contentType }),
          }),
        ]
      : []),
    route({
      method: "GET",
      path: "/openapi.json",
      summary: "This document: every route of the table, its auth scope and schemas",
      auth: PUBLIC,
      responses: { 200: ok("OpenAPI 3.1 document") },
      handle: () => ({ text: deps.documents.openApi(), type: "application/json; charset=utf-8" }),
    }),
    route({
      method: "GET",
      path: "/docs",
      summary: "The API as a page (no script), from the same table",
      auth: PUBLIC,
      responses: { 200: { description: "HTML", type: "text/html" } },
      handle: () => ({ text: deps.documents.docsPage(), type: "text/html; charset=utf-8" }),
    }),
  ];

  const ledger: Route[] = [
    route({
      method: "GET",
      path: "/v1/info",
      summary: "Chain, contract, log id and the EIP-712 definition units sign",
      auth: PUBLIC,
      responses: { 200: ok("info") },
      handle: () => ({ json: gatewayInfo(deployment, store, deps.publishedRpcUrl, deps.tlog?.checkpoints) }),
    }),
    route({
      method: "GET",
      path: "/v1/duty-types",
      summary: "The duty-type catalog with ids",
      auth: PUBLIC,
      responses: { 200: ok("catalog") },
      handle: () => ({ json: dutyTypeCatalog(deps.catalog()) }),
    }),
    route({
      method: "POST",
      path: "/v1/attestations",
      summary: "Submit one signed record; acknowledged after a synced write",
      auth: PUBLIC,
      body: { limitBytes: 64 * 1024, ref: "Submission" },
      responses: { 201: ok("accepted"), 200: ok("already accepted (idempotent)") },
      problems: [400, 403, 413, 415, 422, 429, 503],
      handle: async ({ body }) => {
        const { created, acknowledgement } = await attestOne(deps.attest, body);
        return { status: created ? 201 : 200, json: acknowledgement };
      },
    }),
    route({
      method: "POST",
      path: "/v1/attestations/batch",
      summary: "Submit up to 1,000 signed records; one result per item",
      auth: PUBLIC,
      body: { limitBytes: 8 * 1024 * 1024, schema: batchSchema },
      responses: { 200: ok("per-item results") },
      problems: [400, 413, 415, 422, 429],
      handle: async ({ body }) => ({ json: await attestBatch(deps.attest, body.items) }),
    }),
    route({
      method: "GET",
      path: "/v1/attestations/{recordId}/receipt",
      summary: "The record's receipt: pending (202) until anchored, then self-contained",
      auth: PUBLIC,
      params: recordIdParams,
      responses: { 200: ok("anchored receipt"), 202: ok("pending") },
      problems: [404, 422],
      handle: async ({ params }) => {
        const [status, json] = await receiptByHash(sources, params.recordId);
        return { status, json };
      },
    }),
    route({
      method: "GET",
      path: "/v1/receipts/{hash}",
      summary:
        "The receipt for a bare hash: by record id the full receipt; by leaf hash only where the leaf was anchored, with its proof (unit, duty type, times and signer need the record id)",
      auth: PUBLIC,
      params: hashParams,
      responses: { 200: ok("anchored receipt"), 202: ok("pending") },
      problems: [404, 422],
      handle: async ({ params }) => {
        const [status, json] = await receiptByHash(sources, params.hash);
        return { status, json };
      },
    }),
    route({
      method: "GET",
      path: "/v1/attestations/{recordId}",
      summary:
        "The record's content (bearer token of its unit, of the department owning its duty type or granted it, or an auditor)",
      auth: RECORD_READERS,
      params: recordIdParams,
      responses: { 200: ok("record") },
      problems: [401, 403, 422],
      handle: async ({ params, token }) => ({ json: await recordContent(deps.records, token!, params.recordId) }),
    }),
    route({
      method: "POST",
      path: "/v1/verify",
      summary: "Verify a receipt, or a record with its receipt, against the chain it names (same verifier as the CLI)",
      auth: PUBLIC,
      body: { limitBytes: 1024 * 1024, ref: "Evidence" },
      responses: { 200: ok("verdict: valid, checks, reason, anchoredAt") },
      problems: [400, 404, 413, 415, 422],
      handle: async ({ body }) => {
        if (!deps.verify) throw new DutyproofError("request.not_found", "this gateway does not verify");
        return { json: await deps.verify(body) };
      },
    }),
    route({
      method: "GET",
      path: "/v1/export",
      summary:
        "Export bundle: a unit's anchored records with their receipts (token of the unit or an auditor; a department's token gets the duty types it reads)",
      auth: RECORD_READERS,
      query: routeSchemas.export,
      responses: { 200: ok("bundle") },
      problems: [401, 403, 422],
      handle: async ({ query, token, res }) => {
        await streamJson(res, (sink) =>
          exportRecords({ ...deps.records, sources, clock: deps.clock }, token!, query, sink),
        );
      },
    }),
    route({
      method: "GET",
      path: "/v1/audit/records",
      summary: "Every leaf in order (records and demands), for audit replay (auditor token)",
      auth: bearer("auditor"),
      query: routeSchemas.audit,
      responses: { 200: ok("records") },
      problems: [401, 403, 422],
      handle: async ({ query, token }) => ({ json: await auditFeed(deps.records, token!, query) }),
    }),
    route({
      method: "GET",
      path: "/v1/proofs/inclusion",
      summary: "Inclusion proof of a leaf hash in a tree size",
      auth: PUBLIC,
      query: routeSchemas.inclusion,
      responses: { 200: ok("proof") },
      problems: [404, 422],
      handle: async ({ query }) => ({ json: await inclusionProof(store, query) }),
    }),
    route({
      method: "GET",
      path: "/v1/proofs/consistency",
      summary: "Consistency proof between two tree sizes",
      auth: PUBLIC,
      query: routeSchemas.consistency,
      responses: { 200: ok("proof") },
      problems: [404, 422],
      handle: async ({ query }) => ({ json: await consistencyProof(store, query) }),
    }),
    route({
      method: "GET",
      path: "/v1/checkpoints/latest",
      summary: "The latest anchored checkpoint",
      auth: PUBLIC,
      responses: { 200: ok("checkpoint") },
      problems: [404],
      handle: async () => ({ json: await latestCheckpoint(sources) }),
    }),
    route({
      method: "GET",
      path: "/v1/checkpoints",
      summary: "Checkpoint history, newest first",
      auth: PUBLIC,
      query: routeSchemas.checkpoints,
      responses: { 200: ok("checkpoints") },
      problems: [422],
      handle: async ({ query }) => ({ json: await checkpointHistory(sources, query.limit) }),
    }),
  ];

  const chain: Route[] = deps.chainRpc
    ? [
        route({
          method: "POST",
          path: "/v1/rpc",
          summary:
            "Embedded mode: the chain node's read-only JSON-RPC endpoint (read methods; eth_sendRawTransaction only to the DutyLedger by a role holder; batches of at most 50); answers are JSON-RPC, not problems",
          auth: PUBLIC,
          raw: true,
          responses: { 200: ok("JSON-RPC answer or batch of answers"), 400: ok("JSON-RPC parse error") },
          handle: ({ req, res }) => deps.chainRpc!(req, res),
        }),
      ]
    : [];

  const console: Route[] = [
    route({
      method: "GET",
      path: "/",
      summary: "Redirects to the web console",
      auth: PUBLIC,
      responses: { 302: { description: "to /console/" } },
      handle: () => ({ status: 302, headers: { location: "/console/" }, text: "Found. Redirecting to /console/" }),
    }),
    route({
      method: "GET",
      path: "/console/tip.html",
      summary: "The anonymous tip page: the console's policy and 'wasm-unsafe-eval', for the in-browser prover",
      auth: PUBLIC,
      raw: true,
      anonymous: true,
      responses: { 200: { description: "the tip page", type: "text/html" } },
      problems: [404],
      handle: ({ req, res }) => tipPageHandler(req, res),
    }),
    route({
      method: "GET",
      path: "/console",
      summary: "The web console (zh-CN, English toggle), served under a strict Content-Security-Policy",
      auth: PUBLIC,
      raw: true,
      prefix: true,
      responses: { 200: { description: "the console's files", type: "text/html" } },
      problems: [404],
      handle: ({ req, res }) => consoleHandler(req, res),
    }),
    route({
      method: "GET",
      path: "/v1/chain-facts",
      summary:
        "What the chain states about a receipt (checkpoint of that size, the unit's key and status history), for verifiers that cannot reach the chain; 422 receipt.untrusted_deployment for a deployment this gateway does not trust",
      auth: PUBLIC,
      query: routeSchemas.chainFacts,
      responses: { 200: ok("chain facts") },
      problems: [422, 503],
      handle: async ({ query }) => ({ json: await chainFactsFor({ rpcUrl: deps.rpcUrl, trust: deps.trust }, query) }),
    }),
    route({
      method: "GET",
      path: "/v1/trust",
      summary:
        "The deployments this gateway's verification trusts, as a dutyproof/trust/v1 file an inspector can pass to `dutyproof verify --trust`",
      auth: PUBLIC,
      responses: { 200: ok("trust file") },
      handle: () => ({ json: trustFileOf(deps.trust) }),
    }),
    route({
      method: "GET",
      path: "/v1/units/{unitId}/records",
      summary:
        "A unit's records, newest first, with status pending, anchored, superseded or withdrawn (token of the unit, an inspector or an auditor)",
      auth: RECORD_READERS,
      params: unitParams,
      query: routeSchemas.unitRecords,
      responses: { 200: ok("records") },
      problems: [401, 403, 422],
      handle: async ({ params, query, token }) => ({
        json: await unitTimeline(deps.records, token!, params.unitId, query),
      }),
    }),
  ];

  const admin: Route[] = deps.erase
    ? [
        route({
          method: "POST",
          path: "/v1/admin/erasures",
          summary:
            "Erase a record's personal fields and salt under an order; body {recordId, order, signedAt}, signed by the operator key (docs/protocol.md §3)",
          auth: { kind: "operator-signature" },
          body: { limitBytes: 16 * 1024, schema: routeSchemas.erase },
          responses: { 200: ok("recordId, erasure") },
          problems: [401, 403, 404, 409, 413, 415, 422],
          handle: async ({ body, operatorSignature }) => ({
            json: await eraseWithOperatorSignature(deps.erase!, operatorSignature!, body),
          }),
        }),
      ]
    : [];

  return [
    ...probes,
    ...ledger,
    ...chain,
    // Before the console: the tip page's own files are served under their own policy.
    ...(deps.tips ? tipRoutes(deps.tips) : []),
    ...console,
    ...admin,
    ...(deps.unitNames ? [unitNamesRoute(deps.unitNames)] : []),
    ...(deps.tlog ? tlogRoutes(deps.tlog) : []),
    ...(deps.demands ? demandRoutes(deps.demands) : []),
    ...(deps.demands ? requestRoutes(deps.demands) : []),
    ...(deps.demands && deps.live ? liveRoutes({ live: deps.live, access: deps.demands.access }) : []),
  ];
}

/**
 * GET /v1/unit-names: the operator's unit directory, public and read-only, so the console shows
 * units by name. Unit names are those of public offices (村委会, 乡镇), never of people, and each
 * id is a hash of its name that anyone can compute: the directory grants no reading right.
 */
export function unitNamesRoute(units: () => UnitName[]): Route {
  return route({
    method: "GET",
    path: "/v1/unit-names",
    summary: 'The operator\'s directory of unit names, each with its id (keccak256 of "unit:" and the name)',
    auth: PUBLIC,
    responses: { 200: ok("unit names") },
    handle: () => ({ json: { units: units() } }),
  });
}

/** Evidence demands, their packages and receipts, units' tasks, duty lists, summaries, reports. */
function demandRoutes(deps: DemandDependencies): Route[] {
  const { service } = deps;
  return [
    route({
      method: "GET",
      path: "/v1/demands/eip712",
      summary: "The EIP-712 definition inspectors sign demands with (domain of records, type EvidenceDemand)",
      auth: PUBLIC,
      responses: { 200: ok("definition") },
      handle: () => ({ json: demandEip712Definition(service.domain, service.logId) }),
    }),
    route({
      method: "POST",
      path: "/v1/demands",
      summary:
        "An inspector's signed evidence demand: answered from the ledger, absorbed as a duplicate, refused (off-list, over quota) or turned into a task; logged as a DPD1 leaf. Sent again: the full view to a token that sees the demand, the package (include=package) to the demanding inspector's signature",
      auth: optionalBearer("unit", "inspector:<department>", "auditor", "operator"),
      query: routeSchemas.createDemand,
      body: { limitBytes: 64 * 1024, ref: "DemandSubmission" },
      responses: {
        201: ok(
          "decided and logged: demand, signature, outcome, leafIndex, answeredBy, package URL (evidence inline with include=package)",
          "DemandView",
        ),
        200: ok(
          "already logged (idempotent): DemandView to those entitled (as GET), else DemandPublicView",
          "DemandView",
        ),
      },
      problems: [400, 401, 403, 413, 415, 422, 503],
      handle: async ({ body, query, token, authorization, res }) => {
        const answer = await submitDemand(deps, body, query.include, { token, authorization });
        if ("view" in answer) return { status: answer.status, json: answer.view };
        await streamJson(res, answer.stream, answer.status);
      },
    }),
    route({
      method: "GET",
      path: "/v1/demands/{demandId}",
      summary:
        "A demand, its outcome and the records that answer it, for a token of the unit, the demanding department, an auditor or the operator; anyone else gets DemandPublicView (logged, where, decision)",
      auth: optionalBearer("unit", "inspector:<department>", "auditor", "operator"),
      params: demandParams,
      responses: { 200: ok("the demand in full, or its public view", "DemandView") },
      problems: [404, 422],
      handle: async ({ params, token }) => ({ json: await demandFor(deps, token, params.demandId) }),
    }),
    route({
      method: "GET",
      path: "/v1/demands/{demandId}/receipt",
      summary: "Inclusion proof of the demand's log entry in an anchored checkpoint (202 while pending)",
      auth: PUBLIC,
      params: demandParams,
      responses: { 200: ok("anchored", "DemandReceipt"), 202: ok("pending", "DemandReceipt") },
      problems: [404, 422],
      handle: async ({ params }) => {
        const receipt = await service.receipt(params.demandId);
        return { status: receipt.status === "pending" ? 202 : 200, json: receipt };
      },
    }),
    route({
      method: "GET",
      path: "/v1/demands/{demandId}/package",
      summary:
        "Evidence package: an export bundle (dutyproof/bundle/v1) of the matching records with receipts, for the demanding inspector only (signature of packageRequestMessage, good for 5 minutes)",
      auth: { kind: "inspector-signature" },
      params: demandParams,
      responses: { 200: ok("bundle") },
      problems: [401, 403, 404, 422],
      handle: async ({ params, authorization, res }) => {
        await streamJson(res, await evidencePackage(deps, authorization, params.demandId));
      },
    }),
    route({
      method: "GET",
      path: "/v1/units/{unitId}/tasks",
      summary:
        "The unit's tasks: demands it answers by attesting with envelope.demandId, and admitted on-site inspections",
      auth: bearer("unit", "auditor"),
      params: unitParams,
      query: routeSchemas.tasks,
      responses: { 200: ok("tasks", "Tasks") },
      problems: [401, 403, 422],
      handle: async ({ params, query, token }) => ({
        json: await unitTasks(deps, token!, params.unitId, query.status),
      }),
    }),
    route({
      method: "GET",
      path: "/v1/units/{unitId}/demands",
      summary: "Every demand made on the unit, newest first",
      auth: bearer("unit", "auditor"),
      params: unitParams,
      responses: { 200: ok("demands", "UnitDemands") },
      problems: [401, 403, 422],
      handle: async ({ params, token }) => ({ json: await unitDemands(deps, token!, params.unitId) }),
    }),
    route({
      method: "GET",
      path: "/v1/units/{unitId}/duty-list",
      summary: "The unit's duty list (权责清单): every catalog duty type, on the list or why not",
      auth: PUBLIC,
      params: unitParams,
      responses: { 200: ok("duty list", "DutyList") },
      problems: [422, 503],
      handle: async ({ params }) => ({ json: await service.dutyList(params.unitId) }),
    }),
    route({
      method: "PATCH",
      path: "/v1/units/{unitId}/duty-list",
      summary: "Add duty types to, or remove them from, the unit's list (operator token)",
      auth: bearer("operator"),
      params: unitParams,
      body: { limitBytes: 64 * 1024, schema: routeSchemas.dutyListChange },
      responses: { 200: ok("duty list", "DutyList") },
      problems: [401, 403, 413, 415, 422],
      handle: async ({ params, body, token }) => ({ json: await changeDutyList(deps, token!, params.unitId, body) }),
    }),
    route({
      method: "GET",
      path: "/v1/units/{unitId}/summary",
      summary: "Monthly summary (月汇总) generated from the unit's records, with a verifiable bundle",
      auth: bearer("unit", "auditor"),
      params: unitParams,
      query: routeSchemas.summary,
      responses: { 200: ok("summary", "MonthlySummary") },
      problems: [401, 403, 422],
      handle: async ({ params, query, token, res }) => {
        await streamJson(res, await monthlySummary(deps, token!, params.unitId, query.month));
      },
    }),
    route({
      method: "GET",
      path: "/v1/burden/report",
      summary:
        "Burden report per unit, department or month: demands, answered from the ledger, duplicates, refusals, on-site use against quota, emergencies, hours saved (JSON or CSV). A department's token reads its own department's",
      auth: bearer("inspector:<department>", "unit", "auditor"),
      query: routeSchemas.report,
      responses: { 200: ok("report", "BurdenReport") },
      problems: [401, 403, 422],
      handle: async ({ query, token }) => {
        const report = await burdenReport(deps, token, query);
        if (query.format !== "csv") return { json: report };
        return {
          text: reportCsv(report),
          type: "text/csv; charset=utf-8",
          headers: { "content-disposition": `attachment; filename="burden-${query.groupBy}.csv"` },
        };
      },
    }),
  ];
}
