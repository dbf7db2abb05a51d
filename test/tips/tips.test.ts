/**
 * Anonymous tips against a real gateway, a real anvil chain and real LevelDB: members registered
 * by their unit, a tip proved by a member and logged as a DPT1 leaf, a second tip in the same
 * category and month refused by its nullifier, forged proofs, unknown roots and wrong scopes
 * refused with reasons, replies read back with the tracking code, audit replay over a log that
 * holds tip entries, and nothing in the log, the gateway's log lines or its data directory that
 * links a tip to its sender.
 */
import { expect } from "chai";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { id } from "ethers";
import { Identity } from "@semaphore-protocol/identity";
import { replayFromGateway } from "../../server/audit/replayFromGateway.ts";
import { ownTrustAnchor } from "../../server/chain/trustAnchors.ts";
import { configFromEnvironment } from "../../server/config.ts";
import { issueToken } from "../../server/gateway/AccessTokens.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { type GroupView, proveTip, stopProverThreads, tipContent } from "../../scripts/tipProver.ts";

const village = id("unit:tips-village");
const township = id("unit:tips-township");

/** Every file under `dir`, as bytes. */
function filesUnder(dir: string): Array<{ path: string; bytes: Buffer }> {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const stat = statSync(path);
    if (stat.isDirectory()) return filesUnder(path);
    return stat.isFile() ? [{ path, bytes: readFileSync(path) }] : []; // not the chain node's socket
  });
}

describe("anonymous tips (real anvil chain, real LevelDB, real HTTP, real Semaphore proofs)", function () {
  this.timeout(300_000);
  const dir = tempDir("tips");
  const gatewayLog: string[] = [];
  let gateway: RunningGateway;
  let villageToken: string;
  let townshipToken: string;
  let operatorToken: string;
  let civilToken: string;
  let safetyToken: string;
  let auditorToken: string;
  const members = Array.from({ length: 5 }, () => new Identity());
  const sender = members[2]!;
  const agent = "tip-sender-agent/7.7 marker-3f9c";
  const requestId = "tip-request-marker-81d2";

  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    // The sender's requests carry markers that must be found nowhere the gateway writes.
    const sender = !token && ["/v1/tips", "/v1/tips/group", "/v1/tips/follow-up"].includes(path);
    const res = await fetch(gateway.url + path, {
      method,
      headers: {
        ...(sender ? { "user-agent": agent, "x-request-id": requestId } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get("content-type") ?? "", body: JSON.parse(text) };
  };
  const group = async () => (await call("GET", "/v1/tips/group")).body as GroupView & { active: number };
  const send = (content: unknown, proof: unknown) => call("POST", "/v1/tips", { content, proof });

  before(async () => {
    gateway = await startGateway(
      configFromEnvironment(
        {},
        { dataDir: dir.path, port: 0, chainPort: testPort("tips"), anchorIntervalMs: 200, logName: "tips" },
      ),
      (line) => gatewayLog.push(line),
    );
    const tokens = `${dir.path}/tokens.json`;
    villageToken = issueToken(tokens, `unit:${village}`, "the village");
    townshipToken = issueToken(tokens, `unit:${township}`, "the township");
    operatorToken = issueToken(tokens, "operator", "county IT");
    civilToken = issueToken(tokens, "inspector:civil-affairs", "civil-affairs");
    safetyToken = issueToken(tokens, "inspector:emergency-management", "emergency-management");
    auditorToken = issueToken(tokens, "auditor", "audit bureau");
  });

  after(async () => {
    await gateway?.close();
    await stopProverThreads();
    dir.remove();
  });

  it("registers members by their unit's token only, and logs each change", async () => {
    const one = { unitId: village, commitment: members[0]!.commitment.toString() };
    expect((await call("POST", "/v1/tips/members", one)).status).to.equal(401);
    const byAuditor = await call("POST", "/v1/tips/members", one, auditorToken);
    expect(byAuditor.status).to.equal(403);
    const byOtherUnit = await call("POST", "/v1/tips/members", one, townshipToken);
    expect(byOtherUnit.status).to.equal(403);
    for (const [i, member] of members.entries()) {
      const token = i === 4 ? operatorToken : i % 2 === 0 ? villageToken : townshipToken;
      const unitId = i % 2 === 0 ? village : township;
      const res = await call("POST", "/v1/tips/members", { unitId, commitment: member.commitment.toString() }, token);
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body.size).to.equal(i + 1);
    }
    const again = await call("POST", "/v1/tips/members", one, villageToken);
    expect([again.status, again.body.code]).to.deep.equal([409, "tip.member_exists"]);
    const view = await group();
    expect(view.members).to.deep.equal(members.map((m) => m.commitment.toString()));
    expect(view.active).to.equal(5);
  });

  let sent: { tipId: string; leafIndex: number };
  let code: string;
  let firstRequest: { content: unknown; proof: unknown };

  it("accepts a member's tip and logs it as a DPT1 leaf that names no member", async () => {
    const view = await group();
    const made = tipContent(view, "repeated_forms", "同一组数据本月被要求填报四次");
    code = made.code;
    const proof = await proveTip(sender, view, made.content);
    firstRequest = { content: made.content, proof };
    const before = (await call("GET", "/v1/info")).body.treeSize as number;
    const res = await send(made.content, proof);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    sent = res.body;
    expect(sent.leafIndex).to.equal(before);
    const bundle = await call("GET", `/v1/audit/records?from=${sent.leafIndex}&limit=1`, undefined, auditorToken);
    const entry = bundle.body.records[0];
    expect(entry).to.include({ kind: "tip", entryId: sent.tipId });
    expect(entry.body).to.include({ type: "tip", category: "repeated_forms" });
    expect(entry).to.not.have.property("acceptedAt");
    const text = JSON.stringify(entry);
    for (const member of members) expect(text).to.not.include(member.commitment.toString());
    expect(text).to.not.include("127.0.0.1").and.not.include(agent).and.not.include(requestId);
  });

  it("refuses the same member's second tip in the category and month, by its nullifier", async () => {
    const replayed = await send(firstRequest.content, firstRequest.proof);
    expect([replayed.status, replayed.body.code]).to.deep.equal([409, "tip.already_sent"]);
    expect(replayed.type).to.match(/^application\/problem\+json/);
    const view = await group();
    const second = tipContent(view, "repeated_forms", "又来一张表");
    const res = await send(second.content, await proveTip(sender, view, second.content));
    expect([res.status, res.body.code]).to.deep.equal([409, "tip.already_sent"]);
    // Another category is another scope: allowed.
    const meeting = tipContent(view, "meetings", "一周五个会", { kind: "unit", id: township });
    const other = await send(meeting.content, await proveTip(sender, view, meeting.content));
    expect(other.status, JSON.stringify(other.body)).to.equal(201);
  });

  it("refuses a forged proof, an unknown root, a wrong scope and altered content, with reasons", async () => {
    const view = await group();
    const made = tipContent(view, "ledgers_demanded", "要求补做三年台账");
    const proof = await proveTip(members[0]!, view, made.content);
    const forged = { ...proof, points: proof.points.map((p, i) => (i === 0 ? (BigInt(p) + 1n).toString() : p)) };
    const bad = await send(made.content, forged);
    expect([bad.status, bad.body.code]).to.deep.equal([422, "tip.bad_proof"]);
    // An outsider builds a group of the members and itself: its root is none the gateway had.
    const outsider = new Identity();
    const outsiderView = { ...view, members: [...view.members, outsider.commitment.toString()] };
    const foreign = await send(made.content, await proveTip(outsider, outsiderView, made.content));
    expect([foreign.status, foreign.body.code]).to.deep.equal([422, "tip.unknown_root"]);
    const otherScope = await send(made.content, await proveTip(members[1]!, view, made.content, { scope: "12345" }));
    expect([otherScope.status, otherScope.body.code]).to.deep.equal([422, "tip.wrong_scope"]);
    const altered = await send({ ...made.content, text: "改过的内容" }, proof);
    expect([altered.status, altered.body.code]).to.deep.equal([422, "tip.wrong_message"]);
    const lastMonth = await send({ ...made.content, period: "2001-01" }, proof);
    expect([lastMonth.status, lastMonth.body.code]).to.deep.equal([422, "tip.wrong_period"]);
    const lone = await send({ ...made.content, text: "\ud800" }, proof);
    expect(lone.status).to.equal(422);
    // None of the refused ones was logged; the honest proof still goes through.
    const ok = await send(made.content, proof);
    expect(ok.status, JSON.stringify(ok.body)).to.equal(201);
  });

  it("lets the named department reply, and the sender read it back with its code", async () => {
    const bySafety = await call("POST", `/v1/tips/${sent.tipId}/replies`, { text: "不是我们" }, safetyToken);
    expect(bySafety.status).to.equal(403);
    const reply = await call("POST", `/v1/tips/${sent.tipId}/replies`, { text: "已转整改，下月合并报表" }, civilToken);
    expect(reply.status, JSON.stringify(reply.body)).to.equal(201);
    const view = await call("POST", "/v1/tips/follow-up", { code });
    expect(view.status).to.equal(200);
    expect(view.body).to.include({ tipId: sent.tipId, category: "repeated_forms" });
    expect(view.body.replies.map((r: { text: string }) => r.text)).to.deep.equal(["已转整改，下月合并报表"]);
    const unknown = await call("POST", "/v1/tips/follow-up", { code: "0x" + "11".repeat(32) });
    expect([unknown.status, unknown.body.code]).to.deep.equal([404, "tip.not_found"]);
    const listed = await call("GET", "/v1/tips", undefined, civilToken);
    expect(listed.body.tips.map((t: { tipId: string }) => t.tipId)).to.include(sent.tipId);
    const summary = await call("GET", "/v1/tips/summary");
    expect(summary.body.total).to.equal(3);
  });

  it("replays clean, verifying every tip's proof, and reports a tip whose proof was altered behind the gateway", async () => {
    const size = (await call("GET", "/v1/info")).body.treeSize as number;
    for (let i = 0; i < 200; i++) {
      const latest = await call("GET", "/v1/checkpoints/latest");
      if (latest.status === 200 && latest.body.size >= size) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const target = {
      gatewayUrl: gateway.url,
      token: auditorToken,
      rpcUrl: gateway.rpcUrl,
      trust: [ownTrustAnchor(gateway.deployment, "the test gateway")],
    };
    const clean = await replayFromGateway(target);
    expect(clean.findings.filter((f) => f.kind !== "record.unanchored")).to.deep.equal([]);
    const raw = gateway.store as unknown as {
      entries: { get(k: string): Promise<string>; put(k: string, v: string): Promise<void> };
    };
    const stored = JSON.parse(await raw.entries.get(sent.tipId));
    stored.value.content.text = "被改写的线索";
    await raw.entries.put(sent.tipId, JSON.stringify(stored));
    const report = await replayFromGateway(target);
    const altered = report.findings.filter((f) => f.kind === "tip.altered");
    expect(altered.map((f) => f.leafIndex)).to.deep.equal([sent.leafIndex]);
    expect(report.findings.filter((f) => f.kind === "checkpoint.root_mismatch")).to.deep.equal([]);
  });

  it("keeps no address, agent, request id or time of a tip in the gateway's log lines or data directory", async () => {
    const logged = gatewayLog.join("\n");
    expect(logged).to.not.match(/"path":"\/v1\/tips\/(group|follow-up|scope)"/);
    expect(logged).to.not.include('"method":"POST","path":"/v1/tips"');
    expect(logged).to.include('"path":"/v1/tips/members"'); // the unit's registration is logged as any request
    expect(logged).to.not.include(agent).and.not.include(requestId);
    for (const file of filesUnder(dir.path)) {
      expect(file.bytes.includes(agent), file.path).to.equal(false);
      expect(file.bytes.includes(requestId), file.path).to.equal(false);
    }
    const stored = JSON.parse(
      await (gateway.store as unknown as { entries: { get(k: string): Promise<string> } }).entries.get(sent.tipId),
    );
    expect(stored.receivedAt % 86_400_000).to.equal(0);
    // The index beside the log keeps nullifiers and tracking ids, never which member sent.
    const index = gateway.store.sublevel("tips");
    for await (const [key, value] of index.iterator()) {
      if (key.startsWith("n!") || key.startsWith("t!") || key.startsWith("tip!")) {
        for (const member of members) expect(key + value).to.not.include(member.commitment.toString());
      }
    }
  });
});
