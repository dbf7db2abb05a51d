/**
 * An index of the log's duty records by unit and time (performedAt), kept in a sublevel of the
 * ledger's database and derived from the log alone, so exports, evidence packages and monthly
 * summaries read only the records they return instead of scanning the log. `catchUp` folds the
 * leaves appended since the last call; a store written before this index existed is indexed on
 * the first catch-up (its marker starts at leaf 0), and a lost index is rebuilt the same way.
 */
import type { LedgerStore, StoredRecord } from "./LedgerStore.ts";

/** One indexed record: its id, time and duty type (the index's value, so filters need no record). */
export interface UnitRecordKey {
  recordId: string;
  performedAt: number; // Unix seconds, as the unit signed it
  dutyTypeId: string;
}

const pad = (n: number) => n.toString().padStart(12, "0");
/** Leaves read per catch-up step, and keys read per page of a range. */
const CATCH_UP_PAGE = 2000;
const RANGE_PAGE = 256;

const instances = new WeakMap<LedgerStore, RecordsByUnit>();

export class RecordsByUnit {
  private readonly store: LedgerStore;
  private readonly index: ReturnType<LedgerStore["sublevel"]>;
  private next = -1;
  private queue: Promise<unknown> = Promise.resolve();

  /** The one index of a store (two writers to one sublevel would race on its marker). */
  static of(store: LedgerStore): RecordsByUnit {
    let index = instances.get(store);
    if (!index) {
      index = new RecordsByUnit(store);
      instances.set(store, index);
    }
    return index;
  }

  private constructor(store: LedgerStore) {
    this.store = store;
    this.index = store.sublevel("records-by-unit");
  }

  /** Indexes every leaf appended since the last call; concurrent calls run one after another. */
  catchUp(): Promise<void> {
    const run = this.queue.then(() => this.fold());
    this.queue = run.catch(() => {});
    return run;
  }

  private async fold(): Promise<void> {
    if (this.next < 0) this.next = Number((await this.index.get("meta!next")) ?? 0);
    while (this.next < this.store.treeSize) {
      const page = await this.store.entriesFrom(this.next, CATCH_UP_PAGE);
      if (page.length === 0) break;
      const ops: Array<{ type: "put"; key: string; value: string }> = [];
      for (const leaf of page) if (leaf.kind === "record") ops.push(keyOf(leaf.record));
      const next = page.at(-1)!.position + 1;
      ops.push({ type: "put", key: "meta!next", value: String(next) });
      await this.index.batch(ops);
      this.next = next;
    }
  }

  /**
   * The unit's records with performedAt in [from, to), by time then record id, read a page at a
   * time: no LevelDB iterator stays open while the caller works on a page (an open iterator pins
   * a snapshot, which would keep an erased record's old value on disk; LedgerStore.replaceErased).
   * Precondition: catchUp() resolved after the records of interest were appended.
   */
  async *range(unitId: string, from = 0, to = 999_999_999_999): AsyncGenerator<UnitRecordKey> {
    const prefix = `u!${unitId}!`;
    const end = prefix + pad(Math.max(0, to));
    let after: string | undefined;
    for (;;) {
      const page: Array<[string, string]> = [];
      const bounds = after === undefined ? { gte: prefix + pad(Math.max(0, from)) } : { gt: after };
      for await (const entry of this.index.iterator({ ...bounds, lt: end, limit: RANGE_PAGE })) page.push(entry);
      for (const [key, dutyTypeId] of page) {
        const [, , time, recordId] = key.split("!") as [string, string, string, string];
        yield { recordId, performedAt: Number(time), dutyTypeId };
      }
      if (page.length < RANGE_PAGE) return;
      after = page.at(-1)![0];
    }
  }
}

function keyOf(record: StoredRecord): { type: "put"; key: string; value: string } {
  const e = record.envelope;
  return { type: "put", key: `u!${e.unitId}!${pad(e.performedAt)}!${record.recordId}`, value: e.dutyTypeId };
}
