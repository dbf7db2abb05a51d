/**
 * Evidence demands at the gateway: checks a signed demand (signature, time, inspector, unit),
 * decides it with the pure rules, and appends the demand with its outcome to the log as one
 * "DPD1" leaf. Also the evidence packages, the units' tasks, duty lists, burden reports and
 * monthly summaries. Nothing is stored unless every check passes; decisions are serialised, so
 * two demands for one unit never both take its last on-site inspection.
 */
import type { Contract } from "ethers";
import { bytesToHex } from "../core/bytes.ts";
import type { Eip712Domain } from "../core/eip712.ts";
import { DutyproofError } from "../core/errors.ts";
import type { CatalogEntry } from "../catalog/loadCatalog.ts";
import { departmentIdOf } from "../chain/deployment.ts";
import type { Deployment } from "../chain/deployment.ts";
import { recoverSigner } from "../crypto/recoverSigner.ts";
import { fieldErrors } from "../gateway/AttestationService.ts";
import { anchoredReceipt, anchoringFacts } from "../gateway/receipts.ts";
import type { LedgerStore } from "../store/LedgerStore.ts";
import { BurdenIndex, type IndexedDemand } from "./BurdenIndex.ts";
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
  offListReason,
  quotaOf,
  yearStartOf,
} from "./rules.ts";

/** What the burden rules read from the DutyLedger registry. */
export interface BurdenRegistry {
  inspector(address: string): Promise<{ registered: boolean; active: boolean; department: string }>;
  unit(unitId: string): Promise<{ registered: boolean; active: boolean; level: number }>;
  dutyType(dutyTypeId: string): Promise<{ registered: boolean; active: boolean; levelMask: bigint }>;
}

/** The registry read from the chain; inspectors and units uncached, duty types for 5 seconds. */
export function chainBurdenRegistry(ledger: Contract): BurdenRegistry {
  const dutyTypes = new Map<
    string,
    { at: number; view: Promise<{ registered: boolean; active: boolean; levelMask: bigint }> }
  >();
  return {
    async inspector(address) {
      const i = await ledger.getFunction("inspector")(address);
      return { registered: i.registeredAt !== 0n, active: Boolean(i.active), department: String(i.department) };
    },
    async unit(unitId) {
      const u = await ledger.getFunction("unit")(unitId);
      return { registered: u.status !== 0n, active: u.status === 1n, level: Number(u.level) };
    },
    dutyType(dutyTypeId) {
      const hit = dutyTypes.get(dutyTypeId);
      if (hit && Date.now() - hit.at < 5_000) return hit.view;
      const view = (async () => {
        const d = await ledger.getFunction("dutyType")(dutyTypeId);
        return { registered: d.registeredAt !== 0n, active: Boolean(d.active), levelMask: BigInt(d.levelMask) };
      })();
      dutyTypes.set(dutyTypeId, { at: Date.now(), view });
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
  /** Unix seconds, the gateway's clock (a simulation may run its own). */
  now: () => number;
  onAppended?: () => void;
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
  private readonly options: BurdenServiceOptions;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: BurdenServiceOptions) {
    this.options = options;
    this.index = new BurdenIndex(options.store);
  }

  get domain(): Eip712Domain {
    return this.options.domain;
  }

  /** The id of this gateway's log, which version 2 demands name. */
  get logId(): string {
    return this.options.deployment.logId;
  }

  get settings(): BurdenSettings {
    return this.options.settings;
  }

  /** Runs `task` after every earlier one (decisions and index catch-up are serialised). */
  private serial<T>(task: () => Promise<T>): Promise<T> {
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
        view: await this.viewOf(existing.value as DemandEntry, existing.leafIndex, existing.leafHash),
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
    const now = this.options.now();
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

    return this.serial(async () => {
      await this.index.catchUp();
      const again = await store.getEntry(demandId);
      if (again)
        return { created: false, view: await this.viewOf(again.value as DemandEntry, again.leafIndex, again.leafHash) };
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
      const onSiteUsed = thisYear.filter((d) => d.decision === "on_site_admitted").length;
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

  private async dutyTypeFacts(id: string): Promise<DutyTypeFacts> {
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
    if (!stored || stored.kind !== "demand") throw new DutyproofError("demand.not_found", `no demand ${demandId}`);
    return this.viewOf(stored.value as DemandEntry, stored.leafIndex, stored.leafHash);
  }

  /** The demand's log entry with an inclusion proof in the first anchored checkpoint covering it. */
  async receipt(demandId: string): Promise<Record<string, unknown>> {
    const view = await this.get(demandId);
    const { store, deployment } = this.options;
    const checkpoint = await store.anchoredCheckpointCovering(view.leafIndex);
    if (!checkpoint) return { status: "pending", demandId, leafIndex: view.leafIndex, leafHash: view.leafHash };
    const proof = (await store.inclusionProof(view.leafIndex, checkpoint.size)).map(bytesToHex);
    return {
      status: "anchored",
      demandId,
      leafHash: view.leafHash,
      leafIndex: view.leafIndex,
      ...anchoringFacts(checkpoint, proof, deployment),
    };
  }

  /**
   * The evidence package of a demand: an export bundle (dutyproof/bundle/v1) of the unit's
   * anchored records of the duty types and period asked, plus the records that answer it. A
   * duplicate is answered with the package of the demand it repeats.
   */
  async evidencePackage(demandId: string) {
    const view = await this.get(demandId);
    const source = view.outcome.duplicateOf ? await this.get(view.outcome.duplicateOf) : view;
    const { demand } = source;
    const ids = new Set<string>();
    if (view.outcome.decision !== "refused_off_list" && view.outcome.decision !== "refused_over_quota") {
      for (const id of demand.dutyTypeIds) {
        for (const recordId of await this.index.recordIds(demand.unitId, id, demand.from, demand.to)) ids.add(recordId);
      }
      for (const recordId of source.answeredBy) ids.add(recordId);
    }
    const { items, pending } = await this.bundleItems([...ids]);
    return {
      format: "dutyproof/bundle/v1" as const,
      createdAt: Math.floor(Date.now() / 1000),
      query: { unitId: demand.unitId, from: demand.from, to: demand.to, dutyTypeIds: demand.dutyTypeIds, demandId },
      items,
      pending,
    };
  }

  private async bundleItems(recordIds: string[]) {
    const { store, deployment } = this.options;
    const items = [];
    let pending = 0;
    for (const recordId of recordIds) {
      const record = await store.getRecord(recordId);
      if (!record) continue;
      const checkpoint = await store.anchoredCheckpointCovering(record.leafIndex);
      if (!checkpoint) {
        pending++;
        continue;
      }
      const proof = (await store.inclusionProof(record.leafIndex, checkpoint.size)).map(bytesToHex);
      items.push({ envelope: record.envelope, receipt: anchoredReceipt(record, checkpoint, proof, deployment) });
    }
    items.sort((a, b) => a.envelope.performedAt - b.envelope.performedAt || a.receipt.leafIndex - b.receipt.leafIndex);
    return { items, pending };
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
    return { ...report, emergencies };
  }

  /**
   * The monthly summary (月汇总) of a unit, generated from its records instead of written: counts
   * per duty type, demands answered, and every record of the month with its receipt (a bundle
   * `dutyproof verify` checks).
   */
  async monthlySummary(unitId: string, month: string) {
    await this.catchUp();
    const [year, mm] = month.split("-").map(Number) as [number, number];
    const from = Date.UTC(year, mm - 1, 1) / 1000 - CALENDAR_OFFSET_SECONDS;
    const to = Date.UTC(year, mm, 1) / 1000 - CALENDAR_OFFSET_SECONDS;
    const byDutyType = [];
    const ids: string[] = [];
    for (const entry of this.options.catalog.list()) {
      const found = await this.index.recordIds(unitId, entry.id, from, to);
      if (found.length === 0) continue;
      ids.push(...found);
      byDutyType.push({
        dutyTypeId: entry.id,
        code: entry.document.code,
        title: entry.document.title,
        count: found.length,
      });
    }
    const { items, pending } = await this.bundleItems(ids);
    const demands = await this.index.demandsOfUnit(unitId, from, to);
    return {
      unitId,
      month,
      from,
      to,
      records: ids.length,
      anchored: items.length,
      pending,
      byDutyType: byDutyType.sort((a, b) => b.count - a.count),
      answeredDemands: items.filter((i) => i.envelope.demandId).length,
      demandsReceived: demands.length,
      bundle: {
        format: "dutyproof/bundle/v1" as const,
        createdAt: Math.floor(Date.now() / 1000),
        query: { unitId, from, to },
        items,
        pending,
      },
    };
  }

  /** Demands decided for a unit (for its own view), newest first. */
  async demandsOf(unitId: string) {
    await this.catchUp();
    return { unitId, demands: (await this.index.demandsOfUnit(unitId)).reverse().map(publicDemand) };
  }
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
