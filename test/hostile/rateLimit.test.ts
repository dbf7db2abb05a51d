/**
 * Rate limits at their boundaries on a real gateway (anvil, LevelDB, HTTP): per client address,
 * every request; per unit, every record the unit really signed. Past either limit: 429
 * problem+json with Retry-After.
 */
import { expect } from "chai";
import { request } from "node:http";
import { type BaseWallet, Wallet, id } from "ethers";
import { configFromEnvironment } from "../../server/config.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { type Eip712Info, newEnvelope, signEnvelope } from "../helpers/unitClient.ts";

describe("rate limits per client and per unit (real gateway)", function () {
  this.timeout(120_000);
  const dir = tempDir("ratelimit");
  const clientBurst = 14;
  const unitBurst = 3;
  let gateway: RunningGateway;
  let info: { eip712: Eip712Info; logId: string };
  let patrol: string;
  const township = id("unit:limit-township");
  const village = id("unit:limit-village");
  const neighbour = id("unit:limit-neighbour");
  const villageKey = Wallet.createRandom();
  const neighbourKey = Wallet.createRandom();
  const strangerKey = Wallet.createRandom();

  before(async () => {
    gateway = await startGateway(
      configFromEnvironment(
        {},
        {
          dataDir: dir.path,
          port: 0,
          chainPort: testPort("hostile"),
          anchorIntervalMs: 300,
          logName: "limits",
          // Next to no refill during the test, so the counts below are exact.
          rateLimitClientPerSecond: 0.001,
          rateLimitClientBurst: clientBurst,
          rateLimitUnitPerSecond: 0.001,
          rateLimitUnitBurst: unitBurst,
        },
      ),
      () => {},
    );
    const register = gateway.ledger.getFunction("registerUnit");
    await (await register(township, "0x" + "00".repeat(32), 2, Wallet.createRandom().address)).wait();
    await (await register(village, township, 3, villageKey.address)).wait();
    await (await register(neighbour, township, 3, neighbourKey.address)).wait();
  });

  after(async () => {
    await gateway?.close();
    dir.remove();
  });

  const record = async (unitId: string, key: BaseWallet) => {
    const envelope = newEnvelope(info.logId, unitId, patrol, {
      gridCode: "QS-01",
      durationMinutes: 30,
      issuesFound: 0,
      gridWorker: "网格员",
    });
    return { envelope, signature: await signEnvelope(key, info.eip712, envelope) };
  };
  const post = (path: string, body: unknown) =>
    fetch(gateway.url + path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const expectLimited = async (res: Response, detail: RegExp) => {
    expect(res.status).to.equal(429);
    expect(res.headers.get("content-type")).to.match(/^application\/problem\+json/);
    expect(Number(res.headers.get("retry-after"))).to.be.at.least(1);
    const problem = (await res.json()) as { code: string; detail: string; retryAfter: number };
    expect(problem.code).to.equal("request.rate_limited");
    expect(problem.detail).to.match(detail);
    expect(problem.retryAfter).to.equal(Number(res.headers.get("retry-after")));
  };

  it("spends a unit's allowance only on records the unit signed, and refuses the one past it", async () => {
    info = (await (await fetch(`${gateway.url}/v1/info`)).json()) as typeof info; // request 1
    const catalog = (await (await fetch(`${gateway.url}/v1/duty-types`)).json()) as {
      dutyTypes: Array<{ id: string; code: string }>;
    }; // request 2
    patrol = catalog.dutyTypes.find((d) => d.code === "grid-patrol")!.id;

    // Forged records in the village's name do not touch its allowance (requests 3-5).
    for (let i = 0; i < 3; i++) {
      const res = await post("/v1/attestations", await record(village, strangerKey));
      expect(res.status).to.equal(403);
    }
    // Exactly unitBurst records are admitted (requests 6-8), the next is not (9).
    for (let i = 0; i < unitBurst; i++) {
      expect((await post("/v1/attestations", await record(village, villageKey))).status).to.equal(201);
    }
    const before = gateway.store.treeSize;
    await expectLimited(await post("/v1/attestations", await record(village, villageKey)), /unit/);
    // In a batch, each item past the limit is answered 429 on its own (request 10).
    const batch = await post("/v1/attestations/batch", {
      items: [await record(village, villageKey), await record(village, villageKey)],
    });
    expect(batch.status).to.equal(200);
    const { results } = (await batch.json()) as {
      results: Array<{ status: number; code: string; retryAfter: number }>;
    };
    expect(results.map((r) => [r.status, r.code])).to.deep.equal([
      [429, "request.rate_limited"],
      [429, "request.rate_limited"],
    ]);
    expect(results[0]!.retryAfter).to.be.at.least(1);
    expect(gateway.store.treeSize).to.equal(before);
    // Another unit has its own allowance (request 11).
    expect((await post("/v1/attestations", await record(neighbour, neighbourKey))).status).to.equal(201);
  });

  it("admits exactly the client's burst of requests and answers the next 429 with Retry-After", async () => {
    // 11 requests so far; requests 12-14 are the last the burst admits.
    for (let i = 0; i < clientBurst - 11; i++) {
      expect((await fetch(`${gateway.url}/v1/checkpoints`)).status).to.equal(200);
    }
    await expectLimited(await fetch(`${gateway.url}/v1/checkpoints`), /client/);
    await expectLimited(await post("/v1/attestations", await record(neighbour, neighbourKey)), /client/);
    // Probes stay answered, so an orchestrator does not restart a throttled gateway.
    expect((await fetch(`${gateway.url}/livez`)).status).to.equal(200);
    expect((await fetch(`${gateway.url}/readyz`)).status).to.equal(200);
  });

  it("spends and refuses the same allowance on the read routes served on node:http", async () => {
    // Another loopback address is another client, with a full bucket of its own.
    const fromOtherClient = (path: string, method = "GET") =>
      new Promise<Response>((resolve, reject) => {
        const req = request(`${gateway.url}${path}`, { method, localAddress: "127.0.0.2" }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            const body = method === "HEAD" ? null : Buffer.concat(chunks);
            resolve(new Response(body, { status: res.statusCode, headers: res.headers as Record<string, string> }));
          });
        });
        req.on("error", reject);
        req.end();
      });
    const leaf = "0x" + "ab".repeat(32);
    const reads = [
      `/v1/proofs/inclusion?leafHash=${leaf}&treeSize=1`,
      "/v1/proofs/consistency?from=1&to=1",
      "/v1/checkpoints/latest",
      `/v1/attestations/${leaf}/receipt`,
      `/v1/receipts/${leaf}`,
    ];
    for (let i = 0; i < clientBurst; i++) {
      expect((await fromOtherClient(reads[i % reads.length]!)).status).to.not.equal(429);
    }
    for (const path of reads) {
      const res = await fromOtherClient(path);
      await expectLimited(res.clone(), /client/);
      expect(((await res.json()) as { requestId: string }).requestId).to.equal(res.headers.get("x-request-id"));
    }
    const head = await fromOtherClient("/v1/checkpoints/latest", "HEAD");
    expect(head.status).to.equal(429);
    expect(Number(head.headers.get("retry-after"))).to.be.at.least(1);
  });
});
