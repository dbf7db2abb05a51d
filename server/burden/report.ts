/**
 * Burden reports: demands on the grassroots aggregated per unit, department or month, with the
 * staff hours the rules saved. Pure: the service hands in the demands of the period.
 */
import type { Decision } from "./demand.ts";
import { CALENDAR_OFFSET_SECONDS, calendarYearOf } from "./rules.ts";

/** A decided demand, as a report needs it. */
export interface DemandFact {
  demandId: string;
  unitId: string;
  department: string;
  decidedAt: number; // Unix seconds
  decision: Decision;
  onSite: boolean;
  emergency: boolean;
  taskAnswered: boolean; // a task (or admitted on-site inspection) the unit answered by attesting
}

/** Staff hours one demand costs a unit when it has to answer it, by kind. */
export interface HoursPerDemand {
  document: number; // compiling evidence for a document demand (台账, 材料)
  onSite: number; // hosting an on-site inspection
}

export type ReportGrouping = "unit" | "department" | "month";

export interface ReportRow {
  key: string; // unit id, department code or YYYY-MM (UTC+8)
  demands: number;
  answeredFromLedger: number;
  duplicatesAbsorbed: number;
  offListRefused: number;
  overQuotaRefused: number;
  tasksCreated: number;
  tasksAnswered: number;
  onSiteAdmitted: number; // counted against the quota
  onSiteQuotaPerYear?: number; // unit rows only
  emergencies: number;
  /** Admitted on-site inspections beyond the yearly quota without an emergency (must be 0). */
  overQuotaWithoutEmergency: number;
  hoursSaved: number;
}

export interface Report {
  groupBy: ReportGrouping;
  from?: number;
  to?: number;
  rows: ReportRow[];
  totals: ReportRow;
}

/** Demands that cost the unit nothing new: answered from the ledger, absorbed or refused. */
const SAVES: ReadonlySet<Decision> = new Set([
  "answered_from_ledger",
  "duplicate_absorbed",
  "refused_off_list",
  "refused_over_quota",
]);

/** Hours a demand saved the unit: what answering it by hand would have cost, when it did not have to. */
export function hoursSavedBy(fact: DemandFact, hours: HoursPerDemand): number {
  return SAVES.has(fact.decision) ? (fact.onSite ? hours.onSite : hours.document) : 0;
}

export function monthOf(t: number): string {
  return new Date((t + CALENDAR_OFFSET_SECONDS) * 1000).toISOString().slice(0, 7);
}

function emptyRow(key: string): ReportRow {
  return {
    key,
    demands: 0,
    answeredFromLedger: 0,
    duplicatesAbsorbed: 0,
    offListRefused: 0,
    overQuotaRefused: 0,
    tasksCreated: 0,
    tasksAnswered: 0,
    onSiteAdmitted: 0,
    emergencies: 0,
    overQuotaWithoutEmergency: 0,
    hoursSaved: 0,
  };
}

function add(row: ReportRow, fact: DemandFact, hours: HoursPerDemand): void {
  row.demands++;
  if (fact.decision === "answered_from_ledger") row.answeredFromLedger++;
  if (fact.decision === "duplicate_absorbed") row.duplicatesAbsorbed++;
  if (fact.decision === "refused_off_list") row.offListRefused++;
  if (fact.decision === "refused_over_quota") row.overQuotaRefused++;
  if (fact.decision === "task_created") row.tasksCreated++;
  if (fact.taskAnswered) row.tasksAnswered++;
  if (fact.decision === "on_site_admitted") row.onSiteAdmitted++;
  if (fact.emergency && fact.decision === "on_site_emergency") row.emergencies++;
  row.hoursSaved += hoursSavedBy(fact, hours);
}

/**
 * Aggregates the facts whose `decidedAt` lies in [from, to) (all when absent). `quotaOfUnit`
 * gives a unit's yearly on-site quota; admitted inspections beyond it in any calendar year are
 * counted as over quota without emergency (the rules never admit one; the count proves it).
 */
export function aggregate(
  facts: Iterable<DemandFact>,
  options: {
    groupBy: ReportGrouping;
    hours: HoursPerDemand;
    quotaOfUnit: (unitId: string) => number;
    from?: number;
    to?: number;
  },
): Report {
  const rows = new Map<string, ReportRow>();
  const totals = emptyRow("total");
  const admittedPerUnitYear = new Map<string, { unitId: string; count: number; key: string }>();
  for (const fact of facts) {
    if (options.from !== undefined && fact.decidedAt < options.from) continue;
    if (options.to !== undefined && fact.decidedAt >= options.to) continue;
    const key =
      options.groupBy === "unit"
        ? fact.unitId
        : options.groupBy === "department"
          ? fact.department
          : monthOf(fact.decidedAt);
    let row = rows.get(key);
    if (!row) rows.set(key, (row = emptyRow(key)));
    add(row, fact, options.hours);
    add(totals, fact, options.hours);
    if (fact.decision === "on_site_admitted") {
      const unitYear = `${fact.unitId}:${calendarYearOf(fact.decidedAt)}`;
      const counter = admittedPerUnitYear.get(unitYear) ?? { unitId: fact.unitId, count: 0, key };
      counter.count++;
      admittedPerUnitYear.set(unitYear, counter);
      if (counter.count > options.quotaOfUnit(fact.unitId)) {
        row.overQuotaWithoutEmergency++;
        totals.overQuotaWithoutEmergency++;
      }
    }
  }
  if (options.groupBy === "unit")
    for (const row of rows.values()) row.onSiteQuotaPerYear = options.quotaOfUnit(row.key);
  return {
    groupBy: options.groupBy,
    ...(options.from !== undefined ? { from: options.from } : {}),
    ...(options.to !== undefined ? { to: options.to } : {}),
    rows: [...rows.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    totals,
  };
}

const CSV_COLUMNS: Array<keyof ReportRow> = [
  "key",
  "demands",
  "answeredFromLedger",
  "duplicatesAbsorbed",
  "offListRefused",
  "overQuotaRefused",
  "tasksCreated",
  "tasksAnswered",
  "onSiteAdmitted",
  "onSiteQuotaPerYear",
  "emergencies",
  "overQuotaWithoutEmergency",
  "hoursSaved",
];

const csvCell = (value: unknown): string => {
  const text = value === undefined ? "" : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/** The report as CSV (RFC 4180, CRLF line ends), one row per group and a final total row. */
export function reportCsv(report: Report): string {
  const header = [report.groupBy, ...CSV_COLUMNS.slice(1)].join(",");
  const lines = [...report.rows, report.totals].map((row) => CSV_COLUMNS.map((c) => csvCell(row[c])).join(","));
  return [header, ...lines].join("\r\n") + "\r\n";
}
