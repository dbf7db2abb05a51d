/**
 * What an operator sees of a running gateway: JSON log lines with a request id on every request
 * (echoed in X-Request-Id and in problem bodies), nothing of record contents or tokens in them,
 * and Prometheus metrics for ingest, backlog, checkpoint lag, chain head and store size.
 */
import { expect } from "chai";
import { Wallet, id } from "ethers";
import { configFromEnvironment } from "../../server/config.ts";
import { issueToken } from "../../server/gateway/AccessTokens.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { type Eip712Info, newEnvelope, signEnvelope } from "../helpers/unitClient.ts";

/** One sample of a metric (no labels, or the label set given) from a Prometheus text page. */
function sample(page: string, name: string, labels = ""): number {
  const line = page.split("\n").find((l) => l.startsWith(`${name}${labels} `));
  if (!line) throw new Error(`no ${name}${labels} in /metrics`);
  return Number(line.split(" ")[1]);
}

describe("logs, request ids and metrics", function () {
  this.timeout(120_000);
  const dir = tempDir("observability");
  const lines: string[] = [];
  let gateway: RunningGateway;
  const unitKey = Wallet.createRandom();
  const unitId = id("unit:observed-village");
  let recordId: string;

  before(async () => {
    gateway = await startGateway(
      configFromEnvironment(
        {},
        { dataDir: dir.path, port: 0, chainPort: testPort("production"), anchorIntervalMs: 60_000 },
      ),
      (line) => lines.push(line),
    );
    await (await gateway.ledger.getFunction("registerUnit")(unitId, "0x" + "00".repeat(32), 3, unitKey.address)).wait();
  });

  after(async () => {
    await gateway.close();
    dir.remove();
  });

  async function submitRecords(n: number) {
    const info = (await (await fetch(`${gateway.url}/v1/info`)).json()) as { eip712: Eip712Info; logId: string };
    const types = (await (await fetch(`${gateway.url}/v1/duty-types`)).json()) as {
      dutyTypes: Array<{ id: string; code: string }>;
    };
    const visit = types.dutyTypes.find((d) => d.code === "grid-patrol")!.id;
    for (let i = 0; i < n; i++) {
      const envelope = newEnvelope(info.logId, unitId, visit, {
        gridCode: `SECRET-GRID-${i}`,
        durationMinutes: 30,
        issuesFound: 0,
        gridWorker: "张三丰",
      });
      const res = await fetch(`${gateway.url}/v1/attestations`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": `client-${i}` },
        body: JSON.stringify({ envelope, signature: await signEnvelope(unitKey, info.eip712, envelope) }),
      });
      expect(res.status).to.equal(201);
      expect(res.headers.get("x-request-id")).to.equal(`client-${i}`);
      recordId = ((await res.json()) as { recordId: string }).recordId;
    }
  }

  it("gives every response a request id, keeps a caller's plain one, and puts it in problem bodies", async () => {
    const own = await fetch(`${gateway.url}/v1/info`);
    expect(own.headers.get("x-request-id")).to.match(/^[0-9a-f-]{36}$/);
    const odd = await fetch(`${gateway.url}/v1/info`, { headers: { "x-request-id": "bad id\twith spaces" } });
    expect(odd.headers.get("x-request-id")).to.match(/^[0-9a-f-]{36}$/);

    const missing = await fetch(`${gateway.url}/v1/attestations/0x${"ab".repeat(32)}/receipt`, {
      headers: { "x-request-id": "trace-42" },
    });
    expect(missing.status).to.equal(404);
    expect(missing.headers.get("content-type")).to.match(/^application\/problem\+json/);
    expect(await missing.json()).to.include({ requestId: "trace-42", code: "record.not_found" });
  });

  it("logs one JSON line per request with its id, route and status, and nothing of the record or token", async () => {
    await submitRecords(3);
    const token = issueToken(`${dir.path}/tokens.json`, "auditor", "audit bureau");
    const read = await fetch(`${gateway.url}/v1/attestations/${recordId}`, {
      headers: { authorization: `Bearer ${token}`, "x-request-id": "read-1" },
    });
    expect(read.status).to.equal(200);
    expect(JSON.stringify(await read.json())).to.contain("张三丰"); // the content exists, …
    await new Promise((r) => setTimeout(r, 50));
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const requestLine = parsed.find((l) => l.requestId === "read-1")!;
    expect(requestLine).to.include({
      msg: "request",
      method: "GET",
      route: "/v1/attestations/:recordId",
      status: 200,
      service: "dutyproof-gateway",
    });
    expect(requestLine.time).to.be.a("string");
    expect(parsed.filter((l) => /^client-\d$/.test(String(l.requestId)))).to.have.length(3);
    const all = lines.join("\n"); // … but not in the log
    for (const secret of ["张三丰", "SECRET-GRID", token, token.slice(3, 20), "signature"]) {
      expect(all).not.to.contain(secret);
    }
  });

  it("exports ingest, backlog, checkpoint lag, anchoring failures, chain head and store size", async () => {
    // Anchoring paused: the next records are the backlog, whatever the pipeline did before.
    await gateway.anchorer.stop();
    const before = await (await fetch(`${gateway.url}/metrics`)).text();
    await submitRecords(2);
    await new Promise((r) => setTimeout(r, 1_100));
    const res = await fetch(`${gateway.url}/metrics`);
    expect(res.headers.get("content-type")).to.match(/^text\/plain/);
    const page = await res.text();
    expect(
      sample(page, "dutyproof_records_accepted_total") - sample(before, "dutyproof_records_accepted_total"),
    ).to.equal(2);
    expect(sample(page, "dutyproof_log_size_leaves")).to.equal(gateway.store.treeSize);
    // Earlier records may be anchored; the two above are waiting.
    const [latest] = (await gateway.store.listCheckpoints({ reverse: true, limit: 5 })).filter(
      (c) => c.status === "anchored",
    );
    expect(sample(page, "dutyproof_anchored_size_leaves")).to.equal(latest?.size ?? 0);
    expect(sample(page, "dutyproof_unanchored_leaves"))
      .to.equal(gateway.store.treeSize - (latest?.size ?? 0))
      .and.to.be.at.least(2);
    expect(sample(page, "dutyproof_checkpoint_lag_seconds")).to.be.greaterThan(1);
    expect(sample(page, "dutyproof_anchor_failures_total")).to.equal(0);
    expect(sample(page, "dutyproof_chain_up")).to.equal(1);
    expect(sample(page, "dutyproof_chain_head_block")).to.be.greaterThan(0);
    expect(sample(page, "dutyproof_store_size_bytes")).to.be.greaterThan(1000);
    expect(
      sample(page, "dutyproof_http_requests_total", '{method="POST",route="/v1/attestations",status="201"}'),
    ).to.equal(
      5,
      page
        .split("\n")
        .filter((l) => l.startsWith("dutyproof_http_requests_total"))
        .join("\n"),
    );
    expect(page).to.contain("process_cpu_seconds_total");

    // Once anchored, the backlog and the lag go back to zero.
    (gateway.anchorer as unknown as { options: { intervalMs: number } }).options.intervalMs = 10;
    gateway.anchorer.start();
    const deadline = Date.now() + 15_000;
    let after = "";
    while (Date.now() < deadline) {
      after = await (await fetch(`${gateway.url}/metrics`)).text();
      if (sample(after, "dutyproof_unanchored_leaves") === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(sample(after, "dutyproof_unanchored_leaves")).to.equal(0);
    expect(sample(after, "dutyproof_checkpoint_lag_seconds")).to.equal(0);
    expect(sample(after, "dutyproof_anchored_size_leaves")).to.equal(gateway.store.treeSize);
  });
});
