/**
 * The route table without a chain: real LevelDB in a temp dir, real HTTP on loopback, the real
 * dispatcher and use cases. Chain reads are wired to an address nothing answers on, and no
 * request here reaches them. Every route of the table is in /openapi.json with its auth scope;
 * every route that needs credentials answers a request without them, or with a token nobody
 * issued, with a 401/403 problem, never a 5xx; a path outside the table is a 404 "no route".
 */
import { once } from "node:events";
import { type Server, createServer } from "node:http";
import { join } from "node:path";
import { expect } from "chai";
import { Contract, JsonRpcProvider, Network, id } from "ethers";
import { BurdenService, chainBurdenRegistry } from "../../server/burden/BurdenService.ts";
import { defaultBurdenSettings } from "../../server/burden/burdenSettings.ts";
import { LiveMonitor } from "../../server/burden/LiveMonitor.ts";
import { defaultAlertThresholds } from "../../server/burden/liveSettings.ts";
import { Catalog } from "../../server/catalog/loadCatalog.ts";
import type { Deployment } from "../../server/chain/deployment.ts";
import { loadDutyLedgerArtifact } from "../../server/chain/dutyLedgerArtifact.ts";
import { ManualClock } from "../../server/core/clock.ts";
import { eip712Domain } from "../../server/core/eip712.ts";
import { AttestationService } from "../../server/gateway/AttestationService.ts";
import { RegistryCache } from "../../server/gateway/RegistryCache.ts";
import { type AppOptions, createRequestListener, routesOf } from "../../server/http/app.ts";
import { chainRpcEndpoint } from "../../server/http/chainRpcEndpoint.ts";
import { authScopeOf } from "../../server/http/openApiDocument.ts";
import type { Route } from "../../server/http/route.ts";
import { createLogger } from "../../server/observability/logger.ts";
import { LedgerStore } from "../../server/store/LedgerStore.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";

const deployment: Deployment = {
  chainId: 31337,
  address: "0x" + "cd".repeat(20),
  deployBlock: 1,
  logId: id("log:route-table"),
};
const someHash = "0x" + "11".repeat(32);

/** Query strings that satisfy each route's query schema, so what is judged is the credential. */
const validQuery: Record<string, string> = {
  "/v1/export": `?unitId=${someHash}`,
  "/v1/units/{unitId}/summary": "?month=2026-01",
  "/v1/burden/digest": "?week=2026-W49",
};
/** Bodies that satisfy each route's body schema. */
const validBody: Record<string, unknown> = {
  "POST /v1/admin/erasures": { recordId: someHash, order: "order 1", signedAt: 1_800_000_000 },
  "PATCH /v1/units/{unitId}/duty-list": { add: [], remove: [] },
  "PATCH /v1/burden/lead-departments": { leads: {} },
  "PATCH /v1/burden/data-list": { add: [], remove: [] },
};

describe("route table (real LevelDB, real HTTP, no chain)", function () {
  this.timeout(60_000);
  const dir = tempDir("route-table");
  const clock = new ManualClock(1_800_000_000_000);
  let store: LedgerStore;
  let server: Server;
  let url: string;
  let routes: Route[];

  before(async () => {
    store = new LedgerStore(join(dir.path, "ledger"));
    await store.open();
    // Nothing listens on port 1: a request that reached the chain would fail, and none does.
    const provider = new JsonRpcProvider("http://127.0.0.1:1", Network.from(deployment.chainId), {
      staticNetwork: true,
    });
    const ledger = new Contract(deployment.address, loadDutyLedgerArtifact().abi as never, provider);
    const catalog = new Catalog(join(dir.path, "duty-types"));
    const domain = eip712Domain(deployment.chainId, deployment.address);
    const service = new BurdenService({
      store,
      registry: chainBurdenRegistry(ledger),
      catalog,
      deployment,
      domain,
      settings: defaultBurdenSettings,
      clock,
    });
    const live = new LiveMonitor({
      store,
      sources: [],
      thresholds: defaultAlertThresholds,
      clock,
      onRaised: [],
      report: (query) => service.report(query),
    });
    const options: AppOptions = {
      store,
      attestations: new AttestationService({
        store,
        registry: new RegistryCache(ledger),
        catalog,
        domain,
        logId: deployment.logId,
        clock,
      }),
      catalog: () => catalog.list(),
      deployment,
      clock,
      rpcUrl: "http://127.0.0.1:1",
      ready: async () => ({ ready: true, checks: {} }),
      // Tokens nobody issued: every question answers "no".
      mayRead: async () => false,
      mayReadDutyType: async () => false,
      mayAudit: async () => false,
      mayOperate: async () => false,
      departmentOf: async () => undefined,
      maySeeDemand: async () => false,
      erase: {
        store,
        dutyTypeOf: (d) => catalog.get(d)?.document,
        clock,
        logger: createLogger({ write: () => {} }),
        audit: (_action, _target, run) => run(),
        operatorAddress: "0x" + "ee".repeat(20),
        logId: deployment.logId,
      },
      burden: { service, live },
      chainRpc: chainRpcEndpoint({
        forward: async () => {
          throw new Error("no chain node in this test");
        },
        chainId: deployment.chainId,
        ledgerAddress: deployment.address,
        holdsRole: async () => false,
      }),
      metrics: { contentType: "text/plain", render: async () => "" },
    };
    routes = routesOf(options);
    server = createServer(createRequestListener(options));
    const port = testPort("app");
    server.listen(port, "127.0.0.1");
    await once(server, "listening");
    url = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    server?.close();
    await store?.close();
    dir.remove();
  });

  const concrete = (route: Route) => route.path.replace(/\{[^}]+\}/g, someHash);
  const request = (route: Route, headers: Record<string, string> = {}) => {
    const body = validBody[`${route.method} ${route.path}`];
    return fetch(url + concrete(route) + (validQuery[route.path] ?? ""), {
      method: route.method,
      headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  };
  const expectProblem = async (res: Response, statuses: number[], what: string) => {
    expect(res.status, what).to.be.oneOf(statuses);
    expect(res.headers.get("content-type"), what).to.match(/^application\/problem\+json/);
    const problem = (await res.json()) as { status: number; code: string };
    expect(problem.status, what).to.equal(res.status);
  };

  it("lists every route of the table in /openapi.json with its auth scope and security", async () => {
    const res = await fetch(`${url}/openapi.json`);
    expect(res.status).to.equal(200);
    const doc = (await res.json()) as {
      paths: Record<string, Record<string, { "x-dutyproof-auth": string; security: object[]; summary: string }>>;
    };
    expect(routes.length).to.be.greaterThan(30);
    for (const route of routes) {
      const path = route.prefix ? `${route.path}/` : route.path;
      const operation = doc.paths[path]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${path}`).to.be.an("object");
      expect(operation!["x-dutyproof-auth"], `${route.method} ${path}`).to.equal(authScopeOf(route.auth));
      expect(operation!.summary).to.equal(route.summary);
      expect(operation!.security.length === 0, `${route.method} ${path} is public`).to.equal(
        route.auth.kind === "public",
      );
    }
    const documented = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    expect(documented).to.equal(routes.length);
  });

  it("serves every route of the table: none is answered 404 'no route'", async () => {
    for (const route of routes) {
      const res = await request(route);
      const what = `${route.method} ${route.path}`;
      // Whatever the use case answers without a chain (some ask it and fail), the route matched.
      const text = await res.text();
      if (res.status === 404 && res.headers.get("content-type")?.includes("problem"))
        expect((JSON.parse(text) as { detail: string }).detail, what).not.to.match(/^no route/);
    }
  });

  it("answers every route that needs credentials with 401 without them, never a 5xx", async () => {
    const guarded = routes.filter(
      (r) => r.auth.kind !== "public" && !(r.auth.kind === "bearer" && r.auth.optional === true),
    );
    expect(guarded.map((r) => r.path)).to.include.members([
      "/v1/attestations/{recordId}",
      "/v1/export",
      "/v1/audit/records",
      "/v1/admin/erasures",
      "/v1/units/{unitId}/duty-list",
    ]);
    for (const route of guarded) {
      const what = `${route.method} ${route.path}`;
      // An inspector's signature is checked against its demand: an unknown demand is a 404 first.
      const statuses = route.auth.kind === "inspector-signature" ? [401, 404] : [401];
      await expectProblem(await request(route), statuses, what);
    }
  });

  it("answers a token nobody issued, or a credential of the wrong kind, with 401/403, never a 5xx", async () => {
    const guarded = routes.filter((r) => r.auth.kind !== "public");
    for (const route of guarded) {
      for (const authorization of [
        "Bearer dp_nobody-issued-this",
        `DutyproofOperator 0x${"00".repeat(65)}`,
        `DutyproofInspector 1800000000.0x${"00".repeat(65)}`,
        "Basic YWRtaW46YWRtaW4=",
      ]) {
        const res = await request(route, { authorization });
        const what = `${route.method} ${route.path} with ${authorization.split(" ")[0]}`;
        if (route.auth.kind === "bearer" && route.auth.optional) {
          // Anyone may ask; a token nobody issued sees what anyone sees.
          expect(res.status, what).to.be.below(500);
          await res.arrayBuffer();
        } else if (route.auth.kind === "inspector-signature") await expectProblem(res, [401, 403, 404], what);
        else await expectProblem(res, [401, 403], what);
      }
    }
  });

  it("answers a path or method outside the table with a 404 problem naming it", async () => {
    for (const [method, path] of [
      ["GET", "/v1/nothing-here"],
      ["DELETE", "/v1/attestations"],
      ["PUT", "/v1/units/" + someHash + "/duty-list"],
      ["GET", "/v1/receipts/"],
    ] as const) {
      const res = await fetch(url + path, { method });
      await expectProblem(res, [404], `${method} ${path}`);
    }
    const res = await fetch(`${url}/v1/nothing-here`);
    expect(((await res.json()) as { detail: string }).detail).to.equal("no route GET /v1/nothing-here");
  });

  it("judges an operator's signature by the clock it is given, not the system's", async () => {
    // A signature by a key that is not the operator's is refused before its age is read; the
    // age is read from the ManualClock, which a test moves instead of sleeping.
    const erase = routes.find((r) => r.path === "/v1/admin/erasures")!;
    clock.advance(10 * 60 * 1000);
    const res = await request(erase, { authorization: `DutyproofOperator 0x${"00".repeat(65)}` });
    await expectProblem(res, [403], "erasure signed by nobody");
  });
});
