/**
 * The export use case: a unit's records (optionally of one duty type and performedAt period) as
 * one bundle, read through the index by unit and time and written as it is read.
 */
import type { StoredRecord } from "../store/LedgerStore.ts";
import { RecordsByUnit } from "../store/RecordsByUnit.ts";
import { type BundleTally, type EvidenceSources, type JsonSink, recordsOf, writeBundle } from "./evidenceAssembler.ts";

/** What an export selects (Unix seconds; `to` exclusive). */
export interface ExportQuery {
  unitId: string;
  dutyTypeId?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
}

/**
 * Writes the export bundle of `query` to `sink`, made at `createdAt` (Unix seconds); with
 * `readable`, only records of those duty types (what a department's token may read of the unit).
 */
export async function writeExport(
  sink: JsonSink,
  sources: EvidenceSources,
  query: ExportQuery,
  createdAt: number,
  readable?: ReadonlySet<string>,
): Promise<BundleTally> {
  const index = RecordsByUnit.of(sources.store);
  await index.catchUp();
  const selects = (record: StoredRecord) => {
    const e = record.envelope;
    return (
      e.unitId === query.unitId &&
      (query.dutyTypeId === undefined || e.dutyTypeId === query.dutyTypeId) &&
      (readable === undefined || readable.has(e.dutyTypeId)) &&
      (query.from === undefined || e.performedAt >= query.from) &&
      (query.to === undefined || e.performedAt < query.to)
    );
  };
  async function* ids() {
    for await (const key of index.range(query.unitId, query.from, query.to)) {
      if (query.dutyTypeId !== undefined && key.dutyTypeId !== query.dutyTypeId) continue;
      if (readable === undefined || readable.has(key.dutyTypeId)) yield key.recordId;
    }
  }
  return writeBundle(sink, sources, {
    query: Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined)),
    records: recordsOf(sources.store, ids()),
    selects,
    createdAt,
  });
}
