/**
 * Evidence demands against a real gateway, a real anvil chain and real LevelDB: answered from
 * the ledger, turned into tasks and answered, duplicates absorbed at the window's edge, off-list
 * duty types refused as a unit's list changes, the on-site quota at its 5th and 6th inspection
 * and across the year's edge, bad demands refused with nothing stored, reports, the monthly
 * summary, and audit replay over a log that holds demands.
 */
import { expect } from "chai";
import { type BaseWallet, Wallet, id } from "ethers";
import { replayFromGateway } from "../../server/audit/replayFromGateway.ts";
import { type DemandDefinition, type DemandDraft, demandOf, signDemand } from "../../server/burden/demandClient.ts";
import { yearStartOf } from "../../server/burden/rules.ts";
import { departmentIdOf } from "../../server/chain/deployment.ts";
import { configFromEnvironment } from "../../server/config.ts";
import { issueToken } from "../../server/gateway/AccessTokens.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import {
  demandReceiptSchema,
  demandViewSchema,
  dutyListSchema,
  reportSchema,
  summarySchema,
  tasksSchema,
  unitDemandsSchema,
} from "../../server/http/burdenResponses.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { type Eip712Info, newEnvelope, signEnvelope } from "../helpers/unitClient.ts";

const DAY = 86_400;
const township = id("unit:burden-township");
const village = id("unit:burden-village");
const other = id("unit:burden-other-village");
const ZERO = "0x" + "00".repeat(32);

describe("evidence demands (real anvil chain, real LevelDB, real HTTP)", function () {
  this.timeout(180_000);
  const dir = tempDir("burden");
  let clock = Math.floor(Date.now() / 1000);
  let gateway: RunningGateway;
  let eip712: Eip712Info;
  let definition: DemandDefinition;
  const villageKey = Wallet.createRandom();
  const otherKey = Wallet.createRandom();
  const civil = Wallet.createRandom(); // inspector of civil-affairs
  const safety = Wallet.createRandom(); // inspector of emergency-management
  const retired = Wallet.createRandom(); // deactivated inspector
  const stranger = Wallet.createRandom(); // never registered
  const types: Record<string, string> = {};
  let operatorToken: string;
  let inspectorToken: string;
  let villageToken: string;
  let auditorToken: string;

  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(gateway.url + path, {
      method,
      headers: {
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      type: res.headers.get("content-type") ?? "",
      body: text.startsWith("{") ? JSON.parse(text) : text,
    };
  };
  const demand = async (wallet: BaseWallet, draft: Partial<DemandDraft> & { department: string }, query = "") => {
    const envelope = demandOf(
      wallet.address,
      {
        unitId: village,
        dutyTypeIds: [types["grid-patrol"]!],
        from: clock - 30 * DAY,
        to: clock,
        purpose: "季度督查",
        issuedAt: clock,
        ...draft,
      },
      definition.logId,
    );
    return call("POST", `/v1/demands${query}`, {
      demand: envelope,
      signature: await signDemand(wallet, definition, envelope),
    });
  };
  const treeSize = async () => ((await call("GET", "/v1/info")).body as { treeSize: number }).treeSize;
  const attest = async (
    dutyType: string,
    fields: Record<string, string | number | boolean>,
    performedAt: number,
    demandId?: string,
    unit = { id: village, key: villageKey as BaseWallet },
  ) => {
    const envelope = {
      ...newEnvelope(definition.logId, unit.id, types[dutyType]!, fields, performedAt),
      ...(demandId ? { demandId } : {}),
    };
    const res = await call("POST", "/v1/attestations", {
      envelope,
      signature: await signEnvelope(unit.key, eip712, envelope),
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return (res.body as { recordId: string }).recordId;
  };
  const patrol = { gridCode: "BD-01", durationMinutes: 60, issuesFound: 0, gridWorker: "网格员" };
  const waitAnchored = async () => {
    const size = await treeSize();
    for (let i = 0; i < 200; i++) {
      const latest = await call("GET", "/v1/checkpoints/latest");
      if (latest.status === 200 && (latest.body as { size: number }).size >= size) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("not anchored");
  };

  const chainPort = testPort("burden");
  const start = () =>
    startGateway(
      configFromEnvironment(
        {},
        { dataDir: dir.path, port: 0, chainPort, anchorIntervalMs: 200, anchorMaxLeaves: 1000, logName: "burden" },
      ),
      () => {},
      { now: () => clock },
    );

  before(async () => {
    gateway = await start();
    const ledger = gateway.ledger;
    const send = async (name: string, ...args: unknown[]) => (await ledger.getFunction(name)(...args)).wait();
    await send("registerUnit", township, ZERO, 2, Wallet.createRandom().address);
    await send("registerUnit", village, township, 3, villageKey.address);
    await send("registerUnit", other, township, 3, otherKey.address);
    await send("registerInspector", civil.address, departmentIdOf("civil-affairs"));
    await send("registerInspector", safety.address, departmentIdOf("emergency-management"));
    await send("registerInspector", retired.address, departmentIdOf("civil-affairs"));
    await send("setInspectorActive", retired.address, false);
    eip712 = (await call("GET", "/v1/info")).body.eip712;
    definition = (await call("GET", "/v1/demands/eip712")).body;
    for (const d of (await call("GET", "/v1/duty-types")).body.dutyTypes as Array<{ id: string; code: string }>)
      types[d.code] = d.id;
    const tokens = `${dir.path}/tokens.json`;
    operatorToken = issueToken(tokens, "operator", "county IT");
    inspectorToken = issueToken(tokens, "inspector", "inspectors");
    villageToken = issueToken(tokens, `unit:${village}`, "the village");
    auditorToken = issueToken(tokens, "auditor", "audit bureau");
  });

  after(async () => {
    await gateway?.close();
    dir.remove();
  });

  it("serves the EvidenceDemand definition in the records' domain", () => {
    expect(definition.primaryType).to.equal("EvidenceDemand");
    expect(definition.domain).to.deep.equal(eip712.domain);
  });

  it("answers from the ledger with a package of receipts that verify, and logs the demand as a leaf", async () => {
    await attest("grid-patrol", patrol, clock - 10 * DAY);
    await waitAnchored();
    const before = await treeSize();
    const res = await demand(civil, { department: "civil-affairs" }, "?include=package");
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body.outcome).to.include({ decision: "answered_from_ledger", matched: 1 });
    expect(res.body.leafIndex).to.equal(before);
    expect(await treeSize()).to.equal(before + 1);
    demandViewSchema.strict().parse(res.body); // the OpenAPI document's shape, exactly
    const pkg = res.body.evidence;
    expect(pkg.format).to.equal("dutyproof/bundle/v1");
    expect(pkg.items).to.have.length(1);
    const verdict = await call("POST", "/v1/verify", pkg.items[0]);
    expect(verdict.body).to.include({ valid: true, recordChecked: true });
    // The same demand again is the same entry.
    const again = await call("POST", "/v1/demands", { demand: res.body.demand, signature: res.body.signature });
    expect(again.status).to.equal(200);
    expect(again.body.leafIndex).to.equal(before);
    // Once logged, a demand is public: sent again, its package needs a token.
    const replayed = { demand: res.body.demand, signature: res.body.signature };
    expect((await call("POST", "/v1/demands?include=package", replayed)).status).to.equal(401);
    const withToken = await call("POST", "/v1/demands?include=package", replayed, inspectorToken);
    expect(withToken.body.evidence.items).to.have.length(1);
    await waitAnchored();
    const receipt = await call("GET", `/v1/demands/${res.body.demandId}/receipt`);
    expect(receipt.status).to.equal(200);
    expect(receipt.body).to.include({ status: "anchored", leafIndex: before });
    demandReceiptSchema.strict().parse(receipt.body);
  });

  it("turns an unanswerable demand into a task the unit answers by attesting with the demand id", async () => {
    const res = await demand(civil, {
      department: "civil-affairs",
      dutyTypeIds: [types["household-visit"]!],
      from: clock - 5 * DAY,
      to: clock,
    });
    expect(res.body.outcome.decision).to.equal("task_created");
    const demandId = res.body.demandId as string;
    const open = await call("GET", `/v1/units/${village}/tasks`, undefined, villageToken);
    tasksSchema.parse(open.body);
    expect(open.body.tasks.map((t: { demandId: string }) => t.demandId)).to.include(demandId);
    expect((await call("GET", `/v1/units/${village}/tasks`)).status).to.equal(401);
    expect((await call("GET", `/v1/units/${other}/tasks`, undefined, villageToken)).status).to.equal(403);
    // Another unit's record naming the demand answers nothing.
    const visit = {
      householdName: "赵某",
      address: "二组",
      visitPurpose: "routine",
      followUpRequired: false,
      visitors: "孙某",
    };
    await attest("household-visit", visit, clock - 60, demandId, { id: other, key: otherKey });
    const still = await call("GET", `/v1/units/${village}/tasks`, undefined, villageToken);
    expect(still.body.tasks.find((t: { demandId: string }) => t.demandId === demandId)).to.include({ status: "open" });
    const recordId = await attest(
      "household-visit",
      { householdName: "王某", address: "一组", visitPurpose: "routine", followUpRequired: false, visitors: "李某" },
      clock - 60,
      demandId,
    );
    const answered = await call("GET", `/v1/units/${village}/tasks?status=answered`, undefined, villageToken);
    const task = answered.body.tasks.find((t: { demandId: string }) => t.demandId === demandId);
    expect(task).to.include({ status: "answered" });
    expect(task.answeredBy).to.deep.equal([recordId]);
    await waitAnchored();
    const pkg = await call("GET", `/v1/demands/${demandId}/package`, undefined, inspectorToken);
    expect(pkg.body.items.map((i: { receipt: { recordId: string } }) => i.receipt.recordId)).to.deep.equal([recordId]);
  });

  it("absorbs a repeat from another department inside the window, not at its edge", async () => {
    const window = gateway.burden.settings.duplicateWindowSeconds;
    const start = clock;
    const draft = { dutyTypeIds: [types["grid-patrol"]!], from: start - 400 * DAY, to: start - 300 * DAY };
    const first = await demand(civil, { ...draft, department: "civil-affairs", purpose: "first" });
    expect(first.body.outcome.decision).to.equal("task_created");
    try {
      clock = start + window - 1;
      const repeat = await demand(safety, { ...draft, department: "emergency-management", purpose: "again" });
      expect(repeat.body.outcome).to.include({ decision: "duplicate_absorbed", duplicateOf: first.body.demandId });
      // A narrower period inside the first is a repeat too.
      const inside = await demand(safety, { ...draft, from: draft.from + DAY, department: "emergency-management" });
      expect(inside.body.outcome.decision).to.equal("duplicate_absorbed");
      clock = start + window;
      const later = await demand(safety, { ...draft, department: "emergency-management", purpose: "later" });
      expect(later.body.outcome.decision).to.equal("task_created");
    } finally {
      clock = start;
    }
  });

  it("refuses an off-list duty type, and follows a type just added to or removed from the unit's list", async () => {
    const visit = types["household-visit"]!; // levels [3]: not a township's duty
    const refused = await demand(civil, {
      department: "civil-affairs",
      unitId: township,
      dutyTypeIds: [visit],
      purpose: "p1",
    });
    expect(refused.body.outcome.decision).to.equal("refused_off_list");
    expect(refused.body.outcome.offList).to.deep.equal([{ dutyTypeId: visit, reason: "level_not_applicable" }]);

    const change = (body: unknown, token = operatorToken) =>
      call("PATCH", `/v1/units/${township}/duty-list`, body, token);
    expect((await change({ add: [visit] }, inspectorToken)).status).to.equal(403);
    const added = await change({ add: [visit] });
    expect(added.status).to.equal(200);
    dutyListSchema.strict().parse(added.body);
    expect(added.body.dutyTypes.find((d: { dutyTypeId: string }) => d.dutyTypeId === visit)).to.include({
      onList: true,
    });
    const now = await demand(civil, {
      department: "civil-affairs",
      unitId: township,
      dutyTypeIds: [visit],
      purpose: "p2",
    });
    expect(now.body.outcome.decision).to.equal("task_created");

    await change({ remove: [visit] });
    const removed = await demand(civil, {
      department: "civil-affairs",
      unitId: township,
      dutyTypeIds: [visit],
      purpose: "p3",
    });
    expect(removed.body.outcome.offList).to.deep.equal([{ dutyTypeId: visit, reason: "removed_from_unit_list" }]);
    // A type every level has, removed from one unit's list, is refused for that unit only.
    const meeting = types["meeting-held"]!;
    await change({ remove: [meeting] });
    const offMeeting = await demand(civil, {
      department: "civil-affairs",
      unitId: township,
      dutyTypeIds: [meeting],
      purpose: "p4",
    });
    expect(offMeeting.body.outcome.decision).to.equal("refused_off_list");
    const stillOn = await demand(civil, {
      department: "civil-affairs",
      unitId: other,
      dutyTypeIds: [meeting],
      purpose: "p5",
    });
    expect(stillOn.body.outcome.decision).to.equal("task_created");
  });

  it("admits the 5th on-site inspection of a year, refuses the 6th unless it is an emergency, and starts again next year", async () => {
    const start = clock;
    const year = new Date((start + 8 * 3600) * 1000).getUTCFullYear();
    try {
      clock = yearStartOf(year + 1) - 5 * DAY; // late in the year, away from earlier tests' demands
      const onSite = (i: number, extra: Partial<DemandDraft> = {}) =>
        demand(safety, {
          department: "emergency-management",
          unitId: other,
          dutyTypeIds: [types["safety-hazard-check"]!],
          from: start - (100 + i) * DAY,
          to: start - (99 + i) * DAY,
          onSite: true,
          ...extra,
        });
      const decisions = [];
      for (let i = 0; i < 5; i++) decisions.push((await onSite(i)).body.outcome);
      expect(decisions.map((o) => o.decision)).to.deep.equal(Array(5).fill("on_site_admitted"));
      expect(decisions[4].quota).to.deep.equal({ year, used: 5, limit: 5 });
      const sixth = await onSite(5);
      expect(sixth.body.outcome).to.include({ decision: "refused_over_quota" });
      expect(sixth.body.outcome.quota).to.deep.equal({ year, used: 5, limit: 5 });
      const emergency = await onSite(6, { emergencyReason: "燃气泄漏事故" });
      expect(emergency.body.outcome.decision).to.equal("on_site_emergency");
      expect(emergency.body.demand.emergency).to.deep.equal({ reason: "燃气泄漏事故" });
      clock = yearStartOf(year + 1) - 1; // the last second of the year (UTC+8)
      expect((await onSite(7)).body.outcome.decision).to.equal("refused_over_quota");
      clock = yearStartOf(year + 1); // the first second of the next
      const next = await onSite(8);
      expect(next.body.outcome.decision).to.equal("on_site_admitted");
      expect(next.body.outcome.quota).to.deep.equal({ year: year + 1, used: 1, limit: 5 });

      const report = await call(
        "GET",
        `/v1/burden/report?groupBy=unit&unitId=${other}&from=${yearStartOf(year)}&to=${yearStartOf(year + 1)}`,
        undefined,
        inspectorToken,
      );
      expect(report.body.rows[0]).to.include({
        key: other,
        onSiteAdmitted: 5,
        overQuotaRefused: 2,
        emergencies: 1,
        onSiteQuotaPerYear: 5,
        overQuotaWithoutEmergency: 0,
        hoursSaved: 2 * 8,
      });
      expect(report.body.emergencies).to.deep.equal([
        {
          demandId: emergency.body.demandId,
          unitId: other,
          department: "emergency-management",
          decidedAt: yearStartOf(year + 1) - 5 * DAY,
          reason: "燃气泄漏事故",
        },
      ]);
    } finally {
      clock = start;
    }
  });

  it("refuses bad demands with problem+json and stores nothing", async () => {
    const size = await treeSize();
    const listed = async () =>
      (await call("GET", `/v1/units/${village}/demands`, undefined, villageToken)).body.demands.length;
    const count = await listed();
    const expectProblem = (
      res: { status: number; type: string; body: { code: string } },
      status: number,
      code: string,
    ) => {
      expect(res.type).to.match(/application\/problem\+json/);
      expect(res.status, JSON.stringify(res.body)).to.equal(status);
      expect(res.body.code).to.equal(code);
    };
    // Signed by another key than the one the demand names.
    const envelope = demandOf(
      civil.address,
      {
        unitId: village,
        dutyTypeIds: [types["grid-patrol"]!],
        from: clock - DAY,
        to: clock,
        purpose: "x",
        department: "civil-affairs",
        issuedAt: clock,
      },
      definition.logId,
    );
    expectProblem(
      await call("POST", "/v1/demands", {
        demand: envelope,
        signature: await signDemand(stranger, definition, envelope),
      }),
      422,
      "demand.bad_signature",
    );
    const tampered = await call("POST", "/v1/demands", {
      demand: { ...envelope, purpose: "y" },
      signature: await signDemand(civil, definition, envelope),
    });
    expectProblem(tampered, 422, "demand.bad_signature");
    expectProblem(await demand(stranger, { department: "civil-affairs" }), 403, "demand.unknown_inspector");
    expectProblem(await demand(retired, { department: "civil-affairs" }), 403, "demand.inspector_inactive");
    expectProblem(await demand(civil, { department: "emergency-management" }), 422, "demand.department_mismatch");
    expectProblem(
      await demand(civil, { department: "civil-affairs", unitId: id("unit:nowhere") }),
      422,
      "demand.unknown_unit",
    );
    expectProblem(
      await demand(civil, { department: "civil-affairs", issuedAt: clock - 3600 }),
      422,
      "demand.time_implausible",
    );
    const invalid = await call("POST", "/v1/demands", {
      demand: { ...envelope, to: envelope.from },
      signature: "0x12",
    });
    expectProblem(invalid, 422, "request.invalid");
    expect(invalid.body.errors.map((e: { path: string }) => e.path)).to.include.members(["demand.to", "signature"]);
    expect(await treeSize()).to.equal(size);
    expect(await listed()).to.equal(count);
  });

  it("reports burden per department as JSON and CSV, and generates the monthly summary", async () => {
    const report = await call("GET", "/v1/burden/report?groupBy=department", undefined, inspectorToken);
    expect(report.status).to.equal(200);
    reportSchema.strict().parse(report.body);
    unitDemandsSchema.parse((await call("GET", `/v1/units/${village}/demands`, undefined, villageToken)).body);
    const keys = report.body.rows.map((r: { key: string }) => r.key);
    expect(keys).to.include.members(["civil-affairs", "emergency-management"]);
    expect(report.body.totals.duplicatesAbsorbed).to.equal(2);
    expect(report.body.totals.overQuotaWithoutEmergency).to.equal(0);
    expect((await call("GET", "/v1/burden/report", undefined, villageToken)).status).to.equal(403);
    const csv = await call("GET", "/v1/burden/report?groupBy=department&format=csv", undefined, inspectorToken);
    expect(csv.type).to.match(/text\/csv/);
    const lines = (csv.body as string).trim().split("\r\n");
    expect(lines[0]).to.match(/^department,demands,answeredFromLedger,duplicatesAbsorbed,offListRefused/);
    expect(lines.at(-1)).to.match(new RegExp(`^total,${report.body.totals.demands},`));

    const month = new Date((clock + 8 * 3600) * 1000).toISOString().slice(0, 7);
    const summary = await call("GET", `/v1/units/${village}/summary?month=${month}`, undefined, villageToken);
    expect(summary.status).to.equal(200);
    expect(summary.body.records).to.be.at.least(1);
    summarySchema.strict().parse(summary.body);
    expect(summary.body.bundle.format).to.equal("dutyproof/bundle/v1");
    for (const item of summary.body.bundle.items)
      expect((await call("POST", "/v1/verify", item)).body.valid).to.equal(true);
    expect((await call("GET", `/v1/units/${village}/summary?month=2026-13`, undefined, villageToken)).status).to.equal(
      422,
    );
  });

  it("keeps every demand across a restart, rebuilding its indexes from the log", async () => {
    const list = async () => (await call("GET", `/v1/units/${other}/demands`, undefined, inspectorToken)).body.demands;
    const before = await list();
    const report = (await call("GET", "/v1/burden/report", undefined, inspectorToken)).body;
    await gateway.store.sublevel("burden").clear(); // the derived indexes, lost
    await gateway.close();
    gateway = await start();
    expect(await list()).to.deep.equal(before);
    expect((await call("GET", "/v1/burden/report", undefined, inspectorToken)).body).to.deep.equal(report);
  });

  it("replays a log holding demands cleanly, and finds a demand altered in the store", async () => {
    await waitAnchored();
    const clean = await replayFromGateway({ gatewayUrl: gateway.url, token: auditorToken, rpcUrl: gateway.rpcUrl });
    expect(clean.findings.filter((f) => f.kind !== "record.unanchored")).to.deep.equal([]);
    expect(clean.demands).to.be.greaterThan(10);
    // An insider rewrites a refusal into an admission behind the gateway's back.
    const raw = gateway.store as unknown as {
      entries: { get(k: string): Promise<string>; put(k: string, v: string): Promise<void> };
    };
    const { demands } = (await call("GET", `/v1/units/${other}/demands`, undefined, inspectorToken)).body;
    const refusal = demands.find((d: { decision: string }) => d.decision === "refused_over_quota");
    const stored = JSON.parse(await raw.entries.get(refusal.demandId));
    stored.value.outcome.decision = "on_site_admitted";
    await raw.entries.put(refusal.demandId, JSON.stringify(stored));
    const report = await replayFromGateway({ gatewayUrl: gateway.url, token: auditorToken, rpcUrl: gateway.rpcUrl });
    const altered = report.findings.filter((f) => f.kind === "demand.altered");
    expect(altered.map((f) => f.leafIndex)).to.deep.equal([refusal.leafIndex]);
    expect(report.findings.filter((f) => f.kind === "checkpoint.root_mismatch")).to.deep.equal([]);
  });
});
