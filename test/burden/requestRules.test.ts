/**
 * The gate's pure rules for burden requests, at their boundaries: the signing digest against
 * ethers, the leaf, the order of the rules, secondments at 92/93 days and the one extension,
 * the evaluation cap at 5/6 with emergencies aside, the on-site quota and a department's fair
 * share, the duplicate window's edge, the week a merge looks at, data items answered field by
 * field, and conflicting directives.
 */
import { expect } from "chai";
import { TypedDataEncoder, Wallet } from "ethers";
import { bytesToHex } from "../../server/core/bytes.ts";
import { eip712Domain } from "../../server/core/eip712.ts";
import {
  type RequestEnvelope,
  requestDigest,
  requestEip712Types,
  requestLeafDataOf,
  requestMessageOf,
  requestSubmissionSchema,
  requestTypedDataDigest,
} from "../../server/core/request.ts";
import {
  type IndexedRequest,
  type RequestFacts,
  collide,
  decideRequest,
  defaultGateSettings,
  departmentShareOf,
  weekStartOf,
} from "../../server/burden/requestRules.ts";
import { recoverSigner } from "../../server/crypto/recoverSigner.ts";
import { isLogLeaf } from "../../server/core/monitor.ts";
import { hashLeaf } from "../../server/core/merkle/hasher.ts";
import { leafDataOfStored } from "../../server/http/tlogRoutes.ts";
import { requestLeafHashOf, requestOutcomeDigest } from "../../server/core/request.ts";
import { burdenSettingsFromEnvironment } from "../../server/burden/burdenSettings.ts";

const DAY = 86_400;
const h = (byte: string) => "0x" + byte.repeat(32);
const now = 1_780_000_000;
const common = {
  version: 1 as const,
  logId: h("11"),
  unitId: h("22"),
  department: "general-office",
  inspector: "0x" + "33".repeat(20),
  issuedAt: now,
  salt: h("44"),
};
const meeting = (extra: Partial<Extract<RequestEnvelope, { kind: "meeting" }>> = {}): RequestEnvelope => ({
  ...common,
  kind: "meeting",
  topic: "防汛部署",
  agenda: ["通报"],
  decisionsSought: ["分工"],
  start: now + DAY,
  durationMinutes: 60,
  roles: ["secretary"],
  ...extra,
});
const secondment = (days: number, extra: Record<string, unknown> = {}): RequestEnvelope =>
  ({ ...common, kind: "secondment", role: "clerk", from: now + DAY, days, ...extra }) as RequestEnvelope;
const evaluation = (extra: Record<string, unknown> = {}): RequestEnvelope =>
  ({
    ...common,
    kind: "evaluation",
    department: "civil-affairs",
    domain: "social-assistance",
    title: "年度考核",
    from: now + DAY,
    to: now + 2 * DAY,
    ...extra,
  }) as RequestEnvelope;
const inspection = (extra: Record<string, unknown> = {}): RequestEnvelope =>
  ({
    ...common,
    kind: "inspection",
    department: "emergency-management",
    domain: "work-safety",
    dutyTypeIds: [h("55")],
    from: now + DAY,
    to: now + DAY + 3600,
    ...extra,
  }) as RequestEnvelope;
const data = (items: unknown[], extra: Record<string, unknown> = {}): RequestEnvelope =>
  ({
    ...common,
    kind: "data",
    items,
    from: now - 30 * DAY,
    to: now,
    deadline: now + 7 * DAY,
    ...extra,
  }) as RequestEnvelope;
const facts = (request: RequestEnvelope, extra: Partial<RequestFacts> = {}): RequestFacts => ({
  request,
  now,
  settings: defaultGateSettings,
  offList: [],
  earlier: [],
  ledgerItems: {},
  ...extra,
});
const earlier = (extra: Partial<IndexedRequest>): IndexedRequest => ({
  requestId: h("aa"),
  leafIndex: 0,
  kind: "meeting",
  unitId: common.unitId,
  department: "civil-affairs",
  inspector: common.inspector,
  decision: "admitted",
  reasonCode: "admitted",
  decidedAt: now - DAY,
  from: now + DAY,
  to: now + DAY + 3600,
  ...extra,
});

describe("burden requests: the gate's pure rules", () => {
  it("signs the BurdenRequest digest ethers computes, recovering the signer", async () => {
    const domain = eip712Domain(31337, "0x" + "ab".repeat(20));
    const wallet = Wallet.createRandom();
    const request = { ...meeting(), inspector: wallet.address.toLowerCase() };
    const message = requestMessageOf(request);
    const types = { BurdenRequest: [...requestEip712Types.BurdenRequest] };
    expect(bytesToHex(requestTypedDataDigest(domain, message))).to.equal(TypedDataEncoder.hash(domain, types, message));
    const signature = await wallet.signTypedData(domain, types, message);
    expect(recoverSigner(requestTypedDataDigest(domain, message), signature)).to.equal(request.inspector);
    // The kind is signed: the same digest under another kind is another message.
    expect(bytesToHex(requestTypedDataDigest(domain, { ...message, kind: "data" }))).not.to.equal(
      bytesToHex(requestTypedDataDigest(domain, message)),
    );
    const leaf = requestLeafDataOf(requestDigest(request), signature, new Uint8Array(32));
    expect(new TextDecoder().decode(leaf.subarray(0, 4))).to.equal("DPR1");
    expect(leaf.length).to.equal(133);
  });

  it("serves a request's DPR1 leaf in the tlog entry bundles, and monitors take it as a log leaf", () => {
    const request = meeting();
    const signature = "0x" + "12".repeat(64) + "1b";
    const outcome = {
      decision: "admitted" as const,
      reasonCode: "admitted" as const,
      reason: "admitted",
      decidedAt: now,
    };
    const value = {
      requestId: bytesToHex(requestDigest(request)),
      request,
      signature,
      outcome,
      outcomeDigest: bytesToHex(requestOutcomeDigest(outcome)),
    };
    const leafHash = requestLeafHashOf(requestDigest(request), signature, requestOutcomeDigest(outcome));
    const data = leafDataOfStored({
      entry: {
        kind: "request",
        entryId: value.requestId,
        value,
        leafHash: bytesToHex(leafHash),
        leafIndex: 0,
        receivedAt: 0,
      },
    });
    expect(bytesToHex(hashLeaf(data))).to.equal(bytesToHex(leafHash));
    expect(isLogLeaf(data)).to.equal(true);
    expect(isLogLeaf(Uint8Array.of(0x44, 0x50, 0x58, 0x31, ...data.subarray(4)))).to.equal(false);
  });

  it("takes each kind's fields strictly and lists every field at fault", () => {
    const ok = requestSubmissionSchema.safeParse({ request: meeting(), signature: "0x" + "00".repeat(65) });
    expect(ok.success).to.equal(true);
    const bad = requestSubmissionSchema.safeParse({
      request: { ...meeting(), roles: [], extra: 1 },
      signature: "0x" + "00".repeat(65),
    });
    expect(bad.success).to.equal(false);
    const paths = bad.error!.issues.map((i) => i.path.join("."));
    expect(paths).to.include("request.roles");
    const repeated = requestSubmissionSchema.safeParse({
      request: data([{ catalogItem: "a.b" }, { catalogItem: "a.b" }]),
      signature: "0x" + "00".repeat(65),
    });
    expect(repeated.error!.issues.map((i) => i.path.join("."))).to.deep.equal(["request.items.1"]);
  });

  it("decides in the documented order: off-list before the meeting rules, the lead before a duplicate", () => {
    const off = decideRequest(facts(meeting({ agenda: [] }), { offList: [{ item: h("55"), reason: "inactive" }] }));
    expect(off.reasonCode).to.equal("refused.off_list");
    expect(decideRequest(facts(meeting({ agenda: [] }))).reasonCode).to.equal("refused.meeting_without_agenda");
    expect(decideRequest(facts(meeting({ decisionsSought: [] }))).reasonCode).to.equal(
      "refused.meeting_without_decisions",
    );
    const repeat = earlier({
      kind: "evaluation",
      domain: "social-assistance",
      topic: "年度考核",
      department: "organization",
    });
    const notLead = decideRequest(facts(evaluation(), { leadDepartment: "organization", earlier: [repeat] }));
    expect(notLead).to.include({ reasonCode: "refused.not_lead_department", leadDepartment: "organization" });
    expect(
      decideRequest(facts(evaluation(), { leadDepartment: "civil-affairs", earlier: [repeat] })).reasonCode,
    ).to.equal("absorbed.duplicate");
    // Without a lead set for the domain, any entitled department may evaluate.
    expect(decideRequest(facts(evaluation())).decision).to.equal("admitted");
  });

  it("admits a secondment of 92 days and refuses 93 without approval; one extension of up to 92, never a second", () => {
    expect(decideRequest(facts(secondment(92))).decision).to.equal("admitted");
    expect(decideRequest(facts(secondment(93))).reasonCode).to.equal("refused.secondment_over_limit");
    expect(decideRequest(facts(secondment(93, { approvalRef: "批1" }))).decision).to.equal("admitted");
    const extension = (days: number, extensionsBefore: number, extra = {}) =>
      decideRequest(
        facts(secondment(days, { extends: h("aa"), ...extra }), { extended: { found: true, extensionsBefore } }),
      );
    expect(extension(92, 0).decision).to.equal("admitted");
    expect(extension(93, 0).reasonCode).to.equal("refused.extension_over_limit");
    expect(extension(1, 1).reasonCode).to.equal("refused.extension_over_limit");
    expect(extension(30, 1, { approvalRef: "批2" }).decision).to.equal("admitted");
    // Extending an unknown secondment is judged as a secondment of its own.
    const unknown = decideRequest(
      facts(secondment(93, { extends: h("aa") }), { extended: { found: false, extensionsBefore: 0 } }),
    );
    expect(unknown.reasonCode).to.equal("refused.secondment_over_limit");
  });

  it("admits a unit's 5th evaluation of a year, refuses the 6th unless an emergency, and counts the next year afresh", () => {
    const admitted = (n: number, from = now + DAY) =>
      Array.from({ length: n }, (_, i) =>
        earlier({
          requestId: h((i + 1).toString(16).padStart(2, "0")),
          kind: "evaluation",
          domain: "x",
          topic: `t${i}`,
          from,
        }),
      );
    expect(decideRequest(facts(evaluation(), { earlier: admitted(4) })).quota).to.include({ used: 5, limit: 5 });
    expect(decideRequest(facts(evaluation(), { earlier: admitted(5) })).reasonCode).to.equal("refused.evaluation_cap");
    const emergency = evaluation({ emergency: { reason: "灾后核查" } });
    expect(decideRequest(facts(emergency, { earlier: admitted(5) })).decision).to.equal("admitted_emergency");
    const lastYear = admitted(5, now - 400 * DAY);
    expect(decideRequest(facts(evaluation(), { earlier: lastYear })).decision).to.equal("admitted");
  });

  it("gives each department a fair share of the unit's on-site quota and refuses past the quota", () => {
    expect(departmentShareOf(5, defaultGateSettings)).to.equal(2);
    expect(departmentShareOf(1, defaultGateSettings)).to.equal(1);
    const visit = (used: number, departmentUsed: number) =>
      decideRequest(facts(inspection(), { onSite: { used, limit: 5, departmentUsed } }));
    expect(visit(1, 1).decision).to.equal("admitted");
    expect(visit(2, 2).reasonCode).to.equal("refused.on_site_fair_share");
    expect(visit(5, 0).reasonCode).to.equal("refused.on_site_quota");
    expect(
      decideRequest(
        facts(inspection({ emergency: { reason: "险情" } }), { onSite: { used: 5, limit: 5, departmentUsed: 2 } }),
      ).decision,
    ).to.equal("admitted_emergency");
  });

  it("absorbs a repeat inside the duplicate window, not at its edge", () => {
    const window = defaultGateSettings.duplicateWindowSeconds;
    const first = earlier({ topic: "防汛部署", from: now + 30 * DAY, to: now + 30 * DAY + 3600 });
    expect(decideRequest(facts(meeting(), { earlier: [{ ...first, decidedAt: now - window + 1 }] })).decision).to.equal(
      "duplicate_absorbed",
    );
    expect(decideRequest(facts(meeting(), { earlier: [{ ...first, decidedAt: now - window }] })).decision).to.equal(
      "admitted",
    );
    // A refused or absorbed request is never the one a repeat points at.
    expect(decideRequest(facts(meeting(), { earlier: [{ ...first, decision: "refused" }] })).decision).to.equal(
      "admitted",
    );
  });

  it("merges visits and meetings of one week (Monday to Sunday, UTC+8), not those of the next", () => {
    const monday = weekStartOf(now);
    expect(new Date((monday + 8 * 3600) * 1000).getUTCDay()).to.equal(1);
    expect(weekStartOf(monday + 7 * DAY - 1)).to.equal(monday);
    expect(weekStartOf(monday + 7 * DAY)).to.equal(monday + 7 * DAY);
    const sunday = { from: monday + 7 * DAY - 3600, to: monday + 7 * DAY - 1 };
    expect(collide({ from: monday, to: monday + 3600 }, sunday)).to.equal(true);
    expect(collide({ from: monday + 7 * DAY, to: monday + 7 * DAY + 3600 }, sunday)).to.equal(false);
    const root = earlier({ topic: "其他议题", from: monday + 3600, to: monday + 7200 });
    const merged = decideRequest(facts(meeting({ start: monday + 7 * DAY - 7200 }), { earlier: [root] }));
    expect(merged).to.include({
      decision: "merged",
      reasonCode: "merged.combined_meeting",
      mergedWith: root.requestId,
    });
    expect(decideRequest(facts(meeting({ start: monday + 7 * DAY }), { earlier: [root] })).decision).to.equal(
      "admitted",
    );
  });

  it("answers a data request field by field: all items from the ledger, some, or none", () => {
    const items = [
      { dutyTypeId: h("55"), field: "gridCode" },
      { dutyTypeId: h("55"), field: "issuesSummary" },
    ];
    const key = (f: string) => `${h("55")}.${f}`;
    const all = decideRequest(facts(data(items), { ledgerItems: { [key("gridCode")]: 3, [key("issuesSummary")]: 1 } }));
    expect(all).to.include({ decision: "answered_from_ledger", reasonCode: "answered.ledger" });
    const some = decideRequest(facts(data(items), { ledgerItems: { [key("gridCode")]: 3 } }));
    expect(some).to.include({ decision: "task_created", reasonCode: "task.data_partly_answered" });
    expect(some.missing).to.deep.equal([key("issuesSummary")]);
    const none = decideRequest(facts(data(items)));
    expect(none).to.include({ reasonCode: "task.data_missing" });
    expect(none).not.to.have.property("answered");
  });

  it("flags another department's contradicting directive on the same item, never its own", () => {
    const theirs = earlier({
      kind: "data",
      department: "civil-affairs",
      items: [{ key: "catalog:population.households", value: "按户" }],
      deadline: now + 7 * DAY,
      from: now - 30 * DAY,
      to: now,
    });
    const mine = data([{ catalogItem: "population.households", value: "按人" }]);
    expect(decideRequest(facts(mine, { earlier: [theirs] })).conflicts).to.deep.equal([
      { requestId: theirs.requestId, department: "civil-affairs", item: "catalog:population.households", on: "value" },
    ]);
    expect(decideRequest(facts(mine, { earlier: [{ ...theirs, department: "general-office" }] }))).not.to.have.property(
      "conflicts",
    );
    const late = data([{ catalogItem: "population.households" }], { deadline: now + 15 * DAY });
    expect(decideRequest(facts(late, { earlier: [theirs] })).conflicts![0]!.on).to.equal("deadline");
    const close = data([{ catalogItem: "population.households" }], { deadline: now + 14 * DAY });
    expect(decideRequest(facts(close, { earlier: [theirs] }))).not.to.have.property("conflicts");
  });

  it("reads the gate's settings from the environment and refuses nonsense with a message", () => {
    const settings = burdenSettingsFromEnvironment({ BURDEN_EVALUATIONS_PER_YEAR: "3", BURDEN_ONSITE_SHARE: "0.5" });
    expect(settings.gate).to.include({ evaluationsPerYear: 3, onSiteShare: 0.5, secondmentMaxDays: 92 });
    expect(() => burdenSettingsFromEnvironment({ BURDEN_ONSITE_SHARE: "2" })).to.throw(/BURDEN_ONSITE_SHARE/);
    expect(() => burdenSettingsFromEnvironment({ BURDEN_SECONDMENT_MAX_DAYS: "x" })).to.throw(
      /BURDEN_SECONDMENT_MAX_DAYS/,
    );
  });
});
