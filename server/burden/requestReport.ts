/**
 * The burden report of every kind (evidence demands and the gate's other requests), per unit,
 * department or month: received, answered from the ledger, merged, absorbed, refused by reason,
 * tasks, meeting hours, form items asked and answered from the ledger, secondment days and hours
 * saved. Pure: the service hands in the decided requests and demands.
 */
import { BURDEN_KINDS, type BurdenKind } from "../core/request.ts";
import type { IndexedDemand } from "./BurdenIndex.ts";
import type { ReportGrouping } from "./report.ts";
import { monthOf } from "./report.ts";
import type { IndexedRequest } from "./requestRules.ts";

/** Staff hours a request would have cost the unit, by what it asks. */
export interface GateHours {
  document: number; // compiling evidence for a document demand
  onSite: number; // hosting a visit or an evaluation
  dataItem: number; // filling in one data item of a form
}

/** One decided burden, whatever its kind, as the report counts it. */
export interface BurdenFact {
  id: string;
  kind: BurdenKind;
  unitId: string;
  department: string;
  decidedAt: number;
  outcome: "answered" | "absorbed" | "merged" | "refused" | "task" | "admitted";
  reasonCode: string;
  meetingAttendeeHours: number; // a meeting's hours times the roles asked to attend
  itemsAsked: number;
  itemsFromLedger: number;
  secondmentDays: number;
  onSite: boolean;
}

export interface KindReportRow {
  key: string;
  received: number;
  byKind: Record<BurdenKind, number>;
  answeredFromLedger: number;
  merged: number;
  absorbed: number;
  refused: number;
  refusedByReason: Record<string, number>;
  tasks: number;
  meetingHours: number; // attendee-hours of meetings the unit attends
  formItemsAsked: number;
  formItemsFromLedger: number;
  secondmentDays: number; // admitted
  hoursSaved: number;
}

export interface KindReport {
  groupBy: ReportGrouping;
  rows: KindReportRow[];
  totals: KindReportRow;
}

/** A decided request as the report counts it. */
export function requestFact(r: IndexedRequest): BurdenFact {
  const meetingAttendeeHours = r.kind === "meeting" ? ((r.meetingMinutes ?? 0) / 60) * (r.roles?.length ?? 1) : 0;
  return {
    id: r.requestId,
    kind: r.kind,
    unitId: r.unitId,
    department: r.department,
    decidedAt: r.decidedAt,
    outcome:
      r.decision === "answered_from_ledger"
        ? "answered"
        : r.decision === "duplicate_absorbed"
          ? "absorbed"
          : r.decision === "merged"
            ? "merged"
            : r.decision === "refused"
              ? "refused"
              : r.decision === "task_created"
                ? "task"
                : "admitted",
    reasonCode: r.reasonCode,
    meetingAttendeeHours,
    itemsAsked: r.items?.length ?? 0,
    itemsFromLedger: r.answered ?? 0,
    secondmentDays: r.kind === "secondment" ? (r.days ?? 0) : 0,
    onSite: r.kind === "inspection" || r.kind === "evaluation",
  };
}

/** A decided evidence demand as the report counts it. */
export function demandFact(d: IndexedDemand): BurdenFact {
  const refused = d.decision === "refused_off_list" || d.decision === "refused_over_quota";
  return {
    id: d.demandId,
    kind: "evidence",
    unitId: d.unitId,
    department: d.department,
    decidedAt: d.decidedAt,
    outcome:
      d.decision === "answered_from_ledger"
        ? "answered"
        : d.decision === "duplicate_absorbed"
          ? "absorbed"
          : refused
            ? "refused"
            : d.decision === "task_created"
              ? "task"
              : "admitted",
    reasonCode: refused
      ? d.decision === "refused_off_list"
        ? "refused.off_list"
        : "refused.on_site_quota"
      : d.decision,
    meetingAttendeeHours: 0,
    itemsAsked: 0,
    itemsFromLedger: 0,
    secondmentDays: 0,
    onSite: d.onSite,
  };
}

/** Hours a burden saved the unit: what it would have cost, when the gate spared it. */
export function hoursSaved(fact: BurdenFact, hours: GateHours): number {
  if (fact.kind === "data") {
    const spared = fact.outcome === "refused" || fact.outcome === "absorbed" ? fact.itemsAsked : fact.itemsFromLedger;
    return spared * hours.dataItem;
  }
  const spared =
    fact.outcome === "refused" ||
    fact.outcome === "absorbed" ||
    fact.outcome === "merged" ||
    fact.outcome === "answered";
  if (!spared) return 0;
  if (fact.kind === "meeting") return fact.meetingAttendeeHours;
  if (fact.kind === "secondment") return 0;
  return fact.onSite ? hours.onSite : hours.document;
}

function emptyRow(key: string): KindReportRow {
  return {
    key,
    received: 0,
    byKind: Object.fromEntries(BURDEN_KINDS.map((k) => [k, 0])) as Record<BurdenKind, number>,
    answeredFromLedger: 0,
    merged: 0,
    absorbed: 0,
    refused: 0,
    refusedByReason: {},
    tasks: 0,
    meetingHours: 0,
    formItemsAsked: 0,
    formItemsFromLedger: 0,
    secondmentDays: 0,
    hoursSaved: 0,
  };
}

function add(row: KindReportRow, fact: BurdenFact, hours: GateHours): void {
  row.received++;
  row.byKind[fact.kind]++;
  if (fact.outcome === "answered") row.answeredFromLedger++;
  if (fact.outcome === "merged") row.merged++;
  if (fact.outcome === "absorbed") row.absorbed++;
  if (fact.outcome === "refused") {
    row.refused++;
    row.refusedByReason[fact.reasonCode] = (row.refusedByReason[fact.reasonCode] ?? 0) + 1;
  }
  if (fact.outcome === "task" || fact.outcome === "admitted") row.tasks++;
  if (fact.kind === "meeting" && (fact.outcome === "admitted" || fact.outcome === "task"))
    row.meetingHours += fact.meetingAttendeeHours;
  row.formItemsAsked += fact.itemsAsked;
  row.formItemsFromLedger += fact.itemsFromLedger;
  if (fact.outcome === "admitted") row.secondmentDays += fact.secondmentDays;
  row.hoursSaved += hoursSaved(fact, hours);
}

/** Aggregates burdens of every kind, grouped by unit, department or month (UTC+8). */
export function aggregateKinds(
  facts: Iterable<BurdenFact>,
  options: { groupBy: ReportGrouping; hours: GateHours },
): KindReport {
  const rows = new Map<string, KindReportRow>();
  const totals = emptyRow("total");
  for (const fact of facts) {
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
  }
  return {
    groupBy: options.groupBy,
    rows: [...rows.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    totals,
  };
}
