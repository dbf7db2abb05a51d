/**
 * Live monitoring in a real gateway (anvil chain, LevelDB, HTTP on loopback): a department's
 * third request to a unit in a month passes the threshold of 2 and raises one alert, as a
 * Prometheus metric, a log line, a webhook delivery a real receiver verifies, and in the live
 * view the console polls (ETag, 304 while nothing changed), each reader seeing its own share; the
 * alert is not raised again after a restart; the weekly digest comes out of the API and the CLI.
 */
import { expect } from "chai";
import { execFile } from "node:child_process";
import { createHmac } from "node:crypto";
import { type IncomingHttpHeaders, type Server, createServer } from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type BaseWallet, Wallet, id } from "ethers";
import { type DemandDefinition, demandOf, signDemand } from "../../server/burden/demandClient.ts";
import { type RequestDraft, requestOf, signRequest } from "../../server/burden/requestClient.ts";
import { weekOfTime } from "../../server/burden/liveAlerts.ts";
import { departmentIdOf } from "../../server/chain/deployment.ts";
import { configFromEnvironment } from "../../server/config.ts";
import { issueToken } from "../../server/gateway/AccessTokens.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { waitFor } from "../helpers/gatewayFixture.ts";
import { testPort } from "../helpers/ports.ts";
import { cliPath } from "../helpers/serve.ts";
import { tempDir } from "../helpers/tempDir.ts";

const DAY = 86_400;
const SECRET = "live-test-webhook-secret";
const township = id("unit:live-township");
const village = id("unit:live-village");
const ZERO = "0x" + "00".repeat(32);

describe("live burden monitoring (real anvil chain, real LevelDB, real HTTP)", function () {
  this.timeout(180_000);
  const dir = tempDir("live");
  const now = Math.floor(Date.now() / 1000);
  const civil = Wallet.createRandom();
  const safety = Wallet.createRandom();
  const gatewayLog: string[] = [];
  const deliveries: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  let receiver: Server;
  let gateway: RunningGateway;
  let definition: DemandDefinition;
  const types: Record<string, string> = {};
  const tokens: Record<string, string> = {};
  let receiverPort = 0;

  const call = async (path: string, token?: string, headers: Record<string, string> = {}) => {
    const res = await fetch(gateway.url + path, {
      headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, body: text.startsWith("{") ? JSON.parse(text) : text };
  };
  let serial = 0;
  const demand = async (wallet: BaseWallet, department: string) => {
    const envelope = demandOf(
      wallet.address,
      {
        unitId: village,
        dutyTypeIds: [types[department === "civil-affairs" ? "household-visit" : "safety-hazard-check"]!],
        from: now - (40 + serial++) * DAY,
        to: now - serial * 3600,
        purpose: "月度核查",
        issuedAt: now,
        department,
      },
      definition.logId,
    );
    const res = await fetch(gateway.url + "/v1/demands", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ demand: envelope, signature: await signDemand(wallet, definition, envelope) }),
    });
    expect(res.status, await res.clone().text()).to.equal(201);
  };
  const metric = async (name: string) => {
    const text = (await call("/metrics")).text;
    const line = text.split("\n").find((l) => l.startsWith(name));
    return line === undefined ? undefined : Number(line.split(" ").at(-1));
  };
  const chainPort = testPort("live");
  const environment = {
    BURDEN_ALERT_PER_UNIT_MONTH: "2",
    BURDEN_ALERT_USUAL_FLOOR: "50",
    BURDEN_ALERT_WEBHOOK_SECRET: SECRET,
    BURDEN_ALERT_WEBHOOK_ATTEMPTS: "3",
  };
  const start = async () => {
    Object.assign(process.env, environment, {
      BURDEN_ALERT_WEBHOOK_URL: `http://127.0.0.1:${receiverPort}/alerts`,
    });
    try {
      return await startGateway(
        configFromEnvironment(
          {},
          { dataDir: dir.path, port: 0, chainPort, anchorIntervalMs: 200, anchorMaxLeaves: 1000, logName: "live" },
        ),
        (line) => gatewayLog.push(line),
        // One instant for the whole suite: a month or week turning mid-run changes nothing.
        { clock: { now: () => now * 1000 } },
      );
    } finally {
      for (const name of [...Object.keys(environment), "BURDEN_ALERT_WEBHOOK_URL"]) delete process.env[name];
    }
  };

  before(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        deliveries.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    receiverPort = (receiver.address() as { port: number }).port;
    gateway = await start();
    const send = async (name: string, ...args: unknown[]) => (await gateway.ledger.getFunction(name)(...args)).wait();
    await send("registerUnit", township, ZERO, 2, Wallet.createRandom().address);
    await send("registerUnit", village, township, 3, Wallet.createRandom().address);
    await send("registerInspector", civil.address, departmentIdOf("civil-affairs"));
    await send("registerInspector", safety.address, departmentIdOf("emergency-management"));
    definition = (await call("/v1/demands/eip712")).body;
    for (const d of (await call("/v1/duty-types")).body.dutyTypes as Array<{ id: string; code: string }>)
      types[d.code] = d.id;
    const file = join(dir.path, "tokens.json");
    tokens.auditor = issueToken(file, "auditor", "audit bureau");
    tokens.civil = issueToken(file, "inspector:civil-affairs", "civil affairs");
    tokens.safety = issueToken(file, "inspector:emergency-management", "emergency management");
    tokens.village = issueToken(file, `unit:${village}`, "the village");
  });

  after(async () => {
    await gateway?.close();
    await new Promise<void>((resolve) => receiver?.close(() => resolve()));
    dir.remove();
  });

  it("passes N requests from one department to a unit in a month, and alerts on the N + 1st", async () => {
    await demand(civil, "civil-affairs");
    await demand(civil, "civil-affairs");
    await demand(safety, "emergency-management");
    const atN = await call("/v1/burden/live", tokens.auditor);
    expect(atN.status).to.equal(200);
    expect(atN.body).to.deep.include({ requests: 3, alerts: [] });
    expect(atN.body.byKind).to.deep.equal({ evidence: 3 });
    expect(await metric('dutyproof_burden_alerts_active{rule="department_over_threshold"}')).to.equal(0);

    await demand(civil, "civil-affairs");
    const over = await call("/v1/burden/live", tokens.auditor);
    expect(over.body.alerts).to.have.length(1);
    expect(over.body.alerts[0]).to.include({
      rule: "department_over_threshold",
      unitId: village,
      department: "civil-affairs",
      count: 3,
      limit: 2,
    });
    expect(await metric('dutyproof_burden_alerts_raised_total{rule="department_over_threshold"}')).to.equal(1);
    expect(await metric('dutyproof_burden_alerts_active{rule="department_over_threshold"}')).to.equal(1);
    const logged = gatewayLog.filter((l) => l.includes("burden alert"));
    expect(logged).to.have.length(1);
    expect(JSON.parse(logged[0]!)).to.deep.include({ level: 40, burdenAlert: over.body.alerts[0] });

    const delivery = await waitFor("the webhook delivery", async () => deliveries[0]);
    const timestamp = String(delivery.headers["x-dutyproof-timestamp"]);
    const expected = "sha256=" + createHmac("sha256", SECRET).update(`${timestamp}.${delivery.body}`).digest("hex");
    expect(delivery.headers["x-dutyproof-signature"]).to.equal(expected);
    expect(JSON.parse(delivery.body).alert).to.deep.equal(over.body.alerts[0]);

    // A fourth request keeps the alert standing but raises nothing new.
    await demand(civil, "civil-affairs");
    const fourth = await call("/v1/burden/live", tokens.auditor);
    expect(fourth.body.alerts[0].count).to.equal(4);
    await gateway.live.webhook!.idle();
    expect(deliveries).to.have.length(1);
    expect(await metric('dutyproof_burden_alerts_raised_total{rule="department_over_threshold"}')).to.equal(1);
  });

  it("answers a poll with 304 while nothing changed, and with the news once something did", async () => {
    const first = await call("/v1/burden/live", tokens.auditor);
    const etag = first.headers.get("etag")!;
    expect(etag).to.match(/^"[0-9a-f]{32}"$/);
    expect(first.headers.get("cache-control")).to.equal("private, no-cache");
    const same = await call("/v1/burden/live", tokens.auditor, { "if-none-match": etag });
    expect(same.status).to.equal(304);
    expect(same.text).to.equal("");
    await demand(safety, "emergency-management");
    const changed = await call("/v1/burden/live", tokens.auditor, { "if-none-match": etag });
    expect(changed.status).to.equal(200);
    expect(changed.headers.get("etag")).to.not.equal(etag);
    expect(changed.body.requests).to.equal(6);
  });

  it("shows each reader its own share: a department its own alerts, a unit its own, no token nothing", async () => {
    const civilView = await call("/v1/burden/live", tokens.civil);
    expect(civilView.body).to.deep.include({ requests: 4 });
    expect(civilView.body.alerts).to.have.length(1);
    const safetyView = await call("/v1/burden/live", tokens.safety);
    expect(safetyView.body).to.deep.include({ requests: 2, alerts: [] });
    expect(safetyView.body.departments).to.deep.equal([{ key: "emergency-management", count: 2 }]);
    const own = await call(`/v1/burden/live?unitId=${village}`, tokens.village);
    expect(own.status).to.equal(200);
    expect(own.body.alerts).to.have.length(1);
    expect((await call("/v1/burden/live", tokens.village)).status).to.equal(403);
    expect((await call(`/v1/burden/live?unitId=${township}`, tokens.village)).status).to.equal(403);
    const anonymous = await call("/v1/burden/live");
    expect(anonymous.status).to.equal(401);
    expect(anonymous.headers.get("content-type")).to.match(/problem\+json/);
    expect((await call("/v1/burden/live?unitId=nope", tokens.auditor)).status).to.equal(422);
  });

  it("exports the week's digest as JSON and CSV, through the API and the CLI", async () => {
    const week = weekOfTime(now);
    const json = await call(`/v1/burden/digest?week=${week}`, tokens.auditor);
    expect(json.status, json.text).to.equal(200);
    expect(json.body).to.include({ format: "dutyproof/burden-digest/v1", week });
    expect(json.body.byUnit.rows).to.have.length(1);
    expect(json.body.byUnit.totals.demands).to.equal(6);
    expect(json.body.byDepartment.rows.map((r: { key: string }) => r.key)).to.deep.equal([
      "civil-affairs",
      "emergency-management",
    ]);
    expect(json.body.alerts.map((a: { rule: string }) => a.rule)).to.deep.equal(["department_over_threshold"]);
    const own = await call(`/v1/burden/digest?week=${week}`, tokens.safety);
    expect(own.body).to.include({ department: "emergency-management" });
    expect(own.body.byUnit.totals.demands).to.equal(2);
    expect(own.body.alerts).to.deep.equal([]);
    const csv = await call(`/v1/burden/digest?week=${week}&format=csv`, tokens.auditor);
    expect(csv.headers.get("content-type")).to.equal("text/csv; charset=utf-8");
    const lines = csv.text.split("\r\n");
    expect(lines[0]).to.match(/^week,scope,key,demands,/);
    expect(lines[1]).to.match(new RegExp(`^${week},unit,${village},6,.*,1$`));
    expect(lines.filter((l) => l.includes(",department,"))).to.have.length(2);
    expect((await call(`/v1/burden/digest?week=${week}`, tokens.village)).status).to.equal(403);
    expect((await call(`/v1/burden/digest?week=${week}`)).status).to.equal(401);
    const noSuchWeek = await call("/v1/burden/digest?week=2027-W53", tokens.auditor);
    expect(noSuchWeek.status).to.equal(422);
    expect(noSuchWeek.body.errors[0].path).to.equal("query.week");
    expect((await call("/v1/burden/digest?week=2026-49", tokens.auditor)).status).to.equal(422);

    const out = join(dir.path, `digest-${week}.csv`);
    const env = { ...process.env, GATEWAY_URL: gateway.url, DUTYPROOF_TOKEN: tokens.auditor };
    // Not spawnSync: the gateway answering the CLI runs in this process.
    const cli = (...args: string[]) =>
      new Promise<{ status: number; stderr: string }>((resolve) =>
        execFile(process.execPath, [cliPath, ...args], { env, encoding: "utf8" }, (error, _stdout, stderr) =>
          resolve({ status: error ? Number(error.code) : 0, stderr }),
        ),
      );
    const run = await cli("burden", "digest", "--week", week, "--out", out);
    expect(run.status, run.stderr).to.equal(0);
    expect(readFileSync(out, "utf8").replace(/\r?\n$/, "")).to.equal(csv.text.replace(/\r?\n$/, ""));
    const bad = await cli("burden", "digest", "--week", "49", "--out", out);
    expect(bad.status).to.equal(2);
    expect(bad.stderr.trim().split("\n")).to.have.length(1);
  });

  it("does not raise an alert again after a restart", async () => {
    await gateway.close();
    gatewayLog.length = 0;
    gateway = await start();
    const live = await call("/v1/burden/live", tokens.auditor);
    expect(live.body.alerts).to.have.length(1);
    expect(await metric('dutyproof_burden_alerts_active{rule="department_over_threshold"}')).to.equal(1);
    expect(await metric('dutyproof_burden_alerts_raised_total{rule="department_over_threshold"}')).to.equal(undefined);
    await gateway.live.webhook!.idle();
    expect(deliveries).to.have.length(1);
    expect(gatewayLog.filter((l) => l.includes("burden alert"))).to.deep.equal([]);
  });
  it("counts the gate's other kinds alike: a meeting request is the N + 1st of its department", async () => {
    const definition = (await call("/v1/requests/eip712")).body as DemandDefinition;
    const envelope = requestOf(
      safety.address,
      {
        unitId: village,
        issuedAt: now,
        kind: "meeting",
        department: "emergency-management",
        topic: "汛期安全部署",
        agenda: ["通报汛情"],
        decisionsSought: ["确定值班表"],
        start: now + 2 * DAY,
        durationMinutes: 60,
        roles: ["secretary"],
      } as unknown as RequestDraft,
      definition.logId,
    );
    const res = await fetch(gateway.url + "/v1/requests", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ request: envelope, signature: await signRequest(safety, definition, envelope) }),
    });
    expect(res.status, await res.clone().text()).to.equal(201);
    const live = await call("/v1/burden/live", tokens.safety);
    expect(live.body.byKind).to.deep.equal({ evidence: 2, meeting: 1 });
    expect(live.body.alerts).to.have.length(1);
    expect(live.body.alerts[0]).to.include({ department: "emergency-management", count: 3, limit: 2 });
    await waitFor("the second webhook delivery", async () => deliveries[1]);
    expect(JSON.parse(deliveries[1]!.body).alert).to.deep.equal(live.body.alerts[0]);
  });
});
