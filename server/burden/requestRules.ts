/**
 * The gate's rules for burden requests beyond evidence (基层事务熔断), as pure functions: the
 * service reads the facts (lists, lead departments, earlier requests, the ledger's records) and
 * the time, this decides. The rules run in the fixed order of docs/protocol.md §4 ("Order of the
 * rules"); the first that decides wins, and conflicts are flagged on whatever follows.
 */
import {
  type DataItem,
  type RequestConflict,
  type RequestDecision,
  type RequestEntry,
  type RequestEnvelope,
  type RequestKind,
  type RequestOffListItem,
  type RequestOutcome,
  type RequestReason,
  dataItemKey,
} from "../core/request.ts";
import { CALENDAR_OFFSET_SECONDS, calendarYearOf } from "./rules.ts";

/** The gate's settings for requests (docs/operations.md, "Burden gate settings"). */
export interface GateSettings {
  /** A request repeating one decided less than this long ago is absorbed, seconds. */
  duplicateWindowSeconds: number;
  /** Evaluations of one unit per calendar year (emergencies aside). */
  evaluationsPerYear: number;
  /** A department's share of a unit's yearly on-site quota, as a fraction (at least one visit). */
  onSiteShare: number;
  /** Longest secondment without approval, days (3 months). */
  secondmentMaxDays: number;
  /** Longest extension without approval, days; a second extension always needs one. */
  extensionMaxDays: number;
  /** Deadlines for one data item further apart than this are flagged as a conflict, seconds. */
  deadlineToleranceSeconds: number;
  /** Staff hours one data item of a form costs a unit to fill in (burden reports). */
  hoursPerDataItem: number;
}

export const defaultGateSettings: GateSettings = {
  duplicateWindowSeconds: 90 * 86_400,
  evaluationsPerYear: 5,
  onSiteShare: 0.4,
  secondmentMaxDays: 92,
  extensionMaxDays: 92,
  deadlineToleranceSeconds: 7 * 86_400,
  hoursPerDataItem: 0.5,
};

/** What the gate (and the index) keeps of a decided request. */
export interface IndexedRequest {
  requestId: string;
  leafIndex: number;
  kind: RequestKind;
  unitId: string;
  department: string;
  inspector: string;
  decision: RequestDecision;
  reasonCode: RequestReason;
  decidedAt: number;
  /** The request's own time window: a visit's or evaluation's [from, to), a meeting's hours, a data period, a secondment's days. */
  from: number;
  to: number;
  topic?: string;
  domain?: string;
  dutyTypeIds?: string[];
  items?: Array<{ key: string; value?: string }>;
  deadline?: number;
  role?: string;
  extends?: string;
  emergency?: boolean;
  duplicateOf?: string;
  mergedWith?: string;
  missing?: string[];
  answered?: number; // data items answered from the ledger
  conflicts?: RequestConflict[];
  meetingMinutes?: number;
  roles?: string[];
  days?: number;
}

const DAY = 86_400;

/** The window a request occupies, by kind. */
export function windowOf(request: RequestEnvelope): { from: number; to: number } {
  switch (request.kind) {
    case "meeting":
      return { from: request.start, to: request.start + request.durationMinutes * 60 };
    case "secondment":
      return { from: request.from, to: request.from + request.days * DAY };
    default:
      return { from: request.from, to: request.to };
  }
}

/** What the index keeps of a logged request. */
export function indexedRequestOf(entry: RequestEntry, leafIndex: number): IndexedRequest {
  const { request: r, outcome: o } = entry;
  const base: IndexedRequest = {
    requestId: entry.requestId,
    leafIndex,
    kind: r.kind,
    unitId: r.unitId,
    department: r.department,
    inspector: r.inspector,
    decision: o.decision,
    reasonCode: o.reasonCode,
    decidedAt: o.decidedAt,
    ...windowOf(r),
    ...(o.duplicateOf ? { duplicateOf: o.duplicateOf } : {}),
    ...(o.mergedWith ? { mergedWith: o.mergedWith } : {}),
    ...(o.missing ? { missing: o.missing } : {}),
    ...(o.answered ? { answered: o.answered.length } : {}),
    ...(o.conflicts ? { conflicts: o.conflicts } : {}),
  };
  switch (r.kind) {
    case "meeting":
      return { ...base, topic: r.topic, meetingMinutes: r.durationMinutes, roles: r.roles };
    case "inspection":
      return { ...base, domain: r.domain, dutyTypeIds: r.dutyTypeIds, emergency: r.emergency !== undefined };
    case "evaluation":
      return { ...base, domain: r.domain, topic: r.title, emergency: r.emergency !== undefined };
    case "data":
      return {
        ...base,
        items: r.items.map((i) => ({ key: dataItemKey(i), ...(i.value !== undefined ? { value: i.value } : {}) })),
        deadline: r.deadline,
      };
    case "secondment":
      return { ...base, role: r.role, days: r.days, ...(r.extends ? { extends: r.extends } : {}) };
  }
}

/** Whether a request stands (was not refused, absorbed or merged into another). */
export const stands = (r: Pick<IndexedRequest, "decision">): boolean =>
  r.decision !== "refused" && r.decision !== "duplicate_absorbed";

/** The Monday 00:00 (UTC+8) of the week of `t`. */
export function weekStartOf(t: number): number {
  const local = t + CALENDAR_OFFSET_SECONDS;
  const day = Math.floor(local / DAY);
  // 1970-01-01 was a Thursday: day 0 is weekday 3 counting from Monday.
  const weekday = (day + 3) % 7;
  return (day - weekday) * DAY - CALENDAR_OFFSET_SECONDS;
}

/** Whether two windows overlap or start in the same week (UTC+8). */
export function collide(a: { from: number; to: number }, b: { from: number; to: number }): boolean {
  return (a.from < b.to && b.from < a.to) || weekStartOf(a.from) === weekStartOf(b.from);
}

const normalise = (topic: string) => topic.trim().replace(/\s+/g, " ").toLowerCase();

/** Whether `request` repeats `earlier` (same unit and kind, the same thing asked). */
export function repeatsRequest(request: RequestEnvelope, earlier: IndexedRequest): boolean {
  if (earlier.unitId !== request.unitId || earlier.kind !== request.kind) return false;
  const w = windowOf(request);
  switch (request.kind) {
    case "meeting":
      return earlier.topic !== undefined && normalise(earlier.topic) === normalise(request.topic);
    case "data": {
      if (w.from < earlier.from || w.to > earlier.to) return false;
      const asked = new Map((earlier.items ?? []).map((i) => [i.key, i.value]));
      return request.items.every(
        (i) => asked.has(dataItemKey(i)) && (i.value === undefined || asked.get(dataItemKey(i)) === i.value),
      );
    }
    case "inspection":
      return (
        earlier.domain === request.domain &&
        w.from >= earlier.from &&
        w.to <= earlier.to &&
        request.dutyTypeIds.every((id) => earlier.dutyTypeIds?.includes(id))
      );
    case "evaluation":
      return (
        earlier.domain === request.domain &&
        earlier.topic !== undefined &&
        normalise(earlier.topic) === normalise(request.title) &&
        calendarYearOf(earlier.from) === calendarYearOf(w.from)
      );
    case "secondment":
      return (
        earlier.department === request.department &&
        earlier.role === request.role &&
        earlier.from === request.from &&
        earlier.extends === request.extends
      );
  }
}

/** Everything the decision needs, read by the service. */
export interface RequestFacts {
  request: RequestEnvelope;
  now: number; // Unix seconds, gateway clock
  settings: GateSettings;
  /** Duty types and data items asked that are off the unit's lists. */
  offList: RequestOffListItem[];
  /** The lead department of the request's domain (evaluations, inspections), when one is set. */
  leadDepartment?: string | undefined;
  /** The unit's requests decided in the duplicate window and the calendar years concerned, oldest first. */
  earlier: readonly IndexedRequest[];
  /** Records of the unit in the period holding each data item asked, by item key. */
  ledgerItems: Record<string, number>;
  /** For an extension: the secondment it extends and how many extensions that chain already has. */
  extended?: { found: boolean; extensionsBefore: number } | undefined;
  /** On-site visits counted against the unit's quota in the year of `now`: all, and this department's. */
  onSite?: { used: number; limit: number; departmentUsed: number } | undefined;
}

/** Why a request is refused, as an outcome. */
function refusal(
  base: { decidedAt: number },
  reasonCode: RequestReason,
  reason: string,
  extra: Partial<RequestOutcome> = {},
): RequestOutcome {
  return { ...base, decision: "refused", reasonCode, reason, ...extra };
}

/** Data items of `request` that contradict a standing request of another department. */
export function conflictsOf(
  request: RequestEnvelope,
  earlier: readonly IndexedRequest[],
  now: number,
  settings: GateSettings,
): RequestConflict[] {
  if (request.kind !== "data") return [];
  const conflicts: RequestConflict[] = [];
  for (const e of earlier) {
    if (e.kind !== "data" || !stands(e) || e.department === request.department || e.unitId !== request.unitId) continue;
    if (now - e.decidedAt >= settings.duplicateWindowSeconds) continue;
    const theirs = new Map((e.items ?? []).map((i) => [i.key, i.value]));
    for (const item of request.items) {
      const key = dataItemKey(item);
      if (!theirs.has(key)) continue;
      const value = theirs.get(key);
      if (item.value !== undefined && value !== undefined && item.value !== value) {
        conflicts.push({ requestId: e.requestId, department: e.department, item: key, on: "value" });
      } else if (
        e.deadline !== undefined &&
        Math.abs(e.deadline - request.deadline) > settings.deadlineToleranceSeconds
      ) {
        conflicts.push({ requestId: e.requestId, department: e.department, item: key, on: "deadline" });
      }
    }
  }
  return conflicts;
}

/** The request `request` joins: the earliest standing visit or meeting of the unit it collides with. */
export function mergeTarget(request: RequestEnvelope, earlier: readonly IndexedRequest[]): IndexedRequest | undefined {
  if (request.kind !== "meeting" && request.kind !== "inspection") return undefined;
  const w = windowOf(request);
  for (const e of earlier) {
    if (e.kind !== request.kind || e.unitId !== request.unitId || e.mergedWith) continue;
    if (e.decision !== "admitted" && e.decision !== "admitted_emergency") continue;
    if (collide(w, e)) return e;
  }
  return undefined;
}

/** The number of data items of a data request, and which the ledger answers. */
function itemsAnswered(items: readonly DataItem[], ledger: Record<string, number>) {
  const answered: Array<{ item: string; records: number }> = [];
  const missing: string[] = [];
  for (const item of items) {
    const key = dataItemKey(item);
    const records = ledger[key] ?? 0;
    if (records > 0) answered.push({ item: key, records });
    else missing.push(key);
  }
  return { answered, missing };
}

/**
 * The gate's decision on a request, in this order: off-list; a meeting without agenda items or
 * without decisions sought; an evaluation or inspection by a department that does not lead its
 * domain; a secondment or extension beyond its limit without approval; a repeat (absorbed); a
 * data request the ledger answers in full; a visit or meeting colliding with another (merged);
 * an emergency (admitted outside the quotas, reason stated); the evaluation cap and the on-site
 * quota with its fair share; then a task (data items the ledger lacks) or an admission.
 */
export function decideRequest(facts: RequestFacts): RequestOutcome {
  const { request, now, settings } = facts;
  const base = { decidedAt: now };
  if (facts.offList.length > 0) {
    return refusal(
      base,
      "refused.off_list",
      `${facts.offList.length} item(s) asked are not on the unit's duty list (权责清单) or data list (数据清单) and carry no approval`,
      { offList: facts.offList },
    );
  }
  if (request.kind === "meeting") {
    if (request.agenda.length === 0)
      return refusal(
        base,
        "refused.meeting_without_agenda",
        "a meeting without agenda items is not called (会议负面清单)",
      );
    if (request.decisionsSought.length === 0)
      return refusal(
        base,
        "refused.meeting_without_decisions",
        "a meeting that seeks no decision is not called (会议负面清单)",
      );
  }
  if (
    (request.kind === "evaluation" || request.kind === "inspection") &&
    facts.leadDepartment !== undefined &&
    facts.leadDepartment !== request.department
  ) {
    return refusal(
      base,
      "refused.not_lead_department",
      `${request.domain} is led by ${facts.leadDepartment}; read its results instead (谁主管谁考核)`,
      { leadDepartment: facts.leadDepartment },
    );
  }
  if (request.kind === "secondment" && request.approvalRef === undefined) {
    if (request.extends === undefined || !facts.extended?.found) {
      if (request.days > settings.secondmentMaxDays) {
        return refusal(
          base,
          "refused.secondment_over_limit",
          `a secondment of ${request.days} days exceeds ${settings.secondmentMaxDays} without a recorded approval`,
        );
      }
    } else if (facts.extended.extensionsBefore >= 1) {
      return refusal(
        base,
        "refused.extension_over_limit",
        "a secondment is extended once at most without a recorded approval",
      );
    } else if (request.days > settings.extensionMaxDays) {
      return refusal(
        base,
        "refused.extension_over_limit",
        `an extension of ${request.days} days exceeds ${settings.extensionMaxDays} without a recorded approval`,
      );
    }
  }
  const conflicts = conflictsOf(request, facts.earlier, now, settings);
  const flagged = conflicts.length > 0 ? { conflicts } : {};
  const repeated = facts.earlier.find(
    (e) =>
      stands(e) &&
      !e.mergedWith &&
      now - e.decidedAt >= 0 &&
      now - e.decidedAt < settings.duplicateWindowSeconds &&
      repeatsRequest(request, e),
  );
  if (repeated) {
    return {
      ...base,
      decision: "duplicate_absorbed",
      reasonCode: "absorbed.duplicate",
      reason: `already asked in ${repeated.requestId}; answered by it`,
      duplicateOf: repeated.requestId,
      ...flagged,
    };
  }
  if (request.kind === "data") {
    const { answered, missing } = itemsAnswered(request.items, facts.ledgerItems);
    if (missing.length === 0) {
      return {
        ...base,
        decision: "answered_from_ledger",
        reasonCode: "answered.ledger",
        reason: `all ${answered.length} item(s) are in the unit's records; no task for the unit (一次采集、多方复用)`,
        answered,
        ...flagged,
      };
    }
    return {
      ...base,
      decision: "task_created",
      reasonCode: answered.length > 0 ? "task.data_partly_answered" : "task.data_missing",
      reason: `${answered.length} item(s) answered from the ledger; the unit provides the ${missing.length} it lacks`,
      ...(answered.length > 0 ? { answered } : {}),
      missing,
      ...flagged,
    };
  }
  const target = mergeTarget(request, facts.earlier);
  if (target) {
    const meeting = request.kind === "meeting";
    return {
      ...base,
      decision: "merged",
      reasonCode: meeting ? "merged.combined_meeting" : "merged.joint_visit",
      reason: meeting
        ? `combined with meeting ${target.requestId} of ${target.department} in the same week (套开合并); attended once`
        : `joined to the visit ${target.requestId} of ${target.department} in the same week (联合检查); counted once`,
      mergedWith: target.requestId,
    };
  }
  const year = calendarYearOf(now);
  if ((request.kind === "evaluation" || request.kind === "inspection") && request.emergency) {
    return {
      ...base,
      decision: "admitted_emergency",
      reasonCode: "admitted.emergency",
      reason: `admitted as an emergency, outside the quota: ${request.emergency.reason}`,
    };
  }
  if (request.kind === "evaluation") {
    const evalYear = calendarYearOf(request.from);
    const used = facts.earlier.filter(
      (e) => e.kind === "evaluation" && e.decision === "admitted" && calendarYearOf(e.from) === evalYear,
    ).length;
    const quota = { year: evalYear, used, limit: settings.evaluationsPerYear };
    if (used >= settings.evaluationsPerYear) {
      return refusal(
        base,
        "refused.evaluation_cap",
        `the unit had ${used} evaluations in ${evalYear}, the most allowed; only an emergency with a stated reason is admitted`,
        { quota },
      );
    }
    return {
      ...base,
      decision: "admitted",
      reasonCode: "admitted",
      reason: `evaluation ${used + 1} of ${settings.evaluationsPerYear} in ${evalYear}`,
      quota: { ...quota, used: used + 1 },
    };
  }
  if (request.kind === "inspection" && facts.onSite) {
    const { used, limit, departmentUsed } = facts.onSite;
    const share = departmentShareOf(limit, settings);
    const quota = { year, used, limit, departmentUsed, departmentShare: share };
    if (used >= limit) {
      return refusal(
        base,
        "refused.on_site_quota",
        `the unit's on-site quota for ${year} is used (${used} of ${limit}); only an emergency with a stated reason is admitted`,
        { quota },
      );
    }
    if (departmentUsed >= share) {
      return refusal(
        base,
        "refused.on_site_fair_share",
        `${request.department} used its share (${departmentUsed} of ${share}) of the unit's ${limit} on-site visits in ${year}`,
        { quota },
      );
    }
    return {
      ...base,
      decision: "admitted",
      reasonCode: "admitted",
      reason: `on-site visit ${used + 1} of ${limit} in ${year}`,
      quota: { ...quota, used: used + 1, departmentUsed: departmentUsed + 1 },
    };
  }
  return { ...base, decision: "admitted", reasonCode: "admitted", reason: admittedReason(request) };
}

function admittedReason(request: RequestEnvelope): string {
  switch (request.kind) {
    case "meeting":
      return `meeting admitted; only ${request.roles.join(", ")} attend`;
    case "secondment":
      return request.approvalRef
        ? `secondment admitted under approval ${request.approvalRef}`
        : `secondment of ${request.days} days admitted`;
    default:
      return "admitted";
  }
}

/** A department's share of a unit's yearly on-site quota: at least one visit. */
export function departmentShareOf(limit: number, settings: GateSettings): number {
  return Math.max(1, Math.floor(limit * settings.onSiteShare));
}

/** Whether a decision counts a visit against the unit's on-site quota. */
export const countsOnSite = (r: Pick<IndexedRequest, "kind" | "decision">): boolean =>
  r.kind === "inspection" && r.decision === "admitted";

/** Whether a decision leaves the unit something to do (a task, an admitted visit, meeting, evaluation or secondment). */
export const isTask = (r: Pick<IndexedRequest, "decision">): boolean =>
  r.decision === "task_created" || r.decision === "admitted" || r.decision === "admitted_emergency";
