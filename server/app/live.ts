/**
 * The live-monitoring use cases: the current month's burden and its alerts (what the console's
 * dashboard polls), and the weekly digest of the county. Who sees what is decided here, as for
 * burden reports: a department's token its own department's requests and alerts, a unit's
 * token (with its unit id) its own unit's, an auditor's the county's.
 */
import { type LiveMonitor, type WeeklyDigest, countersOf } from "../burden/LiveMonitor.ts";
import { type BurdenAlert, type RequestFact, weekRange } from "../burden/liveAlerts.ts";
import { DutyproofError } from "../core/errors.ts";
import { type Access, requireUnitReader } from "./access.ts";

export interface LiveDependencies {
  live: LiveMonitor;
  access: Access;
}

/** What a token sees of the monitor's requests and alerts. */
async function scopeOf(
  deps: LiveDependencies,
  token: string | undefined,
  unitId: string | undefined,
): Promise<{ fact: (f: RequestFact) => boolean; alert: (a: BurdenAlert) => boolean }> {
  const department = await deps.access.departmentOf?.(token);
  if (department !== undefined) {
    return {
      fact: (f) => f.department === department && (unitId === undefined || f.unitId === unitId),
      alert: (a) => a.department === department && (unitId === undefined || a.unitId === unitId),
    };
  }
  if (!token) throw new DutyproofError("request.unauthorized", "the live burden view needs a bearer token");
  await requireUnitReader(
    deps.access,
    token,
    unitId ?? "*",
    unitId ? "this unit's live burden" : "the county's live burden",
  );
  return {
    fact: (f) => unitId === undefined || f.unitId === unitId,
    alert: (a) => unitId === undefined || a.unitId === unitId,
  };
}

/** The month so far: requests per kind, unit and department, and the alerts standing. */
export async function liveBurden(deps: LiveDependencies, token: string | undefined, unitId?: string) {
  const scope = await scopeOf(deps, token, unitId);
  const snapshot = await deps.live.current();
  return {
    month: snapshot.month,
    logSize: snapshot.logSize,
    thresholds: deps.live.thresholds,
    ...countersOf(snapshot, scope.fact),
    alerts: snapshot.alerts.filter(scope.alert),
  };
}

/** The weekly digest: the county's for an auditor, a department's own for its token. */
export async function weeklyDigest(
  deps: LiveDependencies,
  token: string | undefined,
  week: string,
): Promise<WeeklyDigest> {
  const range = weekRange(week);
  if (!range)
    throw new DutyproofError("request.invalid", `${week} is not a week of its year`, {
      errors: [{ path: "query.week", message: "no such ISO week (W53 exists only in long years)" }],
    });
  const department = await deps.access.departmentOf?.(token);
  if (department === undefined) {
    if (!token) throw new DutyproofError("request.unauthorized", "the county's digest needs a bearer token");
    await requireUnitReader(deps.access, token, "*", "the county's digest");
  }
  return deps.live.digest(week, range, department);
}
