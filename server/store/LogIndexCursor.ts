/**
 * The one catch-up loop of the indexes derived from the log (burden demands, burden requests, the
 * tip group): each keeps its rows in a sublevel with its cursor at `meta!next`, and reads the log
 * from there in pages. The cursor is written with the rows it covers, or after a long stretch of
 * leaves that gave no rows, so a restart over a log with nothing new for an index writes nothing
 * (a restart rescans at most CURSOR_STRETCH leaves).
 */
import type { LedgerStore, LogEntry } from "./LedgerStore.ts";

/** One row of an index. */
export type IndexPut = { type: "put"; key: string; value: string };

/** Leaves read without a row before the cursor is saved anyway. */
const CURSOR_STRETCH = 10_000;
const PAGE = 2000;

export class LogIndexCursor {
  private readonly store: LedgerStore;
  private readonly index: ReturnType<LedgerStore["sublevel"]>;
  private next = -1;
  /** The cursor as last written. */
  private saved = 0;

  constructor(store: LedgerStore, index: ReturnType<LedgerStore["sublevel"]>) {
    this.store = store;
    this.index = index;
  }

  /**
   * Hands every leaf appended since the last call to `rowsOf`, a page at a time, and writes the
   * rows it gives in one batch with the cursor. Callers serialise calls.
   */
  async catchUp(rowsOf: (page: readonly LogEntry[]) => IndexPut[] | Promise<IndexPut[]>): Promise<void> {
    if (this.next < 0) {
      this.next = Number((await this.index.get("meta!next")) ?? 0);
      this.saved = this.next;
    }
    while (this.next < this.store.treeSize) {
      const page = await this.store.entriesFrom(this.next, PAGE);
      if (page.length === 0) break;
      const ops = await rowsOf(page);
      const next = page.at(-1)!.position + 1;
      if (ops.length > 0 || next - this.saved >= CURSOR_STRETCH) {
        await this.index.batch([...ops, { type: "put", key: "meta!next", value: String(next) }]);
        this.saved = next;
      }
      this.next = next;
    }
  }
}
