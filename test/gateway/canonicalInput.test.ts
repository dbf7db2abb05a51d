/**
 * Input that has no canonical form (a lone UTF-16 surrogate, "\ud800" in JSON text) is its
 * sender's 422 alone. Such input once failed in the canonicaliser inside a verify worker, which
 * failed every submission sharing that worker's job: other units' genuine records got a 500.
 * Here hostile and legitimate submissions go to a real gateway at once (so they share worker
 * jobs), over the single and batch endpoints, with demands and /v1/verify bodies too.
 */
import { expect } from "chai";
import { Wallet, id } from "ethers";
import { configFromEnvironment } from "../../server/config.ts";
import { bytesToHex } from "../../server/core/bytes.ts";
import { eip712Domain, typedDataDigest } from "../../server/core/eip712.ts";
import { recordDigest, signedMessageOf } from "../../server/core/record.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { type Eip712Info, newEnvelope, signEnvelope } from "../helpers/unitClient.ts";

const township = id("unit:canonical-township");
const village = id("unit:canonical-village");

/** JSON text of `value` with the marker string replaced by a lone high surrogate's escape. */
const withLoneSurrogate = (value: unknown) => JSON.stringify(value).replaceAll("LONE", "\\ud800");

describe("gateway: input without a canonical form fails alone", function () {
  this.timeout(180_000);
  const dir = tempDir("canonical");
  const chainPort = testPort("gateway");
  const unitKey = Wallet.createRandom();
  let gateway: RunningGateway;
  let eip712: Eip712Info;
  let patrol: string;

  const post = (path: string, body: string) =>
    fetch(gateway.url + path, { method: "POST", headers: { "content-type": "application/json" }, body });

  before(async () => {
    gateway = await startGateway(
      configFromEnvironment(
        {
          RATE_LIMIT_CLIENT_PER_S: "1000000",
          RATE_LIMIT_CLIENT_BURST: "1000000",
          RATE_LIMIT_UNIT_PER_S: "1000000",
          RATE_LIMIT_UNIT_BURST: "1000000",
        },
        { dataDir: dir.path, port: 0, chainPort, anchorIntervalMs: 300, anchorMaxLeaves: 1000, logName: "test" },
      ),
      () => {},
    );
    const info = (await (await fetch(gateway.url + "/v1/info")).json()) as { eip712: Eip712Info };
    eip712 = info.eip712;
    const ledger = gateway.ledger;
    await (
      await ledger.getFunction("registerUnit")(township, "0x" + "00".repeat(32), 2, Wallet.createRandom().address)
    ).wait();
    await (await ledger.getFunction("registerUnit")(village, township, 3, unitKey.address)).wait();
    const catalog = (await (await fetch(gateway.url + "/v1/duty-types")).json()) as {
      dutyTypes: Array<{ id: string; code: string }>;
    };
    patrol = catalog.dutyTypes.find((d) => d.code === "grid-patrol")!.id;
  });

  after(async () => {
    await gateway?.close();
    dir.remove();
  });

  const fields = (i: number) => ({ gridCode: `QS-${i}`, durationMinutes: 30, issuesFound: 0, gridWorker: "网格员" });
  const legitimate = async (i: number) => {
    const envelope = newEnvelope(gateway.deployment.logId, village, patrol, fields(i));
    return { envelope, signature: await signEnvelope(unitKey, eip712, envelope) };
  };
  /** A signed submission whose text holds a lone surrogate at one of several places. */
  const hostile = async (i: number) => {
    const base = await legitimate(i);
    const envelope = structuredClone(base.envelope) as Record<string, any>;
    const where = i % 4;
    if (where === 0) envelope.fields.gridWorker = "网格LONE员";
    if (where === 1) envelope.fields["gridLONE"] = 1;
    if (where === 2) envelope.amends = { recordId: "0x" + "ab".repeat(32), kind: "correction", reason: "LONE" };
    if (where === 3) envelope.fields.gridCode = "LONE";
    const path = [
      "envelope.fields.gridWorker",
      "envelope.fields.grid\ud800",
      "envelope.amends.reason",
      "envelope.fields.gridCode",
    ][where]!;
    return {
      text: withLoneSurrogate({ envelope, signature: base.signature }),
      value: { envelope, signature: base.signature },
      path,
    };
  };

  it("answers each hostile item 422 naming its field, and every legitimate one 201, when they share worker jobs", async () => {
    const rounds = 40;
    const tasks: Array<Promise<{ kind: string; status: number; ok: boolean; detail: string }>> = [];
    for (let i = 0; i < rounds; i++) {
      // A legitimate single submission.
      tasks.push(
        legitimate(i).then(async (body) => {
          const res = await post("/v1/attestations", JSON.stringify(body));
          return { kind: "legitimate single", status: res.status, ok: res.status === 201, detail: await res.text() };
        }),
      );
      // A hostile single submission.
      tasks.push(
        hostile(i).then(async ({ text, path }) => {
          const res = await post("/v1/attestations", text);
          const problem = (await res.json()) as { code?: string; errors?: Array<{ path: string; message: string }> };
          const named = problem.errors?.some((e) => e.path === path && /lone UTF-16 surrogate/.test(e.message));
          const ok =
            res.status === 422 &&
            (res.headers.get("content-type") ?? "").startsWith("application/problem+json") &&
            named === true;
          return { kind: "hostile single", status: res.status, ok, detail: JSON.stringify(problem) };
        }),
      );
      // A batch: legitimate and hostile items side by side, answered per item.
      tasks.push(
        Promise.all([legitimate(1000 + i), hostile(1000 + i), legitimate(2000 + i)]).then(async ([a, h, b]) => {
          const text = `{"items":[${JSON.stringify(a)},${withLoneSurrogate(h.value)},${JSON.stringify(b)}]}`;
          const res = await post("/v1/attestations/batch", text);
          const body = (await res.json()) as {
            results?: Array<{ status: number; errors?: Array<{ path: string; message: string }> }>;
          };
          const r = body.results ?? [];
          const ok =
            res.status === 200 &&
            r[0]?.status === 201 &&
            r[2]?.status === 201 &&
            r[1]?.status === 422 &&
            r[1]?.errors?.some((e) => e.path === h.path) === true;
          return { kind: "mixed batch", status: res.status, ok, detail: JSON.stringify(body).slice(0, 600) };
        }),
      );
    }
    const outcomes = await Promise.all(tasks);
    const failures = outcomes.filter((o) => !o.ok);
    const legitimateFailures = failures.filter((o) => o.kind !== "hostile single");
    expect(legitimateFailures.length, "legitimate submissions (or batches holding them) that failed").to.equal(0);
    expect(outcomes.filter((o) => o.status >= 500).length, "5xx answers").to.equal(0);
    expect(failures, JSON.stringify(failures.slice(0, 3))).to.deep.equal([]);
  });

  it("answers a demand and a /v1/verify body with a lone surrogate 422, naming the field", async () => {
    const inspector = Wallet.createRandom();
    const now = Math.floor(Date.now() / 1000);
    const demand = {
      version: 1,
      unitId: village,
      dutyTypeIds: [patrol],
      from: now - 86_400,
      to: now,
      purpose: "核查LONE",
      department: "civil-affairs",
      inspector: inspector.address.toLowerCase(),
      onSite: false,
      issuedAt: now,
      salt: "0x" + "12".repeat(32),
    };
    const demandRes = await post("/v1/demands", withLoneSurrogate({ demand, signature: "0x" + "11".repeat(65) }));
    expect(demandRes.status).to.equal(422);
    expect(demandRes.headers.get("content-type")).to.match(/^application\/problem\+json/);
    const demandProblem = (await demandRes.json()) as { errors: Array<{ path: string; message: string }> };
    expect(demandProblem.errors.map((e) => e.path)).to.include("demand.purpose");

    const { envelope, signature } = await legitimate(9999);
    const receipt = {
      status: "anchored",
      version: 1,
      recordId: "0x" + "01".repeat(32),
      unitId: village,
      dutyTypeId: patrol,
      performedAt: envelope.performedAt,
      signer: unitKey.address,
      signature,
      leafHash: "0x" + "02".repeat(32),
      leafIndex: 0,
      treeSize: 1,
      root: "0x" + "03".repeat(32),
      inclusionProof: [],
      logId: "0x" + "04".repeat(32),
      chainId: 31337,
      contract: gateway.deployment.address,
      anchoredAt: now,
      acceptedAt: now,
    };
    const hostileEnvelope = { ...envelope, fields: { ...envelope.fields, gridWorker: "LONE" } };
    const verifyRes = await post("/v1/verify", withLoneSurrogate({ receipt, envelope: hostileEnvelope }));
    expect(verifyRes.status).to.equal(422);
    expect(verifyRes.headers.get("content-type")).to.match(/^application\/problem\+json/);
    const verifyProblem = (await verifyRes.json()) as { errors: Array<{ path: string; message: string }> };
    expect(verifyProblem.errors.map((e) => e.path)).to.include("envelope.fields.gridWorker");
  });
});

describe("gateway: a signature that does not check names the digests the gateway computed", function () {
  this.timeout(120_000);
  const dir = tempDir("digests");
  const chainPort = testPort("gateway");
  const unitKey = Wallet.createRandom();
  let gateway: RunningGateway;
  let eip712: Eip712Info;
  let patrol: string;

  before(async () => {
    gateway = await startGateway(
      configFromEnvironment({}, { dataDir: dir.path, port: 0, chainPort, anchorIntervalMs: 300, logName: "test" }),
      () => {},
    );
    eip712 = ((await (await fetch(gateway.url + "/v1/info")).json()) as { eip712: Eip712Info }).eip712;
    await (
      await gateway.ledger.getFunction("registerUnit")(village, "0x" + "00".repeat(32), 2, unitKey.address)
    ).wait();
    const catalog = (await (await fetch(gateway.url + "/v1/duty-types")).json()) as {
      dutyTypes: Array<{ id: string; code: string }>;
    };
    patrol = catalog.dutyTypes.find((d) => d.code === "grid-patrol")!.id;
  });

  after(async () => {
    await gateway?.close();
    dir.remove();
  });

  it("answers a wrong key with the record digest and the EIP-712 digest, so a submitter can tell it from a canonicalisation mismatch", async () => {
    const envelope = newEnvelope(gateway.deployment.logId, village, patrol, {
      gridCode: "QS-1",
      durationMinutes: 30,
      issuesFound: 0,
      gridWorker: "某",
    });
    const signature = await signEnvelope(Wallet.createRandom(), eip712, envelope);
    const res = await fetch(gateway.url + "/v1/attestations", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ envelope, signature }),
    });
    expect(res.status).to.equal(403);
    const problem = (await res.json()) as Record<string, string>;
    expect(problem.code).to.equal("record.signer_not_authorized");
    const recordDigestHex = bytesToHex(recordDigest(envelope));
    const domain = eip712Domain(gateway.deployment.chainId, gateway.deployment.address);
    const eip712Digest = bytesToHex(typedDataDigest(domain, signedMessageOf(envelope)));
    expect(problem.recordDigest).to.equal(recordDigestHex);
    expect(problem.eip712Digest).to.equal(eip712Digest);
    expect(problem.detail).to.include(recordDigestHex).and.include(eip712Digest);
  });
});
