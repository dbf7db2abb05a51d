/**
 * The burden-reduction rules as pure functions: a unit's duty list (权责清单), the duplicate-demand
 * window, the yearly on-site quota, and the decision that combines them. No I/O, no clock: the
 * service hands in the facts it read and the time.
 */
import type { Decision, DemandEnvelope, DemandOutcome, OffListItem } from "./demand.ts";

/** Calendar years are counted in China Standard Time (UTC+8, no daylight saving). */
export const CALENDAR_OFFSET_SECONDS = 8 * 3600;

/** The calendar year (UTC+8) of a Unix time. */
export function calendarYearOf(t: number): number {
  return new Date((t + CALENDAR_OFFSET_SECONDS) * 1000).getUTCFullYear();
}

/** Unix seconds where calendar year `year` (UTC+8) begins. */
export function yearStartOf(year: number): number {
  return Date.UTC(year, 0, 1) / 1000 - CALENDAR_OFFSET_SECONDS;
}

/** What the registry and catalog say about a duty type. */
export interface DutyTypeFacts {
  id: string;
  inCatalog: boolean;
  registered: boolean;
  active: boolean;
  levelMask: bigint; // 0: every level
}

/**
 * The duty types of a demand its inspector's department may not ask for: a department reads only
 * the duty types it owns (DutyLedger's registry names each one's owner), plus those of owners a
 * supervising body was granted by an audited admin act. Department ids are the registry's bytes32.
 */
export function notEntitled(
  dutyTypes: ReadonlyArray<{ id: string; department: string }>,
  department: string,
  granted: (owner: string) => boolean,
): string[] {
  return dutyTypes.filter((d) => d.department !== department && !granted(d.department)).map((d) => d.id);
}

/** A unit's own changes to the list its level gives it. */
export interface DutyListOverrides {
  added: string[];
  removed: string[];
}

/** Whether a level mask (DutyLedger's) covers a level. */
export function maskApplies(levelMask: bigint, level: number): boolean {
  return levelMask === 0n || ((levelMask >> BigInt(level)) & 1n) === 1n;
}

/**
 * Why a duty type is not on a unit's duty list, or null when it is. The list is: the catalog's
 * active duty types whose level mask covers the unit's level, plus the unit's additions, minus
 * its removals (a removal wins over an addition).
 */
export function offListReason(
  dutyType: DutyTypeFacts,
  level: number,
  overrides: DutyListOverrides,
): OffListItem["reason"] | null {
  if (!dutyType.inCatalog || !dutyType.registered) return "not_in_catalog";
  if (!dutyType.active) return "inactive";
  if (overrides.removed.includes(dutyType.id)) return "removed_from_unit_list";
  if (overrides.added.includes(dutyType.id)) return null;
  return maskApplies(dutyType.levelMask, level) ? null : "level_not_applicable";
}

/** An earlier demand, as far as the duplicate rule needs it. */
export interface EarlierDemand {
  demandId: string;
  unitId: string;
  dutyTypeIds: string[];
  from: number;
  to: number;
  decidedAt: number;
  decision: Decision;
}

/** Decisions whose package can answer a later demand: refusals answer nothing, and an absorbed repeat points at its original. */
const ANSWERING: ReadonlySet<Decision> = new Set([
  "answered_from_ledger",
  "task_created",
  "on_site_admitted",
  "on_site_emergency",
]);

/**
 * Whether `demand` (decided at `now`) repeats `earlier`: the same unit, every duty type asked
 * already asked, the period inside the earlier one, and decided less than `windowSeconds` ago
 * (at exactly `windowSeconds` it is a new demand). The window runs from the original demand:
 * refused demands and absorbed repeats are never matched.
 */
export function repeats(
  demand: Pick<DemandEnvelope, "unitId" | "dutyTypeIds" | "from" | "to">,
  now: number,
  earlier: EarlierDemand,
  windowSeconds: number,
): boolean {
  if (!ANSWERING.has(earlier.decision) || earlier.unitId !== demand.unitId) return false;
  const age = now - earlier.decidedAt;
  if (age < 0 || age >= windowSeconds) return false;
  if (demand.from < earlier.from || demand.to > earlier.to) return false;
  return demand.dutyTypeIds.every((id) => earlier.dutyTypeIds.includes(id));
}

/** The oldest earlier demand this one repeats (so chains of duplicates point at the original). */
export function findRepeated<T extends EarlierDemand>(
  demand: Pick<DemandEnvelope, "unitId" | "dutyTypeIds" | "from" | "to">,
  now: number,
  earlier: Iterable<T>,
  windowSeconds: number,
): T | undefined {
  let found: T | undefined;
  for (const e of earlier) {
    if (repeats(demand, now, e, windowSeconds) && (!found || e.decidedAt < found.decidedAt)) found = e;
  }
  return found;
}

/** Quota settings: a default and per-level overrides. */
export interface QuotaPolicy {
  perYear: number;
  byLevel: Record<number, number>;
}

export function quotaOf(policy: QuotaPolicy, level: number): number {
  return policy.byLevel[level] ?? policy.perYear;
}

/** Everything the decision needs, read by the service. */
export interface DecisionFacts {
  demand: DemandEnvelope;
  now: number; // Unix seconds, gateway clock
  offList: OffListItem[];
  repeated?: { demandId: string };
  /** Records of the unit in the period, per duty type asked. */
  matchedByDutyType: Record<string, number>;
  /** On-site inspections of the unit counted against the quota in the year of `now`, before this one. */
  onSiteUsed: number;
  quotaLimit: number;
}

/**
 * The decision, in this order: off-list duty types refuse the demand; an on-site emergency is
 * admitted outside the quota; a repeat is answered with the earlier demand's package; a demand
 * the ledger can answer (records for every duty type asked) is answered from it, on-site or not;
 * an on-site demand then needs quota left; anything else becomes a task for the unit.
 */
export function decide(facts: DecisionFacts): DemandOutcome {
  const { demand, now } = facts;
  const matched = Object.values(facts.matchedByDutyType).reduce((a, b) => a + b, 0);
  const base = { decidedAt: now, matched };
  if (facts.offList.length > 0) {
    return {
      ...base,
      decision: "refused_off_list",
      reason: `${facts.offList.length} duty type(s) asked are not on the unit's duty list (权责清单): ${facts.offList
        .map((o) => o.reason)
        .join(", ")}`,
      offList: facts.offList,
    };
  }
  const year = calendarYearOf(now);
  if (demand.onSite && demand.emergency) {
    return {
      ...base,
      decision: "on_site_emergency",
      reason: `on-site inspection admitted as an emergency, outside the quota: ${demand.emergency.reason}`,
      quota: { year, used: facts.onSiteUsed, limit: facts.quotaLimit },
    };
  }
  if (facts.repeated) {
    return {
      ...base,
      decision: "duplicate_absorbed",
      reason: `already demanded in ${facts.repeated.demandId}; answered with that demand's evidence package`,
      duplicateOf: facts.repeated.demandId,
    };
  }
  const answerable = demand.dutyTypeIds.every((id) => (facts.matchedByDutyType[id] ?? 0) > 0);
  if (answerable) {
    return {
      ...base,
      decision: "answered_from_ledger",
      reason: `the ledger holds ${matched} matching record(s); no task for the unit`,
    };
  }
  if (demand.onSite) {
    if (facts.onSiteUsed < facts.quotaLimit) {
      return {
        ...base,
        decision: "on_site_admitted",
        reason: `on-site inspection ${facts.onSiteUsed + 1} of ${facts.quotaLimit} in ${year}`,
        quota: { year, used: facts.onSiteUsed + 1, limit: facts.quotaLimit },
      };
    }
    return {
      ...base,
      decision: "refused_over_quota",
      reason: `the unit's on-site quota for ${year} is used (${facts.onSiteUsed} of ${facts.quotaLimit}); only an emergency with a stated reason is admitted`,
      quota: { year, used: facts.onSiteUsed, limit: facts.quotaLimit },
    };
  }
  const missing = demand.dutyTypeIds.filter((id) => (facts.matchedByDutyType[id] ?? 0) === 0).length;
  return {
    ...base,
    decision: "task_created",
    reason: `the ledger has no record for ${missing} duty type(s) asked; the unit answers by attesting with this demand id`,
  };
}

/** Whether a decision counts against the yearly on-site quota. */
export const countsAgainstQuota = (outcome: DemandOutcome): boolean => outcome.decision === "on_site_admitted";

/** Whether a decision asks nothing new of the unit. */
export const withoutNewPaperwork = (outcome: DemandOutcome): boolean =>
  outcome.decision === "answered_from_ledger" || outcome.decision === "duplicate_absorbed";

export const isRefusal = (outcome: DemandOutcome): boolean =>
  outcome.decision === "refused_off_list" || outcome.decision === "refused_over_quota";
