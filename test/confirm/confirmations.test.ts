/**
 * Residents' confirmations end to end (real chain, real LevelDB, real HTTP on loopback, a real
 * delivery hook receiver): a unit asks for a link, the signed hook carries it to the resident,
 * the resident answers once on the public listener, "did not happen" reaches the owning
 * department's inspectors only, the unit's appeal is logged beside the rating, the evaluation
 * weighs residents at 60%, replay and the monitor accept the DPC1 leaves, the public listener
 * serves nothing else, and no byte of the resident's phone number is kept anywhere.
 */
import { expect } from "chai";
import { execFile } from "node:child_process";
import { createHmac } from "node:crypto";
import { once } from "node:events";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { type Server, createServer } from "node:http";
import { join } from "node:path";
import { Wallet, id } from "ethers";
import { replayFromGateway } from "../../server/audit/replayFromGateway.ts";
import { monitorOnce } from "../../server/audit/monitorLog.ts";
import { ownTrustAnchor } from "../../server/chain/trustAnchors.ts";
import { departmentIdOf } from "../../server/chain/deployment.ts";
import { configFromEnvironment } from "../../server/config.ts";
import { ManualClock } from "../../server/core/clock.ts";
import { issueToken } from "../../server/gateway/AccessTokens.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { buildConsole } from "../../scripts/build-console.ts";
import { submitRecord, waitFor } from "../helpers/gatewayFixture.ts";
import { testPort } from "../helpers/ports.ts";
import { cliPath } from "../helpers/serve.ts";
import { tempDir } from "../helpers/tempDir.ts";

const phone = "13912345678";
const village = id("unit:confirm-village");
const otherVillage = id("unit:confirm-other-village");
const visit = {
  householdName: "王某某",
  address: "青石村3组12号",
  visitPurpose: "elderly-care",
  followUpRequired: false,
  visitors: "李某",
};

interface HookMessage {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe("residents' confirmations (real chain, LevelDB, HTTP and delivery hook)", function () {
  this.timeout(180_000);
  const dir = tempDir("confirm");
  const hookSecret = Buffer.from("a shared secret of at least thirty-two bytes, for the bridge");
  const clock = new ManualClock(Date.now());
  const gatewayLog: string[] = [];
  const delivered: HookMessage[] = [];
  let hook: Server;
  let gateway: RunningGateway;
  let publicUrl: string;
  const unitKey = Wallet.createRandom();
  const otherKey = Wallet.createRandom();
  const tokens: Record<"village" | "other" | "civil" | "safety" | "auditor", string> = {} as never;

  const call = async (base: string, method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(base + path, {
      method,
      headers: {
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get("content-type") ?? "", body: text ? JSON.parse(text) : null };
  };
  /** The link and code the hook carried for the latest request. */
  const lastDelivery = () => JSON.parse(delivered.at(-1)!.body) as { link: string; code: string; contact: string };
  const tokenOf = (link: string) => link.split("/confirm/")[1]!;
  const record = async () => {
    clock.set(Math.max(clock.now(), Date.now()));
    return submitRecord(gateway.url, { key: unitKey, unitId: village }, "household-visit", visit);
  };
  const ask = (recordId: string, token = tokens.village, contact: string | undefined = phone) =>
    call(gateway.url, "POST", "/v1/confirmations", { recordId, ...(contact ? { contact } : {}) }, token);

  before(async () => {
    await buildConsole();
    hook = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      req.on("end", () => {
        delivered.push({ headers: req.headers, body });
        res.writeHead(202).end();
      });
    }).listen(testPort("confirm"), "127.0.0.1");
    await once(hook, "listening");
    const hookAddress = hook.address() as { port: number };
    const secretFile = join(dir.path, "..", `confirm-hook-${process.pid}.key`);
    writeFileSync(secretFile, hookSecret);
    gateway = await startGateway(
      configFromEnvironment(
        {
          CONFIRMATION_HOOK_URL: `http://127.0.0.1:${hookAddress.port}/sms`,
          CONFIRMATION_HOOK_SECRET_FILE: secretFile,
        },
        {
          dataDir: dir.path,
          port: 0,
          chainPort: testPort("confirm"),
          anchorIntervalMs: 200,
          anchorMaxLeaves: 1000,
          logName: "confirm",
        },
      ),
      (line) => gatewayLog.push(line),
      {
        clock,
        confirmation: {
          publicPort: 0,
          publicRatePerMinute: 6000,
          hook: { url: `http://127.0.0.1:${hookAddress.port}/sms`, secret: new Uint8Array(hookSecret) },
        },
      },
    );
    publicUrl = gateway.publicUrl!;
    const send = async (name: string, ...args: unknown[]) => (await gateway.ledger.getFunction(name)(...args)).wait();
    await send("registerUnit", village, "0x" + "00".repeat(32), 3, unitKey.address);
    await send("registerUnit", otherVillage, "0x" + "00".repeat(32), 3, otherKey.address);
    await send("registerInspector", Wallet.createRandom().address, departmentIdOf("civil-affairs"));
    const file = join(dir.path, "tokens.json");
    tokens.village = issueToken(file, `unit:${village}`, "the village");
    tokens.other = issueToken(file, `unit:${otherVillage}`, "another village");
    tokens.civil = issueToken(file, "inspector:civil-affairs", "civil-affairs inspectors");
    tokens.safety = issueToken(file, "inspector:emergency-management", "emergency-management inspectors");
    tokens.auditor = issueToken(file, "auditor", "audit bureau");
  });

  after(async () => {
    await gateway?.close();
    hook?.close();
    dir.remove();
  });

  let answered: string; // a record confirmed "happened"
  let notHappened: { recordId: string; answerId: string };

  it("sends the link through the signed hook, not to the caller, and issues one link per record", async () => {
    const recordId = await record();
    const res = await ask(recordId);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body).to.include({ recordId, delivery: "hook" });
    expect(res.body).to.not.have.any.keys("link", "code");
    const message = delivered.at(-1)!;
    const timestamp = String(message.headers["x-dutyproof-timestamp"]);
    const expected = "sha256=" + createHmac("sha256", hookSecret).update(`${timestamp}.${message.body}`).digest("hex");
    expect(message.headers["x-dutyproof-signature"]).to.equal(expected);
    const sent = lastDelivery();
    expect(sent.contact).to.equal(phone);
    expect(sent.link.startsWith(`${publicUrl}/confirm/`)).to.equal(true);
    expect(sent.code).to.match(/^[0-9A-HJKMNP-TV-Z]{10}$/);

    const again = await ask(recordId);
    expect(again.status).to.equal(409);
    expect(again.type).to.match(/^application\/problem\+json/);
    expect(again.body.code).to.equal("confirmation.already_requested");
  });

  it("refuses a duty type that does not ask residents, and another unit's record", async () => {
    clock.set(Math.max(clock.now(), Date.now()));
    const patrol = await submitRecord(gateway.url, { key: unitKey, unitId: village }, "grid-patrol", {
      gridCode: "G-1",
      durationMinutes: 20,
      issuesFound: 0,
      gridWorker: "网格员",
    });
    const refused = await ask(patrol);
    expect(refused.status).to.equal(422);
    expect(refused.body.code).to.equal("confirmation.not_confirmable");
    const recordId = await record();
    expect((await ask(recordId, tokens.other)).status).to.equal(403);
    expect((await ask(recordId, tokens.civil)).status).to.equal(403);
  });

  it("takes the resident's one answer on the public listener; a second use is refused", async () => {
    answered = await record();
    expect((await ask(answered)).status).to.equal(201);
    const { link, code } = lastDelivery();
    const view = await call(publicUrl, "GET", `/v1/public/confirmations/${tokenOf(link)}`);
    expect(view.status).to.equal(200);
    expect(view.body.service).to.deep.equal({ "zh-CN": "入户走访", en: "Household visit" });
    expect(JSON.stringify(view.body)).to.not.include("王某某");
    // The typed code opens the same link, in any case and with spaces.
    const byCode = await call(
      publicUrl,
      "GET",
      `/v1/public/confirmations/${code.toLowerCase().slice(0, 5)} ${code.slice(5)}`,
    );
    expect(byCode.status).to.equal(200);
    const answer = await call(publicUrl, "POST", `/v1/public/confirmations/${tokenOf(link)}`, {
      happened: true,
      satisfaction: 5,
      comment: "很及时",
    });
    expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
    for (const secret of [tokenOf(link), code]) {
      const second = await call(publicUrl, "POST", `/v1/public/confirmations/${secret}`, { happened: false });
      expect(second.status).to.equal(409);
      expect(second.type).to.match(/^application\/problem\+json/);
      expect(second.body.code).to.equal("confirmation.link_used");
    }
  });

  it("refuses malformed answers with problem+json: a lone surrogate, a long comment, a missing rating", async () => {
    const recordId = await record();
    await ask(recordId);
    const token = tokenOf(lastDelivery().link);
    const raw = (body: string) =>
      fetch(`${publicUrl}/v1/public/confirmations/${token}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
    for (const body of [
      '{"happened":false,"comment":"\\ud800"}',
      JSON.stringify({ happened: false, comment: "长".repeat(501) }),
      JSON.stringify({ happened: true }),
      JSON.stringify({ happened: true, satisfaction: 6 }),
      JSON.stringify({ happened: "yes" }),
    ]) {
      const res = await raw(body);
      expect(res.status, body).to.equal(422);
      expect(res.headers.get("content-type")).to.match(/^application\/problem\+json/);
    }
    // Still open after the refusals.
    expect((await call(publicUrl, "GET", `/v1/public/confirmations/${token}`)).status).to.equal(200);
  });

  it("refuses an expired link with 410", async () => {
    const recordId = await record();
    await ask(recordId);
    const token = tokenOf(lastDelivery().link);
    clock.set(clock.now() + 73 * 3600_000);
    const res = await call(publicUrl, "POST", `/v1/public/confirmations/${token}`, { happened: false });
    expect(res.status).to.equal(410);
    expect(res.body.code).to.equal("confirmation.link_expired");
    expect((await call(publicUrl, "GET", "/v1/public/confirmations/NOSUCHCODE1")).body.code).to.equal(
      "confirmation.link_unknown",
    );
  });

  it("prints a link shown to the caller, its code and a QR code drawn locally (dutyproof confirm request)", async () => {
    const recordId = await record();
    // Asynchronously: the gateway answering it runs in this process.
    const cli = () =>
      new Promise<{ status: number; stdout: string; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          [cliPath, "confirm", "request", recordId],
          { env: { ...process.env, GATEWAY_URL: gateway.url, DUTYPROOF_TOKEN: tokens.village } },
          (error, stdout, stderr) => resolve({ status: error ? Number(error.code) : 0, stdout, stderr }),
        ),
      );
    const run = await cli();
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.match(new RegExp(`link: ${publicUrl}/confirm/[A-Za-z0-9_-]{43}\n`));
    expect(run.stdout).to.match(/code: [0-9A-HJKMNP-TV-Z]{10}\n/);
    expect(run.stdout).to.match(/[█▀▄]{7}/);
    const again = await cli();
    expect(again.status).to.equal(1);
    expect(again.stderr.trim().split("\n")).to.have.length(1);
  });

  it('brings "did not happen" to the owning department\'s inspectors, not to others, and logs an appeal beside it', async () => {
    const recordId = await record();
    await ask(recordId);
    const res = await call(publicUrl, "POST", `/v1/public/confirmations/${tokenOf(lastDelivery().link)}`, {
      happened: false,
      comment: "没有人来过",
    });
    expect(res.status).to.equal(201);
    notHappened = { recordId, answerId: res.body.answerId };
    const civil = await call(
      gateway.url,
      "GET",
      `/v1/confirmations/findings?unitId=${village}`,
      undefined,
      tokens.civil,
    );
    expect(civil.status).to.equal(200);
    expect(civil.body.findings.map((f: { recordId: string }) => f.recordId)).to.deep.equal([recordId]);
    expect(civil.body.findings[0]).to.include({ comment: "没有人来过", unitId: village });
    const safety = await call(gateway.url, "GET", "/v1/confirmations/findings", undefined, tokens.safety);
    expect(safety.body.findings).to.deep.equal([]);
    const other = await call(gateway.url, "GET", "/v1/confirmations/findings", undefined, tokens.other);
    expect(other.body.findings).to.deep.equal([]);

    // Only the unit appeals, and the answer stays.
    const path = `/v1/confirmations/${notHappened.answerId}/appeals`;
    expect((await call(gateway.url, "POST", path, { reason: "走访有照片" }, tokens.other)).status).to.equal(404);
    const appeal = await call(gateway.url, "POST", path, { reason: "走访当日有签字记录" }, tokens.village);
    expect(appeal.status, JSON.stringify(appeal.body)).to.equal(201);
    const after = await call(gateway.url, "GET", "/v1/confirmations/findings", undefined, tokens.civil);
    expect(after.body.findings).to.have.length(1);
    expect(after.body.findings[0].appeals.map((a: { reason: string }) => a.reason)).to.deep.equal([
      "走访当日有签字记录",
    ]);
  });

  it("reports the unit's evaluation with residents weighing 60% and a follow-up sample seeded by an anchored root", async () => {
    const size = await waitFor("everything anchored", async () => {
      const res = await call(gateway.url, "GET", "/v1/checkpoints/latest");
      return res.status === 200 && res.body.size === (await call(gateway.url, "GET", "/v1/info")).body.treeSize
        ? (res.body.size as number)
        : undefined;
    });
    const res = await call(
      gateway.url,
      "GET",
      `/v1/units/${village}/evaluation?sample=3&seedSize=${size}`,
      undefined,
      tokens.civil,
    );
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const report = res.body;
    expect(report).to.include({ answered: 2, confirmed: 1, didNotHappen: 1, appeals: 1, meanSatisfaction: 5 });
    expect(report.confirmable).to.be.at.least(5);
    expect(report.confirmationRate).to.equal(Math.round((1 / report.confirmable) * 1e4) / 1e4);
    expect(report.score.residentWeight).to.equal(0.6);
    expect(report.score.total).to.equal(Math.round((0.6 * 1 + 0.4 * (report.score.paperwork / 100)) * 1000) / 10);
    expect(report.followUp.seed.size).to.equal(size);
    expect(report.followUp.recordIds).to.have.length(3);
    const again = await call(
      gateway.url,
      "GET",
      `/v1/units/${village}/evaluation?sample=3&seedSize=${size}`,
      undefined,
      tokens.civil,
    );
    expect(again.body.followUp.recordIds).to.deep.equal(report.followUp.recordIds);
    // Another department's evaluation covers its own duty types only: none of these records.
    const safety = await call(gateway.url, "GET", `/v1/units/${village}/evaluation`, undefined, tokens.safety);
    expect(safety.body).to.include({ confirmable: 0, answered: 0, didNotHappen: 0 });
    // Another unit reads nothing of this one.
    expect(
      (await call(gateway.url, "GET", `/v1/units/${village}/evaluation`, undefined, tokens.other)).status,
    ).to.equal(403);
  });

  it("replays and monitors clean with the confirmation leaves in the log", async () => {
    const trust = [ownTrustAnchor(gateway.deployment, "the test gateway")];
    const report = await replayFromGateway({
      gatewayUrl: gateway.url,
      token: tokens.auditor,
      rpcUrl: gateway.rpcUrl,
      trust,
    });
    expect(report.findings).to.deep.equal([]);
    expect(report.clean).to.equal(true);
    expect(report.confirmations).to.equal(3); // two answers and one appeal
    const pass = await monitorOnce(
      { gatewayUrl: gateway.url, token: tokens.auditor, rpcUrl: gateway.rpcUrl, witnesses: [], quorum: 0 },
      null,
    );
    expect(pass.findings).to.deep.equal([]);
  });

  it("serves the residents' routes alone on the public listener: every other route is 404", async () => {
    const openApi = (await call(gateway.url, "GET", "/openapi.json")).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const publicPaths = new Set([
      "/confirm",
      "/confirm/{secret}",
      "/confirm-assets/resident.js",
      "/confirm-assets/resident-style.css",
      "/v1/public/confirmations/{secret}",
    ]);
    let tried = 0;
    for (const [path, methods] of Object.entries(openApi.paths)) {
      if (publicPaths.has(path)) continue;
      const concrete = path.replace(/\{[^}]+\}/g, "0x" + "11".repeat(32));
      for (const method of Object.keys(methods)) {
        const res = await fetch(publicUrl + concrete, {
          method: method.toUpperCase(),
          headers: { "content-type": "application/json", authorization: `Bearer ${tokens.auditor}` },
          body: method === "get" ? null : "{}",
        });
        expect(res.status, `${method} ${path}`).to.equal(404);
        expect(((await res.json()) as { code: string }).code).to.equal("request.not_found");
        tried++;
      }
    }
    expect(tried).to.be.greaterThan(30);
    for (const path of ["/console/", "/metrics", "/livez", "/v1/rpc", "/tlog/checkpoint"])
      expect((await fetch(publicUrl + path)).status, path).to.equal(404);
    const page = await fetch(`${publicUrl}/confirm`);
    expect(page.status).to.equal(200);
    expect(page.headers.get("referrer-policy")).to.equal("no-referrer");
  });

  it("keeps no byte of the resident's phone number: not in the log, the chain, the gateway's log lines or DATA_DIR", async () => {
    expect(delivered.length).to.be.greaterThan(3); // the hook did get it, every time
    const feed = await call(gateway.url, "GET", "/v1/audit/records?from=0&limit=2000", undefined, tokens.auditor);
    expect(JSON.stringify(feed.body)).to.not.include(phone);
    const entries = await fetch(`${gateway.url}/tlog/tile/entries/000.p/${feed.body.treeSize}`);
    expect(Buffer.from(await entries.arrayBuffer()).includes(phone)).to.equal(false);
    await gateway.close();
    expect(gatewayLog.join("\n")).to.not.include(phone);
    // Nor the links' secrets: a log reader could otherwise answer for the residents.
    expect(gatewayLog.some((line) => line.includes("/v1/public/confirmations/"))).to.equal(true);
    for (const message of delivered) {
      const { link, code } = JSON.parse(message.body) as { link: string; code: string };
      expect(gatewayLog.join("\n")).to.not.include(tokenOf(link));
      expect(gatewayLog.join("\n")).to.not.include(code);
    }
    // DATA_DIR holds the store, the chain's state and the tokens: every byte of every file.
    const files: string[] = [];
    const walk = (path: string) => {
      for (const name of readdirSync(path)) {
        const full = join(path, name);
        const stat = statSync(full);
        if (stat.isDirectory()) walk(full);
        else if (stat.isFile()) files.push(full); // not the chain node's IPC socket
      }
    };
    walk(dir.path);
    expect(files.length).to.be.greaterThan(5);
    for (const needle of [phone, Buffer.from(phone, "utf16le").toString("latin1")])
      for (const file of files)
        expect(readFileSync(file).includes(Buffer.from(needle, "latin1")), `${file} holds the phone number`).to.equal(
          false,
        );
  });
});
