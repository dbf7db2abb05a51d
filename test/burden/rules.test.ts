/** The pure burden rules with plain vectors: signing digest, leaf, year, window, list, quota, reports. */
import { createHash, randomBytes } from "node:crypto";
import { expect } from "chai";
import { TypedDataEncoder, Wallet } from "ethers";
import { bytesToHex } from "../../server/core/bytes.ts";
import { eip712Domain } from "../../server/core/eip712.ts";
import { canonicalJson } from "../../server/core/canonical.ts";
import { useKeccak256 } from "../../server/core/keccak256.ts";
import { useSha256 } from "../../server/core/sha256.ts";
import {
  type DemandEnvelope,
  demandDigest,
  demandEip712Types,
  demandEip712TypesV1,
  demandLeafDataOf,
  demandLeafHashOf,
  demandMessageOf,
  demandSubmissionSchema,
  demandTypedDataDigest,
  outcomeDigest,
} from "../../server/burden/demand.ts";
import { type DemandFact, aggregate, reportCsv } from "../../server/burden/report.ts";
import {
  type DecisionFacts,
  type DutyTypeFacts,
  type EarlierDemand,
  calendarYearOf,
  decide,
  findRepeated,
  offListReason,
  quotaOf,
  repeats,
  yearStartOf,
} from "../../server/burden/rules.ts";
import { burdenSettingsFromEnvironment } from "../../server/burden/burdenSettings.ts";
import { installNativeHashes, nativeKeccak256 } from "../../server/crypto/nativeHashes.ts";
import { recoverSigner } from "../../server/crypto/recoverSigner.ts";

const h = (byte: string) => "0x" + byte.repeat(32);
const demand: DemandEnvelope = {
  version: 1,
  unitId: h("11"),
  dutyTypeIds: [h("22"), h("33")],
  from: 1_767_196_800,
  to: 1_775_000_000,
  purpose: "季度督查",
  department: "civil-affairs",
  inspector: "0x1a642f0e3c3af545e7acbd38b07251b3990914f1",
  onSite: false,
  issuedAt: 1_780_000_000,
  salt: h("44"),
};
const domain = eip712Domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3");

describe("burden rules (pure)", () => {
  it("hashes and signs a demand as ethers' EIP-712 encoder does, and the signature recovers", async () => {
    const digest = demandDigest(demand);
    expect(bytesToHex(digest)).to.equal("0x" + createHash("sha256").update(canonicalJson(demand)).digest("hex"));
    const message = demandMessageOf(demand);
    const types = { EvidenceDemand: [...demandEip712TypesV1.EvidenceDemand] };
    expect(bytesToHex(demandTypedDataDigest(domain, message))).to.equal(TypedDataEncoder.hash(domain, types, message));
    const wallet = new Wallet("0x" + "01".repeat(32));
    expect(wallet.address.toLowerCase()).to.equal(demand.inspector);
    const signature = await wallet.signTypedData(domain, types, message);
    expect(recoverSigner(demandTypedDataDigest(domain, message), signature)).to.equal(demand.inspector);
  });

  it("gives the worked example of docs/protocol.md §4, line by line", async () => {
    // Digests recomputed with node's SHA-256, the signature with ethers (RFC 6979: deterministic).
    const sha = (text: string) => "0x" + createHash("sha256").update(text).digest("hex");
    expect(sha(canonicalJson(demand))).to.equal("0xca339e7bab07826e969fbaedeeac815f832c9b4af374a39f24f2103f6a344681");
    const message = demandMessageOf(demand);
    expect(bytesToHex(demandTypedDataDigest(domain, message))).to.equal(
      "0x4d47c675e609152293e7a359f5808b5f48d29a5e242916457e9f0d9b78f1d40b",
    );
    const signature = await new Wallet("0x" + "01".repeat(32)).signTypedData(
      domain,
      { EvidenceDemand: [...demandEip712TypesV1.EvidenceDemand] },
      message,
    );
    expect(signature).to.equal(
      "0x537b6c5cef011a074b81bd2acc055d20ab477c780f65f6e05f875c35655068f3336cf7ad4bc945d6a50258b75f4e7f561ebadeee34aa4fee5e2ff53e50757b0e1c",
    );
    const outcome = {
      decision: "answered_from_ledger" as const,
      reason: "the ledger holds 4 matching record(s); no task for the unit",
      decidedAt: 1_780_000_005,
      matched: 4,
    };
    expect(sha(canonicalJson(outcome))).to.equal("0x2a6f80f554b785ed7f068155d200522a6425dc63c618ad11f911ea7295e38739");
    expect(bytesToHex(demandLeafHashOf(demandDigest(demand), signature, outcomeDigest(outcome)))).to.equal(
      "0x0bb526527b518369bbb8ae74d0d04e211a3ec3a591a1181f210dfaf498fd8048",
    );
  });

  it("gives the same demand digests with the native hashes installed as a gateway runs them", () => {
    installNativeHashes();
    try {
      expect(useKeccak256(nativeKeccak256), "the native Keccak-256 is not the one installed").to.equal(nativeKeccak256);
      const message = demandMessageOf(demand);
      expect(bytesToHex(demandTypedDataDigest(domain, message))).to.equal(
        "0x4d47c675e609152293e7a359f5808b5f48d29a5e242916457e9f0d9b78f1d40b",
      );
      const types = { EvidenceDemand: [...demandEip712TypesV1.EvidenceDemand] };
      for (let i = 0; i < 50; i++) {
        const other = { ...message, issuedAt: message.issuedAt + i, demandDigest: bytesToHex(randomBytes(32)) };
        expect(bytesToHex(demandTypedDataDigest(domain, other))).to.equal(TypedDataEncoder.hash(domain, types, other));
      }
    } finally {
      useSha256(null);
      useKeccak256(null);
    }
  });

  it("builds the DPD1 leaf from demand id, signature and outcome digest", () => {
    const signature = "0x" + "ab".repeat(64) + "1b";
    const outcome = outcomeDigest({ decision: "answered_from_ledger", reason: "r", decidedAt: 1, matched: 2 });
    const data = demandLeafDataOf(demandDigest(demand), signature, outcome);
    expect(data.length).to.equal(133);
    expect(Buffer.from(data.subarray(0, 4)).toString("ascii")).to.equal("DPD1");
    const expected = createHash("sha256")
      .update(Buffer.concat([Buffer.of(0), Buffer.from(data)]))
      .digest("hex");
    expect(bytesToHex(demandLeafHashOf(demandDigest(demand), signature, outcome))).to.equal("0x" + expected);
  });

  it("gives the version 2 worked example of docs/protocol.md §4: the demand bound to its log", async () => {
    // Computed with node's SHA-256 and ethers' EIP-712 encoder and signer, not the code under test.
    const bound: DemandEnvelope = {
      ...demand,
      version: 2,
      logId: "0xb6bacb676c16ea8ad9e7c7deb0f3fdadbbfa5628d883a571eacea9a7718ebda6",
    };
    expect(bytesToHex(demandDigest(bound))).to.equal(
      "0xbdf39d1d8614dc137d61c9662e3dc727fc2f39720469e1522acf4106de55246f",
    );
    const message = demandMessageOf(bound);
    expect(message.logId).to.equal(bound.logId);
    expect(bytesToHex(demandTypedDataDigest(domain, message))).to.equal(
      "0xaaa0102c98620f172d3c84bdd98ad6b6bba99f14b4b933309d15b5d98cf49581",
    );
    const types = { EvidenceDemand: [...demandEip712Types.EvidenceDemand] };
    expect(TypedDataEncoder.hash(domain, types, message)).to.equal(
      "0xaaa0102c98620f172d3c84bdd98ad6b6bba99f14b4b933309d15b5d98cf49581",
    );
    const signature =
      "0x9a9a0535fc53027d70364556829e2a947dec383b5b93a9521d0d8c2028a0e4f7540a3681f0c107553adf1569376541d930fe0bf292f55afb3b5247843f9bffd31c";
    expect(await new Wallet("0x" + "01".repeat(32)).signTypedData(domain, types, message)).to.equal(signature);
    expect(recoverSigner(demandTypedDataDigest(domain, message), signature)).to.equal(demand.inspector);
    // The same demand for another log is another message: the signature recovers to someone else.
    const elsewhere = { ...message, logId: "0x" + "ee".repeat(32) };
    expect(recoverSigner(demandTypedDataDigest(domain, elsewhere), signature)).to.not.equal(demand.inspector);
    const outcome = outcomeDigest({
      decision: "answered_from_ledger",
      reason: "the ledger holds 4 matching record(s); no task for the unit",
      decidedAt: 1_780_000_005,
      matched: 4,
    });
    expect(bytesToHex(demandLeafHashOf(demandDigest(bound), signature, outcome))).to.equal(
      "0xa2f7c420c267a6244d7d4258f9eda4c19d8b101efaa35c969bc7e34a176d45f0",
    );
    const parsed = demandSubmissionSchema.safeParse({ demand: { ...bound, logId: undefined }, signature });
    expect(parsed.success, "version 2 without logId").to.equal(false);
  });

  it("refuses unsorted duty types, an empty period and an emergency that is not on-site", () => {
    const bad = { ...demand, dutyTypeIds: [h("33"), h("22")], to: demand.from, emergency: { reason: "x" } };
    const parsed = demandSubmissionSchema.safeParse({ demand: bad, signature: "0x" + "00".repeat(65) });
    expect(parsed.success).to.equal(false);
    const paths = parsed.error!.issues.map((i) => i.path.join("."));
    expect(paths).to.include.members(["demand.dutyTypeIds.1", "demand.to", "demand.emergency"]);
  });

  it("counts calendar years in UTC+8, to the second", () => {
    const start2027 = yearStartOf(2027);
    expect(new Date(start2027 * 1000).toISOString()).to.equal("2026-12-31T16:00:00.000Z");
    expect(calendarYearOf(start2027 - 1)).to.equal(2026);
    expect(calendarYearOf(start2027)).to.equal(2027);
  });

  const earlier: EarlierDemand = {
    demandId: h("aa"),
    unitId: h("11"),
    dutyTypeIds: [h("22"), h("33")],
    from: 1000,
    to: 2000,
    decidedAt: 10_000,
    decision: "task_created",
  };
  const window = 90 * 86_400;

  it("absorbs a repeat up to one second before the window's end, not at it", () => {
    const asked = { unitId: h("11"), dutyTypeIds: [h("22")], from: 1000, to: 2000 };
    expect(repeats(asked, 10_000 + window - 1, earlier, window)).to.equal(true);
    expect(repeats(asked, 10_000 + window, earlier, window)).to.equal(false);
    expect(repeats({ ...asked, from: 999 }, 10_001, earlier, window)).to.equal(false);
    expect(repeats({ ...asked, dutyTypeIds: [h("22"), h("55")] }, 10_001, earlier, window)).to.equal(false);
    expect(repeats({ ...asked, unitId: h("12") }, 10_001, earlier, window)).to.equal(false);
    for (const decision of ["refused_off_list", "refused_over_quota", "duplicate_absorbed"] as const) {
      expect(repeats(asked, 10_001, { ...earlier, decision }, window)).to.equal(false);
    }
    const older = { ...earlier, demandId: h("bb"), decidedAt: 9_000 };
    expect(findRepeated(asked, 10_001, [earlier, older], window)?.demandId).to.equal(h("bb"));
  });

  it("derives the duty list from level masks and the unit's own additions and removals", () => {
    const type = (levelMask: bigint, extra: Partial<DutyTypeFacts> = {}): DutyTypeFacts => ({
      id: h("22"),
      inCatalog: true,
      registered: true,
      active: true,
      levelMask,
      ...extra,
    });
    const none = { added: [], removed: [] };
    expect(offListReason(type(0n), 2, none)).to.equal(null);
    expect(offListReason(type(1n << 3n), 3, none)).to.equal(null);
    expect(offListReason(type(1n << 3n), 2, none)).to.equal("level_not_applicable");
    expect(offListReason(type(1n << 3n), 2, { added: [h("22")], removed: [] })).to.equal(null);
    expect(offListReason(type(0n), 2, { added: [], removed: [h("22")] })).to.equal("removed_from_unit_list");
    expect(offListReason(type(0n), 2, { added: [h("22")], removed: [h("22")] })).to.equal("removed_from_unit_list");
    expect(offListReason(type(0n, { active: false }), 2, none)).to.equal("inactive");
    expect(offListReason(type(0n, { inCatalog: false }), 2, none)).to.equal("not_in_catalog");
  });

  const facts = (extra: Partial<DecisionFacts>): DecisionFacts => ({
    demand: { ...demand, onSite: true },
    now: yearStartOf(2027) - 10,
    offList: [],
    matchedByDutyType: {},
    onSiteUsed: 0,
    quotaLimit: 5,
    ...extra,
  });

  it("admits the 5th on-site inspection and refuses the 6th unless it is an emergency", () => {
    expect(decide(facts({ onSiteUsed: 4 }))).to.deep.include({
      decision: "on_site_admitted",
      quota: { year: 2026, used: 5, limit: 5 },
    });
    expect(decide(facts({ onSiteUsed: 5 })).decision).to.equal("refused_over_quota");
    const emergency = { ...demand, onSite: true, emergency: { reason: "flood" } };
    expect(decide(facts({ onSiteUsed: 5, demand: emergency })).decision).to.equal("on_site_emergency");
    expect(quotaOf({ perYear: 5, byLevel: { 3: 2 } }, 3)).to.equal(2);
    expect(quotaOf({ perYear: 5, byLevel: { 3: 2 } }, 2)).to.equal(5);
  });

  it("decides in order: off-list, emergency, repeat, ledger, quota, task", () => {
    const offList = [{ dutyTypeId: h("22"), reason: "inactive" as const }];
    const all = { [h("22")]: 1, [h("33")]: 3 };
    expect(decide(facts({ offList, matchedByDutyType: all })).decision).to.equal("refused_off_list");
    expect(decide(facts({ repeated: { demandId: h("aa") }, matchedByDutyType: all })).decision).to.equal(
      "duplicate_absorbed",
    );
    expect(decide(facts({ matchedByDutyType: all, onSiteUsed: 5 }))).to.include({
      decision: "answered_from_ledger",
      matched: 4,
    });
    const some = { [h("22")]: 1 };
    expect(decide(facts({ demand, matchedByDutyType: some })).decision).to.equal("task_created");
  });

  it("aggregates reports with hours saved and proves no admission beyond the quota", () => {
    const fact = (i: number, decision: DemandFact["decision"], extra: Partial<DemandFact> = {}): DemandFact => ({
      demandId: String(i),
      unitId: "u1",
      department: "civil-affairs",
      decidedAt: yearStartOf(2026) + i,
      decision,
      onSite: false,
      emergency: false,
      taskAnswered: false,
      ...extra,
    });
    const list = [
      fact(1, "answered_from_ledger"),
      fact(2, "duplicate_absorbed"),
      fact(3, "refused_off_list"),
      fact(4, "refused_over_quota", { onSite: true }),
      fact(5, "task_created", { taskAnswered: true, department: 'dept "a", b' }),
      fact(6, "on_site_admitted", { onSite: true }),
      fact(7, "on_site_admitted", { onSite: true }),
      fact(8, "on_site_emergency", { onSite: true, emergency: true }),
    ];
    const hours = { document: 4, onSite: 8 };
    const byUnit = aggregate(list, { groupBy: "unit", hours, quotaOfUnit: () => 1 });
    expect(byUnit.rows[0]).to.deep.equal({
      key: "u1",
      demands: 8,
      answeredFromLedger: 1,
      duplicatesAbsorbed: 1,
      offListRefused: 1,
      overQuotaRefused: 1,
      tasksCreated: 1,
      tasksAnswered: 1,
      onSiteAdmitted: 2,
      onSiteQuotaPerYear: 1,
      emergencies: 1,
      overQuotaWithoutEmergency: 1,
      hoursSaved: 4 + 4 + 4 + 8,
    });
    const windowed = aggregate(list, {
      groupBy: "month",
      hours,
      quotaOfUnit: () => 5,
      from: yearStartOf(2026) + 2,
      to: yearStartOf(2026) + 4,
    });
    expect(windowed.totals.demands).to.equal(2);
    expect(windowed.rows[0]!.key).to.equal("2026-01");
    const csv = reportCsv(aggregate(list, { groupBy: "department", hours, quotaOfUnit: () => 5 }));
    expect(csv.split("\r\n")[2]).to.match(/^"dept ""a"", b",1,/);
  });

  it("reads its settings from the environment and refuses nonsense", () => {
    const s = burdenSettingsFromEnvironment({
      BURDEN_DUPLICATE_WINDOW_DAYS: "30",
      BURDEN_ONSITE_QUOTA: "4",
      BURDEN_ONSITE_QUOTA_BY_LEVEL: "2:5,3:2",
      BURDEN_HOURS_PER_DEMAND: "document:3,onSite:6.5",
    });
    expect(s).to.deep.include({ duplicateWindowSeconds: 30 * 86_400, hours: { document: 3, onSite: 6.5 } });
    expect(s.quota).to.deep.equal({ perYear: 4, byLevel: { 2: 5, 3: 2 } });
    expect(() => burdenSettingsFromEnvironment({ BURDEN_ONSITE_QUOTA: "-1" })).to.throw(/BURDEN_ONSITE_QUOTA/);
    expect(() => burdenSettingsFromEnvironment({ BURDEN_HOURS_PER_DEMAND: "visit:3" })).to.throw(/kinds/);
  });
});
