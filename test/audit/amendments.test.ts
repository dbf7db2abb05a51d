/**
 * Corrections, withdrawals and lawful erasure against a real gateway, chain and LevelDB: the
 * gateway's rules for amending a record, what verifying an amended or erased record reports
 * (receipts, POST /v1/verify, CLI verify of a bundle, replay from the gateway and from a bundle),
 * and that erased plaintext is gone from every file under the data directory.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type BaseWallet, Wallet, id } from "ethers";
import type { RecordEnvelope } from "../../server/core/record.ts";
import { bundleSchema } from "../../server/core/verifier.ts";
import { ownTrustAnchor } from "../../server/chain/trustAnchors.ts";
import { replayFromBundle } from "../../server/audit/replayFromBundle.ts";
import { replayFromGateway } from "../../server/audit/replayFromGateway.ts";
import { configFromEnvironment } from "../../server/config.ts";
import { issueToken } from "../../server/gateway/AccessTokens.ts";
import { operatorMessage } from "../../server/app/erase.ts";
import { packageRequestMessage } from "../../server/app/demand.ts";
import { type DemandDefinition, demandOf, signDemand } from "../../server/burden/demandClient.ts";
import { departmentIdOf } from "../../server/chain/deployment.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { testPort } from "../helpers/ports.ts";
import { cliPath } from "../helpers/serve.ts";
import { step } from "../helpers/steps.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { type Eip712Info, newEnvelope, signEnvelope } from "../helpers/unitClient.ts";

/** Every file under `dir` that contains `needle` as UTF-8 bytes. */
function filesContaining(dir: string, needle: string): string[] {
  const bytes = Buffer.from(needle, "utf8");
  const hits: string[] = [];
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    if (statSync(path).isFile() && readFileSync(path).includes(bytes)) hits.push(name);
  }
  return hits;
}

describe("corrections, withdrawals and lawful erasure", function () {
  this.timeout(180_000);
  const dir = tempDir("amend");
  const files = tempDir("amend-files"); // bundles written by the CLI, outside the data directory
  let gateway: RunningGateway;
  const ownTrust = () => [ownTrustAnchor(gateway.deployment, "the test gateway")];
  let info: { eip712: Eip712Info; logId: string };
  let auditorToken: string;
  let unitToken: string;
  const village = id("unit:amend-village");
  const neighbour = id("unit:amend-neighbour");
  const villageKey = Wallet.createRandom();
  const neighbourKey = Wallet.createRandom();
  let visit: string;
  let patrol: string;
  const personal = { householdName: "测试户主甲乙丙", address: "清水镇测试路十七号七单元" };
  const visitFields = { ...personal, visitPurpose: "routine", followUpRequired: false, visitors: "走访员" };

  const submit = async (key: BaseWallet, envelope: RecordEnvelope) => {
    const signature = await signEnvelope(key, info.eip712, envelope);
    const res = await fetch(`${gateway.url}/v1/attestations`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ envelope, signature }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, envelope, signature };
  };
  const receiptOf = async (recordId: string): Promise<Record<string, unknown>> => {
    for (let i = 0; i < 200; i++) {
      const res = await fetch(`${gateway.url}/v1/attestations/${recordId}/receipt`);
      if (res.status === 200) return (await res.json()) as Record<string, unknown>;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("not anchored");
  };
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [cliPath, ...args], {
        env: { ...process.env, LANG: "", GATEWAY_URL: gateway.url, DATA_DIR: dir.path, ...env },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
  const amend = (base: RecordEnvelope, recordId: string, kind: "correction" | "withdrawal", fields = base.fields) =>
    ({
      ...newEnvelope(info.logId, base.unitId, base.dutyTypeId, fields),
      amends: { recordId, kind, reason: kind === "correction" ? "走访对象姓名录入有误" : "重复录入" },
    }) as RecordEnvelope;

  let original: Awaited<ReturnType<typeof submit>>;
  let correction: Awaited<ReturnType<typeof submit>>;
  let withdrawn: Awaited<ReturnType<typeof submit>>;
  let withdrawal: Awaited<ReturnType<typeof submit>>;
  let erasable: Awaited<ReturnType<typeof submit>>;

  before(async () => {
    gateway = await startGateway(
      configFromEnvironment(
        {},
        {
          dataDir: dir.path,
          port: 0,
          chainPort: testPort("audit"),
          anchorIntervalMs: 200,
          anchorMaxLeaves: 1000,
          logName: "amend",
        },
      ),
      () => {},
    );
    auditorToken = issueToken(`${dir.path}/tokens.json`, "auditor", "audit bureau");
    unitToken = issueToken(`${dir.path}/tokens.json`, `unit:${village}`, "the village");
    for (const [unit, key] of [
      [village, villageKey],
      [neighbour, neighbourKey],
    ] as const)
      await (await gateway.ledger.getFunction("registerUnit")(unit, "0x" + "00".repeat(32), 3, key.address)).wait();
    info = (await (await fetch(`${gateway.url}/v1/info`)).json()) as typeof info;
    const catalog = (
      (await (await fetch(`${gateway.url}/v1/duty-types`)).json()) as { dutyTypes: Array<{ id: string; code: string }> }
    ).dutyTypes;
    visit = catalog.find((d) => d.code === "household-visit")!.id;
    patrol = catalog.find((d) => d.code === "grid-patrol")!.id;
    original = await submit(villageKey, newEnvelope(info.logId, village, visit, visitFields));
    withdrawn = await submit(
      villageKey,
      newEnvelope(info.logId, village, visit, { ...visitFields, householdName: "另一户" }),
    );
    erasable = await submit(
      villageKey,
      newEnvelope(info.logId, village, visit, { ...visitFields, householdName: "待删除户主" }),
    );
    expect([original.status, withdrawn.status, erasable.status]).to.deep.equal([201, 201, 201]);
    // The amendments most tests below read; the first test checks how they were answered.
    correction = await submit(
      villageKey,
      amend(original.envelope, original.body.recordId as string, "correction", {
        ...visitFields,
        householdName: "测试户主甲乙丁",
      }),
    );
    withdrawal = await submit(
      villageKey,
      amend(withdrawn.envelope, withdrawn.body.recordId as string, "withdrawal", {}),
    );
  });

  after(async () => {
    await gateway?.close();
    dir.remove();
    files.remove();
  });

  it("accepts a correction and a withdrawal of the unit's own records", async () => {
    expect(correction.status, JSON.stringify(correction.body)).to.equal(201);
    expect(correction.body.recordId).to.be.a("string");
    expect(withdrawal.status, JSON.stringify(withdrawal.body)).to.equal(201);
    // The same withdrawal again is the same record, not a second amendment.
    const again = await fetch(`${gateway.url}/v1/attestations`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ envelope: withdrawal.envelope, signature: withdrawal.signature }),
    });
    expect(again.status).to.equal(200);
  });

  it("refuses amendments that break the rules, each with its problem", async () => {
    const originalId = original.body.recordId as string;
    const cases: Array<[string, BaseWallet, RecordEnvelope, number, string]> = [
      [
        "an unknown record",
        villageKey,
        amend(original.envelope, "0x" + "ab".repeat(32), "correction"),
        422,
        "amendment.target_not_found",
      ],
      [
        "another unit's record",
        neighbourKey,
        { ...amend(original.envelope, correction.body.recordId as string, "correction"), unitId: neighbour },
        422,
        "amendment.other_unit",
      ],
      [
        "another duty type",
        villageKey,
        {
          ...newEnvelope(info.logId, village, patrol, {
            gridCode: "A-1",
            durationMinutes: 5,
            issuesFound: 0,
            gridWorker: "甲",
          }),
          amends: { recordId: correction.body.recordId as string, kind: "correction", reason: "x" },
        },
        422,
        "amendment.duty_type_mismatch",
      ],
      [
        "a withdrawal with fields",
        villageKey,
        amend(original.envelope, correction.body.recordId as string, "withdrawal"),
        422,
        "amendment.withdrawal_has_fields",
      ],
      [
        "a record already superseded",
        villageKey,
        amend(original.envelope, originalId, "correction"),
        409,
        "amendment.target_not_current",
      ],
      [
        "a record already withdrawn",
        villageKey,
        amend(withdrawn.envelope, withdrawn.body.recordId as string, "withdrawal", {}),
        409,
        "amendment.target_not_current",
      ],
      [
        "a withdrawal itself",
        villageKey,
        amend(withdrawn.envelope, withdrawal.body.recordId as string, "withdrawal", {}),
        409,
        "amendment.target_not_current",
      ],
    ];
    const sizeBefore = gateway.store.treeSize;
    for (const [name, key, envelope, status, code] of cases) {
      const res = await submit(key, envelope);
      expect([res.status, res.body.code], name).to.deep.equal([status, code]);
    }
    expect(gateway.store.treeSize).to.equal(sizeBefore);
  });

  it("reports superseded and withdrawn in receipts and at POST /v1/verify, which still verify", async () => {
    const receipt = await receiptOf(original.body.recordId as string);
    expect(receipt.supersededBy).to.deep.include({ kind: "correction", recordId: correction.body.recordId });
    const withdrawnReceipt = await receiptOf(withdrawn.body.recordId as string);
    expect(withdrawnReceipt.withdrawnBy).to.deep.include({ recordId: withdrawal.body.recordId, reason: "重复录入" });
    const verdict = (await (
      await fetch(`${gateway.url}/v1/verify`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ receipt, envelope: original.envelope }),
      })
    ).json()) as Record<string, unknown>;
    expect(verdict.valid).to.equal(true);
    expect(verdict.supersededBy).to.deep.include({ recordId: correction.body.recordId });
  });

  it("exports each record's amendment line; CLI verify and bundle replay report it", async () => {
    await receiptOf(withdrawal.body.recordId as string);
    const out = join(files.path, "bundle.json");
    // Only the original's period: its correction comes along anyway.
    const from = new Date((original.envelope.performedAt - 1) * 1000).toISOString();
    const to = new Date((original.envelope.performedAt + 1) * 1000).toISOString();
    for (const r of [correction, withdrawal]) await receiptOf(r.body.recordId as string);
    const exported = await cli([
      "export",
      "--token",
      unitToken,
      "--unit",
      village,
      "--out",
      out,
      "--from",
      from,
      "--to",
      to,
    ]);
    expect(exported.status, exported.stderr).to.equal(0);
    const bundle = bundleSchema.parse(JSON.parse(readFileSync(out, "utf8")));
    const ids = bundle.items.map((i) => i.receipt.recordId);
    expect(ids).to.include.members([original.body.recordId, correction.body.recordId]);
    const verified = await cli(["verify", out, "--rpc", gateway.rpcUrl, "--lang", "en"]);
    expect(verified.status, verified.stdout + verified.stderr).to.equal(0);
    expect(verified.stdout).to.include(`${original.body.recordId}: superseded by ${correction.body.recordId}`);
    const json = JSON.parse((await cli(["verify", out, "--rpc", gateway.rpcUrl, "--json"])).stdout) as {
      results: Array<{ recordId: string; supersededBy?: { recordId: string } }>;
    };
    expect(json.results.find((r) => r.recordId === original.body.recordId)!.supersededBy!.recordId).to.equal(
      correction.body.recordId,
    );
    const report = await replayFromBundle({ bundle, rpcUrl: gateway.rpcUrl, trust: ownTrust() });
    expect(report.clean, JSON.stringify(report.findings)).to.equal(true);
    expect(report.corrections).to.be.greaterThan(0);
    // The same bundle with a correction whose original is left out: the link dangles.
    const dangling = { ...bundle, items: bundle.items.filter((i) => i.receipt.recordId !== original.body.recordId) };
    const broken = await replayFromBundle({ bundle: dangling, rpcUrl: gateway.rpcUrl, trust: ownTrust() });
    expect(broken.counts["amendment.target_not_found"]).to.equal(1);
    // A changed byte in a bundled record is found at its leaf, by the CLI too.
    const tampered = structuredClone(bundle);
    const victim = tampered.items.find((i) => i.receipt.recordId === correction.body.recordId)!;
    victim.envelope!.fields.visitors = "走访员乙";
    writeFileSync(join(files.path, "tampered.json"), JSON.stringify(tampered));
    const replayed = await cli([
      "replay",
      "--bundle",
      join(files.path, "tampered.json"),
      "--rpc",
      gateway.rpcUrl,
      "--json",
    ]);
    expect(replayed.status).to.equal(1);
    const findings = (JSON.parse(replayed.stdout) as { findings: Array<{ kind: string; leafIndex: number }> }).findings;
    expect(findings.filter((f) => f.kind === "record.altered").map((f) => f.leafIndex)).to.deep.equal([
      victim.receipt.leafIndex,
    ]);
  });

  it("corrects a record twice at once and erases another, then verifies, packages and replays the log with both counted", async function () {
    this.timeout(600_000);
    await step("two concurrent corrections of one record: one is accepted, the other refused", async () => {
      const head = correction.body.recordId as string;
      const [a, b] = await Promise.all([
        submit(villageKey, amend(correction.envelope, head, "correction")),
        submit(villageKey, amend(correction.envelope, head, "correction")),
      ]);
      expect([a.status, b.status].sort()).to.deep.equal([201, 409]);
    });
    await step("erases a record's personal fields and salt from every file of the data directory", async () => {
      const recordId = erasable.body.recordId as string;
      await receiptOf(recordId);
      const needles = ["待删除户主", personal.address];
      // Before: the plaintext is on disk (so the scan below can fail).
      expect(filesContaining(dir.path, "待删除户主")).to.not.deep.equal([]);
      expect(filesContaining(dir.path, erasable.envelope.salt.slice(2))).to.not.deep.equal([]);

      // The admin route refuses a request not signed by the operator key.
      const signedAt = Math.floor(Date.now() / 1000);
      const forged = await Wallet.createRandom().signMessage(
        operatorMessage("erase", gateway.deployment.logId, recordId, "PIPL-2026-001", signedAt),
      );
      const refused = await fetch(`${gateway.url}/v1/admin/erasures`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `DutyproofOperator ${forged}` },
        body: JSON.stringify({ recordId, order: "PIPL-2026-001", signedAt }),
      });
      expect([refused.status, ((await refused.json()) as { code: string }).code]).to.deep.equal([
        403,
        "request.forbidden",
      ]);

      const erased = await cli(["erase", recordId, "--order", "PIPL-2026-001"]);
      expect(erased.status, erased.stderr).to.equal(0);
      expect(erased.stdout).to.match(/address, householdName\) and salt erased at .* under order "PIPL-2026-001"/);
      const hits = filesContaining(dir.path, "待删除户主");
      expect(hits, `plaintext left in ${hits.join(", ")}`).to.deep.equal([]);
      expect(filesContaining(dir.path, erasable.envelope.salt.slice(2))).to.deep.equal([]);
      // The address is also in the two records not erased: it must still be there, and only there.
      expect(filesContaining(dir.path, needles[1]!)).to.not.deep.equal([]);

      const again = await cli(["erase", recordId, "--order", "PIPL-2026-001"]);
      expect([again.status, again.stderr]).to.satisfy(
        ([status, err]: [number, string]) => status === 1 && err.includes("409 erasure.already_erased"),
      );
      const stored = await gateway.store.getRecord(recordId);
      expect(stored!.envelope.fields).to.deep.equal({
        visitPurpose: "routine",
        followUpRequired: false,
        visitors: "走访员",
      });
      expect(stored!.erasure).to.deep.include({ order: "PIPL-2026-001", fields: ["address", "householdName"] });
    });
    await step("verifies an erased record's receipt, saying when and under what order it was erased", async () => {
      const recordId = erasable.body.recordId as string;
      const receipt = await receiptOf(recordId);
      expect(receipt.erasure).to.deep.include({ order: "PIPL-2026-001" });
      writeFileSync(join(files.path, "erased.json"), JSON.stringify(receipt));
      const verified = await cli(["verify", join(files.path, "erased.json"), "--rpc", gateway.rpcUrl, "--lang", "en"]);
      expect(verified.status, verified.stdout).to.equal(0);
      expect(verified.stdout).to.match(
        /personal content erased .* under order PIPL-2026-001 \(address, householdName\)/,
      );
      // Exported after the erasure: the record travels as receipt and notice, and replays as erased.
      const out = join(files.path, "after-erasure.json");
      const exported = await cli(["export", "--token", unitToken, "--unit", village, "--out", out]);
      expect(exported.status, exported.stderr).to.equal(0);
      const bundle = bundleSchema.parse(JSON.parse(readFileSync(out, "utf8")));
      const item = bundle.items.find((i) => i.receipt.recordId === recordId)!;
      expect([item.envelope, item.erasure?.order]).to.deep.equal([undefined, "PIPL-2026-001"]);
      expect(readFileSync(out, "utf8")).to.not.include("待删除户主");
      const report = await replayFromBundle({ bundle, rpcUrl: gateway.rpcUrl, trust: ownTrust() });
      expect(report.clean, JSON.stringify(report.findings)).to.equal(true);
      expect(report.erased).to.equal(1);
    });
    await step(
      "serves an evidence package and a monthly summary holding the erased record that verify and replay",
      async () => {
        const recordId = erasable.body.recordId as string;
        const inspector = Wallet.createRandom();
        const department = "civil-affairs";
        await (
          await gateway.ledger.getFunction("registerInspector")(inspector.address, departmentIdOf(department))
        ).wait();
        const definition = (await (await fetch(`${gateway.url}/v1/demands/eip712`)).json()) as DemandDefinition;
        const now = Math.floor(Date.now() / 1000);
        const performedAt = erasable.envelope.performedAt;
        const demand = demandOf(
          inspector.address,
          {
            unitId: village,
            dutyTypeIds: [visit],
            from: performedAt - 3600,
            to: now,
            purpose: "核查走访记录",
            department,
            issuedAt: now,
          },
          gateway.deployment.logId,
        );
        const created = await fetch(`${gateway.url}/v1/demands`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ demand, signature: await signDemand(inspector, definition, demand) }),
        });
        expect(created.status).to.equal(201);
        const { demandId } = (await created.json()) as { demandId: string };
        const read = async (path: string, authorization: string) => {
          const res = await fetch(gateway.url + path, { headers: { authorization } });
          expect(res.status, path).to.equal(200);
          return (await res.json()) as Record<string, unknown>;
        };
        const month = new Date((performedAt + 8 * 3600) * 1000).toISOString().slice(0, 7);
        // The package goes to the demanding inspector only, who asks for it with a fresh signature.
        const signedAt = Math.floor(Date.now() / 1000);
        const proof = await inspector.signMessage(packageRequestMessage(gateway.deployment.logId, demandId, signedAt));
        const packaged = await read(`/v1/demands/${demandId}/package`, `DutyproofInspector ${signedAt}.${proof}`);
        const summary = await read(`/v1/units/${village}/summary?month=${month}`, `Bearer ${unitToken}`);
        for (const [name, bundle] of [
          ["package", packaged],
          ["summary", summary.bundle],
        ] as const) {
          const path = join(files.path, `${name}-erased.json`);
          writeFileSync(path, JSON.stringify(bundle));
          expect(readFileSync(path, "utf8")).to.not.include("待删除户主");
          const parsed = bundleSchema.parse(bundle);
          const item = parsed.items.find((i) => i.receipt.recordId === recordId)!;
          expect([item.envelope, item.erasure?.order], name).to.deep.equal([undefined, "PIPL-2026-001"]);
          expect(parsed.log?.logId, name).to.equal(gateway.deployment.logId);
          const verified = await cli(["verify", path, "--rpc", gateway.rpcUrl, "--lang", "en"]);
          expect(verified.status, `${name}: ${verified.stdout}${verified.stderr}`).to.equal(0);
          expect(verified.stdout, name).to.match(/^VALID: all \d+ records of the bundle verify/);
          const replayed = await cli(["replay", "--bundle", path, "--rpc", gateway.rpcUrl, "--json"]);
          expect(replayed.status, `${name}: ${replayed.stdout}${replayed.stderr}`).to.equal(0);
          expect(JSON.parse(replayed.stdout), name).to.include({ clean: true, erased: 1 });
        }
      },
    );
    await step(
      "replays the log clean with the amendments and the erasure counted, not reported as altered",
      async () => {
        const report = await replayFromGateway({
          gatewayUrl: gateway.url,
          token: auditorToken,
          rpcUrl: gateway.rpcUrl,
          trust: ownTrust(),
        });
        expect(report.clean, JSON.stringify(report.findings)).to.equal(true);
        expect(report).to.include({ corrections: 2, withdrawals: 1, erased: 1 });
        expect(report.counts["record.erased"]).to.equal(1);
      },
    );
  });
});
