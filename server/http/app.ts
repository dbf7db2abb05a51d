/**
 * The gateway's HTTP API: the route table (routes.ts) served by the dispatcher (dispatch.ts),
 * with /openapi.json and /docs derived from the same table.
 */
import type { RequestListener } from "node:http";
import type { Access } from "../app/access.ts";
import type { AdminAudit } from "../app/adminAudit.ts";
import type { EraseDependencies } from "../app/erase.ts";
import type { Readiness } from "../app/readiness.ts";
import type { BurdenService } from "../burden/BurdenService.ts";
import type { TipService } from "../app/tips.ts";
import type { LiveMonitor } from "../burden/LiveMonitor.ts";
import type { CatalogEntry } from "../catalog/loadCatalog.ts";
import type { Deployment } from "../chain/deployment.ts";
import { ownTrustAnchor } from "../chain/trustAnchors.ts";
import type { Clock } from "../core/clock.ts";
import type { RateLimiter } from "../core/rateLimit.ts";
import type { TrustAnchors } from "../core/trust.ts";
import type { AttestationService } from "../gateway/AttestationService.ts";
import type { RequestObserver } from "../observability/httpObservability.ts";
import type { LedgerStore } from "../store/LedgerStore.ts";
import { dispatcher } from "./dispatch.ts";
import { docsPage, openApiDocument } from "./openApiDocument.ts";
import type { Route } from "./route.ts";
import { type GatewayRouteDependencies, gatewayRoutes } from "./routes.ts";
import type { ConfirmationDependencies } from "../app/confirm.ts";
import { confirmationPublicRoutes, confirmationRoutes } from "./confirmationRoutes.ts";

export interface AppOptions extends Access {
  store: LedgerStore;
  attestations: AttestationService;
  catalog: () => CatalogEntry[];
  deployment: Deployment;
  /** The gateway's clock (rate limits, signature ages, export dates). */
  clock: Clock;
  /** The chain endpoint the gateway itself reads (verify, console) and, unless publicRpcUrl, publishes. */
  rpcUrl: string;
  /** The deployments verification trusts (default: this gateway's own); served at /v1/trust. */
  trust?: TrustAnchors;
  /** The chain endpoint /v1/info publishes, when not rpcUrl (credentials redacted, or /v1/rpc). */
  publicRpcUrl?: string;
  /** POST /v1/rpc, the embedded node's read-only endpoint (server/http/chainRpcEndpoint.ts). */
  chainRpc?: GatewayRouteDependencies["chainRpc"];
  /** Whether the chain answers and the store is open (for /readyz). */
  ready: () => Promise<Readiness>;
  /** Called after records were appended (to wake the anchorer). */
  onAppended?: () => void;
  /** Verifies evidence against the chain with the same verifier as `dutyproof verify`. */
  verify?: (evidence: unknown) => Promise<unknown>;
  log?: (message: string) => void;
  maxBatch?: number;
  /** Per-client (remote address) request limit; none when absent. */
  clientLimiter?: RateLimiter;
  /** Request ids, request log lines and metrics of every request. */
  observe?: RequestObserver;
  /** GET /metrics. */
  metrics?: GatewayRouteDependencies["metrics"];
  /** Erasure by the operator key; absent: no admin routes. */
  erase?: EraseDependencies;
  /** Evidence demands, duty lists and burden reports; absent: none of those routes. */
  burden?: { service: BurdenService; audit?: AdminAudit; live?: LiveMonitor };
  /** Where the built console lives (tests may build elsewhere). */
  consoleBuildDir?: string;
  /** The log in the C2SP layout: signed checkpoints, tiles and entry bundles (tlogRoutes.ts). */
  tlog?: GatewayRouteDependencies["tlog"];
  /** GET /v1/unit-names: the operator's unit directory. */
  unitNames?: GatewayRouteDependencies["unitNames"];
  /** Residents' confirmations (confirmationRoutes.ts); absent: none of those routes. */
  confirmations?: ConfirmationDependencies;
  /** Anonymous tips (server/app/tips.ts); absent: no tip routes. */
  tips?: TipService;
}

/** The route table of a gateway with `options`. */
export function routesOf(options: AppOptions): Route[] {
  const { store, deployment, clock } = options;
  let openApi: string | undefined;
  let docs: string | undefined;
  const routes: Route[] = gatewayRoutes({
    store,
    deployment,
    catalog: options.catalog,
    clock,
    records: { store, access: options, catalog: options.catalog },
    attest: { attestations: options.attestations, onAppended: options.onAppended, maxBatch: options.maxBatch },
    rpcUrl: options.rpcUrl,
    publishedRpcUrl: options.publicRpcUrl ?? options.rpcUrl,
    trust: options.trust ?? [ownTrustAnchor(deployment, deployment.logId)],
    ready: options.ready,
    verify: options.verify,
    metrics: options.metrics,
    chainRpc: options.chainRpc,
    erase: options.erase,
    demands: options.burden ? { ...options.burden, access: options, clock } : undefined,
    live: options.burden?.live,
    consoleBuildDir: options.consoleBuildDir,
    unitNames: options.unitNames,
    tlog: options.tlog,
    tips: options.tips ? { service: options.tips, access: options } : undefined,
    // The same for the life of the process: built on first request, not on every one.
    documents: {
      openApi: () => (openApi ??= JSON.stringify(openApiDocument(routes))),
      docsPage: () => (docs ??= docsPage(routes)),
    },
  });
  if (options.confirmations)
    routes.push(
      ...confirmationRoutes(options.confirmations),
      ...confirmationPublicRoutes(options.confirmations, options.consoleBuildDir),
    );
  return routes;
}

/** The gateway's request listener: every route of the table, on one dispatcher. */
export function createRequestListener(options: AppOptions): RequestListener {
  return dispatcher(routesOf(options), {
    observe: options.observe,
    clientLimiter: options.clientLimiter,
    clock: options.clock,
    log: options.log,
  });
}
