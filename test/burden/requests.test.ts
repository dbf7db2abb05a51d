/**
 * Burden requests of every kind beyond evidence against a real gateway, a real anvil chain and
 * real LevelDB: a data request answered from the ledger field by field with a package that
 * verifies, items off the data list refused until listed or approved, meetings refused without
 * agenda or decisions and combined in the same week, evaluations by a non-lead department
 * refused and the yearly cap at its 5th and 6th with an emergency aside, joint visits,
 * secondments and their one extension at the limits, conflicting directives flagged to both
 * departments and the unit, and audit replay over a log holding DPR1 leaves.
 */
import { expect } from "chai";
import { type BaseWallet, Wallet, id } from "ethers";
import { replayFromGateway } from "../../server/audit/replayFromGateway.ts";
import { packageRequestMessage } from "../../server/app/demand.ts";
import { type DemandDefinition, demandOf, signDemand } from "../../server/burden/demandClient.ts";
import { type RequestDraft, requestOf, signRequest } from "../../server/burden/requestClient.ts";
import { weekStartOf } from "../../server/burden/requestRules.ts";
import { departmentIdOf } from "../../server/chain/deployment.ts";
import { ownTrustAnchor } from "../../server/chain/trustAnchors.ts";
import { configFromEnvironment } from "../../server/config.ts";
import { issueToken } from "../../server/gateway/AccessTokens.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { reportSchema } from "../../server/http/burdenResponses.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { type Eip712Info, newEnvelope, signEnvelope } from "../helpers/unitClient.ts";

const DAY = 86_400;
const township = id("unit:gate-township");
const village = id("unit:gate-village");
const ZERO = "0x" + "00".repeat(32);

describe("burden requests of every kind through one gate (real anvil chain, real LevelDB, real HTTP)", function () {
  this.timeout(180_000);
  const dir = tempDir("gate");
  // A Wednesday noon (UTC+8), so "the same week" has room on both sides.
  const clock = weekStartOf(Math.floor(Date.now() / 1000)) + 2 * DAY + 4 * 3600;
  let gateway: RunningGateway;
  let eip712: Eip712Info;
  let definition: DemandDefinition;
  const villageKey = Wallet.createRandom();
  const civil = Wallet.createRandom(); // civil-affairs
  const politics = Wallet.createRandom(); // political-legal (owns grid patrols)
  const office = Wallet.createRandom(); // general-office
  const safety = Wallet.createRandom(); // emergency-management
  const types: Record<string, string> = {};
  let operatorToken: string;
  let villageToken: string;
  let civilToken: string;
  let officeToken: string;
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
    return { status: res.status, body: text.startsWith("{") ? JSON.parse(text) : text };
  };
  const ask = async (wallet: BaseWallet, draft: Record<string, unknown>) => {
    const envelope = requestOf(
      wallet.address,
      { unitId: village, issuedAt: clock, ...draft } as unknown as RequestDraft,
      definition.logId,
    );
    const res = await call("POST", "/v1/requests", {
      request: envelope,
      signature: await signRequest(wallet, definition, envelope),
    });
    expect(res.status, JSON.stringify(res.body)).to.be.oneOf([200, 201]);
    return res.body as { requestId: string; outcome: Record<string, any>; request: Record<string, any> };
  };
  const attest = async (dutyType: string, fields: Record<string, string | number | boolean>, performedAt: number) => {
    const envelope = newEnvelope(definition.logId, village, types[dutyType]!, fields, performedAt);
    const res = await call("POST", "/v1/attestations", {
      envelope,
      signature: await signEnvelope(villageKey, eip712, envelope),
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
  };
  const meeting = (department: string, topic: string, start: number, extra: Record<string, unknown> = {}) => ({
    kind: "meeting",
    department,
    topic,
    agenda: ["通报进展"],
    decisionsSought: ["确定分工"],
    start,
    durationMinutes: 90,
    roles: ["secretary"],
    ...extra,
  });

  before(async () => {
    gateway = await startGateway(
      configFromEnvironment(
        {},
        {
          dataDir: dir.path,
          port: 0,
          chainPort: testPort("gate"),
          anchorIntervalMs: 200,
          anchorMaxLeaves: 1000,
          logName: "gate",
        },
      ),
      () => {},
      { clock: { now: () => clock * 1000 } },
    );
    const send = async (name: string, ...args: unknown[]) => (await gateway.ledger.getFunction(name)(...args)).wait();
    await send("registerUnit", township, ZERO, 2, Wallet.createRandom().address);
    await send("registerUnit", village, township, 3, villageKey.address);
    await send("registerInspector", civil.address, departmentIdOf("civil-affairs"));
    await send("registerInspector", politics.address, departmentIdOf("political-legal"));
    await send("registerInspector", office.address, departmentIdOf("general-office"));
    await send("registerInspector", safety.address, departmentIdOf("emergency-management"));
    eip712 = (await call("GET", "/v1/info")).body.eip712;
    definition = (await call("GET", "/v1/requests/eip712")).body;
    for (const d of (await call("GET", "/v1/duty-types")).body.dutyTypes as Array<{ id: string; code: string }>)
      types[d.code] = d.id;
    const tokens = `${dir.path}/tokens.json`;
    operatorToken = issueToken(tokens, "operator", "county IT");
    villageToken = issueToken(tokens, `unit:${village}`, "the village");
    civilToken = issueToken(tokens, "inspector:civil-affairs", "civil-affairs");
    officeToken = issueToken(tokens, "inspector:general-office", "general-office");
    auditorToken = issueToken(tokens, "auditor", "audit bureau");
  });

  after(async () => {
    await gateway?.close();
    dir.remove();
  });

  it("serves the BurdenRequest definition in the records' domain", () => {
    expect(definition.primaryType).to.equal("BurdenRequest");
    expect(definition.domain).to.deep.equal(eip712.domain);
  });

  it("answers a data request from the ledger field by field, with a package whose records verify", async () => {
    await attest(
      "grid-patrol",
      { gridCode: "G-01", durationMinutes: 45, issuesFound: 2, gridWorker: "网格员" },
      clock - 3 * DAY,
    );
    const period = { from: clock - 30 * DAY, to: clock, deadline: clock + 7 * DAY };
    const full = await ask(politics, {
      kind: "data",
      department: "political-legal",
      items: [
        { dutyTypeId: types["grid-patrol"], field: "gridCode" },
        { dutyTypeId: types["grid-patrol"], field: "issuesFound" },
      ],
      ...period,
    });
    expect(full.outcome).to.include({ decision: "answered_from_ledger", reasonCode: "answered.ledger" });
    expect(full.outcome.answered).to.deep.equal([
      { item: `${types["grid-patrol"]}.gridCode`, records: 1 },
      { item: `${types["grid-patrol"]}.issuesFound`, records: 1 },
    ]);
    // A field the unit never filled in (issuesSummary is optional) becomes the only task.
    const partial = await ask(politics, {
      kind: "data",
      department: "political-legal",
      items: [
        { dutyTypeId: types["grid-patrol"], field: "gridCode" },
        { dutyTypeId: types["grid-patrol"], field: "issuesSummary" },
      ],
      ...period,
      from: period.from + 1,
    });
    expect(partial.outcome).to.include({ decision: "task_created", reasonCode: "task.data_partly_answered" });
    expect(partial.outcome.missing).to.deep.equal([`${types["grid-patrol"]}.issuesSummary`]);
    const unit = await call("GET", `/v1/units/${village}/requests`, undefined, villageToken);
    expect(unit.status).to.equal(200);
    const task = unit.body.tasks.find((t: { requestId: string }) => t.requestId === partial.requestId);
    expect(task.missing).to.deep.equal([`${types["grid-patrol"]}.issuesSummary`]);
    expect(unit.body.tasks.map((t: { requestId: string }) => t.requestId)).not.to.include(full.requestId);
    // The package: the records that answer, each with a receipt the gateway verifies.
    for (let i = 0; i < 100 && (await call("GET", `/v1/requests/${full.requestId}/receipt`)).status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const signedAt = clock;
    const proof = await politics.signMessage(packageRequestMessage(gateway.deployment.logId, full.requestId, signedAt));
    const pkg = await fetch(`${gateway.url}/v1/requests/${full.requestId}/package`, {
      headers: { authorization: `DutyproofInspector ${signedAt}.${proof}` },
    });
    const bundle = (await pkg.json()) as { format: string; items: unknown[] };
    expect(bundle.format).to.equal("dutyproof/bundle/v1");
    expect(bundle.items).to.have.length(1);
    expect((await call("POST", "/v1/verify", bundle.items[0])).body).to.include({ valid: true });
    expect((await fetch(`${gateway.url}/v1/requests/${full.requestId}/package`)).status).to.equal(401);
  });

  it("refuses data items off the data list until the operator lists them or an approval is recorded", async () => {
    const draft = {
      kind: "data",
      department: "civil-affairs",
      items: [{ catalogItem: "population.households", value: "按户统计" }],
      from: clock - 30 * DAY,
      to: clock,
      deadline: clock + 7 * DAY,
    };
    const off = await ask(civil, draft);
    expect(off.outcome).to.include({ decision: "refused", reasonCode: "refused.off_list" });
    expect(off.outcome.offList).to.deep.equal([{ item: "catalog:population.households", reason: "not_on_data_list" }]);
    const approved = await ask(civil, { ...draft, approvalRef: "县政办〔2026〕12号" });
    expect(approved.outcome).to.include({ decision: "task_created", reasonCode: "task.data_missing" });
    expect(
      (await call("PATCH", "/v1/burden/data-list", { add: ["population.households"] }, villageToken)).status,
    ).to.equal(403);
    const listed = await call("PATCH", "/v1/burden/data-list", { add: ["population.households"] }, operatorToken);
    expect(listed.body.dataList).to.deep.equal(["population.households"]);
    // Another department asks the same item with another definition: flagged to both, and to the unit.
    const other = await ask(office, {
      ...draft,
      department: "general-office",
      items: [{ catalogItem: "population.households", value: "按人统计" }],
    });
    expect(other.outcome.conflicts).to.deep.equal([
      {
        requestId: approved.requestId,
        department: "civil-affairs",
        item: "catalog:population.households",
        on: "value",
      },
    ]);
    const unit = await call("GET", `/v1/units/${village}/requests`, undefined, villageToken);
    expect(unit.body.conflicts).to.deep.include({
      requestId: other.requestId,
      department: "general-office",
      conflictsWith: approved.requestId,
      otherDepartment: "civil-affairs",
      item: "catalog:population.households",
      on: "value",
    });
    const civilView = await call("GET", "/v1/departments/civil-affairs/requests", undefined, civilToken);
    expect(civilView.body.conflicts.map((c: { requestId: string }) => c.requestId)).to.include(other.requestId);
    expect((await call("GET", "/v1/departments/civil-affairs/requests", undefined, officeToken)).status).to.equal(403);
  });

  it("refuses meetings without agenda items or decisions sought, combines those of one week and absorbs a repeated topic", async () => {
    const noAgenda = await ask(office, meeting("general-office", "安全生产部署", clock + DAY, { agenda: [] }));
    expect(noAgenda.outcome).to.include({ decision: "refused", reasonCode: "refused.meeting_without_agenda" });
    const noDecision = await ask(
      office,
      meeting("general-office", "安全生产部署", clock + DAY, { decisionsSought: [] }),
    );
    expect(noDecision.outcome.reasonCode).to.equal("refused.meeting_without_decisions");
    const first = await ask(office, meeting("general-office", "安全生产部署", clock + DAY));
    expect(first.outcome).to.include({ decision: "admitted", reasonCode: "admitted" });
    const same = await ask(office, meeting("general-office", " 安全生产部署 ", clock + 2 * DAY));
    expect(same.outcome).to.include({ decision: "duplicate_absorbed", duplicateOf: first.requestId });
    const second = await ask(
      civil,
      meeting("civil-affairs", "低保工作推进", clock + 2 * DAY, { roles: ["civil-officer"] }),
    );
    expect(second.outcome).to.include({
      decision: "merged",
      reasonCode: "merged.combined_meeting",
      mergedWith: first.requestId,
    });
    // The next week is another week.
    const nextWeek = await ask(civil, meeting("civil-affairs", "低保工作推进二", weekStartOf(clock) + 7 * DAY + 3600));
    expect(nextWeek.outcome.decision).to.equal("admitted");
    const unit = await call("GET", `/v1/units/${village}/requests`, undefined, villageToken);
    const combined = unit.body.mergedMeetings.find((m: { requestId: string }) => m.requestId === first.requestId);
    expect(combined.departments).to.deep.equal(["general-office", "civil-affairs"]);
    expect(combined.roles).to.deep.equal(["secretary"]);
  });

  it("refuses evaluations by a department that does not lead the domain, and caps a unit's at 5 a year with emergencies aside", async () => {
    expect(
      (
        await call(
          "PATCH",
          "/v1/burden/lead-departments",
          { leads: { "social-assistance": "civil-affairs" } },
          operatorToken,
        )
      ).status,
    ).to.equal(200);
    const evaluation = (title: string, extra: Record<string, unknown> = {}) => ({
      kind: "evaluation",
      department: "civil-affairs",
      domain: "social-assistance",
      title,
      from: clock + DAY,
      to: clock + 2 * DAY,
      ...extra,
    });
    const nonLead = await ask(office, evaluation("年度考核", { department: "general-office" }));
    expect(nonLead.outcome).to.include({
      decision: "refused",
      reasonCode: "refused.not_lead_department",
      leadDepartment: "civil-affairs",
    });
    for (let i = 1; i <= 5; i++) {
      const ok = await ask(civil, evaluation(`考核 ${i}`));
      expect(ok.outcome, `evaluation ${i}`).to.include({ decision: "admitted" });
      expect(ok.outcome.quota).to.include({ used: i, limit: 5 });
    }
    const sixth = await ask(civil, evaluation("考核 6"));
    expect(sixth.outcome).to.include({ decision: "refused", reasonCode: "refused.evaluation_cap" });
    const emergency = await ask(civil, evaluation("灾后救助考核", { emergency: { reason: "洪灾后救助核查" } }));
    expect(emergency.outcome).to.include({ decision: "admitted_emergency", reasonCode: "admitted.emergency" });
  });

  it("joins two departments' visits of one week into one joint visit counted once", async () => {
    const visit = (department: string, domain: string, dutyType: string, from: number) => ({
      kind: "inspection",
      department,
      domain,
      dutyTypeIds: [types[dutyType]],
      from,
      to: from + 4 * 3600,
    });
    const first = await ask(safety, visit("emergency-management", "work-safety", "safety-hazard-check", clock + DAY));
    expect(first.outcome).to.include({ decision: "admitted" });
    expect(first.outcome.quota).to.include({ used: 1, departmentUsed: 1, departmentShare: 2 });
    const second = await ask(civil, visit("civil-affairs", "social-assistance", "household-visit", clock + 2 * DAY));
    expect(second.outcome).to.include({
      decision: "merged",
      reasonCode: "merged.joint_visit",
      mergedWith: first.requestId,
    });
    const later = await ask(
      safety,
      visit("emergency-management", "work-safety", "safety-hazard-check", clock + 9 * DAY),
    );
    expect(later.outcome.quota).to.include({ used: 2, departmentUsed: 2 });
    const third = await ask(
      safety,
      visit("emergency-management", "work-safety", "safety-hazard-check", clock + 16 * DAY),
    );
    expect(third.outcome).to.include({ decision: "refused", reasonCode: "refused.on_site_fair_share" });
    const unit = await call("GET", `/v1/units/${village}/requests`, undefined, villageToken);
    const joint = unit.body.jointVisits.find((v: { requestId: string }) => v.requestId === first.requestId);
    expect(joint.departments).to.deep.equal(["emergency-management", "civil-affairs"]);
    // Proposed to both departments: the one joined sees who joined its visit.
    const safetyView = await call("GET", "/v1/departments/emergency-management/requests", undefined, auditorToken);
    expect(safetyView.body.joinedByOthers.map((r: { requestId: string }) => r.requestId)).to.deep.equal([
      second.requestId,
    ]);
    // Joined visits count once, and on-site evidence demands share the quota with inspections.
    const demandDefinition = (await call("GET", "/v1/demands/eip712")).body as DemandDefinition;
    const onSite = demandOf(
      safety.address,
      {
        unitId: village,
        dutyTypeIds: [types["safety-hazard-check"]!],
        from: clock - 2 * DAY,
        to: clock - DAY,
        purpose: "实地检查",
        department: "emergency-management",
        onSite: true,
        issuedAt: clock,
      },
      demandDefinition.logId,
    );
    const demanded = await call("POST", "/v1/demands", {
      demand: onSite,
      signature: await signDemand(safety, demandDefinition, onSite),
    });
    expect(demanded.body.outcome).to.include({ decision: "on_site_admitted" });
    expect(demanded.body.outcome.quota).to.include({ used: 3, limit: 5 });
  });

  it("admits a secondment of 3 months and one extension of 3 more; beyond either needs an approval", async () => {
    const secondment = (days: number, extra: Record<string, unknown> = {}) => ({
      kind: "secondment",
      department: "general-office",
      role: "clerk",
      from: clock + DAY,
      days,
      ...extra,
    });
    expect((await ask(office, secondment(93))).outcome.reasonCode).to.equal("refused.secondment_over_limit");
    const first = await ask(office, secondment(92));
    expect(first.outcome.decision).to.equal("admitted");
    const tooLong = await ask(office, secondment(93, { from: clock + 93 * DAY, extends: first.requestId }));
    expect(tooLong.outcome.reasonCode).to.equal("refused.extension_over_limit");
    const extension = await ask(office, secondment(92, { from: clock + 93 * DAY, extends: first.requestId }));
    expect(extension.outcome.decision).to.equal("admitted");
    const again = await ask(office, secondment(30, { from: clock + 185 * DAY, extends: extension.requestId }));
    expect(again.outcome.reasonCode).to.equal("refused.extension_over_limit");
    const approved = await ask(
      office,
      secondment(30, { from: clock + 185 * DAY, extends: extension.requestId, approvalRef: "组干〔2026〕3号" }),
    );
    expect(approved.outcome.decision).to.equal("admitted");
  });

  it("shows the full request to the unit and its department, only the public view to others", async () => {
    const r = await ask(office, meeting("general-office", "公开范围", clock + 30 * DAY));
    const full = await call("GET", `/v1/requests/${r.requestId}`, undefined, villageToken);
    expect(full.body.request.topic).to.equal("公开范围");
    const anyone = await call("GET", `/v1/requests/${r.requestId}`);
    expect(anyone.body).to.include({ requestId: r.requestId, kind: "meeting", decision: "admitted" });
    expect(anyone.body).not.to.have.property("request");
    expect((await call("GET", `/v1/requests/${"0x" + "ab".repeat(32)}`)).status).to.equal(404);
  });

  it("refuses malformed requests, bad signatures and another log's requests with problem+json, storing nothing", async () => {
    const size = (await call("GET", "/v1/info")).body.treeSize;
    const envelope = requestOf(
      office.address,
      { unitId: village, issuedAt: clock, ...meeting("general-office", "x", clock) } as unknown as RequestDraft,
      definition.logId,
    );
    const bad = await call("POST", "/v1/requests", {
      request: envelope,
      signature: await signRequest(civil, definition, envelope),
    });
    expect(bad.status).to.equal(422);
    expect(bad.body.code).to.equal("burden_request.bad_signature");
    const invalid = await call("POST", "/v1/requests", {
      request: { ...envelope, kind: "party" },
      signature: "0x" + "00".repeat(65),
    });
    expect(invalid.status).to.equal(422);
    expect(invalid.body.code).to.equal("request.invalid");
    const foreign = { ...envelope, logId: "0x" + "11".repeat(32) };
    const wrongLog = await call("POST", "/v1/requests", {
      request: foreign,
      signature: await signRequest(office, definition, foreign),
    });
    expect(wrongLog.body.code).to.equal("burden_request.wrong_log");
    expect((await call("GET", "/v1/info")).body.treeSize).to.equal(size);
  });

  it("reports every kind per unit, department and month: received, answered, merged, absorbed, refused by reason, hours", async () => {
    const res = await call("GET", "/v1/burden/report?groupBy=department", undefined, auditorToken);
    expect(res.status).to.equal(200);
    reportSchema.strict().parse(res.body);
    const { totals, rows } = res.body.requests;
    expect(totals.byKind).to.include({ evidence: 1, data: 5, meeting: 7, evaluation: 8, inspection: 4, secondment: 6 });
    expect(totals.answeredFromLedger).to.equal(1);
    expect(totals.merged).to.equal(2);
    expect(totals.absorbed).to.equal(1);
    expect(totals.refusedByReason).to.include({
      "refused.off_list": 1,
      "refused.meeting_without_agenda": 1,
      "refused.meeting_without_decisions": 1,
      "refused.not_lead_department": 1,
      "refused.evaluation_cap": 1,
      "refused.on_site_fair_share": 1,
      "refused.secondment_over_limit": 1,
      "refused.extension_over_limit": 2,
    });
    expect(totals.formItemsAsked).to.equal(7);
    expect(totals.formItemsFromLedger).to.equal(3);
    expect(totals.secondmentDays).to.equal(92 + 92 + 30);
    expect(totals.meetingHours).to.equal(1.5 * 3);
    const office = rows.find((r: { key: string }) => r.key === "general-office");
    expect(office.byKind.meeting).to.equal(5);
    // A department's token reads its own department's report only.
    const own = await call("GET", "/v1/burden/report?groupBy=month", undefined, civilToken);
    expect(own.body.requests.totals.received).to.equal(
      rows.find((r: { key: string }) => r.key === "civil-affairs").received,
    );
  });

  it("replays a log holding burden requests cleanly, and finds a request's outcome altered in the store", async () => {
    for (let i = 0; i < 100; i++) {
      const latest = await call("GET", "/v1/checkpoints/latest");
      if (latest.status === 200 && latest.body.size >= (await call("GET", "/v1/info")).body.treeSize) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const replay = () =>
      replayFromGateway({
        gatewayUrl: gateway.url,
        token: auditorToken,
        rpcUrl: gateway.rpcUrl,
        trust: [ownTrustAnchor(gateway.deployment, "the test gateway")],
      });
    const clean = await replay();
    expect(clean.findings.filter((f) => f.kind !== "record.unanchored")).to.deep.equal([]);
    expect(clean.demands).to.be.greaterThan(10);
    // An insider rewrites a refusal into an admission behind the gateway's back.
    const raw = gateway.store as unknown as {
      entries: { get(k: string): Promise<string>; put(k: string, v: string): Promise<void> };
    };
    const { requests } = (await call("GET", "/v1/departments/general-office/requests", undefined, auditorToken)).body;
    const refusal = requests.find((r: { decision: string }) => r.decision === "refused");
    const stored = JSON.parse(await raw.entries.get(refusal.requestId));
    stored.value.outcome.decision = "admitted";
    await raw.entries.put(refusal.requestId, JSON.stringify(stored));
    const report = await replay();
    const altered = report.findings.filter((f) => f.kind === "demand.altered");
    expect(altered.map((f) => f.recordId)).to.deep.equal([refusal.requestId]);
    expect(report.findings.filter((f) => f.kind === "checkpoint.root_mismatch")).to.deep.equal([]);
  });
});
