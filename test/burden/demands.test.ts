/**
 * Evidence demands against a real gateway, a real anvil chain and real LevelDB: answered from
 * the ledger, turned into tasks and answered, duplicates absorbed at the window's edge, off-list
 * duty types refused as a unit's list changes, the on-site quota at its 5th and 6th inspection
 * and across the year's edge, bad demands refused with nothing stored, reports, the monthly
 * summary, and audit replay over a log that holds demands.
 */
import { expect } from "chai";
import { type BaseWallet, Wallet, id } from "ethers";
import { ownTrustAnchor } from "../../server/chain/trustAnchors.ts";
import { replayFromGateway } from "../../server/audit/replayFromGateway.ts";
import { informationalKinds } from "../../server/core/replay.ts";
import { type DemandDefinition, type DemandDraft, demandOf, signDemand } from "../../server/burden/demandClient.ts";
import { yearStartOf } from "../../server/burden/rules.ts";
import { departmentIdOf } from "../../server/chain/deployment.ts";
import { configFromEnvironment } from "../../server/config.ts";
import { issueToken } from "../../server/gateway/AccessTokens.ts";
import { addGrant, revokeGrant } from "../../server/gateway/Grants.ts";
import { packageRequestMessage } from "../../server/app/demand.ts";
import { operatorMessage } from "../../server/app/erase.ts";
import { verifyAuditLog } from "../../server/observability/AuditLog.ts";
import { readFileSync, writeFileSync } from "node:fs";
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
  const politics = Wallet.createRandom(); // inspector of political-legal (owns grid patrols)
  const discipline = Wallet.createRandom(); // inspector of discipline-inspection, a supervising body
  const office = Wallet.createRandom(); // inspector of general-office (owns meetings)
  const safety = Wallet.createRandom(); // inspector of emergency-management
  const retired = Wallet.createRandom(); // deactivated inspector
  const stranger = Wallet.createRandom(); // never registered
  const types: Record<string, string> = {};
  const gatewayLog: string[] = [];
  let operatorToken: string;
  let inspectorToken: string; // civil-affairs
  let safetyToken: string; // emergency-management
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
  /** The Authorization header value by which `wallet` fetches its demand's package again. */
  const packageProof = async (wallet: BaseWallet, demandId: string, signedAt = clock) =>
    `DutyproofInspector ${signedAt}.${await wallet.signMessage(
      packageRequestMessage(gateway.deployment.logId, demandId, signedAt),
    )}`;
  const packageWith = async (demandId: string, authorization?: string) => {
    const res = await fetch(`${gateway.url}/v1/demands/${demandId}/package`, {
      headers: authorization ? { authorization } : {},
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
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
      (line) => gatewayLog.push(line),
      { clock: { now: () => clock * 1000 } },
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
    await send("registerInspector", politics.address, departmentIdOf("political-legal"));
    await send("registerInspector", discipline.address, departmentIdOf("discipline-inspection"));
    await send("registerInspector", office.address, departmentIdOf("general-office"));
    await send("registerInspector", retired.address, departmentIdOf("civil-affairs"));
    await send("setInspectorActive", retired.address, false);
    eip712 = (await call("GET", "/v1/info")).body.eip712;
    definition = (await call("GET", "/v1/demands/eip712")).body;
    for (const d of (await call("GET", "/v1/duty-types")).body.dutyTypes as Array<{ id: string; code: string }>)
      types[d.code] = d.id;
    const tokens = `${dir.path}/tokens.json`;
    operatorToken = issueToken(tokens, "operator", "county IT");
    inspectorToken = issueToken(tokens, "inspector:civil-affairs", "civil-affairs inspectors");
    safetyToken = issueToken(tokens, "inspector:emergency-management", "emergency-management inspectors");
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
    const res = await demand(politics, { department: "political-legal" }, "?include=package");
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
    // Sent again, the demand proves nothing: its package needs the inspector's signature.
    const replayed = { demand: res.body.demand, signature: res.body.signature };
    expect((await call("POST", "/v1/demands?include=package", replayed)).status).to.equal(401);
    expect((await call("POST", "/v1/demands?include=package", replayed, auditorToken)).status).to.equal(401);
    const signedAgain = await fetch(`${gateway.url}/v1/demands?include=package`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: await packageProof(politics, res.body.demandId),
      },
      body: JSON.stringify(replayed),
    });
    expect(((await signedAgain.json()) as { evidence: { items: unknown[] } }).evidence.items).to.have.length(1);
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
    const pkg = await packageWith(demandId, await packageProof(civil, demandId));
    expect(pkg.body.items.map((i: { receipt: { recordId: string } }) => i.receipt.recordId)).to.deep.equal([recordId]);
  });

  it("absorbs a repeat from a supervising body inside the window, not at its edge", async () => {
    const window = gateway.burden.settings.duplicateWindowSeconds;
    const start = clock;
    const grant = addGrant(
      `${dir.path}/grants.json`,
      { grantee: "discipline-inspection", over: ["political-legal"], reason: "专项监督" },
      start - 1,
    );
    const draft = { dutyTypeIds: [types["grid-patrol"]!], from: start - 400 * DAY, to: start - 300 * DAY };
    const first = await demand(politics, { ...draft, department: "political-legal", purpose: "first" });
    expect(first.body.outcome.decision).to.equal("task_created");
    try {
      clock = start + window - 1;
      const as = { ...draft, department: "discipline-inspection" };
      const repeat = await demand(discipline, { ...as, purpose: "again" });
      expect(repeat.body.outcome).to.include({ decision: "duplicate_absorbed", duplicateOf: first.body.demandId });
      // A narrower period inside the first is a repeat too.
      const inside = await demand(discipline, { ...as, from: draft.from + DAY });
      expect(inside.body.outcome.decision).to.equal("duplicate_absorbed");
      clock = start + window;
      const later = await demand(discipline, { ...as, purpose: "later" });
      expect(later.body.outcome.decision).to.equal("task_created");
    } finally {
      clock = start;
      revokeGrant(`${dir.path}/grants.json`, grant.id, start);
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
    const meeting = types["meeting-held"]!; // general-office's
    await change({ remove: [meeting] });
    const offMeeting = await demand(office, {
      department: "general-office",
      unitId: township,
      dutyTypeIds: [meeting],
      purpose: "p4",
    });
    expect(offMeeting.body.outcome.decision).to.equal("refused_off_list");
    const stillOn = await demand(office, {
      department: "general-office",
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
        auditorToken,
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

  describe("least privilege for departments (issue 18, High 2)", () => {
    const subsistenceFields = {
      applicantName: "陈某某",
      idNumber: "110101195001011234",
      householdSize: 3,
      monthlyIncomePerPerson: 420,
      conclusion: "eligible",
      checkers: "民政助理",
    };
    let subsistence: string; // a civil-affairs record with a name and an ID number
    before(async () => {
      subsistence = await attest("subsistence-allowance-check", subsistenceFields, clock - 3 * DAY);
      // Civil affairs' other duty type, so that its export below is seen to hold both.
      const visit = {
        householdName: "郑某",
        address: "四组",
        visitPurpose: "routine",
        followUpRequired: false,
        visitors: "冯某",
      };
      await attest("household-visit", visit, clock - 2 * DAY);
      await waitAnchored();
    });
    const asSafety = (extra: Partial<DemandDraft> = {}) =>
      demand(
        safety,
        {
          department: "emergency-management",
          dutyTypeIds: [types["subsistence-allowance-check"]!],
          from: clock - 10 * DAY,
          to: clock,
          ...extra,
        },
        "?include=package",
      );

    it("refuses another department's duty types with demand.not_entitled, storing nothing, unless a grant covers them", async () => {
      const size = await treeSize();
      const refused = await asSafety();
      expect(refused.status, JSON.stringify(refused.body)).to.equal(403);
      expect(refused.type).to.match(/application\/problem\+json/);
      expect(refused.body.code).to.equal("demand.not_entitled");
      expect(refused.body.errors).to.deep.equal([
        { path: "demand.dutyTypeIds[0]", message: "owned by another department, and no grant covers it" },
      ]);
      expect(JSON.stringify(refused.body)).not.to.contain("陈某某");
      // Mixed with one of its own it is still refused, whole.
      const mixed = [types["safety-hazard-check"]!, types["subsistence-allowance-check"]!].sort();
      expect((await asSafety({ dutyTypeIds: mixed, purpose: "mixed" })).body.code).to.equal("demand.not_entitled");
      expect(await treeSize()).to.equal(size);

      // A supervising body reads across departments only while an audited grant is in force.
      const asDiscipline = (purpose: string) =>
        demand(
          discipline,
          {
            department: "discipline-inspection",
            dutyTypeIds: [types["subsistence-allowance-check"]!],
            from: clock - 10 * DAY,
            to: clock,
            purpose,
          },
          "?include=package",
        );
      expect((await asDiscipline("before the grant")).body.code).to.equal("demand.not_entitled");
      const grant = addGrant(
        `${dir.path}/grants.json`,
        { grantee: "discipline-inspection", over: ["*"], reason: "纪委监委立案审查 2026-17 号" },
        clock - 1,
      );
      const granted = await asDiscipline("under the grant");
      expect(granted.status, JSON.stringify(granted.body)).to.equal(201);
      expect(granted.body.evidence.items.map((i: { receipt: { recordId: string } }) => i.receipt.recordId)).to.include(
        subsistence,
      );
      revokeGrant(`${dir.path}/grants.json`, grant.id, clock);
      expect((await asDiscipline("after revocation")).body.code).to.equal("demand.not_entitled");
      // The owner itself asks freely (over a wider period: not a repeat of the granted demand).
      const own = await demand(civil, {
        department: "civil-affairs",
        dutyTypeIds: [types["subsistence-allowance-check"]!],
        from: clock - 20 * DAY,
        to: clock,
        purpose: "own",
      });
      expect(own.status).to.equal(201);
    });

    it("scopes a department's token to its own duty types: records, export and timeline", async () => {
      const read = (path: string, token: string) => call("GET", path, undefined, token);
      expect((await read(`/v1/attestations/${subsistence}`, safetyToken)).status).to.equal(403);
      const own = await read(`/v1/attestations/${subsistence}`, inspectorToken);
      expect(own.status).to.equal(200);
      expect(own.body.envelope.fields).to.deep.equal(subsistenceFields);
      const sub = types["subsistence-allowance-check"]!;
      expect((await read(`/v1/export?unitId=${village}&dutyTypeId=${sub}`, safetyToken)).status).to.equal(403);
      // Without a duty type, a department's export holds its own duty types only.
      const exported = await read(`/v1/export?unitId=${village}`, safetyToken);
      expect(exported.status).to.equal(200);
      expect(JSON.stringify(exported.body)).not.to.contain("陈某某");
      const civilExport = await read(`/v1/export?unitId=${village}`, inspectorToken);
      const exportedTypes = new Set(
        civilExport.body.items.map((i: { receipt: { dutyTypeId: string } }) => i.receipt.dutyTypeId),
      );
      expect([...exportedTypes].sort()).to.deep.equal([types["household-visit"]!, sub].sort());
      const timeline = await read(`/v1/units/${village}/records`, safetyToken);
      expect(timeline.status).to.equal(200);
      expect(timeline.body.records.map((r: { recordId: string }) => r.recordId)).not.to.include(subsistence);
      // Whole-unit reads (tasks, a unit's demands, the monthly summary) are the unit's and auditors'.
      expect((await read(`/v1/units/${village}/demands`, inspectorToken)).status).to.equal(403);
      const month = new Date((clock + 8 * 3600) * 1000).toISOString().slice(0, 7);
      expect((await read(`/v1/units/${village}/summary?month=${month}`, inspectorToken)).status).to.equal(403);
      // A department's burden report is its own department's (one demand of its own, at least).
      const asked = await demand(safety, {
        department: "emergency-management",
        unitId: other,
        dutyTypeIds: [types["safety-hazard-check"]!],
        from: clock - 500 * DAY,
        to: clock - 499 * DAY,
        purpose: "scope",
      });
      expect(asked.status, JSON.stringify(asked.body)).to.equal(201);
      const report = await read("/v1/burden/report?groupBy=department", safetyToken);
      expect(report.status).to.equal(200);
      expect(report.body.rows.map((r: { key: string }) => r.key)).to.deep.equal(["emergency-management"]);
      const civilReport = await read("/v1/burden/report?groupBy=department&department=civil-affairs", safetyToken);
      expect(civilReport.status).to.equal(403);
    });

    it("shows who asked, why and what answered a demand only to those entitled", async () => {
      const made = await demand(safety, {
        department: "emergency-management",
        dutyTypeIds: [types["safety-hazard-check"]!],
        unitId: village,
        from: clock - 10 * DAY,
        to: clock,
        onSite: true,
        emergencyReason: "燃气泄漏，需现场核查",
        purpose: "专项督查：燃气安全",
      });
      expect(made.status, JSON.stringify(made.body)).to.equal(201);
      const path = `/v1/demands/${made.body.demandId}`;
      const anonymous = await call("GET", path);
      expect(anonymous.status).to.equal(200);
      expect(Object.keys(anonymous.body).sort()).to.deep.equal(
        ["decidedAt", "decision", "demandId", "leafHash", "leafIndex", "onSite", "outcomeDigest", "unitId"].sort(),
      );
      const text = JSON.stringify(anonymous.body);
      for (const secret of ["燃气泄漏", "专项督查", "emergency-management", safety.address.toLowerCase().slice(2)])
        expect(text).not.to.contain(secret);
      // Another department's token sees as much as anyone.
      expect((await call("GET", path, undefined, inspectorToken)).body).to.deep.equal(anonymous.body);
      // Sent again without a token, the demand shows no more than GET does.
      const again = await call("POST", "/v1/demands", { demand: made.body.demand, signature: made.body.signature });
      expect(again.body).to.deep.equal(anonymous.body);
      for (const token of [safetyToken, villageToken, auditorToken, operatorToken]) {
        const full = await call("GET", path, undefined, token);
        expect(full.body.demand.purpose).to.equal("专项督查：燃气安全");
        expect(full.body.demand.emergency).to.deep.equal({ reason: "燃气泄漏，需现场核查" });
      }
    });

    it("gives the evidence package to the demanding inspector only", async () => {
      const made = await demand(civil, {
        department: "civil-affairs",
        dutyTypeIds: [types["subsistence-allowance-check"]!],
        from: clock - 30 * DAY,
        to: clock,
        purpose: "package",
      });
      expect(made.body.outcome.decision).to.equal("answered_from_ledger");
      const demandId = made.body.demandId as string;
      expect((await packageWith(demandId)).status).to.equal(401);
      for (const token of [inspectorToken, villageToken, auditorToken])
        expect((await call("GET", `/v1/demands/${demandId}/package`, undefined, token)).status).to.equal(401);
      // Signed by another inspector (even of the same department), or stale, or for another demand.
      const colleague = await packageWith(demandId, await packageProof(retired, demandId));
      expect([colleague.status, colleague.body.code]).to.deep.equal([403, "demand.not_demanding_inspector"]);
      expect((await packageWith(demandId, await packageProof(civil, demandId, clock - 3600))).status).to.equal(403);
      expect((await packageWith(demandId, await packageProof(civil, made.body.leafHash))).status).to.equal(403);
      const pkg = await packageWith(demandId, await packageProof(civil, demandId));
      expect(pkg.status).to.equal(200);
      expect(pkg.body.items.map((i: { receipt: { recordId: string } }) => i.receipt.recordId)).to.include(subsistence);
    });
  });

  describe("administrative acts and the token file (issue 18, Lows)", () => {
    const auditEntries = () =>
      readFileSync(`${dir.path}/audit/admin.log`, "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { action: string; target: Record<string, unknown>; outcome: string });

    it("writes every duty-list change and erasure the gateway performs to the admin audit log", async () => {
      const meeting = types["meeting-held"]!;
      const refused = await call("PATCH", `/v1/units/${other}/duty-list`, { add: [meeting] }, inspectorToken);
      expect(refused.status).to.equal(403);
      const changed = await call("PATCH", `/v1/units/${other}/duty-list`, { add: [meeting] }, operatorToken);
      expect(changed.status).to.equal(200);
      expect(auditEntries().at(-1)).to.deep.include({
        action: "duty-list.change",
        target: { unitId: other, add: meeting, remove: "" },
        outcome: "ok",
      });
      // An erasure posted to the API (signed by the operator key), not only one the CLI sends.
      const recordId = await attest("grid-patrol", patrol, clock - 2 * DAY);
      const signedAt = Math.floor(Date.now() / 1000);
      const order = "（2026）民政删字第 3 号";
      const signature = await gateway.wallet.signMessage(
        operatorMessage("erase", gateway.deployment.logId, recordId, order, signedAt),
      );
      const erased = await fetch(`${gateway.url}/v1/admin/erasures`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `DutyproofOperator ${signature}` },
        body: JSON.stringify({ recordId, order, signedAt }),
      });
      expect(erased.status, await erased.clone().text()).to.equal(200);
      const entry = auditEntries().at(-1) as { action: string; target: object; actor?: object };
      expect(entry).to.deep.include({ action: "record.erase", target: { recordId, order } });
      expect(readFileSync(`${dir.path}/audit/admin.log`, "utf8")).to.contain(gateway.wallet.address);
      expect(verifyAuditLog(`${dir.path}/audit/admin.log`)).to.include({ ok: true });
    });

    it("refuses every token while tokens.json does not parse, logging the file, and recovers when mended", async () => {
      const path = `${dir.path}/tokens.json`;
      const good = readFileSync(path, "utf8");
      const read = () => call("GET", `/v1/units/${village}/demands`, undefined, villageToken);
      expect((await read()).status).to.equal(200);
      try {
        // A hand edit gone wrong: a trailing comma.
        writeFileSync(path, good.trimEnd().replace(/\]$/, ",]"));
        await new Promise((r) => setTimeout(r, 1100)); // the file is read again at most once a second
        const refused = await read();
        expect(refused.status).to.equal(403);
        expect((await call("GET", "/v1/burden/report", undefined, auditorToken)).status).to.equal(403);
        expect(gatewayLog.some((line) => line.includes("tokens.json cannot be read"))).to.equal(true);
        expect((await call("GET", "/livez")).status).to.equal(200);
      } finally {
        writeFileSync(path, good);
      }
      await new Promise((r) => setTimeout(r, 1100));
      expect((await read()).status).to.equal(200);
    });
  });

  describe("reports, a restart and replay over the demands made on one unit", () => {
    // A unit of its own with demands of every kind made here: the counts below are exact
    // whichever other tests ran before on this gateway.
    const summaryUnit = id("unit:burden-summary-village");
    const summaryKey = Wallet.createRandom();
    const SUMMARY_DEMANDS = 12;
    let summaryToken: string;
    before(async () => {
      await (await gateway.ledger.getFunction("registerUnit")(summaryUnit, township, 3, summaryKey.address)).wait();
      summaryToken = issueToken(`${dir.path}/tokens.json`, `unit:${summaryUnit}`, "the summary village");
      const unit = { id: summaryUnit, key: summaryKey as BaseWallet };
      const visit = {
        householdName: "周某",
        address: "三组",
        visitPurpose: "routine",
        followUpRequired: false,
        visitors: "吴某",
      };
      await attest("household-visit", visit, clock - 60, undefined, unit);
      await waitAnchored();
      const decisions: string[] = [];
      const ask = async (wallet: BaseWallet, draft: Partial<DemandDraft> & { department: string }) => {
        const res = await demand(wallet, { unitId: summaryUnit, ...draft });
        expect(res.status, JSON.stringify(res.body)).to.be.oneOf([200, 201]);
        decisions.push(res.body.outcome.decision);
      };
      const visits = { dutyTypeIds: [types["household-visit"]!], from: clock - 10 * DAY, to: clock };
      await ask(civil, { department: "civil-affairs", ...visits, purpose: "first" });
      await ask(civil, { department: "civil-affairs", ...visits, purpose: "again" });
      await ask(civil, { department: "civil-affairs", ...visits, from: clock - 5 * DAY, purpose: "inside" });
      await ask(civil, { department: "civil-affairs", dutyTypeIds: [types["subsistence-allowance-check"]!] });
      await ask(office, { department: "general-office", dutyTypeIds: [types["meeting-held"]!] });
      for (let i = 0; i < 7; i++) {
        await ask(safety, {
          department: "emergency-management",
          dutyTypeIds: [types["safety-hazard-check"]!],
          from: clock - (200 + i) * DAY,
          to: clock - (199 + i) * DAY,
          onSite: true,
          ...(i === 6 ? { emergencyReason: "山体滑坡隐患" } : {}),
        });
      }
      expect(decisions).to.deep.equal([
        "answered_from_ledger",
        "duplicate_absorbed",
        "duplicate_absorbed",
        "task_created",
        "task_created",
        ...Array(5).fill("on_site_admitted"),
        "refused_over_quota",
        "on_site_emergency",
      ]);
      expect(decisions).to.have.length(SUMMARY_DEMANDS);
      await waitAnchored();
    });

    it("reports burden per department as JSON and CSV, and generates the monthly summary", async () => {
      const report = await call(
        "GET",
        `/v1/burden/report?groupBy=department&unitId=${summaryUnit}`,
        undefined,
        auditorToken,
      );
      expect(report.status).to.equal(200);
      reportSchema.strict().parse(report.body);
      unitDemandsSchema.parse((await call("GET", `/v1/units/${summaryUnit}/demands`, undefined, summaryToken)).body);
      const keys = report.body.rows.map((r: { key: string }) => r.key);
      expect(keys).to.include.members(["civil-affairs", "emergency-management"]);
      expect(report.body.totals.duplicatesAbsorbed).to.equal(2);
      expect(report.body.totals.overQuotaWithoutEmergency).to.equal(0);
      expect((await call("GET", "/v1/burden/report", undefined, summaryToken)).status).to.equal(403);
      const csv = await call(
        "GET",
        `/v1/burden/report?groupBy=department&unitId=${summaryUnit}&format=csv`,
        undefined,
        auditorToken,
      );
      expect(csv.type).to.match(/text\/csv/);
      const lines = (csv.body as string).trim().split("\r\n");
      expect(lines[0]).to.match(/^department,demands,answeredFromLedger,duplicatesAbsorbed,offListRefused/);
      expect(lines.at(-1)).to.match(new RegExp(`^total,${report.body.totals.demands},`));

      const month = new Date((clock + 8 * 3600) * 1000).toISOString().slice(0, 7);
      const summary = await call("GET", `/v1/units/${summaryUnit}/summary?month=${month}`, undefined, summaryToken);
      expect(summary.status).to.equal(200);
      expect(summary.body.records).to.be.at.least(1);
      summarySchema.strict().parse(summary.body);
      expect(summary.body.bundle.format).to.equal("dutyproof/bundle/v1");
      for (const item of summary.body.bundle.items)
        expect((await call("POST", "/v1/verify", item)).body.valid).to.equal(true);
      expect(
        (await call("GET", `/v1/units/${summaryUnit}/summary?month=2026-13`, undefined, summaryToken)).status,
      ).to.equal(422);
    });

    it("keeps every demand across a restart, rebuilding its indexes from the log", async () => {
      const list = async () =>
        (await call("GET", `/v1/units/${summaryUnit}/demands`, undefined, auditorToken)).body.demands;
      const before = await list();
      expect(before).to.have.length(SUMMARY_DEMANDS);
      const report = (await call("GET", "/v1/burden/report", undefined, auditorToken)).body;
      await gateway.store.sublevel("burden").clear(); // the derived indexes, lost
      await gateway.close();
      gateway = await start();
      expect(await list()).to.deep.equal(before);
      expect((await call("GET", "/v1/burden/report", undefined, auditorToken)).body).to.deep.equal(report);
    });

    it("replays a log holding demands cleanly, and finds a demand altered in the store", async () => {
      await waitAnchored();
      const clean = await replayFromGateway({
        gatewayUrl: gateway.url,
        token: auditorToken,
        rpcUrl: gateway.rpcUrl,
        trust: [ownTrustAnchor(gateway.deployment, "the test gateway")],
      });
      // Informational findings only (records not anchored yet, an erasure an earlier test made).
      expect(clean.findings.filter((f) => !informationalKinds.has(f.kind))).to.deep.equal([]);
      expect(clean.clean).to.equal(true);
      expect(clean.demands).to.be.greaterThan(10);
      // An insider rewrites a refusal into an admission behind the gateway's back.
      const raw = gateway.store as unknown as {
        entries: { get(k: string): Promise<string>; put(k: string, v: string): Promise<void> };
      };
      const { demands } = (await call("GET", `/v1/units/${summaryUnit}/demands`, undefined, auditorToken)).body;
      const refusal = demands.find((d: { decision: string }) => d.decision === "refused_over_quota");
      const stored = JSON.parse(await raw.entries.get(refusal.demandId));
      stored.value.outcome.decision = "on_site_admitted";
      await raw.entries.put(refusal.demandId, JSON.stringify(stored));
      const report = await replayFromGateway({
        gatewayUrl: gateway.url,
        token: auditorToken,
        rpcUrl: gateway.rpcUrl,
        trust: [ownTrustAnchor(gateway.deployment, "the test gateway")],
      });
      const altered = report.findings.filter((f) => f.kind === "demand.altered");
      expect(altered.map((f) => f.leafIndex)).to.deep.equal([refusal.leafIndex]);
      expect(report.findings.filter((f) => f.kind === "checkpoint.root_mismatch")).to.deep.equal([]);
    });
  });
});
