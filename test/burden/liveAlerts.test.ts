/**
 * The live-monitoring rules, pure: the per-department threshold at N and N + 1, a unit's usual
 * level (trailing mean + k·sd, with its floor), the months and ISO weeks of China time, the
 * digest's CSV and the settings read from the environment.
 */
import { expect } from "chai";
import {
  type AlertThresholds,
  type RequestFact,
  evaluateAlerts,
  monthCounters,
  monthRange,
  monthsBefore,
  weekOfTime,
  weekRange,
} from "../../server/burden/liveAlerts.ts";
import { type WeeklyDigest, digestCsv } from "../../server/burden/LiveMonitor.ts";
import { liveSettingsFromEnvironment } from "../../server/burden/liveSettings.ts";

const thresholds: AlertThresholds = { requestsPerUnitMonth: 3, usualMonths: 3, usualSigmas: 2, usualFloor: 4 };
const unitA = "0x" + "aa".repeat(32);
const unitB = "0x" + "bb".repeat(32);
let serial = 0;
const facts = (n: number, month: string, unitId = unitA, department = "civil-affairs", kind = "evidence") =>
  Array.from({ length: n }, (_, i): RequestFact => ({
    requestId: `r${serial++}`,
    unitId,
    department,
    kind,
    decidedAt: monthRange(month).from + i * 3600,
  }));

describe("live monitoring rules", () => {
  it("raises a department's alert at N + 1 requests to one unit in a month, not at N", () => {
    const atN = evaluateAlerts(facts(3, "2026-11"), thresholds, "2026-11");
    expect(atN.filter((a) => a.rule === "department_over_threshold")).to.deep.equal([]);
    const overN = evaluateAlerts(facts(4, "2026-11"), thresholds, "2026-11");
    expect(overN.filter((a) => a.rule === "department_over_threshold")).to.deep.equal([
      {
        alertId: `department_over_threshold:2026-11:${unitA}:civil-affairs`,
        rule: "department_over_threshold",
        month: "2026-11",
        unitId: unitA,
        department: "civil-affairs",
        count: 4,
        limit: 3,
      },
    ]);
  });

  it("counts each department and unit on its own, and only the month asked", () => {
    const list = [
      ...facts(3, "2026-11", unitA, "civil-affairs"),
      ...facts(3, "2026-11", unitA, "emergency-management"),
      ...facts(3, "2026-11", unitB, "civil-affairs"),
      ...facts(9, "2026-10", unitA, "civil-affairs"),
    ];
    expect(evaluateAlerts(list, thresholds, "2026-11").filter((a) => a.rule === "department_over_threshold")).to.be
      .empty;
  });

  it("puts the month's edge at midnight China time", () => {
    const list = facts(3, "2026-11");
    const edge = monthRange("2026-12").from; // 2026-11-30T16:00:00Z
    expect(new Date(edge * 1000).toISOString()).to.equal("2026-11-30T16:00:00.000Z");
    list.push({ requestId: "late", unitId: unitA, department: "civil-affairs", kind: "evidence", decidedAt: edge - 1 });
    expect(evaluateAlerts(list, thresholds, "2026-11").map((a) => a.rule)).to.include("department_over_threshold");
    list.pop();
    list.push({ requestId: "next", unitId: unitA, department: "civil-affairs", kind: "evidence", decidedAt: edge });
    expect(evaluateAlerts(list, thresholds, "2026-11").map((a) => a.rule)).not.to.include("department_over_threshold");
  });

  it("raises a unit's alert above mean + k·sd of its earlier months, at the limit not", () => {
    // Earlier months 2, 4, 6: mean 4, sd √(8/3) ≈ 1.633, limit 4 + 2·1.633 ≈ 7.27.
    const history = [...facts(2, "2026-08"), ...facts(4, "2026-09"), ...facts(6, "2026-10")];
    const spread = (n: number) =>
      [...history, ...facts(n, "2026-11").map((f, i) => ({ ...f, department: `dept-${i}` }))].filter(Boolean);
    const at7 = evaluateAlerts(spread(7), thresholds, "2026-11");
    expect(at7.filter((a) => a.rule === "unit_above_usual")).to.be.empty;
    const at8 = evaluateAlerts(spread(8), thresholds, "2026-11");
    expect(at8.filter((a) => a.rule === "unit_above_usual")).to.deep.equal([
      {
        alertId: `unit_above_usual:2026-11:${unitA}`,
        rule: "unit_above_usual",
        month: "2026-11",
        unitId: unitA,
        count: 8,
        limit: 7.266,
        usual: { months: 3, mean: 4, sd: 1.633 },
      },
    ]);
  });

  it("holds a unit without history to the floor: floor passes, floor + 1 fires", () => {
    const spread = (n: number) => facts(n, "2026-11").map((f, i) => ({ ...f, department: `dept-${i}` }));
    expect(evaluateAlerts(spread(4), thresholds, "2026-11")).to.be.empty;
    expect(evaluateAlerts(spread(5), thresholds, "2026-11").map((a) => a.rule)).to.deep.equal(["unit_above_usual"]);
  });

  it("counts the month per kind, unit and department", () => {
    const list = [
      ...facts(2, "2026-11", unitA),
      ...facts(1, "2026-11", unitB, "x", "inspection"),
      ...facts(5, "2026-10"),
    ];
    expect(monthCounters(list, "2026-11")).to.deep.equal({
      requests: 3,
      byKind: { evidence: 2, inspection: 1 },
      units: [
        { key: unitA, count: 2 },
        { key: unitB, count: 1 },
      ],
      departments: [
        { key: "civil-affairs", count: 2 },
        { key: "x", count: 1 },
      ],
    });
  });

  it("knows months and ISO weeks in China time", () => {
    expect(monthsBefore("2026-02", 3)).to.deep.equal(["2025-11", "2025-12", "2026-01"]);
    const w49 = weekRange("2026-W49")!;
    // Monday 30 November 2026, 00:00 China time.
    expect(new Date(w49.from * 1000).toISOString()).to.equal("2026-11-29T16:00:00.000Z");
    expect(w49.to - w49.from).to.equal(7 * 86_400);
    expect(weekOfTime(w49.from)).to.equal("2026-W49");
    expect(weekOfTime(w49.from - 1)).to.equal("2026-W48");
    expect(weekOfTime(w49.to - 1)).to.equal("2026-W49");
    // 2026 has 53 ISO weeks (it starts on a Thursday), 2027 has 52.
    expect(weekRange("2026-W53")).to.not.equal(undefined);
    expect(weekRange("2027-W53")).to.equal(undefined);
    expect(weekOfTime(weekRange("2027-W01")!.from)).to.equal("2027-W01");
    expect(weekRange("2026-W00")).to.equal(undefined);
  });

  it("writes the digest as CSV with whatever counters the report has", () => {
    const row = (key: string, demands: number) => ({
      key,
      demands,
      answeredFromLedger: 0,
      duplicatesAbsorbed: 0,
      offListRefused: 0,
      overQuotaRefused: 0,
      tasksCreated: demands,
      tasksAnswered: 0,
      onSiteAdmitted: 0,
      emergencies: 0,
      overQuotaWithoutEmergency: 0,
      hoursSaved: 0,
    });
    const digest: WeeklyDigest = {
      format: "dutyproof/burden-digest/v1",
      week: "2026-W49",
      ...weekRange("2026-W49")!,
      byUnit: { groupBy: "unit", rows: [{ ...row(unitA, 4), onSiteQuotaPerYear: 5 }], totals: row("total", 4) },
      byDepartment: { groupBy: "department", rows: [row('dept "a", b', 4)], totals: row("total", 4) },
      alerts: evaluateAlerts(facts(4, "2026-12", unitA, 'dept "a", b'), thresholds, "2026-12"),
    };
    const lines = digestCsv(digest).split("\r\n");
    expect(lines[0]).to.equal(
      "week,scope,key,demands,answeredFromLedger,duplicatesAbsorbed,offListRefused,overQuotaRefused,tasksCreated,tasksAnswered,onSiteAdmitted,emergencies,overQuotaWithoutEmergency,hoursSaved,onSiteQuotaPerYear,alerts",
    );
    expect(lines[1]).to.equal(`2026-W49,unit,${unitA},4,0,0,0,0,4,0,0,0,0,0,5,1`);
    expect(lines[2]).to.equal('2026-W49,department,"dept ""a"", b",4,0,0,0,0,4,0,0,0,0,0,,1');
    expect(lines[3]).to.equal("2026-W49,total,total,4,0,0,0,0,4,0,0,0,0,0,,1");
    expect(lines[4]).to.equal("");
  });

  it("reads its settings from the environment and refuses nonsense", () => {
    const s = liveSettingsFromEnvironment({
      BURDEN_ALERT_PER_UNIT_MONTH: "7",
      BURDEN_ALERT_USUAL_MONTHS: "4",
      BURDEN_ALERT_USUAL_SIGMAS: "1.5",
      BURDEN_ALERT_USUAL_FLOOR: "2",
      BURDEN_ALERT_WEBHOOK_URL: "https://alerts.county.example/hook",
      BURDEN_ALERT_WEBHOOK_SECRET: "0123456789abcdef",
    });
    expect(s).to.deep.equal({
      thresholds: { requestsPerUnitMonth: 7, usualMonths: 4, usualSigmas: 1.5, usualFloor: 2 },
      webhook: { url: "https://alerts.county.example/hook", secret: "0123456789abcdef", maxAttempts: 5 },
    });
    expect(liveSettingsFromEnvironment({}).webhook).to.equal(undefined);
    expect(() => liveSettingsFromEnvironment({ BURDEN_ALERT_PER_UNIT_MONTH: "2.5" })).to.throw(/integer/);
    expect(() => liveSettingsFromEnvironment({ BURDEN_ALERT_USUAL_MONTHS: "0" })).to.throw(/>= 1/);
    expect(() => liveSettingsFromEnvironment({ BURDEN_ALERT_WEBHOOK_URL: "ftp://x/" })).to.throw(/http/);
    expect(() =>
      liveSettingsFromEnvironment({ BURDEN_ALERT_WEBHOOK_URL: "https://x/", BURDEN_ALERT_WEBHOOK_SECRET: "short" }),
    ).to.throw(/16 characters/);
  });
});
