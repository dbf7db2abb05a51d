/**
 * Evidence demands at the gateway: checks a signed demand (signature, time, inspector, unit),
 * decides it with the pure rules, and appends the demand with its outcome to the log as one
 * "DPD1" leaf. Also the evidence packages, the units' tasks, duty lists, burden reports and
 * monthly summaries. Nothing is stored unless every check passes; decisions are serialised, so
 * two demands for one unit never both take its last on-site inspection.
 */
import type { Contract } from "ethers";
import { bytesToHex } from "../core/bytes.ts";
import type { Clock } from "../core/clock.ts";
import { systemClock } from "../clock.ts";
import type { Eip712Domain } from "../core/eip712.ts";
import { DutyproofError } from "../core/errors.ts";
import type { CatalogEntry } from "../catalog/loadCatalog.ts";
import { departmentIdOf } from "../chain/deployment.ts";
import type { Deployment } from "../chain/deployment.ts";
import { recoverSigner } from "../crypto/recoverSigner.ts";
import { fieldErrors } from "../gateway/AttestationService.ts";
import {
  type BundleTally,
  type JsonSink,
  demandReceipt,
  recordsOf,
  writeBundle,
  writeObjectWith,
} from "../gateway/evidenceAssembler.ts";
import type { LedgerStore, StoredRecord } from "../store/LedgerStore.ts";
import { RecordsByUnit } from "../store/RecordsByUnit.ts";
import { BurdenIndex, type IndexedDemand } from "./BurdenIndex.ts";
import { RequestService } from "./RequestService.ts";
import type { KindReport } from "./requestReport.ts";
import type { BurdenSettings } from "./burdenSettings.ts";
import {
  type DemandEntry,
  demandDigest,
  demandLeafHashOf,
  demandMessageOf,
  demandSubmissionSchema,
  demandTypedDataDigest,
  outcomeDigest,
} from "./demand.ts";
import { type Report, type ReportGrouping, aggregate, monthOf } from "./report.ts";
import {
  CALENDAR_OFFSET_SECONDS,
  type DutyTypeFacts,
  calendarYearOf,
  decide,
  findRepeated,
  notEntitled,
  offListReason,
  quotaOf,
  yearStartOf,
} from "./rules.ts";

/** What the burden rules read from the DutyLedger registry. */
export interface BurdenRegistry {
  inspector(address: string): Promise<{ registered: boolean; active: boolean; department: string }>;
  unit(unitId: string): Promise<{ registered: boolean; active: boolean; level: number }>;
  dutyType(
    dutyTypeId: string,
  ): Promise<{ registered: boolean; active: boolean; levelMask: bigint; department: string }>;
}

/** A registry read: a chain that does not answer is chain.unreachable (503), never a bare 500. */
async function fromChain<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw new DutyproofError("chain.unreachable", "the chain node does not answer", {}, { cause: error });
  }
}

/**
 * The registry read from the chain; inspectors and units uncached, duty types for 5 seconds of
 * `clock` (the system clock when absent). Throws chain.unreachable when the chain does not answer.
 */
export function chainBurdenRegistry(ledger: Contract, clock: Clock = systemClock): BurdenRegistry {
  const dutyTypes = new Map<
    string,
    { at: number; view: Promise<{ registered: boolean; active: boolean; levelMask: bigint; department: string }> }
  >();
  return {
    async inspector(address) {
      const i = await fromChain(() => ledger.getFunction("inspector")(address));
      return { registered: i.registeredAt !== 0n, active: Boolean(i.active), department: String(i.department) };
    },
    async unit(unitId) {
      const u = await fromChain(() => ledger.getFunction("unit")(unitId));
      return { registered: u.status !== 0n, active: u.status === 1n, level: Number(u.level) };
    },
    dutyType(dutyTypeId) {
      const hit = dutyTypes.get(dutyTypeId);
      if (hit && clock.now() - hit.at < 5_000) return hit.view;
      const view = (async () => {
        const d = await fromChain(() => ledger.getFunction("dutyType")(dutyTypeId));
        return {
          registered: d.registeredAt !== 0n,
          active: Boolean(d.active),
          levelMask: BigInt(d.levelMask),
          department: String(d.department),
        };
      })();
      dutyTypes.set(dutyTypeId, { at: clock.now(), view });
      view.catch(() => dutyTypes.delete(dutyTypeId));
      return view;
    },
  };
}

export interface BurdenServiceOptions {
  store: LedgerStore;
  registry: BurdenRegistry;
  catalog: { get(dutyTypeId: string): CatalogEntry | undefined; list(): CatalogEntry[] };
  deployment: Deployment;
  domain: Eip712Domain;
  /**
   * Whether version 1 demand envelopes, which do not bind the log, are still taken for new
   * demands: false unless the operator allows them for a transition (ACCEPT_ENVELOPE_V1).
   */
  acceptVersion1?: boolean;
  settings: BurdenSettings;
  /** The gateway's clock (a simulation may run its own). */
  clock: Clock;
  onAppended?: () => void;
  /**
   * Whether department `grantee` (a code) was granted the duty types of `owner` (the registry's
   * department id) by an audited admin act; none when absent.
   */
  granted?: (grantee: string, owner: string) => boolean;
}

/** A demand as the API shows it: the entry, its place in the log and its task state. */
export interface DemandView extends DemandEntry {
  leafIndex: number;
  leafHash: string;
  answeredBy: string[]; // record ids that answer it
  package: string; // URL of its evidence package
}

export class BurdenService {
  readonly index: BurdenIndex;
  /** The requests of the other kinds (meetings, data, inspections, evaluations, secondments). */
  readonly requests: RequestService;
  private readonly options: BurdenServiceOptions;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: BurdenServiceOptions) {
    this.options = options;
    this.index = new BurdenIndex(options.store);
    this.requests = new RequestService(this, options);
  }

  get domain(): Eip712Domain {
    return this.options.domain;
  }

  /** The id of this gateway's log, which version 2 demands and package requests name. */
  get logId(): string {
    return this.options.deployment.logId;
  }

  get settings(): BurdenSettings {
    return this.options.settings;
  }

  /** The gateway's clock, Unix seconds. */
  now(): number {
    return Math.floor(this.options.clock.now() / 1000);
  }

  /** Runs `task` after every earlier one (decisions and index catch-up are serialised; RequestService shares the queue). */
  serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => {});
    return run;
  }

  /** Brings the indexes up to the log's current size. */
  catchUp(): Promise<void> {
    return this.serial(() => this.index.catchUp());
  }

  /** Checks, decides and logs one demand (unknown JSON). Throws DutyproofError on any fault. */
  async submit(body: unknown): Promise<{ created: boolean; view: DemandView }> {
    const parsed = demandSubmissionSchema.safeParse(body);
    if (!parsed.success) {
      const errors = fieldErrors(parsed.error);
      throw new DutyproofError("request.invalid", `${errors.length} field(s) at fault`, { errors });
    }
    const { demand, signature } = parsed.data;
    const { domain, registry, settings, store } = this.options;
    const demandId = bytesToHex(demandDigest(demand));
    const signer = recoverSigner(demandTypedDataDigest(domain, demandMessageOf(demand)), signature);
    if (signer === null || signer !== demand.inspector) {
      throw new DutyproofError(
        "demand.bad_signature",
        "the signature is malformed, high-s or not by demand.inspector",
        {
          errors: [{ path: "signature", message: "not a valid EvidenceDemand signature by demand.inspector" }],
        },
      );
    }
    const existing = await store.getEntry(demandId);
    if (existing)
      return {
        created: false,
        view: await this.viewOf(existing.value, existing.leafIndex, existing.leafHash),
      };

    // A demand logged before is answered above whatever its version; a new one must be signed
    // for this log, so a demand read from another gateway's public API is refused here.
    if (demand.version === 1 && !this.options.acceptVersion1) {
      throw new DutyproofError("demand.version_retired", "envelope version 1 does not bind the log; sign version 2", {
        errors: [{ path: "demand.version", message: "must be 2" }],
      });
    }
    if (demand.version === 2 && demand.logId !== this.options.deployment.logId) {
      throw new DutyproofError(
        "demand.wrong_log",
        `the demand was signed for log ${demand.logId}, this gateway's log is ${this.options.deployment.logId}`,
        {
          errors: [{ path: "demand.logId", message: `must be this gateway's log id ${this.options.deployment.logId}` }],
        },
      );
    }
    const now = this.now();
    if (Math.abs(demand.issuedAt - now) > settings.maxClockSkewSeconds) {
      throw new DutyproofError("demand.time_implausible", "issuedAt is too far from the gateway's clock", {
        errors: [{ path: "demand.issuedAt", message: `must be within ${settings.maxClockSkewSeconds} s of ${now}` }],
      });
    }
    const [inspector, unit] = await Promise.all([registry.inspector(demand.inspector), registry.unit(demand.unitId)]);
    if (!inspector.registered) {
      throw new DutyproofError("demand.unknown_inspector", `${demand.inspector} is not a registered inspector`);
    }
    if (!inspector.active)
      throw new DutyproofError("demand.inspector_inactive", `inspector ${demand.inspector} is deactivated`);
    if (inspector.department !== departmentIdOf(demand.department)) {
      throw new DutyproofError("demand.department_mismatch", `${demand.department} is not the inspector's department`, {
        errors: [{ path: "demand.department", message: "not the department the inspector is registered with" }],
      });
    }
    if (!unit.registered) {
      throw new DutyproofError("demand.unknown_unit", `unit ${demand.unitId} is not registered`, {
        errors: [{ path: "demand.unitId", message: "not registered on the ledger" }],
      });
    }
    if (!unit.active) throw new DutyproofError("demand.unit_suspended", `unit ${demand.unitId} is suspended`);
    const dutyFacts = await Promise.all(demand.dutyTypeIds.map((id) => this.dutyTypeFacts(id)));
    // Unregistered duty types are left to the off-list rule, which logs the refusal.
    const foreign = notEntitled(
      dutyFacts.filter((d) => d.registered),
      inspector.department,
      (owner) => this.options.granted?.(demand.department, owner) ?? false,
    );
    if (foreign.length > 0) {
      throw new DutyproofError(
        "demand.not_entitled",
        `${demand.department} neither owns nor was granted ${foreign.length} duty type(s) asked`,
        {
          errors: foreign.map((id) => ({
            path: `demand.dutyTypeIds[${demand.dutyTypeIds.indexOf(id)}]`,
            message: "owned by another department, and no grant covers it",
          })),
        },
      );
    }

    return this.serial(async () => {
      await this.index.catchUp();
      const again = await store.getEntry(demandId);
      if (again) return { created: false, view: await this.viewOf(again.value, again.leafIndex, again.leafHash) };
      const overrides = await this.index.dutyList(demand.unitId);
      const offList = dutyFacts.flatMap((facts) => {
        const reason = offListReason(facts, unit.level, overrides);
        return reason ? [{ dutyTypeId: facts.id, reason }] : [];
      });
      const earlier = await this.index.demandsOfUnit(demand.unitId, now - settings.duplicateWindowSeconds, now + 1);
      const repeated = findRepeated(demand, now, earlier, settings.duplicateWindowSeconds);
      const matchedByDutyType: Record<string, number> = {};
      for (const id of demand.dutyTypeIds) {
        matchedByDutyType[id] = (await this.index.recordIds(demand.unitId, id, demand.from, demand.to)).length;
      }
      const year = calendarYearOf(now);
      const thisYear = await this.index.demandsOfUnit(demand.unitId, yearStartOf(year), yearStartOf(year + 1));
      // On-site demands and the gate's admitted inspections share the unit's yearly quota.
      await this.requests.index.catchUp();
      const inspections = await this.requests.index.requestsOfUnit(
        demand.unitId,
        yearStartOf(year),
        yearStartOf(year + 1),
      );
      const onSiteUsed =
        thisYear.filter((d) => d.decision === "on_site_admitted").length +
        inspections.filter((r) => r.kind === "inspection" && r.decision === "admitted").length;
      const quotaLimit = quotaOf(settings.quota, unit.level);
      const outcome = decide({
        demand,
        now,
        offList,
        ...(repeated ? { repeated: { demandId: repeated.demandId } } : {}),
        matchedByDutyType,
        onSiteUsed,
        quotaLimit,
      });
      const digest = outcomeDigest(outcome);
      const entry: DemandEntry & { quotaLimit: number } = {
        demandId,
        demand,
        signature: signature.toLowerCase(),
        outcome,
        outcomeDigest: bytesToHex(digest),
        quotaLimit,
      };
      let appended;
      try {
        appended = await store.appendEntry({
          entryId: demandId,
          kind: "demand",
          value: entry,
          leafHash: demandLeafHashOf(demandDigest(demand), signature, digest),
        });
      } catch (error) {
        throw new DutyproofError(
          "store.unavailable",
          "the demand could not be stored durably; nothing was kept",
          {},
          { cause: error },
        );
      }
      await this.index.catchUp();
      this.options.onAppended?.();
      return {
        created: appended.created,
        view: await this.viewOf(entry, appended.entry.leafIndex, appended.entry.leafHash),
      };
    });
  }

  private async dutyTypeFacts(id: string): Promise<DutyTypeFacts & { department: string }> {
    const inCatalog = this.options.catalog.get(id) !== undefined;
    const chain = await this.options.registry.dutyType(id);
    return { id, inCatalog, ...chain };
  }

  private async viewOf(entry: DemandEntry, leafIndex: number, leafHash: string): Promise<DemandView> {
    return {
      demandId: entry.demandId,
      demand: entry.demand,
      signature: entry.signature,
      outcome: entry.outcome,
      outcomeDigest: entry.outcomeDigest,
      leafIndex,
      leafHash,
      answeredBy: await this.index.answers(entry.demandId, entry.demand.unitId),
      package: `/v1/demands/${entry.demandId}/package`,
    };
  }

  /** A demand with its outcome and task state. */
  async get(demandId: string): Promise<DemandView> {
    await this.catchUp();
    const stored = await this.options.store.getEntry(demandId);
    if (!stored) throw new DutyproofError("demand.not_found", `no demand ${demandId}`);
    return this.viewOf(stored.value, stored.leafIndex, stored.leafHash);
  }

  /** The demand's log entry with an inclusion proof in the first anchored checkpoint covering it. */
  async receipt(demandId: string): Promise<Record<string, unknown>> {
    const view = await this.get(demandId);
    return demandReceipt(this.options, { demandId, leafIndex: view.leafIndex, leafHash: view.leafHash });
  }

  /**
   * Writes the evidence package of a demand to `sink`: a bundle (dutyproof/bundle/v1) of the
   * unit's records of the duty types and period asked, plus the records that answer it. A
   * duplicate is answered with the package of the demand it repeats; a refused demand with an
   * empty one.
   */
  async writeEvidencePackage(sink: JsonSink, demandId: string): Promise<BundleTally> {
    const view = await this.get(demandId);
    const source = view.outcome.duplicateOf ? await this.get(view.outcome.duplicateOf) : view;
    // The period and duty types are this demand's own, not those of the demand it repeats
    // (which may be wider and another department's), so a package holds only what was asked.
    const { demand } = view;
    const refused = view.outcome.decision === "refused_off_list" || view.outcome.decision === "refused_over_quota";
    const records = RecordsByUnit.of(this.options.store);
    await records.catchUp();
    const dutyTypes = new Set(demand.dutyTypeIds);
    const answers = new Set(refused ? [] : source.answeredBy);
    const inPeriod = (dutyTypeId: string, performedAt: number) =>
      dutyTypes.has(dutyTypeId) && performedAt >= demand.from && performedAt < demand.to;
    const selects = (record: StoredRecord) =>
      !refused &&
      record.envelope.unitId === demand.unitId &&
      dutyTypes.has(record.envelope.dutyTypeId) &&
      (inPeriod(record.envelope.dutyTypeId, record.envelope.performedAt) || answers.has(record.recordId));
    async function* ids() {
      if (refused) return;
      for await (const key of records.range(demand.unitId, demand.from, demand.to)) {
        if (inPeriod(key.dutyTypeId, key.performedAt)) yield key.recordId;
      }
      yield* answers;
    }
    const { store } = this.options;
    async function* selected() {
      // An answer inside the period comes from the range and again from the answers: once.
      const answered = new Set<string>();
      for await (const record of recordsOf(store, ids())) {
        // An answer of another duty type than this demand asked is not this demand's evidence.
        if (!dutyTypes.has(record.envelope.dutyTypeId)) continue;
        if (answers.has(record.recordId)) {
          if (answered.has(record.recordId)) continue;
          answered.add(record.recordId);
        }
        yield record;
      }
    }
    return writeBundle(sink, this.options, {
      query: { unitId: demand.unitId, from: demand.from, to: demand.to, dutyTypeIds: demand.dutyTypeIds, demandId },
      records: selected(),
      selects,
      createdAt: this.now(),
    });
  }

  /** A unit's tasks: demands it must answer by attesting, and on-site inspections admitted. */
  async tasks(unitId: string, status: "open" | "answered" | "all") {
    await this.catchUp();
    const demands = await this.index.demandsOfUnit(unitId);
    const tasks = [];
    for (const d of demands) {
      if (d.decision !== "task_created" && d.decision !== "on_site_admitted" && d.decision !== "on_site_emergency")
        continue;
      const answeredBy = await this.index.answers(d.demandId, d.unitId);
      const state = answeredBy.length > 0 ? "answered" : "open";
      if (status !== "all" && status !== state) continue;
      tasks.push({ ...publicDemand(d), status: state, answeredBy });
    }
    return { unitId, tasks };
  }

  /** A unit's duty list: the catalog's duty types with whether each is on it and why not. */
  async dutyList(unitId: string) {
    const unit = await this.options.registry.unit(unitId);
    if (!unit.registered) throw new DutyproofError("demand.unknown_unit", `unit ${unitId} is not registered`);
    const overrides = await this.index.dutyList(unitId);
    const entries = [];
    for (const entry of this.options.catalog.list()) {
      const reason = offListReason(await this.dutyTypeFacts(entry.id), unit.level, overrides);
      entries.push({
        dutyTypeId: entry.id,
        code: entry.document.code,
        title: entry.document.title,
        onList: reason === null,
        ...(reason ? { reason } : {}),
      });
    }
    return { unitId, level: unit.level, added: overrides.added, removed: overrides.removed, dutyTypes: entries };
  }

  /** Adds duty types to, or removes them from, a unit's list (removing what was added undoes it). */
  async changeDutyList(unitId: string, change: { add: string[]; remove: string[] }) {
    const unit = await this.options.registry.unit(unitId);
    if (!unit.registered) throw new DutyproofError("demand.unknown_unit", `unit ${unitId} is not registered`);
    const unknown = [...change.add, ...change.remove].filter((id) => !this.options.catalog.get(id));
    if (unknown.length > 0) {
      throw new DutyproofError("record.unknown_duty_type", "duty types must be in the catalog", {
        errors: unknown.map((id) => ({ path: "dutyTypeIds", message: `${id} is not in the catalog` })),
      });
    }
    await this.serial(async () => {
      const current = await this.index.dutyList(unitId);
      const added = new Set(current.added);
      const removed = new Set(current.removed);
      for (const id of change.add) {
        removed.delete(id);
        added.add(id);
      }
      for (const id of change.remove) {
        added.delete(id);
        removed.add(id);
      }
      await this.index.setDutyList(unitId, { added: [...added].sort(), removed: [...removed].sort() });
    });
    return this.dutyList(unitId);
  }

  /** The burden report of the demands decided in [from, to), grouped, optionally for one unit or department. */
  async report(query: {
    groupBy: ReportGrouping;
    from?: number;
    to?: number;
    unitId?: string;
    department?: string;
  }): Promise<
    Report & {
      emergencies: Array<{ demandId: string; unitId: string; department: string; decidedAt: number; reason: string }>;
      requests: KindReport;
    }
  > {
    await this.catchUp();
    const demands = query.unitId
      ? await this.index.demandsOfUnit(query.unitId, query.from, query.to)
      : await this.index.demandsBetween(query.from, query.to);
    const quotas = new Map<string, number>();
    const facts = [];
    for (const d of demands) {
      if (query.department && d.department !== query.department) continue;
      if (d.quotaLimit !== undefined) quotas.set(d.unitId, d.quotaLimit);
      const isTask =
        d.decision === "task_created" || d.decision === "on_site_admitted" || d.decision === "on_site_emergency";
      facts.push({
        demandId: d.demandId,
        unitId: d.unitId,
        department: d.department,
        decidedAt: d.decidedAt,
        decision: d.decision,
        onSite: d.onSite,
        emergency: d.emergency,
        taskAnswered: isTask && (await this.index.answers(d.demandId, d.unitId)).length > 0,
      });
    }
    const report = aggregate(facts, {
      groupBy: query.groupBy,
      hours: this.options.settings.hours,
      quotaOfUnit: (unitId) => quotas.get(unitId) ?? this.options.settings.quota.perYear,
      ...(query.from !== undefined ? { from: query.from } : {}),
      ...(query.to !== undefined ? { to: query.to } : {}),
    });
    // Emergencies are recorded and reported one by one, with the reason stated.
    const emergencies = demands
      .filter((d) => d.decision === "on_site_emergency" && (!query.department || d.department === query.department))
      .map((d) => ({
        demandId: d.demandId,
        unitId: d.unitId,
        department: d.department,
        decidedAt: d.decidedAt,
        reason: d.emergencyReason ?? "",
      }));
    return { ...report, emergencies, requests: await this.requests.report(query, demands) };
  }

  /**
   * Writes the monthly summary (月汇总) of a unit to `sink`, generated from its records instead of
   * written: counts per duty type, demands answered, and every record of the month with its
   * receipt (a bundle `dutyproof verify` checks). The counts follow the bundle, which is written
   * as the records are read.
   */
  async writeMonthlySummary(sink: JsonSink, unitId: string, month: string): Promise<void> {
    await this.catchUp();
    const records = RecordsByUnit.of(this.options.store);
    await records.catchUp();
    const [year, mm] = month.split("-").map(Number) as [number, number];
    const from = Date.UTC(year, mm - 1, 1) / 1000 - CALENDAR_OFFSET_SECONDS;
    const to = Date.UTC(year, mm, 1) / 1000 - CALENDAR_OFFSET_SECONDS;
    const { catalog, store } = this.options;
    const counts = new Map<string, number>();
    const selects = (record: StoredRecord) =>
      record.envelope.unitId === unitId &&
      record.envelope.performedAt >= from &&
      record.envelope.performedAt < to &&
      catalog.get(record.envelope.dutyTypeId) !== undefined;
    async function* ids() {
      for await (const key of records.range(unitId, from, to)) {
        if (!catalog.get(key.dutyTypeId)) continue;
        counts.set(key.dutyTypeId, (counts.get(key.dutyTypeId) ?? 0) + 1);
        yield key.recordId;
      }
    }
    const demandsReceived = (await this.index.demandsOfUnit(unitId, from, to)).length;
    await writeObjectWith(
      sink,
      { unitId, month, from, to, demandsReceived },
      "bundle",
      () =>
        writeBundle(sink, this.options, {
          query: { unitId, from, to },
          records: recordsOf(store, ids()),
          selects,
          createdAt: this.now(),
        }),
      (tally) => ({
        records: tally.anchored + tally.pending,
        anchored: tally.anchored,
        pending: tally.pending,
        byDutyType: [...counts]
          .map(([dutyTypeId, count]) => {
            const { document } = catalog.get(dutyTypeId)!;
            return { dutyTypeId, code: document.code, title: document.title, count };
          })
          .sort((a, b) => b.count - a.count),
        answeredDemands: tally.answering,
      }),
    );
  }

  /** Demands decided for a unit (for its own view), newest first. */
  async demandsOf(unitId: string) {
    await this.catchUp();
    return { unitId, demands: (await this.index.demandsOfUnit(unitId)).reverse().map(publicDemand) };
  }
}

/**
 * A demand as anyone may see it: that it was logged, where, and what was decided. Who asked,
 * why, for which department, any emergency reason and the records that answer it are for the
 * unit, the demanding department, auditors and the operator (docs/security.md).
 */
export function publicDemandView(view: DemandView) {
  return {
    demandId: view.demandId,
    leafIndex: view.leafIndex,
    leafHash: view.leafHash,
    unitId: view.demand.unitId,
    onSite: view.demand.onSite,
    decision: view.outcome.decision,
    decidedAt: view.outcome.decidedAt,
    outcomeDigest: view.outcomeDigest,
  };
}

/** A demand as lists show it. */
function publicDemand(d: IndexedDemand) {
  return {
    demandId: d.demandId,
    leafIndex: d.leafIndex,
    unitId: d.unitId,
    dutyTypeIds: d.dutyTypeIds,
    from: d.from,
    to: d.to,
    onSite: d.onSite,
    emergency: d.emergency,
    department: d.department,
    inspector: d.inspector,
    decision: d.decision,
    ...(d.duplicateOf ? { duplicateOf: d.duplicateOf } : {}),
    decidedAt: d.decidedAt,
    month: monthOf(d.decidedAt),
    countsAgainstQuota: d.decision === "on_site_admitted",
  };
}
