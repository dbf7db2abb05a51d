import { expect } from "chai";
import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { Wallet, id } from "ethers";
import { bytesToHex, hexToBytes } from "../../server/core/bytes.ts";
import { leafHashOf, recordDigest } from "../../server/core/record.ts";
import { configFromEnvironment } from "../../server/config.ts";
import { issueToken } from "../../server/gateway/AccessTokens.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { type Eip712Info, newEnvelope, signEnvelope, toHighS } from "../helpers/unitClient.ts";

const township = id("unit:test-township");
const village = id("unit:test-village");

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("gateway (real anvil chain, real LevelDB, real HTTP)", function () {
  this.timeout(120_000);
  const dir = tempDir("gateway");
  const chainPort = testPort("gateway");
  const config = () =>
    configFromEnvironment(
      {},
      { dataDir: dir.path, port: 0, chainPort, anchorIntervalMs: 300, anchorMaxLeaves: 1000, logName: "test" },
    );
  const unitKey = Wallet.createRandom();
  const townshipKey = Wallet.createRandom();
  const suspendedKey = Wallet.createRandom();
  const suspended = id("unit:test-suspended-village");
  const strangerKey = Wallet.createRandom();
  let gateway: RunningGateway;
  let info: { chainId: number; contracts: { DutyLedger: string }; logId: string; eip712: Eip712Info };
  let household: string;
  let meeting: string;

  const post = (path: string, body: unknown, contentType = "application/json") =>
    fetch(gateway.url + path, {
      method: "POST",
      headers: { "content-type": contentType },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  const get = (path: string) => fetch(gateway.url + path);
  const sizeNow = async () => ((await (await get("/v1/info")).json()) as { treeSize: number }).treeSize;

  before(async () => {
    gateway = await startGateway(config(), () => {});
    info = (await (await get("/v1/info")).json()) as typeof info;
    const ledger = gateway.ledger;
    await (await ledger.getFunction("registerUnit")(township, "0x" + "00".repeat(32), 2, townshipKey.address)).wait();
    await (await ledger.getFunction("registerUnit")(village, township, 3, unitKey.address)).wait();
    await (await ledger.getFunction("registerUnit")(suspended, township, 3, suspendedKey.address)).wait();
    await (await ledger.getFunction("setUnitStatus")(suspended, 2)).wait();
    const catalog = ((await (await get("/v1/duty-types")).json()) as { dutyTypes: Array<{ id: string; code: string }> })
      .dutyTypes;
    household = catalog.find((d) => d.code === "household-visit")!.id;
    meeting = catalog.find((d) => d.code === "meeting-held")!.id;
  });

  after(async () => {
    await gateway?.close();
    dir.remove();
  });

  const visitFields = {
    householdName: "王某某",
    address: "青石村3组12号",
    visitPurpose: "elderly-care",
    followUpRequired: true,
    visitors: "李某、张某",
  };

  it("serves liveness, readiness and the chain and EIP-712 facts a client needs", async () => {
    expect((await get("/livez")).status).to.equal(200);
    expect((await get("/readyz")).status).to.equal(200);
    expect(info.chainId).to.equal(31337);
    expect(info.contracts.DutyLedger).to.match(/^0x[0-9a-fA-F]{40}$/);
    expect(info.eip712.primaryType).to.equal("DutyRecord");
    expect(info.eip712.domain).to.deep.include({
      name: "dutyproof",
      version: "1",
      chainId: 31337,
      verifyingContract: info.contracts.DutyLedger,
    });
  });

  it("accepts a signed record, is idempotent, and issues a receipt that verifies through the contract", async () => {
    const envelope = newEnvelope(info.logId, village, household, visitFields);
    const signature = await signEnvelope(unitKey, info.eip712, envelope);
    const first = await post("/v1/attestations", { envelope, signature });
    expect(first.status).to.equal(201);
    const ack = (await first.json()) as { recordId: string; leafIndex: number; leafHash: string; receipt: string };
    expect(ack.recordId).to.equal(bytesToHex(recordDigest(envelope)));
    expect(ack.leafHash).to.equal(bytesToHex(leafHashOf(hexToBytes(ack.recordId), signature)));

    const again = await post("/v1/attestations", { envelope, signature });
    expect(again.status).to.equal(200);
    expect(((await again.json()) as { leafIndex: number }).leafIndex).to.equal(ack.leafIndex);
    const viaSlashAndQuery = await post("/v1/attestations/?client=test", { envelope, signature });
    expect(viaSlashAndQuery.status).to.equal(200);
    expect(((await viaSlashAndQuery.json()) as { leafIndex: number }).leafIndex).to.equal(ack.leafIndex);

    const receipt = await waitFor("the receipt", async () => {
      const res = await get(ack.receipt);
      return res.status === 200 ? ((await res.json()) as Record<string, any>) : undefined;
    });
    expect(receipt).to.include({
      status: "anchored",
      recordId: ack.recordId,
      leafIndex: ack.leafIndex,
      chainId: 31337,
      logId: info.logId,
    });
    expect(receipt.contract).to.equal(info.contracts.DutyLedger);
    const ledger = gateway.ledger;
    expect(
      await ledger.getFunction("verifyInclusion")(
        receipt.leafHash,
        receipt.leafIndex,
        receipt.treeSize,
        receipt.inclusionProof,
        receipt.root,
      ),
    ).to.equal(true);
    const [included, anchoredAt] = await ledger.getFunction("verifyAnchoredInclusion")(
      receipt.logId,
      receipt.leafHash,
      receipt.leafIndex,
      receipt.treeSize,
      receipt.inclusionProof,
    );
    expect([included, Number(anchoredAt)]).to.deep.equal([true, receipt.anchoredAt]);
    const tx = await gateway.wallet.provider!.getTransactionReceipt(receipt.transactionHash);
    expect(tx?.blockNumber).to.equal(receipt.blockNumber);
  });

  describe("bad input gets its 4xx problem and changes nothing", () => {
    const cases: Array<[string, () => Promise<Response>, number, string, string[]?]> = [
      ["malformed JSON", () => post("/v1/attestations", '{"envelope": '), 400, "request.malformed_json"],
      [
        "wrong content type",
        () => post("/v1/attestations", "envelope=1", "application/x-www-form-urlencoded"),
        415,
        "request.unsupported_media_type",
      ],
      [
        "JSON in a charset other than UTF-8",
        () => post("/v1/attestations", "{}", "application/json; charset=latin1"),
        415,
        "request.unsupported_media_type",
      ],
      [
        "a compressed body",
        () =>
          fetch(gateway.url + "/v1/attestations", {
            method: "POST",
            headers: { "content-type": "application/json", "content-encoding": "gzip" },
            body: gzipSync("{}"),
          }),
        415,
        "request.unsupported_media_type",
      ],
      [
        "JSON that is not an object or array",
        () => post("/v1/attestations", '"envelope"'),
        400,
        "request.malformed_json",
      ],
      [
        "oversize body",
        () => post("/v1/attestations", { envelope: {}, signature: "0x", pad: "x".repeat(100_000) }),
        413,
        "request.too_large",
      ],
      [
        "oversize body sent in chunks, with no length declared",
        () =>
          fetch(gateway.url + "/v1/attestations", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: new ReadableStream({
              start(controller) {
                for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode("x".repeat(8192)));
                controller.close();
              },
            }),
            duplex: "half",
          } as RequestInit),
        413,
        "request.too_large",
      ],
      [
        "a batch without items, every fault listed",
        () => post("/v1/attestations/batch", { items: "all", more: 1 }),
        422,
        "request.invalid",
        ["items", "(body)"],
      ],
      [
        "extra keys and wrong types, every one listed",
        () =>
          post(
            "/v1/attestations",
            JSON.parse(
              '{"envelope":{"version":2,"logId":"0x","unitId":"0x12","dutyTypeId":7,"performedAt":"now","fields":[],"salt":""},"signature":"0x00","extra":true}',
            ),
          ),
        422,
        "request.invalid",
        [
          "envelope.logId",
          "envelope.unitId",
          "envelope.dutyTypeId",
          "envelope.performedAt",
          "envelope.fields",
          "envelope.salt",
          "signature",
          "(body)",
        ],
      ],
      [
        "a __proto__ key, refused before any schema sees the body",
        () => post("/v1/attestations", JSON.parse('{"envelope":{"fields":{"__proto__":{"x":1}}},"signature":"0x00"}')),
        422,
        "request.invalid",
        ["envelope.fields.__proto__"],
      ],
    ];
    for (const [name, send, status, code, paths] of cases) {
      it(name, async () => {
        const before = await sizeNow();
        const res = await send();
        expect(res.status).to.equal(status);
        expect(res.headers.get("content-type")).to.match(/^application\/problem\+json/);
        const problem = (await res.json()) as {
          code: string;
          status: number;
          requestId?: string;
          errors?: Array<{ path: string }>;
        };
        expect([problem.code, problem.status]).to.deep.equal([code, status]);
        // The request id a user can quote, on the ingest routes as on every other.
        expect(problem.requestId).to.be.a("string").and.equal(res.headers.get("x-request-id"));
        expect(JSON.stringify(problem)).to.not.match(/at .*\.ts:\d+/);
        if (paths) for (const p of paths) expect(problem.errors!.map((e) => e.path).join(" ")).to.include(p);
        expect(await sizeNow()).to.equal(before);
      });
    }

    const signedCases: Array<[string, () => Promise<unknown>, number, string]> = [
      [
        "fields that do not match the duty type",
        async () => {
          const envelope = newEnvelope(info.logId, village, household, {
            householdName: 7,
            visitPurpose: "party",
            unknownField: "x",
          } as never);
          return { envelope, signature: await signEnvelope(unitKey, info.eip712, envelope) };
        },
        422,
        "record.invalid_fields",
      ],
      [
        "an unknown duty type",
        async () => {
          const envelope = newEnvelope(info.logId, village, "0x" + "ab".repeat(32), visitFields);
          return { envelope, signature: await signEnvelope(unitKey, info.eip712, envelope) };
        },
        422,
        "record.unknown_duty_type",
      ],
      [
        "an unregistered unit",
        async () => {
          const envelope = newEnvelope(info.logId, id("unit:nowhere"), household, visitFields);
          return { envelope, signature: await signEnvelope(unitKey, info.eip712, envelope) };
        },
        422,
        "record.unknown_unit",
      ],
      [
        "a key that is not the unit's",
        async () => {
          const envelope = newEnvelope(info.logId, village, household, visitFields);
          return { envelope, signature: await signEnvelope(strangerKey, info.eip712, envelope) };
        },
        403,
        "record.signer_not_authorized",
      ],
      [
        "a high-s signature",
        async () => {
          const envelope = newEnvelope(info.logId, village, household, visitFields);
          return { envelope, signature: toHighS(await signEnvelope(unitKey, info.eip712, envelope)) };
        },
        422,
        "record.bad_signature",
      ],
      [
        "a signature for another contract",
        async () => {
          const envelope = newEnvelope(info.logId, village, household, visitFields);
          const other = {
            ...info.eip712,
            domain: { ...info.eip712.domain, verifyingContract: "0x" + "12".repeat(20) },
          };
          return { envelope, signature: await signEnvelope(unitKey, other, envelope) };
        },
        403,
        "record.signer_not_authorized",
      ],
      [
        "a time in the future",
        async () => {
          const envelope = newEnvelope(
            info.logId,
            village,
            household,
            visitFields,
            Math.floor(Date.now() / 1000) + 3600,
          );
          return { envelope, signature: await signEnvelope(unitKey, info.eip712, envelope) };
        },
        422,
        "record.time_implausible",
      ],
      [
        "a duty type not for the unit's level",
        async () => {
          const envelope = newEnvelope(info.logId, township, household, visitFields);
          return { envelope, signature: await signEnvelope(townshipKey, info.eip712, envelope) };
        },
        422,
        "record.duty_type_not_applicable",
      ],
      [
        "a suspended unit, even with its own key",
        async () => {
          const envelope = newEnvelope(info.logId, suspended, household, visitFields);
          return { envelope, signature: await signEnvelope(suspendedKey, info.eip712, envelope) };
        },
        403,
        "record.unit_suspended",
      ],
    ];
    for (const [name, build, status, code] of signedCases) {
      it(name, async () => {
        const before = await sizeNow();
        const res = await post("/v1/attestations", await build());
        const problem = (await res.json()) as { code: string };
        expect([res.status, problem.code]).to.deep.equal([status, code]);
        expect(await sizeNow()).to.equal(before);
      });
    }
  });

  it("accepts a batch, answering each item on its own", async () => {
    const items = [];
    for (let i = 0; i < 40; i++) {
      const envelope = newEnvelope(info.logId, village, meeting, {
        topic: `第${i}次村民代表会议`,
        meetingKind: "villagers-representatives",
        attendees: 20 + i,
        chair: "村主任",
      });
      items.push({ envelope, signature: await signEnvelope(unitKey, info.eip712, envelope) });
    }
    items.push({ envelope: items[0]!.envelope, signature: items[1]!.signature });
    const before = await sizeNow();
    const res = await post("/v1/attestations/batch", { items: [...items, items[3]] });
    expect(res.status).to.equal(200);
    const { results } = (await res.json()) as { results: Array<{ status: number; code?: string; leafIndex?: number }> };
    expect(results.slice(0, 40).every((r) => r.status === 201)).to.equal(true);
    expect(results[40]!.status).to.equal(403);
    expect(results[41]).to.include({ status: 200, leafIndex: results[3]!.leafIndex });
    expect(await sizeNow()).to.equal(before + 40);
    expect(new Set(results.slice(0, 40).map((r) => r.leafIndex)).size).to.equal(40);
  });

  it("serves inclusion and consistency proofs and the checkpoint history", async () => {
    // Two records anchored one after the other: a history of at least two checkpoints, whatever
    // ran before this test.
    for (let i = 0; i < 2; i++) {
      const envelope = newEnvelope(info.logId, village, household, visitFields);
      const ack = (await (
        await post("/v1/attestations", { envelope, signature: await signEnvelope(unitKey, info.eip712, envelope) })
      ).json()) as { receipt: string };
      await waitFor("the receipt", async () => ((await get(ack.receipt)).status === 200 ? true : undefined));
    }
    const latest = await waitFor("a checkpoint covering every record", async () => {
      const res = await get("/v1/checkpoints/latest");
      if (res.status !== 200) return undefined;
      const c = (await res.json()) as { size: number; root: string };
      return c.size === (await sizeNow()) ? c : undefined;
    });
    const first = (
      (await (await get("/v1/checkpoints")).json()) as { checkpoints: Array<{ size: number; root: string }> }
    ).checkpoints.at(-1)!;
    const consistency = (await (await get(`/v1/proofs/consistency?from=${first.size}&to=${latest.size}`)).json()) as {
      proof: string[];
    };
    expect(
      await gateway.ledger.getFunction("verifyConsistency")(
        first.size,
        latest.size,
        first.root,
        latest.root,
        consistency.proof,
      ),
    ).to.equal(true);
    const bad = await get(`/v1/proofs/consistency?from=0&to=${latest.size}`);
    expect(bad.status).to.equal(422);
    expect((await get(`/v1/proofs/inclusion?leafHash=0x${"00".repeat(32)}&treeSize=1`)).status).to.equal(404);
  });

  it("keeps every receipt valid across a restart of gateway and chain", async () => {
    const envelope = newEnvelope(info.logId, village, household, visitFields);
    const signature = await signEnvelope(unitKey, info.eip712, envelope);
    const ack = (await (await post("/v1/attestations", { envelope, signature })).json()) as {
      receipt: string;
      leafIndex: number;
    };
    const before = await waitFor("the receipt", async () => {
      const res = await get(ack.receipt);
      return res.status === 200 ? ((await res.json()) as Record<string, any>) : undefined;
    });
    const size = await sizeNow();
    await gateway.close();
    gateway = await startGateway(config(), () => {});
    expect(await sizeNow()).to.equal(size);
    const after = (await (await get(ack.receipt)).json()) as Record<string, any>;
    expect(after).to.deep.equal(before);
    expect(
      await gateway.ledger.getFunction("verifyInclusion")(
        after.leafHash,
        after.leafIndex,
        after.treeSize,
        after.inclusionProof,
        after.root,
      ),
    ).to.equal(true);
    const next = newEnvelope(info.logId, village, household, visitFields);
    const res = await post("/v1/attestations", {
      envelope: next,
      signature: await signEnvelope(unitKey, info.eip712, next),
    });
    expect(res.status).to.equal(201);
  });

  it("shows a record's content only to its unit's token, its duty type's department and auditors", async () => {
    const envelope = newEnvelope(info.logId, village, household, visitFields);
    const signature = await signEnvelope(unitKey, info.eip712, envelope);
    const { recordId } = (await (await post("/v1/attestations", { envelope, signature })).json()) as {
      recordId: string;
    };
    const tokens = `${dir.path}/tokens.json`;
    const own = issueToken(tokens, `unit:${village}`, "the village");
    const other = issueToken(tokens, `unit:${township}`, "the township");
    const inspector = issueToken(tokens, "inspector:civil-affairs", "civil affairs bureau");
    const otherDepartment = issueToken(tokens, "inspector:emergency-management", "emergency management bureau");
    const bare = issueToken(tokens, "auditor", "placeholder");
    // A bare `inspector` token from before department scopes grants nothing.
    const entries = JSON.parse(readFileSync(tokens, "utf8")) as Array<{ scope: string; label: string }>;
    entries.find((e) => e.label === "placeholder")!.scope = "inspector";
    writeFileSync(tokens, JSON.stringify(entries));
    const read = (token?: string, rid = recordId) =>
      fetch(`${gateway.url}/v1/attestations/${rid}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    expect((await read()).status).to.equal(401);
    expect((await read("dp_not-a-token")).status).to.equal(403);
    expect((await read(other)).status).to.equal(403);
    expect((await read(otherDepartment)).status).to.equal(403);
    await new Promise((r) => setTimeout(r, 1100)); // the token file is read again at most once a second
    expect((await read(bare)).status).to.equal(403);
    for (const token of [own, inspector]) {
      const res = await read(token);
      expect(res.status).to.equal(200);
      expect(((await res.json()) as { envelope: unknown }).envelope).to.deep.equal(envelope);
    }
    expect((await read(inspector, "0x" + "00".repeat(32))).status).to.equal(403);
  });

  it("tells a holder of a leaf hash found in public proofs only where it was anchored (issue 18, Medium 4)", async () => {
    const known = new Map<string, string>(); // leaf hash -> record id
    for (const [unit, key, dutyType, fields] of [
      [village, unitKey, household, visitFields],
      [
        village,
        unitKey,
        meeting,
        { topic: "村民代表会议", meetingKind: "villagers-representatives", attendees: 23, chair: "村主任" },
      ],
      [township, townshipKey, meeting, { topic: "安全生产例会", meetingKind: "working", attendees: 12, chair: "镇长" }],
    ] as const) {
      const envelope = newEnvelope(gateway.deployment.logId, unit, dutyType, fields);
      const res = await post("/v1/attestations", {
        envelope,
        signature: await signEnvelope(key, info.eip712, envelope),
      });
      expect(res.status, await res.clone().text()).to.equal(201);
      const ack = (await res.json()) as { recordId: string; leafHash: string };
      known.set(ack.leafHash, ack.recordId);
    }
    const size = await sizeNow();
    await waitFor("anchoring", async () => {
      const latest = (await (await get("/v1/checkpoints/latest")).json()) as { size?: number };
      return (latest.size ?? 0) >= size ? true : undefined;
    });
    // The walk an enumerator makes: every hash in the public consistency proofs of each step.
    const found = new Set<string>();
    for (let m = 1; m < size; m++) {
      const proof = (await (await get(`/v1/proofs/consistency?from=${m}&to=${m + 1}`)).json()) as { proof: string[] };
      for (const hash of proof.proof) found.add(hash);
    }
    for (const leafHash of known.keys()) expect(found, "the walk reaches every leaf").to.include(leafHash);
    let leaves = 0;
    for (const hash of found) {
      const res = await get(`/v1/receipts/${hash}`);
      if (res.status === 404) continue; // an interior node
      expect(res.status).to.equal(200);
      const receipt = (await res.json()) as Record<string, unknown>;
      leaves++;
      expect(Object.keys(receipt)).not.to.include.any.members([
        "recordId",
        "unitId",
        "dutyTypeId",
        "performedAt",
        "signer",
        "signature",
        "acceptedAt",
      ]);
      expect(receipt).to.include({ status: "anchored", leafHash: hash, logId: info.logId });
      expect(receipt.anchoredAt).to.be.a("number");
      for (const unit of [village, township]) expect(JSON.stringify(receipt)).not.to.contain(unit.slice(2));
    }
    expect(leaves).to.be.at.least(known.size);
    // The record id, the holder's secret, still opens the full receipt.
    for (const [leafHash, recordId] of known) {
      const full = (await (await get(`/v1/receipts/${recordId}`)).json()) as Record<string, unknown>;
      expect(full).to.include({ recordId, leafHash });
      expect(full.unitId).to.be.oneOf([village, township]);
    }
  });

  it("leaves personal fields and the salt out of a unit's timeline (README, Console)", async () => {
    const envelope = newEnvelope(info.logId, village, household, visitFields);
    const submitted = await post("/v1/attestations", {
      envelope,
      signature: await signEnvelope(unitKey, info.eip712, envelope),
    });
    expect(submitted.status).to.equal(201);
    const token = issueToken(`${dir.path}/tokens.json`, `unit:${village}`, "timeline");
    const res = await fetch(`${gateway.url}/v1/units/${village}/records?dutyTypeId=${household}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).to.equal(200);
    const { records } = (await res.json()) as {
      records: Array<{ envelope: { fields: Record<string, unknown>; salt?: string } }>;
    };
    expect(records.length).to.be.at.least(1);
    for (const r of records) {
      expect(r.envelope.fields).to.include({ visitPurpose: "elderly-care", visitors: visitFields.visitors });
      expect(r.envelope.fields).not.to.have.any.keys("householdName", "address");
      expect(r.envelope).not.to.have.property("salt");
    }
    const text = JSON.stringify(records);
    for (const value of [visitFields.householdName, visitFields.address]) expect(text).not.to.contain(value);
  });

  it("answers unknown routes and records with problems, never a stack trace", async () => {
    const res = await get("/v1/nope");
    expect([res.status, res.headers.get("content-type")]).to.deep.equal([
      404,
      "application/problem+json; charset=utf-8",
    ]);
    expect((await get(`/v1/attestations/0x${"00".repeat(32)}/receipt`)).status).to.equal(404);
    expect((await get("/v1/attestations/not-a-hash/receipt")).status).to.equal(422);
  });

  describe("public read routes, served on node:http in front of Express", () => {
    type Problem = { code: string; status: number; detail: string; requestId?: string; errors?: FieldError[] };
    type FieldError = { path: string; message: string };
    let recordId: string;
    let leafHash: string;
    let treeSize: number;
    const inclusion = () => `/v1/proofs/inclusion?leafHash=${leafHash}&treeSize=${treeSize}`;
    const servedPaths = () => [
      inclusion(),
      `/v1/proofs/consistency?from=1&to=${treeSize}`,
      "/v1/checkpoints/latest",
      `/v1/attestations/${recordId}/receipt`,
      `/v1/receipts/${leafHash}`,
    ];

    before(async () => {
      const envelope = newEnvelope(info.logId, village, household, visitFields);
      const signature = await signEnvelope(unitKey, info.eip712, envelope);
      const ack = (await (await post("/v1/attestations", { envelope, signature })).json()) as {
        recordId: string;
        leafHash: string;
        receipt: string;
      };
      ({ recordId, leafHash } = ack);
      ({ treeSize } = await waitFor("the receipt", async () => {
        const res = await get(ack.receipt);
        return res.status === 200 ? ((await res.json()) as { treeSize: number }) : undefined;
      }));
    });

    /** Asserts a problem+json answer with its request id, and returns it. */
    const problemOf = async (res: Response, status: number, code: string): Promise<Problem> => {
      expect([res.status, res.headers.get("content-type")]).to.deep.equal([
        status,
        "application/problem+json; charset=utf-8",
      ]);
      const problem = (await res.json()) as Problem;
      expect([problem.status, problem.code]).to.deep.equal([status, code]);
      expect(problem.requestId).to.be.a("string").and.equal(res.headers.get("x-request-id"));
      return problem;
    };
    const faultsOf = async (path: string) =>
      (await problemOf(await get(path), 422, "request.invalid")).errors!.map((e) => e.path);

    it("names every query parameter at fault, missing, malformed or unknown, with the request id", async () => {
      expect(await faultsOf("/v1/proofs/inclusion")).to.deep.equal(["query.leafHash", "query.treeSize"]);
      expect(await faultsOf("/v1/proofs/inclusion?leafHash=0xAB&treeSize=0")).to.deep.equal([
        "query.leafHash",
        "query.treeSize",
      ]);
      expect(await faultsOf("/v1/proofs/consistency?from=x&to=1.5")).to.deep.equal(["query.from", "query.to"]);
      // A path parameter at fault is named as one (it was "query.(body)" before the route table).
      expect(await faultsOf("/v1/receipts/0x12")).to.deep.equal(["path.hash"]);
      const unknown = await problemOf(await get(`${inclusion()}&extra=1&__proto__=2`), 422, "request.invalid");
      expect(unknown.errors).to.have.length(1);
      expect(unknown.errors![0]!.message).to.include('"extra"').and.include('"__proto__"');
      const traced = await fetch(gateway.url + "/v1/proofs/consistency", { headers: { "x-request-id": "trace-read" } });
      expect((await problemOf(traced, 422, "request.invalid")).requestId).to.equal("trace-read");
    });

    it("refuses a query parameter given twice, even twice the same", async () => {
      expect(await faultsOf(`${inclusion()}&treeSize=${treeSize}`)).to.deep.equal(["query.treeSize"]);
      expect(await faultsOf(`${inclusion()}&leafHash=${leafHash}`)).to.deep.equal(["query.leafHash"]);
      expect(await faultsOf(`/v1/proofs/consistency?from=1&to=1&from=1`)).to.deep.equal(["query.from"]);
    });

    it("answers broken percent-encoding with a 4xx problem, never a 500", async () => {
      for (const path of ["/v1/receipts/%E0%A4%A", "/v1/attestations/%/receipt", "/v1/receipts/0x%zz"]) {
        await problemOf(await get(path), 400, "request.unreadable");
      }
      expect(await faultsOf("/v1/proofs/inclusion?leafHash=%E0%A4%A&treeSize=%")).to.deep.equal([
        "query.leafHash",
        "query.treeSize",
      ]);
      expect(await faultsOf(`${inclusion()}&%=1`)).to.deep.equal(["query.(body)"]);
    });

    it("answers HEAD as GET, without the body", async () => {
      for (const path of [...servedPaths(), "/v1/proofs/inclusion?treeSize=x", "/v1/receipts/%"]) {
        const full = await get(path);
        const body = await full.text();
        const head = await fetch(gateway.url + path, { method: "HEAD" });
        expect([head.status, head.headers.get("content-type"), head.headers.get("content-length")], path).to.deep.equal(
          [full.status, full.headers.get("content-type"), String(Buffer.byteLength(body))],
        );
        expect(head.headers.get("x-request-id")).to.be.a("string");
        expect(await head.text()).to.equal("");
      }
    });

    it("takes a trailing slash, any letter case and an unused query string, as Express did", async () => {
      const same = async (path: string, variant: string) => {
        const [a, b] = [await get(path), await get(variant)];
        expect([b.status, await b.text()], variant).to.deep.equal([a.status, await a.text()]);
        expect(a.status).to.be.oneOf([200, 202]);
      };
      await same(inclusion(), inclusion().replace("?", "/?"));
      await same("/v1/checkpoints/latest", "/v1/checkpoints/latest/");
      await same("/v1/checkpoints/latest", "/v1/checkpoints/latest?client=test");
      await same(`/v1/receipts/${recordId}`, `/v1/receipts/${recordId}/`);
      await same(`/v1/receipts/${recordId}`, `/v1/receipts/${recordId}?client=test`);
      await same(`/v1/receipts/${recordId}`, `/V1/Receipts/${recordId}`);
      await same(`/v1/attestations/${recordId}/receipt`, `/v1/attestations/${recordId}/receipt/`);
      // Two slashes are another path, as they were.
      await problemOf(await get(`/v1/receipts/${recordId}//`), 404, "request.not_found");
    });

    it("leaves every other path and method to Express's 404 problem", async () => {
      for (const path of ["/v1/proofs/nope", "/v1/proofs", "/v1/proofs/inclusion/extra", "/v1/receipts/"]) {
        expect((await problemOf(await get(path), 404, "request.not_found")).detail).to.equal(`no route GET ${path}`);
      }
      const posted = await fetch(gateway.url + inclusion(), { method: "POST" });
      expect((await problemOf(posted, 404, "request.not_found")).detail).to.equal("no route POST /v1/proofs/inclusion");
    });

    it("counts these routes in /metrics under their route templates", async () => {
      const count = (page: string, route: string, status: number) =>
        Number(
          page
            .split("\n")
            .find((l) =>
              l.startsWith(`dutyproof_http_requests_total{method="GET",route="${route}",status="${status}"} `),
            )
            ?.split(" ")[1] ?? 0,
        );
      const before = await (await get("/metrics")).text();
      await get(`/v1/receipts/${leafHash}`);
      await get(`/v1/receipts/${leafHash}`);
      await get("/v1/proofs/inclusion?treeSize=x");
      await new Promise((r) => setTimeout(r, 50));
      const after = await (await get("/metrics")).text();
      expect(count(after, "/v1/receipts/:hash", 200) - count(before, "/v1/receipts/:hash", 200)).to.equal(2);
      expect(count(after, "/v1/proofs/inclusion", 422) - count(before, "/v1/proofs/inclusion", 422)).to.equal(1);
    });

    it("is still documented in the OpenAPI document", async () => {
      const { paths } = (await (await get("/openapi.json")).json()) as { paths: Record<string, { get?: unknown }> };
      for (const path of [
        "/v1/proofs/inclusion",
        "/v1/proofs/consistency",
        "/v1/checkpoints/latest",
        "/v1/attestations/{recordId}/receipt",
        "/v1/receipts/{hash}",
      ]) {
        expect(paths[path]?.get, path).to.be.an("object");
      }
    });
  });
});
