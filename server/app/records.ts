/**
 * Reading records: one record's content, a unit's timeline for the console, the export bundle
 * and the auditors' feed of every leaf. Each read is decided by the token's access first.
 */
import type { CatalogEntry } from "../catalog/loadCatalog.ts";
import type { Clock } from "../core/clock.ts";
import { DutyproofError } from "../core/errors.ts";
import type { EvidenceSources, JsonSink } from "../gateway/evidenceAssembler.ts";
import { type ExportQuery, writeExport } from "../gateway/exportBundle.ts";
import type { LedgerStore, StoredRecord } from "../store/LedgerStore.ts";
import { type Access, readableDutyTypes } from "./access.ts";
import { unixSeconds } from "./clockTime.ts";
import { demandAuditFields } from "./demand.ts";
import { requestAuditFields } from "./request.ts";

export interface RecordReadDependencies {
  store: LedgerStore;
  access: Access;
  catalog: () => CatalogEntry[];
}

/**
 * A record's content, for a token of its unit, of the department owning its duty type or
 * granted it, or an auditor. Unknown and forbidden look alike, so a token cannot probe which
 * records exist.
 */
export async function recordContent(deps: RecordReadDependencies, token: string, recordId: string) {
  const record = await deps.store.getRecord(recordId);
  const allowed = record
    ? await (deps.access.mayReadDutyType?.(token, record.envelope.unitId, record.envelope.dutyTypeId) ?? false)
    : false;
  if (!allowed) throw new DutyproofError("request.forbidden", "no record with this id is readable with this token");
  return record!;
}

/** Writes the export bundle of `query` with the records the token reads, dated by `clock`. */
export async function exportRecords(
  deps: RecordReadDependencies & { sources: EvidenceSources; clock: Clock },
  token: string,
  query: ExportQuery,
  sink: JsonSink,
) {
  const readable = await readableDutyTypes(
    deps.access,
    () => deps.catalog().map((e) => e.id),
    token,
    query.unitId,
    query.dutyTypeId,
  );
  return writeExport(sink, deps.sources, query, unixSeconds(deps.clock), readable);
}

/** Every leaf from `from` in leaf order (records and demands), for audit replay: auditors only. */
export async function auditFeed(deps: RecordReadDependencies, token: string, query: { from: number; limit: number }) {
  const { store } = deps;
  if (!(await (deps.access.mayAudit?.(token) ?? false)))
    throw new DutyproofError("request.forbidden", "not an auditor token");
  const records = await store.entriesFrom(query.from, query.limit);
  return {
    treeSize: store.treeSize,
    records: records.map(({ position, record: r, entry }) =>
      // Tip-group entries carry no acceptance time: a tip's time could point at its sender.
      entry?.kind === "tip"
        ? {
            kind: entry.kind,
            leafIndex: position,
            claimedIndex: entry.leafIndex,
            entryId: entry.entryId,
            ...entry.value,
          }
        : // Evidence demands and residents' confirmations are log entries of their own kinds
          // (docs/protocol.md §4, §8).
          entry
          ? {
              kind: entry.kind,
              leafIndex: position,
              claimedIndex: entry.leafIndex,
              entryId: entry.entryId,
              ...(entry.kind === "confirmation"
                ? { entry: entry.value }
                : entry.kind === "request"
                  ? requestAuditFields(entry.value)
                  : demandAuditFields(entry.value)),
              acceptedAt: Math.floor(entry.receivedAt / 1000),
            }
          : {
              leafIndex: position,
              claimedIndex: r!.leafIndex,
              recordId: r!.recordId,
              envelope: r!.envelope,
              signature: r!.signature,
              signer: r!.signer,
              leafHash: r!.leafHash,
              acceptedAt: Math.floor(r!.receivedAt / 1000),
              ...(r!.erasure ? { erasure: r!.erasure } : {}),
            },
    ),
    next: query.from + query.limit < store.treeSize ? query.from + query.limit : null,
  };
}

/** Status of a record in a unit's timeline. */
export type TimelineStatus = "pending" | "anchored" | "superseded" | "withdrawn";

/**
 * The envelope without the fields its duty type marks personal; every field when the duty type
 * is unknown (a list errs on the side of showing less). The salt goes too: with the fields
 * gone it opens nothing, and the list is not the evidence.
 */
function withoutPersonalFields(envelope: StoredRecord["envelope"], personal: ReadonlySet<string> | undefined) {
  const shown: Partial<StoredRecord["envelope"]> = { ...envelope };
  delete shown.salt;
  shown.fields = Object.fromEntries(Object.entries(envelope.fields).filter(([name]) => personal?.has(name) === false));
  return shown;
}

/** What a unit's timeline selects (performedAt in Unix seconds, `to` exclusive). */
export interface TimelineQuery {
  dutyTypeId?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
  limit: number;
}

/** A unit's records, newest first, with their status: for the unit and authorised inspectors. */
export async function unitTimeline(deps: RecordReadDependencies, token: string, unitId: string, query: TimelineQuery) {
  const readable = await readableDutyTypes(
    deps.access,
    () => deps.catalog().map((e) => e.id),
    token,
    unitId,
    query.dutyTypeId,
  );
  // A scan of the log, as the export does: fine at county scale until records are indexed by unit.
  const { store } = deps;
  const mine: StoredRecord[] = [];
  const amendedBy = new Map<string, { recordId: string; kind: "correction" | "withdrawal" }>();
  for (let from = 0; from < store.treeSize; from += 2000) {
    for (const { record } of await store.recordsFrom(from, 2000)) {
      if (record.envelope.unitId !== unitId) continue;
      const amends = record.envelope.amends;
      if (amends) amendedBy.set(amends.recordId, { recordId: record.recordId, kind: amends.kind });
      const e = record.envelope;
      if (query.dutyTypeId && e.dutyTypeId !== query.dutyTypeId) continue;
      if (readable && !readable.has(e.dutyTypeId)) continue;
      if (
        (query.from !== undefined && e.performedAt < query.from) ||
        (query.to !== undefined && e.performedAt >= query.to)
      )
        continue;
      mine.push(record);
    }
  }
  const anchoredSize = (await store.listCheckpoints({ reverse: true, limit: 50 })).find(
    (c) => c.status === "anchored",
  )?.size;
  mine.sort((a, b) => b.envelope.performedAt - a.envelope.performedAt || b.leafIndex - a.leafIndex);
  // A list shows no personal field (README, "Console"): the record itself
  // (GET /v1/attestations/{recordId}) carries them, for the reader entitled to it.
  const personal = new Map(
    deps.catalog().map((e) => [e.id, new Set(e.document.fields.filter((f) => f.personal).map((f) => f.name))]),
  );
  const records = mine.slice(0, query.limit).map((r) => {
    const link = amendedBy.get(r.recordId);
    const anchored = anchoredSize !== undefined && r.leafIndex < anchoredSize;
    const status: TimelineStatus = link
      ? link.kind === "correction"
        ? "superseded"
        : "withdrawn"
      : anchored
        ? "anchored"
        : "pending";
    return {
      recordId: r.recordId,
      leafIndex: r.leafIndex,
      leafHash: r.leafHash,
      envelope: withoutPersonalFields(r.envelope, personal.get(r.envelope.dutyTypeId)),
      signature: r.signature,
      signer: r.signer,
      acceptedAt: Math.floor(r.receivedAt / 1000),
      anchored,
      status,
      ...(link ? { amendedBy: link.recordId } : {}),
    };
  });
  return { unitId, total: mine.length, records };
}
