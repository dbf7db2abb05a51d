/**
 * The gateway's HTTP API (Express 5). Handlers validate with the same zod schemas the OpenAPI
 * document is generated from, call the services, and leave every error to problemHandler.
 */
import express, { type NextFunction, type Request, type Response } from "express";
import type { RequestListener } from "node:http";
import { z } from "zod";
import { DutyproofError } from "../core/errors.ts";
import { bodyShapeFaults } from "../core/bodyShape.ts";
import type { RateLimiter } from "../core/rateLimit.ts";
import { eip712Definition } from "../core/eip712.ts";
import type { CatalogEntry } from "../catalog/loadCatalog.ts";
import type { Deployment } from "../chain/deployment.ts";
import type { AttestationService } from "../gateway/AttestationService.ts";
import type { LedgerStore } from "../store/LedgerStore.ts";
import { ingestHandler } from "./ingest.ts";
import { hash32, parseQuery } from "./parseQuery.ts";
import { readPathHandler } from "./readPath.ts";
import type { RequestObserver } from "../observability/httpObservability.ts";
import { consoleRoutes } from "./consoleRoutes.ts";
import type { TrustAnchors } from "../core/trust.ts";
import { ownTrustAnchor } from "../chain/trustAnchors.ts";
import { type BurdenRouterOptions, burdenRouter, demandAuditFields } from "./burdenRouter.ts";
import { docsPage, openApiDocument } from "./openapi.ts";
import { bodyLimit } from "./bodyLimit.ts";
import { problemHandler } from "./problem.ts";
import { clientRateLimit } from "./rateLimit.ts";
import { type AdminOptions, adminRoutes } from "./adminRoutes.ts";
import { noticesOf } from "../gateway/ledgerNotices.ts";
import { writeExport } from "../gateway/exportBundle.ts";
import { streamJson } from "./streamJson.ts";
import { publicCheckpoint } from "../gateway/receipts.ts";
import { type TlogRouteOptions, tlogRoutes } from "./tlogRoutes.ts";

export interface AppOptions {
  store: LedgerStore;
  attestations: AttestationService;
  catalog: () => CatalogEntry[];
  deployment: Deployment;
  /** The chain endpoint the gateway itself reads (verify, console) and, unless publicRpcUrl, publishes. */
  rpcUrl: string;
  /** The deployments verification trusts (default: this gateway's own); served at /v1/trust. */
  trust?: TrustAnchors;
  /** The chain endpoint /v1/info publishes, when not rpcUrl (credentials redacted, or /v1/rpc). */
  publicRpcUrl?: string;
  /** POST /v1/rpc, the embedded node's read-only endpoint (server/http/chainRpcEndpoint.ts). */
  chainRpc?: express.Router;
  /** Whether the chain answers and the store is open (for /readyz). */
  ready: () => Promise<{ ready: boolean; checks: Record<string, string> }>;
  /** Called after records were appended (to wake the anchorer). */
  onAppended?: () => void;
  /** Checks a bearer token for reading all of a unit's records; returns false when not allowed. */
  mayRead?: (token: string | undefined, unitId: string) => Promise<boolean>;
  /** Checks a bearer token for reading a unit's records of one duty type (a department's own). */
  mayReadDutyType?: (token: string | undefined, unitId: string, dutyTypeId: string) => Promise<boolean>;
  /** Verifies evidence against the chain with the same verifier as `dutyproof verify`. */
  verify?: (evidence: unknown) => Promise<unknown>;
  /** Checks a bearer token for reading every record (auditor scope). */
  mayAudit?: (token: string | undefined) => Promise<boolean>;
  log?: (message: string) => void;
  maxBatch?: number;
  /** Per-client (remote address) request limit; none when absent. */
  clientLimiter?: RateLimiter;
  /** Operator actions (erasure), guarded by the operator key; absent: no admin routes. */
  admin?: AdminOptions;
  /** Mounted before every route: request ids, request logs, metrics and GET /metrics. */
  observability?: express.RequestHandler;
  /** The same observer for the node:http routes (ingest.ts, readPath.ts). */
  observe?: RequestObserver;
  /** Evidence demands, duty lists and burden reports (server/http/burdenRouter.ts). */
  burden?: BurdenRouterOptions;
  /** The log in the C2SP layout: signed checkpoints, tiles and entry bundles (tlogRoutes.ts). */
  tlog?: TlogRouteOptions;
}

// Query schemas are built once: zod compiles a schema on its first parse, so one built inside a
// handler is compiled again on every request.
const exportQuery = z
  .object({
    unitId: hash32,
    dutyTypeId: hash32.optional(),
    from: z.coerce.number().int().optional().describe("performedAt lower bound, Unix seconds"),
    to: z.coerce.number().int().optional().describe("performedAt upper bound (exclusive), Unix seconds"),
  })
  .strict();
const auditQuery = z
  .object({
    from: z.coerce.number().int().min(0).default(0),
    limit: z.coerce.number().int().min(1).max(5000).default(1000),
  })
  .strict();
const checkpointsQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict();

/**
 * The duty types of `unitId` a token may read: undefined for all of them (the unit's own token,
 * an auditor's), else the set a department's token may read (one, when `dutyTypeId` is given).
 * Throws request.forbidden when the token reads none of them.
 */
export async function readableDutyTypes(
  options: Pick<AppOptions, "mayRead" | "mayReadDutyType" | "catalog">,
  token: string,
  unitId: string,
  dutyTypeId?: string,
): Promise<ReadonlySet<string> | undefined> {
  if (await (options.mayRead?.(token, unitId) ?? false)) return undefined;
  const readable = new Set<string>();
  for (const id of dutyTypeId ? [dutyTypeId] : options.catalog().map((e) => e.id)) {
    if (await (options.mayReadDutyType?.(token, unitId, id) ?? false)) readable.add(id);
  }
  if (readable.size === 0) throw new DutyproofError("request.forbidden", "this token cannot read that unit's records");
  return readable;
}

/**
 * The gateway's request listener: the ingest routes (ingest.ts) and the public read routes
 * (readPath.ts) on node:http, then Express.
 */
export function createRequestListener(options: AppOptions): RequestListener {
  const app = createApp(options);
  const ingest = ingestHandler(options);
  const read = readPathHandler(options);
  return (req, res) => {
    if (!ingest(req, res) && !read(req, res)) app(req, res);
  };
}

/**
 * Every route but those createRequestListener serves in front: the two ingest routes, proofs,
 * the latest checkpoint and receipts.
 */
export function createApp(options: AppOptions): express.Express {
  const { store, deployment } = options;
  const app = express();
  app.disable("x-powered-by");
  // Responses are small and never cached by clients; hashing each one for an ETag is wasted work.
  app.set("etag", false);
  app.set("query parser", "simple");
  if (options.observability) app.use(options.observability);
  if (options.clientLimiter) app.use(clientRateLimit(options.clientLimiter));
  // The largest body any Express route takes (/v1/verify): past it, no more is read (bodyLimit.ts).
  app.use(bodyLimit(1024 * 1024));

  const requireJson = (req: Request, _res: Response, next: NextFunction) => {
    if (!req.is("application/json")) {
      next(new DutyproofError("request.unsupported_media_type", "send the body as application/json"));
      return;
    }
    next();
  };
  // Parsed bodies are checked for depth and __proto__-like keys before any schema sees them.
  const json = (limit: string) => {
    const parse = express.json({ limit, strict: true, type: "application/json" });
    return (req: Request, res: Response, next: NextFunction) =>
      parse(req, res, (error?: unknown) => {
        const errors = error ? [] : bodyShapeFaults(req.body);
        if (errors.length) next(new DutyproofError("request.invalid", "the body's shape is not allowed", { errors }));
        else next(error);
      });
  };

  app.get("/livez", (_req, res) => {
    res.json({ status: "ok" });
  });

  app.get("/readyz", async (_req, res) => {
    const state = await options.ready();
    res.status(state.ready ? 200 : 503).json({ status: state.ready ? "ready" : "not ready", checks: state.checks });
  });

  app.get("/v1/info", (_req, res) => {
    res.json({
      name: "dutyproof gateway",
      chainId: deployment.chainId,
      rpcUrl: options.publicRpcUrl ?? options.rpcUrl,
      contracts: { DutyLedger: deployment.address },
      deployBlock: deployment.deployBlock,
      logId: deployment.logId,
      treeSize: store.treeSize,
      eip712: eip712Definition(deployment.chainId, deployment.address),
      leafFormat: "SHA-256(0x00 ‖ 'DPL1' ‖ recordDigest ‖ signature)",
      ...(options.tlog
        ? { tlog: { origin: options.tlog.checkpoints.origin, verifierKey: options.tlog.checkpoints.verifierKey } }
        : {}),
    });
  });

  app.get("/v1/duty-types", (_req, res) => {
    res.json({ dutyTypes: options.catalog().map((e) => ({ id: e.id, ...e.document })) });
  });

  app.get("/v1/attestations/:recordId", async (req, res) => {
    const recordId = parseQuery(hash32, req.params.recordId);
    const record = await store.getRecord(recordId);
    const token = req.get("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) throw new DutyproofError("request.unauthorized", "record content needs a bearer token");
    const allowed = record
      ? await (options.mayReadDutyType?.(token, record.envelope.unitId, record.envelope.dutyTypeId) ?? false)
      : false;
    if (!allowed) {
      // Unknown and forbidden look alike, so a token cannot probe which records exist.
      throw new DutyproofError("request.forbidden", "no record with this id is readable with this token");
    }
    res.json(record!);
  });

  app.post("/v1/verify", requireJson, json("1mb"), async (req, res) => {
    if (!options.verify) throw new DutyproofError("request.not_found", "this gateway does not verify");
    const verdict = (await options.verify(req.body)) as Record<string, unknown>;
    // The chain's verdict, plus what this gateway knows happened to the record since.
    const body = req.body as { receipt?: { recordId?: unknown }; recordId?: unknown };
    const recordId = body.receipt?.recordId ?? body.recordId;
    const known = typeof recordId === "string" ? await store.getRecord(recordId) : undefined;
    res.json(known ? { ...verdict, ...(await noticesOf(store, known)) } : verdict);
  });

  app.get("/v1/export", async (req, res) => {
    const query = parseQuery(exportQuery, req.query);
    const token = req.get("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) throw new DutyproofError("request.unauthorized", "an export needs a bearer token");
    const readable = await readableDutyTypes(options, token, query.unitId, query.dutyTypeId);
    await streamJson(res, (sink) => writeExport(sink, { store, deployment }, query, readable));
  });

  app.get("/v1/audit/records", async (req, res) => {
    const token = req.get("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) throw new DutyproofError("request.unauthorized", "the audit feed needs an auditor's bearer token");
    if (!(await (options.mayAudit?.(token) ?? false)))
      throw new DutyproofError("request.forbidden", "not an auditor token");
    const query = parseQuery(auditQuery, req.query);
    const records = await store.entriesFrom(query.from, query.limit);
    res.json({
      treeSize: store.treeSize,
      records: records.map(({ position, record: r, entry }) =>
        // Evidence demands are log entries of their own kind (docs/protocol.md §4).
        entry
          ? {
              kind: entry.kind,
              leafIndex: position,
              claimedIndex: entry.leafIndex,
              entryId: entry.entryId,
              ...demandAuditFields(entry.value),
              acceptedAt: Math.floor(entry.receivedAt / 1000),
            }
          : {
              leafIndex: position,
              claimedIndex: r!.leafIndex,
              recordId: r!.recordId,
              envelope: r!.envelope,
              signature: r!.signature,
              signer: r!.signer,
              leafHash: r!.leafHash,
              acceptedAt: Math.floor(r!.receivedAt / 1000),
              ...(r!.erasure ? { erasure: r!.erasure } : {}),
            },
      ),
      next: query.from + query.limit < store.treeSize ? query.from + query.limit : null,
    });
  });

  app.get("/v1/checkpoints", async (req, res) => {
    const query = parseQuery(checkpointsQuery, req.query);
    const list = await store.listCheckpoints({ reverse: true, limit: query.limit });
    res.json({ checkpoints: list.map((c) => publicCheckpoint(c, deployment)) });
  });

  // Both are the same for the life of the process: built on first request, not on every one.
  let openApi: string | undefined;
  let docs: string | undefined;
  app.get("/openapi.json", (_req, res) => {
    openApi ??= JSON.stringify(openApiDocument());
    res.type("json").send(openApi);
  });
  app.get("/docs", (_req, res) => {
    docs ??= docsPage();
    res.type("html").send(docs);
  });
  if (options.chainRpc) app.use(options.chainRpc);
  app.use(
    consoleRoutes({
      store,
      rpcUrl: options.rpcUrl,
      trust: options.trust ?? [ownTrustAnchor(deployment, deployment.logId)],
      readableDutyTypes: (token, unitId, dutyTypeId) => readableDutyTypes(options, token, unitId, dutyTypeId),
      catalog: options.catalog,
    }),
  );

  if (options.admin) app.use(adminRoutes(options.admin));
  if (options.burden) app.use(burdenRouter(options.burden));
  if (options.tlog) app.use(tlogRoutes(options.tlog));

  app.use((req, _res, next) => next(new DutyproofError("request.not_found", `no route ${req.method} ${req.path}`)));
  app.use(problemHandler(options.log ?? (() => {})));
  return app;
}
