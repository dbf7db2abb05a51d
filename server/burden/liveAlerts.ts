/**
 * Live monitoring of the burden (实时监测): the thresholds a county sets, the alerts they raise
 * over the requests decided so far, and the calendar arithmetic of months and ISO weeks in
 * China time. Pure: the monitor hands in the requests and the month.
 *
 * Every kind of request counts the same way: a request is a unit, a department, a kind and the
 * time the gate decided it, whatever the decision (a refused request still landed on the gate,
 * and a department that sends many is the pressure the thresholds watch).
 */
import { CALENDAR_OFFSET_SECONDS } from "./rules.ts";

/** A decided request, as the monitor counts it. */
export interface RequestFact {
  requestId: string;
  unitId: string;
  department: string; // the requesting department's code
  kind: string; // "evidence", "inspection", or a kind of the gate's (meeting, data, …)
  decidedAt: number; // Unix seconds
}

/** The thresholds (docs/operations.md, the burden rules' settings). */
export interface AlertThresholds {
  /** One department sending a unit more than this many requests in a calendar month raises an alert. */
  requestsPerUnitMonth: number;
  /** How many earlier calendar months make a unit's usual level. */
  usualMonths: number;
  /** A unit's month above mean + usualSigmas · standard deviation of the earlier months raises an alert. */
  usualSigmas: number;
  /** A unit's month at or below this many requests never counts as beyond its usual level. */
  usualFloor: number;
}

export type AlertRule = "department_over_threshold" | "unit_above_usual";

/** An alert: which rule, which unit (and department), which month, the count and the limit it passed. */
export interface BurdenAlert {
  /** Stable for a rule, month, unit and department: raised once, deduplicated by receivers. */
  alertId: string;
  rule: AlertRule;
  month: string; // YYYY-MM, UTC+8
  unitId: string;
  department?: string; // department_over_threshold only
  count: number; // requests in the month so far
  limit: number; // the count above which the rule fires
  /** unit_above_usual only: the earlier months' mean and standard deviation of requests. */
  usual?: { months: number; mean: number; sd: number };
}

const DAY = 86_400;

/** YYYY-MM of a Unix time, UTC+8. */
export function monthOfTime(t: number): string {
  return new Date((t + CALENDAR_OFFSET_SECONDS) * 1000).toISOString().slice(0, 7);
}

/** [from, to) of a calendar month YYYY-MM (UTC+8), Unix seconds. */
export function monthRange(month: string): { from: number; to: number } {
  const [year, mm] = month.split("-").map(Number) as [number, number];
  return {
    from: Date.UTC(year, mm - 1, 1) / 1000 - CALENDAR_OFFSET_SECONDS,
    to: Date.UTC(year, mm, 1) / 1000 - CALENDAR_OFFSET_SECONDS,
  };
}

/** The `n` calendar months before `month`, oldest first. */
export function monthsBefore(month: string, n: number): string[] {
  const [year, mm] = month.split("-").map(Number) as [number, number];
  const months: string[] = [];
  for (let i = n; i >= 1; i--) months.push(new Date(Date.UTC(year, mm - 1 - i, 1)).toISOString().slice(0, 7));
  return months;
}

/** The span `evaluateAlerts` needs for `month`: its usual months and itself. */
export function alertWindow(month: string, thresholds: AlertThresholds): { from: number; to: number } {
  const first = thresholds.usualMonths > 0 ? monthsBefore(month, thresholds.usualMonths)[0]! : month;
  return { from: monthRange(first).from, to: monthRange(month).to };
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/**
 * The alerts of `month` over `facts` (those outside the month and its usual months are ignored):
 * - department_over_threshold: one department's requests to one unit in the month exceed
 *   `requestsPerUnitMonth` (N passes, N + 1 fires);
 * - unit_above_usual: a unit's requests in the month exceed max(usualFloor, mean + k·sd), where
 *   mean and sd (population) are of its requests in each of the `usualMonths` months before,
 *   months without requests counting as 0.
 * Sorted by alert id, so equal inputs give equal answers.
 */
export function evaluateAlerts(
  facts: Iterable<RequestFact>,
  thresholds: AlertThresholds,
  month: string,
): BurdenAlert[] {
  const earlier = monthsBefore(month, thresholds.usualMonths);
  const earlierIndex = new Map(earlier.map((m, i) => [m, i]));
  const perUnitDepartment = new Map<string, { unitId: string; department: string; count: number }>();
  const perUnit = new Map<string, { count: number; earlier: number[] }>();
  const unitOf = (unitId: string) => {
    let unit = perUnit.get(unitId);
    if (!unit) perUnit.set(unitId, (unit = { count: 0, earlier: earlier.map(() => 0) }));
    return unit;
  };
  for (const fact of facts) {
    const factMonth = monthOfTime(fact.decidedAt);
    if (factMonth === month) {
      unitOf(fact.unitId).count++;
      const key = `${fact.unitId}\n${fact.department}`;
      const pair = perUnitDepartment.get(key) ?? { unitId: fact.unitId, department: fact.department, count: 0 };
      pair.count++;
      perUnitDepartment.set(key, pair);
    } else {
      const i = earlierIndex.get(factMonth);
      if (i !== undefined) unitOf(fact.unitId).earlier[i]!++;
    }
  }
  const alerts: BurdenAlert[] = [];
  for (const pair of perUnitDepartment.values()) {
    if (pair.count <= thresholds.requestsPerUnitMonth) continue;
    alerts.push({
      alertId: `department_over_threshold:${month}:${pair.unitId}:${pair.department}`,
      rule: "department_over_threshold",
      month,
      unitId: pair.unitId,
      department: pair.department,
      count: pair.count,
      limit: thresholds.requestsPerUnitMonth,
    });
  }
  for (const [unitId, unit] of perUnit) {
    if (unit.count === 0) continue;
    const n = unit.earlier.length;
    const mean = n === 0 ? 0 : unit.earlier.reduce((a, b) => a + b, 0) / n;
    const sd = n === 0 ? 0 : Math.sqrt(unit.earlier.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    const limit = Math.max(thresholds.usualFloor, mean + thresholds.usualSigmas * sd);
    if (unit.count <= limit) continue;
    alerts.push({
      alertId: `unit_above_usual:${month}:${unitId}`,
      rule: "unit_above_usual",
      month,
      unitId,
      count: unit.count,
      limit: round(limit),
      usual: { months: n, mean: round(mean), sd: round(sd) },
    });
  }
  return alerts.sort((a, b) => (a.alertId < b.alertId ? -1 : a.alertId > b.alertId ? 1 : 0));
}

/** Requests of `month` per kind, per unit and per department: the live counters. */
export function monthCounters(facts: Iterable<RequestFact>, month: string) {
  const byKind: Record<string, number> = {};
  const units = new Map<string, number>();
  const departments = new Map<string, number>();
  let requests = 0;
  for (const fact of facts) {
    if (monthOfTime(fact.decidedAt) !== month) continue;
    requests++;
    byKind[fact.kind] = (byKind[fact.kind] ?? 0) + 1;
    units.set(fact.unitId, (units.get(fact.unitId) ?? 0) + 1);
    departments.set(fact.department, (departments.get(fact.department) ?? 0) + 1);
  }
  const sorted = (m: Map<string, number>) =>
    [...m].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1));
  return { requests, byKind, units: sorted(units), departments: sorted(departments) };
}

/** An ISO 8601 week, YYYY-Www. */
export const ISO_WEEK = /^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$/;

/** Unix seconds where ISO week 1 of `year` begins (Monday 00:00, UTC+8). */
function weekOneStart(year: number): number {
  const jan4 = Date.UTC(year, 0, 4) / 1000;
  const weekday = (new Date(jan4 * 1000).getUTCDay() + 6) % 7; // Monday 0
  return jan4 - weekday * DAY - CALENDAR_OFFSET_SECONDS;
}

/** The ISO week (UTC+8) of a Unix time. */
export function weekOfTime(t: number): string {
  const local = new Date((t + CALENDAR_OFFSET_SECONDS) * 1000);
  // The ISO year is that of the week's Thursday.
  const thursday = new Date(local);
  thursday.setUTCDate(local.getUTCDate() + 3 - ((local.getUTCDay() + 6) % 7));
  const year = thursday.getUTCFullYear();
  const week = Math.floor((t - weekOneStart(year)) / (7 * DAY)) + 1;
  return `${year}-W${String(week).padStart(2, "0")}`;
}

/** [from, to) of an ISO week YYYY-Www (Monday 00:00 UTC+8, seven days); undefined when no such week. */
export function weekRange(week: string): { from: number; to: number } | undefined {
  const match = ISO_WEEK.exec(week);
  if (!match) return undefined;
  const from = weekOneStart(Number(match[1])) + (Number(match[2]) - 1) * 7 * DAY;
  // W53 exists only in long years: it must name itself back.
  if (weekOfTime(from) !== week) return undefined;
  return { from, to: from + 7 * DAY };
}
