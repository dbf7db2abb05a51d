/**
 * Burden requests at the gateway (基层事务熔断): checks a signed request (signature, log, time,
 * signer, unit, entitlement), reads the facts the gate needs, decides with the pure rules
 * (requestRules.ts) and appends the request with its outcome to the log as one "DPR1" leaf.
 * Decisions share the evidence demands' queue, so an inspection and an on-site demand never
 * both take a unit's last visit. Also a unit's tasks, merged meetings, joint visits and
 * conflicts, the data package of a data request, and the gate's two administrative lists.
 */
import { bytesToHex } from "../core/bytes.ts";
import { DutyproofError } from "../core/errors.ts";
import {
  type RequestEntry,
  type RequestEnvelope,
  type RequestOffListItem,
  dataItemKey,
  requestDigest,
  requestLeafHashOf,
  requestMessageOf,
  requestOutcomeDigest,
  requestSubmissionSchema,
  requestTypedDataDigest,
} from "../core/request.ts";
import { departmentIdOf } from "../chain/deployment.ts";
import { recoverSigner } from "../crypto/recoverSigner.ts";
import { fieldErrors } from "../gateway/AttestationService.ts";
import {
  type BundleTally,
  type JsonSink,
  demandReceipt,
  recordsOf,
  writeBundle,
} from "../gateway/evidenceAssembler.ts";
import type { StoredRecord, StoredRequest } from "../store/LedgerStore.ts";
import type { BurdenService, BurdenServiceOptions } from "./BurdenService.ts";
import type { IndexedDemand } from "./BurdenIndex.ts";
import { RequestIndex } from "./RequestIndex.ts";
import type { ReportGrouping } from "./report.ts";
import { type KindReport, aggregateKinds, demandFact, requestFact } from "./requestReport.ts";
import {
  type GateSettings,
  type IndexedRequest,
  decideRequest,
  defaultGateSettings,
  isTask,
  windowOf,
} from "./requestRules.ts";
import { calendarYearOf, notEntitled, offListReason, quotaOf, yearStartOf } from "./rules.ts";

/** A request as the API shows it: the entry and its place in the log. */
export interface RequestView extends RequestEntry {
  leafIndex: number;
  leafHash: string;
  /** URL of the records answering a data request's items (the same bundle as an evidence package). */
  package?: string;
}

/** Records read per data item when counting those that hold it. */
const RECORDS_PER_ITEM = 64;

export class RequestService {
  readonly index: RequestIndex;
  private readonly burden: BurdenService;
  private readonly options: BurdenServiceOptions;

  constructor(burden: BurdenService, options: BurdenServiceOptions) {
    this.burden = burden;
    this.options = options;
    this.index = new RequestIndex(options.store);
  }

  get gate(): GateSettings {
    return this.options.settings.gate ?? defaultGateSettings;
  }

  /** Brings the request and demand indexes up to the log's current size. */
  catchUp(): Promise<void> {
    return this.burden.serial(async () => {
      await this.burden.index.catchUp();
      await this.index.catchUp();
    });
  }

  /** Checks, decides and logs one request (unknown JSON). Throws DutyproofError on any fault. */
  async submit(body: unknown): Promise<{ created: boolean; view: RequestView }> {
    const parsed = requestSubmissionSchema.safeParse(body);
    if (!parsed.success) {
      const errors = fieldErrors(parsed.error);
      throw new DutyproofError("request.invalid", `${errors.length} field(s) at fault`, { errors });
    }
    const { request, signature } = parsed.data;
    const { domain, registry, settings, store, deployment } = this.options;
    const requestId = bytesToHex(requestDigest(request));
    const signer = recoverSigner(requestTypedDataDigest(domain, requestMessageOf(request)), signature);
    if (signer === null || signer !== request.inspector) {
      throw new DutyproofError(
        "burden_request.bad_signature",
        "the signature is malformed, high-s or not by request.inspector",
        {
          errors: [{ path: "signature", message: "not a valid BurdenRequest signature by request.inspector" }],
        },
      );
    }
    const existing = await store.getRequestEntry(requestId);
    if (existing) return { created: false, view: this.viewOf(existing) };
    if (request.logId !== deployment.logId) {
      throw new DutyproofError(
        "burden_request.wrong_log",
        `the request was signed for log ${request.logId}, this gateway's log is ${deployment.logId}`,
        {
          errors: [{ path: "request.logId", message: `must be this gateway's log id ${deployment.logId}` }],
        },
      );
    }
    const now = this.burden.now();
    if (Math.abs(request.issuedAt - now) > settings.maxClockSkewSeconds) {
      throw new DutyproofError("demand.time_implausible", "issuedAt is too far from the gateway's clock", {
        errors: [{ path: "request.issuedAt", message: `must be within ${settings.maxClockSkewSeconds} s of ${now}` }],
      });
    }
    const [inspector, unit] = await Promise.all([registry.inspector(request.inspector), registry.unit(request.unitId)]);
    if (!inspector.registered)
      throw new DutyproofError("demand.unknown_inspector", `${request.inspector} is not a registered inspector`);
    if (!inspector.active)
      throw new DutyproofError("demand.inspector_inactive", `inspector ${request.inspector} is deactivated`);
    if (inspector.department !== departmentIdOf(request.department)) {
      throw new DutyproofError(
        "demand.department_mismatch",
        `${request.department} is not the inspector's department`,
        {
          errors: [{ path: "request.department", message: "not the department the inspector is registered with" }],
        },
      );
    }
    if (!unit.registered) {
      throw new DutyproofError("demand.unknown_unit", `unit ${request.unitId} is not registered`, {
        errors: [{ path: "request.unitId", message: "not registered on the ledger" }],
      });
    }
    if (!unit.active) throw new DutyproofError("demand.unit_suspended", `unit ${request.unitId} is suspended`);
    const dutyTypeIds = dutyTypesAsked(request);
    const dutyFacts = await Promise.all(dutyTypeIds.map((id) => this.dutyTypeFacts(id)));
    // A department asks only for what it owns or was granted, as with evidence demands.
    const foreign = notEntitled(
      dutyFacts.filter((d) => d.registered),
      inspector.department,
      (owner) => this.options.granted?.(request.department, owner) ?? false,
    );
    if (foreign.length > 0) {
      throw new DutyproofError(
        "demand.not_entitled",
        `${request.department} neither owns nor was granted ${foreign.length} duty type(s) asked`,
        {
          errors: foreign.map((id) => ({
            path: "request",
            message: `duty type ${id} is owned by another department, and no grant covers it`,
          })),
        },
      );
    }

    return this.burden.serial(async () => {
      await this.burden.index.catchUp();
      await this.index.catchUp();
      const again = await store.getRequestEntry(requestId);
      if (again) return { created: false, view: this.viewOf(again) };
      const overrides = await this.burden.index.dutyList(request.unitId);
      const offDutyList = new Map(
        dutyFacts.flatMap((facts) => {
          const reason = offListReason(facts, unit.level, overrides);
          return reason ? [[facts.id, reason] as const] : [];
        }),
      );
      const offList: RequestOffListItem[] = [];
      if (request.kind === "inspection") {
        for (const id of request.dutyTypeIds) {
          const reason = offDutyList.get(id);
          if (reason) offList.push({ item: id, reason });
        }
      }
      if (request.kind === "data" && request.approvalRef === undefined) {
        const catalogItems = new Set(await this.index.dataList());
        for (const item of request.items) {
          const off =
            "catalogItem" in item
              ? !catalogItems.has(item.catalogItem)
              : offDutyList.has(item.dutyTypeId) || !this.hasField(item.dutyTypeId, item.field);
          if (off) offList.push({ item: dataItemKey(item), reason: "not_on_data_list" });
        }
      }
      const w = windowOf(request);
      // The evaluation cap counts evaluations by the year they take place, which may have been
      // decided the year before: read from the start of the previous year.
      const earliest = Math.min(
        now - this.gate.duplicateWindowSeconds,
        yearStartOf(calendarYearOf(Math.min(now, w.from)) - 1),
      );
      const earlier = await this.index.requestsOfUnit(request.unitId, earliest, now + 1);
      const leads = await this.index.leadDepartments();
      const ledgerItems: Record<string, number> = {};
      if (request.kind === "data") {
        for (const item of request.items) {
          if ("dutyTypeId" in item)
            ledgerItems[dataItemKey(item)] = await this.recordsHolding(
              request.unitId,
              item.dutyTypeId,
              item.field,
              request.from,
              request.to,
            );
        }
      }
      let extended;
      if (request.kind === "secondment" && request.extends) {
        const chain = await this.secondmentChain(request.extends, request.unitId);
        extended = { found: chain !== undefined, extensionsBefore: chain ?? 0 };
      }
      let onSite;
      if (request.kind === "inspection") {
        const year = calendarYearOf(now);
        const demands = await this.burden.index.demandsOfUnit(request.unitId, yearStartOf(year), yearStartOf(year + 1));
        const thisYear = earlier.filter(
          (e) => e.decidedAt >= yearStartOf(year) && e.kind === "inspection" && e.decision === "admitted",
        );
        const onSiteDemands = demands.filter((d) => d.decision === "on_site_admitted");
        onSite = {
          used: thisYear.length + onSiteDemands.length,
          limit: quotaOf(settings.quota, unit.level),
          departmentUsed:
            thisYear.filter((e) => e.department === request.department).length +
            onSiteDemands.filter((d) => d.department === request.department).length,
        };
      }
      const outcome = decideRequest({
        request,
        now,
        settings: this.gate,
        offList,
        leadDepartment: "domain" in request ? leads[request.domain] : undefined,
        earlier,
        ledgerItems,
        extended,
        onSite,
      });
      const digest = requestOutcomeDigest(outcome);
      const entry: RequestEntry = {
        requestId,
        request,
        signature: signature.toLowerCase(),
        outcome,
        outcomeDigest: bytesToHex(digest),
      };
      let appended;
      try {
        appended = await store.appendEntry({
          entryId: requestId,
          kind: "request",
          value: entry,
          leafHash: requestLeafHashOf(requestDigest(request), signature, digest),
        });
      } catch (error) {
        throw new DutyproofError(
          "store.unavailable",
          "the request could not be stored durably; nothing was kept",
          {},
          { cause: error },
        );
      }
      await this.index.catchUp();
      this.options.onAppended?.();
      return { created: appended.created, view: this.viewOf(appended.entry) };
    });
  }

  private async dutyTypeFacts(id: string) {
    const inCatalog = this.options.catalog.get(id) !== undefined;
    return { id, inCatalog, ...(await this.options.registry.dutyType(id)) };
  }

  private hasField(dutyTypeId: string, field: string): boolean {
    const fields = (this.options.catalog.get(dutyTypeId)?.document as { fields?: Array<{ name: string }> } | undefined)
      ?.fields;
    return fields?.some((f) => f.name === field) ?? false;
  }

  /** How many of the unit's records of a duty type in [from, to) hold `field` (read up to a bound). */
  private async recordsHolding(
    unitId: string,
    dutyTypeId: string,
    field: string,
    from: number,
    to: number,
  ): Promise<number> {
    const ids = (await this.burden.index.recordIds(unitId, dutyTypeId, from, to)).slice(-RECORDS_PER_ITEM);
    let holding = 0;
    for (const id of ids) {
      const record = await this.options.store.getRecord(id);
      if (record && Object.hasOwn(record.envelope.fields, field) && !record.erasure) holding++;
    }
    return holding;
  }

  /** The extensions a secondment chain has, walking `extends` back to its first secondment; undefined when the one extended is unknown or refused. */
  private async secondmentChain(requestId: string, unitId: string): Promise<number | undefined> {
    let extensions = 0;
    let current = await this.index.request(requestId);
    if (!current || current.unitId !== unitId || current.kind !== "secondment" || !isTask(current)) return undefined;
    while (current?.extends) {
      extensions++;
      current = await this.index.request(current.extends);
    }
    return extensions;
  }

  private viewOf(stored: StoredRequest): RequestView {
    const { requestId, request, signature, outcome, outcomeDigest } = stored.value;
    return {
      requestId,
      request,
      signature,
      outcome,
      outcomeDigest,
      leafIndex: stored.leafIndex,
      leafHash: stored.leafHash,
      ...(request.kind === "data" && outcome.answered ? { package: `/v1/requests/${requestId}/package` } : {}),
    };
  }

  /** A request with its outcome. */
  async get(requestId: string): Promise<RequestView> {
    const stored = await this.options.store.getRequestEntry(requestId);
    if (!stored) throw new DutyproofError("burden_request.not_found", `no request ${requestId}`);
    return this.viewOf(stored);
  }

  /** The request's log entry with an inclusion proof in the first anchored checkpoint covering it. */
  async receipt(requestId: string): Promise<Record<string, unknown>> {
    const view = await this.get(requestId);
    const receipt = await demandReceipt(this.options, {
      demandId: requestId,
      leafIndex: view.leafIndex,
      leafHash: view.leafHash,
    });
    // The assembler names the entry's id demandId; a request's receipt names it requestId.
    delete receipt.demandId;
    return { requestId, ...receipt };
  }

  /**
   * What a unit sees of the requests made on it: its open tasks (data items to provide, visits,
   * evaluations, meetings to attend with the roles named, secondments), the meetings combined
   * and visits joined, and the conflicts flagged. Refused and absorbed requests ask nothing of
   * it and are left out.
   */
  async ofUnit(unitId: string) {
    await this.catchUp();
    const requests = await this.index.requestsOfUnit(unitId);
    const byId = new Map(requests.map((r) => [r.requestId, r]));
    const tasks = requests.filter(isTask).map(unitView);
    const merged = (kind: "meeting" | "inspection") =>
      requests
        .filter((r) => r.kind === kind && isTask(r) && requests.some((m) => m.mergedWith === r.requestId))
        .map((r) => ({
          ...unitView(r),
          departments: [r.department, ...requests.filter((m) => m.mergedWith === r.requestId).map((m) => m.department)],
          joined: requests.filter((m) => m.mergedWith === r.requestId).map((m) => m.requestId),
        }));
    const conflicts = requests
      .filter((r) => r.conflicts && r.decision !== "refused")
      .flatMap((r) =>
        r.conflicts!.map((c) => ({
          requestId: r.requestId,
          department: r.department,
          conflictsWith: c.requestId,
          otherDepartment: byId.get(c.requestId)?.department ?? c.department,
          item: c.item,
          on: c.on,
        })),
      );
    return { unitId, tasks, mergedMeetings: merged("meeting"), jointVisits: merged("inspection"), conflicts };
  }

  /** Requests of a department (its own view: every decision, the conflicts flagged to it). */
  async ofDepartment(department: string, from?: number, to?: number) {
    await this.catchUp();
    const all = await this.index.requestsBetween(from, to);
    const mine = all.filter((r) => r.department === department);
    const ids = new Set(mine.map((r) => r.requestId));
    // A conflict is flagged to both departments: the later request names the earlier one.
    const flagged = all.filter(
      (r) => r.conflicts?.some((c) => ids.has(c.requestId)) || (ids.has(r.requestId) && r.conflicts),
    );
    // A merge is proposed to both: the department whose visit or meeting others joined sees them.
    const joined = all.filter((r) => r.mergedWith !== undefined && ids.has(r.mergedWith) && !ids.has(r.requestId));
    return {
      department,
      requests: mine.reverse(),
      conflicts: flagged.map(unitView),
      joinedByOthers: joined.map(unitView),
    };
  }

  /**
   * Writes the data package of a data request: a bundle (dutyproof/bundle/v1) of the unit's
   * records of the duty types whose items the ledger answered, in the period asked, each with
   * its receipt: the same package as an evidence demand's.
   */
  async writeDataPackage(sink: JsonSink, requestId: string): Promise<BundleTally> {
    const view = await this.get(requestId);
    const { request } = view;
    if (request.kind !== "data")
      throw new DutyproofError("burden_request.not_found", `request ${requestId} is not a data request`);
    const answered = new Set((view.outcome.answered ?? []).map((a) => a.item.split(".")[0]!));
    const { store } = this.options;
    const ids = async function* (burden: BurdenService) {
      for (const dutyTypeId of answered)
        yield* await burden.index.recordIds(request.unitId, dutyTypeId, request.from, request.to);
    };
    const selects = (record: StoredRecord) =>
      record.envelope.unitId === request.unitId &&
      answered.has(record.envelope.dutyTypeId) &&
      record.envelope.performedAt >= request.from &&
      record.envelope.performedAt < request.to;
    return writeBundle(sink, this.options, {
      query: { unitId: request.unitId, from: request.from, to: request.to, dutyTypeIds: [...answered].sort() },
      records: recordsOf(store, ids(this.burden)),
      selects,
      createdAt: this.burden.now(),
    });
  }

  /**
   * The report of every kind over the requests decided in [from, to) and the evidence demands the
   * caller selected (`demands`), filtered by unit and department as the demand report is.
   */
  async report(
    query: { groupBy: ReportGrouping; from?: number; to?: number; unitId?: string; department?: string },
    demands: readonly IndexedDemand[],
  ): Promise<KindReport> {
    await this.catchUp();
    const requests = query.unitId
      ? await this.index.requestsOfUnit(query.unitId, query.from, query.to)
      : await this.index.requestsBetween(query.from, query.to);
    const { settings } = this.options;
    const facts = [
      ...demands.filter((d) => !query.department || d.department === query.department).map(demandFact),
      ...requests.filter((r) => !query.department || r.department === query.department).map(requestFact),
    ];
    return aggregateKinds(facts, {
      groupBy: query.groupBy,
      hours: { document: settings.hours.document, onSite: settings.hours.onSite, dataItem: this.gate.hoursPerDataItem },
    });
  }

  /** Sets the lead department of domains (an audited admin act); an empty code removes a lead. */
  async setLeadDepartments(change: Record<string, string>) {
    await this.burden.serial(async () => {
      const leads = await this.index.leadDepartments();
      for (const [domain, department] of Object.entries(change)) {
        if (department === "") delete leads[domain];
        else leads[domain] = department;
      }
      await this.index.setLeadDepartments(leads);
    });
    return this.gateLists();
  }

  /** Adds data catalogue items to, or removes them from, the county's data list (an audited admin act). */
  async changeDataList(change: { add: string[]; remove: string[] }) {
    await this.burden.serial(async () => {
      const items = new Set(await this.index.dataList());
      for (const item of change.add) items.add(item);
      for (const item of change.remove) items.delete(item);
      await this.index.setDataList([...items].sort());
    });
    return this.gateLists();
  }

  /** The lead departments and the data catalogue items on the data list. */
  async gateLists() {
    return { leadDepartments: await this.index.leadDepartments(), dataList: await this.index.dataList() };
  }
}

/** The duty types a request names (their owners must be the signer's department or granted to it). */
function dutyTypesAsked(request: RequestEnvelope): string[] {
  if (request.kind === "inspection") return request.dutyTypeIds;
  if (request.kind === "data")
    return [...new Set(request.items.flatMap((i) => ("dutyTypeId" in i ? [i.dutyTypeId] : [])))];
  return [];
}

/** A request as a unit's and a department's lists show it. */
function unitView(r: IndexedRequest) {
  return {
    requestId: r.requestId,
    kind: r.kind,
    department: r.department,
    decision: r.decision,
    reasonCode: r.reasonCode,
    decidedAt: r.decidedAt,
    from: r.from,
    to: r.to,
    ...(r.topic !== undefined ? { topic: r.topic } : {}),
    ...(r.domain !== undefined ? { domain: r.domain } : {}),
    ...(r.roles ? { roles: r.roles } : {}),
    ...(r.missing ? { missing: r.missing } : {}),
    ...(r.deadline !== undefined ? { deadline: r.deadline } : {}),
    ...(r.role !== undefined ? { role: r.role, days: r.days } : {}),
    ...(r.mergedWith ? { mergedWith: r.mergedWith } : {}),
    ...(r.conflicts ? { conflicts: r.conflicts } : {}),
  };
}
