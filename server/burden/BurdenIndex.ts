/**
 * Indexes for evidence demands, kept in LevelDB sublevels of the ledger's database and derived
 * from the log alone: records by unit, duty type and time; records by the demand they answer;
 * demands by id, by unit and by time. `catchUp` folds the leaves appended since the last call,
 * so the indexes survive a crash by being rebuilt from the log (they are never the source).
 */
import type { LedgerStore, StoredRecord } from "../store/LedgerStore.ts";
import { type IndexPut, LogIndexCursor } from "../store/LogIndexCursor.ts";
import type { DemandEntry } from "./demand.ts";
import { isRefusal } from "./rules.ts";
import type { DutyListOverrides } from "./rules.ts";

/** What the index keeps of a decided demand. */
export interface IndexedDemand {
  demandId: string;
  leafIndex: number;
  unitId: string;
  dutyTypeIds: string[];
  from: number;
  to: number;
  onSite: boolean;
  emergency: boolean;
  emergencyReason?: string;
  department: string;
  inspector: string;
  decision: DemandEntry["outcome"]["decision"];
  duplicateOf?: string;
  decidedAt: number;
  quotaLimit?: number;
  refused: boolean;
}

const pad = (n: number, width = 16) => n.toString().padStart(width, "0");

export class BurdenIndex {
  private readonly index: ReturnType<LedgerStore["sublevel"]>;
  private readonly lists: ReturnType<LedgerStore["sublevel"]>;
  private readonly cursor: LogIndexCursor;

  constructor(store: LedgerStore) {
    this.index = store.sublevel("burden");
    this.lists = store.sublevel("duty-lists");
    this.cursor = new LogIndexCursor(store, this.index);
  }

  /** Indexes every leaf appended since the last call. Callers serialise calls. */
  async catchUp(): Promise<void> {
    await this.cursor.catchUp((page) => {
      const ops: IndexPut[] = [];
      for (const leaf of page) {
        switch (leaf.kind) {
          case "record":
            ops.push(...recordKeys(leaf.record));
            break;
          case "demand":
            ops.push(...demandKeys(indexedOf(leaf.entry.value, leaf.entry.leafIndex)));
            break;
        }
      }
      return ops;
    });
  }

  /** Record ids of a unit's records of one duty type with performedAt in [from, to). */
  async recordIds(unitId: string, dutyTypeId: string, from: number, to: number): Promise<string[]> {
    const prefix = `r!${unitId}!${dutyTypeId}!`;
    const ids: string[] = [];
    for await (const key of this.index.keys({ gte: prefix + pad(from, 12), lt: prefix + pad(to, 12) })) {
      ids.push(key.slice(key.lastIndexOf("!") + 1));
    }
    return ids;
  }

  /**
   * Record ids that answer a demand: their envelope carries its id and they are the asked unit's
   * (a record of another unit naming the demand answers nothing).
   */
  async answers(demandId: string, unitId: string): Promise<string[]> {
    const prefix = `a!${demandId}!`;
    const ids: string[] = [];
    for await (const [key, unit] of this.index.iterator({ gte: prefix, lt: prefix + "~" })) {
      if (unit === unitId) ids.push(key.slice(prefix.length));
    }
    return ids;
  }

  async demand(demandId: string): Promise<IndexedDemand | undefined> {
    const value = await this.index.get(`d!${demandId}`);
    return value === undefined ? undefined : (JSON.parse(value) as IndexedDemand);
  }

  /** A unit's demands decided in [from, to), oldest first. */
  async demandsOfUnit(unitId: string, from = 0, to = 9_999_999_999): Promise<IndexedDemand[]> {
    const prefix = `u!${unitId}!`;
    return this.demandsByKeys(this.index.keys({ gte: prefix + pad(from, 12), lt: prefix + pad(to, 12) }));
  }

  /** All demands decided in [from, to), oldest first. */
  async demandsBetween(from = 0, to = 9_999_999_999): Promise<IndexedDemand[]> {
    return this.demandsByKeys(this.index.keys({ gte: `t!${pad(from, 12)}`, lt: `t!${pad(to, 12)}` }));
  }

  private async demandsByKeys(keys: AsyncIterable<string>): Promise<IndexedDemand[]> {
    const ids: string[] = [];
    for await (const key of keys) ids.push(key.slice(key.lastIndexOf("!") + 1));
    const values = await this.index.getMany(ids.map((id) => `d!${id}`));
    return values.flatMap((v) => (v === undefined ? [] : [JSON.parse(v) as IndexedDemand]));
  }

  async dutyList(unitId: string): Promise<DutyListOverrides> {
    const value = await this.lists.get(unitId);
    return value === undefined ? { added: [], removed: [] } : (JSON.parse(value) as DutyListOverrides);
  }

  async setDutyList(unitId: string, overrides: DutyListOverrides): Promise<void> {
    // Not derived from the log, so written synced (LevelDB forwards the option to the database).
    const options = { sync: true } as Record<string, unknown>;
    await this.lists.batch([{ type: "put", key: unitId, value: JSON.stringify(overrides) }], options);
  }
}

function recordKeys(record: StoredRecord): Array<{ type: "put"; key: string; value: string }> {
  const e = record.envelope;
  const keys = [
    {
      type: "put" as const,
      key: `r!${e.unitId}!${e.dutyTypeId}!${pad(e.performedAt, 12)}!${record.recordId}`,
      value: "",
    },
  ];
  if (e.demandId) keys.push({ type: "put", key: `a!${e.demandId}!${record.recordId}`, value: e.unitId });
  return keys;
}

function indexedOf(entry: DemandEntry & { quotaLimit?: number }, leafIndex: number): IndexedDemand {
  const { demand, outcome } = entry;
  return {
    demandId: entry.demandId,
    leafIndex,
    unitId: demand.unitId,
    dutyTypeIds: demand.dutyTypeIds,
    from: demand.from,
    to: demand.to,
    onSite: demand.onSite,
    emergency: demand.emergency !== undefined,
    ...(demand.emergency ? { emergencyReason: demand.emergency.reason } : {}),
    department: demand.department,
    inspector: demand.inspector,
    decision: outcome.decision,
    ...(outcome.duplicateOf ? { duplicateOf: outcome.duplicateOf } : {}),
    decidedAt: outcome.decidedAt,
    ...(entry.quotaLimit !== undefined ? { quotaLimit: entry.quotaLimit } : {}),
    refused: isRefusal(outcome),
  };
}

function demandKeys(d: IndexedDemand): Array<{ type: "put"; key: string; value: string }> {
  return [
    { type: "put", key: `d!${d.demandId}`, value: JSON.stringify(d) },
    { type: "put", key: `u!${d.unitId}!${pad(d.decidedAt, 12)}!${d.demandId}`, value: "" },
    { type: "put", key: `t!${pad(d.decidedAt, 12)}!${d.demandId}`, value: "" },
  ];
}
