/**
 * The live monitor of the burden: after every decided request (and on every read) it counts the
 * current month's requests per kind, unit and department and evaluates the thresholds
 * (liveAlerts.ts). An alert seen for the first time is raised once, to every listener (the
 * gateway's metric, log line and webhook), and remembered in the store, so a restart does not
 * raise it again. The weekly digest of the county comes from the same requests and reports.
 *
 * Requests come from sources, one a kind of log entry: today the evidence demands; a new kind of
 * request adds its source (`requestSources`) and is counted, alerted and digested alike.
 */
import type { Clock } from "../core/clock.ts";
import type { LedgerStore } from "../store/LedgerStore.ts";
import type { BurdenService } from "./BurdenService.ts";
import {
  type AlertThresholds,
  type BurdenAlert,
  type RequestFact,
  alertWindow,
  evaluateAlerts,
  monthCounters,
  monthOfTime,
} from "./liveAlerts.ts";
import type { Report } from "./report.ts";

/** Where requests decided in [from, to) come from. */
export type RequestSource = (from: number, to: number) => Promise<RequestFact[]>;

/** The evidence demands of a BurdenService as requests: on-site ones are of kind "inspection". */
export function demandRequests(service: BurdenService): RequestSource {
  return async (from, to) => {
    await service.catchUp();
    return (await service.index.demandsBetween(from, to)).map((d) => ({
      requestId: d.demandId,
      unitId: d.unitId,
      department: d.department,
      kind: d.onSite ? "inspection" : "evidence",
      decidedAt: d.decidedAt,
    }));
  };
}

/**
 * The gate's requests of the other kinds (meeting, data, inspection, evaluation, secondment) as
 * requests, each of its own kind.
 */
export function gateRequests(service: BurdenService): RequestSource {
  return async (from, to) => {
    await service.requests.catchUp();
    return (await service.requests.index.requestsBetween(from, to)).map((r) => ({
      requestId: r.requestId,
      unitId: r.unitId,
      department: r.department,
      kind: r.kind,
      decidedAt: r.decidedAt,
    }));
  };
}

/** What the monitor knows now: the month's requests (its window's) and alerts. */
export interface LiveSnapshot {
  month: string;
  /** The log's size when counted: the snapshot changes when it does (or the month does). */
  logSize: number;
  /** Requests of the alert window (the month and its usual months), for views that filter them. */
  facts: RequestFact[];
  alerts: BurdenAlert[];
}

export interface LiveMonitorOptions {
  store: LedgerStore;
  sources: RequestSource[];
  thresholds: AlertThresholds;
  clock: Clock;
  /** Called once for each alert raised (metric, log line, webhook); must not throw. */
  onRaised: Array<(alert: BurdenAlert) => void>;
  /** The burden reports the digest is made of. */
  report: (query: { groupBy: "unit" | "department"; from: number; to: number; department?: string }) => Promise<Report>;
}

/** A week's digest of the county (or of one department). */
export interface WeeklyDigest {
  format: "dutyproof/burden-digest/v1";
  week: string;
  from: number;
  to: number;
  department?: string;
  byUnit: Report;
  byDepartment: Report;
  /** Alerts standing at the week's end, over the requests decided before it. */
  alerts: BurdenAlert[];
}

/** How long a poke waits for more requests before counting, ms. */
const POKE_DELAY_MS = 1_000;

export class LiveMonitor {
  private readonly options: LiveMonitorOptions;
  private readonly raisedStore;
  private snapshot: LiveSnapshot | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private poked: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(options: LiveMonitorOptions) {
    this.options = options;
    this.raisedStore = options.store.sublevel("burden-alerts");
  }

  get thresholds(): AlertThresholds {
    return this.options.thresholds;
  }

  private now(): number {
    return Math.floor(this.options.clock.now() / 1000);
  }

  /** Requests decided in [from, to) from every source. */
  async requests(from: number, to: number): Promise<RequestFact[]> {
    return (await Promise.all(this.options.sources.map((source) => source(from, to)))).flat();
  }

  /**
   * Counts again within a second (after a request was decided): a burst of requests is counted
   * once, so a busy gateway does not recount its window per request. Reads count at once.
   */
  poke(): void {
    if (this.poked || this.stopped) return;
    this.poked = setTimeout(() => {
      this.poked = undefined;
      this.current().catch(() => {});
    }, POKE_DELAY_MS);
    this.poked.unref();
  }

  /** Counts no more on pokes (the gateway is closing its store). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.poked);
    this.poked = undefined;
  }

  /** The snapshot of now: counted again when the log grew or the month turned since the last. */
  current(): Promise<LiveSnapshot> {
    const run = this.queue.then(() => this.refresh());
    this.queue = run.catch(() => {});
    return run;
  }

  private async refresh(): Promise<LiveSnapshot> {
    const now = this.now();
    const month = monthOfTime(now);
    const logSize = this.options.store.treeSize;
    if (this.snapshot && this.snapshot.month === month && this.snapshot.logSize === logSize) return this.snapshot;
    const window = alertWindow(month, this.options.thresholds);
    const facts = await this.requests(window.from, window.to);
    const alerts = evaluateAlerts(facts, this.options.thresholds, month);
    for (const alert of alerts) {
      if ((await this.raisedStore.get(alert.alertId)) !== undefined) continue;
      // Remembered before it is announced: a crash in between loses one announcement, never repeats it.
      await this.raisedStore.put(alert.alertId, String(now));
      for (const listener of this.options.onRaised) listener(alert);
    }
    this.snapshot = { month, logSize, facts, alerts };
    return this.snapshot;
  }

  /** The digest of ISO week [from, to): reports by unit and department and the alerts at its end. */
  async digest(week: string, range: { from: number; to: number }, department?: string): Promise<WeeklyDigest> {
    const filter = department === undefined ? {} : { department };
    const [byUnit, byDepartment] = await Promise.all(
      (["unit", "department"] as const).map((groupBy) => this.options.report({ groupBy, ...range, ...filter })),
    );
    // A week may straddle two months: the alerts of each, over what was decided before its end.
    const months = [...new Set([monthOfTime(range.from), monthOfTime(range.to - 1)])];
    const alerts: BurdenAlert[] = [];
    for (const month of months) {
      const window = alertWindow(month, this.options.thresholds);
      const facts = await this.requests(window.from, Math.min(window.to, range.to));
      alerts.push(...evaluateAlerts(facts, this.options.thresholds, month));
    }
    return {
      format: "dutyproof/burden-digest/v1",
      week,
      ...range,
      ...filter,
      byUnit: byUnit!,
      byDepartment: byDepartment!,
      alerts: department === undefined ? alerts : alerts.filter((a) => a.department === department),
    };
  }
}

/** The month's counters of a snapshot, over the requests `keep` admits. */
export function countersOf(snapshot: LiveSnapshot, keep: (fact: RequestFact) => boolean = () => true) {
  return monthCounters(snapshot.facts.filter(keep), snapshot.month);
}

const csvCell = (value: unknown): string => {
  const text = value === undefined ? "" : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/**
 * The digest as CSV (RFC 4180, CRLF): one row per unit, then per department, then the total,
 * each with the report's columns (whatever counters the report has) and the alerts standing on it.
 */
export function digestCsv(digest: WeeklyDigest): string {
  const rows = [
    ...digest.byUnit.rows.map((row) => ({ scope: "unit", row })),
    ...digest.byDepartment.rows.map((row) => ({ scope: "department", row })),
    { scope: "total", row: digest.byUnit.totals },
  ];
  const columns: string[] = [];
  for (const { row } of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const alertsOn = (scope: string, key: string) =>
    digest.alerts.filter((a) =>
      scope === "unit" ? a.unitId === key : scope === "department" ? a.department === key : true,
    ).length;
  const header = ["week", "scope", ...columns, "alerts"].join(",");
  const lines = rows.map(({ scope, row }) =>
    [
      digest.week,
      scope,
      ...columns.map((c) => (row as unknown as Record<string, unknown>)[c]),
      alertsOn(scope, row.key),
    ]
      .map(csvCell)
      .join(","),
  );
  return [header, ...lines].join("\r\n") + "\r\n";
}
