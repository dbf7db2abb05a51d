/**
 * An index of the log's burden requests ("DPR1" leaves) by id, by unit and decision time, and by
 * time, kept in a sublevel of the ledger's database and derived from the log alone (rebuilt by
 * `catchUp` after a crash). Also the gate's two administrative lists, which are not derived from
 * the log and are written synced: the lead department of each domain and the county's data
 * catalogue items on the data list (数据清单).
 */
import type { LedgerStore } from "../store/LedgerStore.ts";
import { type IndexPut, LogIndexCursor } from "../store/LogIndexCursor.ts";
import { type IndexedRequest, indexedRequestOf } from "./requestRules.ts";

const pad = (n: number) => n.toString().padStart(12, "0");
const SYNCED = { sync: true } as Record<string, unknown>;

export class RequestIndex {
  private readonly index: ReturnType<LedgerStore["sublevel"]>;
  private readonly lists: ReturnType<LedgerStore["sublevel"]>;
  private readonly cursor: LogIndexCursor;

  constructor(store: LedgerStore) {
    this.index = store.sublevel("requests");
    this.lists = store.sublevel("gate-lists");
    this.cursor = new LogIndexCursor(store, this.index);
  }

  /** Indexes every leaf appended since the last call. Callers serialise calls. */
  async catchUp(): Promise<void> {
    await this.cursor.catchUp((page) => {
      const ops: IndexPut[] = [];
      for (const leaf of page) {
        if (leaf.kind !== "request") continue;
        const r = indexedRequestOf(leaf.entry.value, leaf.entry.leafIndex);
        ops.push(
          { type: "put", key: `d!${r.requestId}`, value: JSON.stringify(r) },
          { type: "put", key: `u!${r.unitId}!${pad(r.decidedAt)}!${r.requestId}`, value: "" },
          { type: "put", key: `t!${pad(r.decidedAt)}!${r.requestId}`, value: "" },
        );
      }
      return ops;
    });
  }

  async request(requestId: string): Promise<IndexedRequest | undefined> {
    const value = await this.index.get(`d!${requestId}`);
    return value === undefined ? undefined : (JSON.parse(value) as IndexedRequest);
  }

  /** A unit's requests decided in [from, to), oldest first. */
  async requestsOfUnit(unitId: string, from = 0, to = 9_999_999_999): Promise<IndexedRequest[]> {
    const prefix = `u!${unitId}!`;
    return this.byKeys(this.index.keys({ gte: prefix + pad(from), lt: prefix + pad(to) }));
  }

  /** All requests decided in [from, to), oldest first. */
  async requestsBetween(from = 0, to = 9_999_999_999): Promise<IndexedRequest[]> {
    return this.byKeys(this.index.keys({ gte: `t!${pad(from)}`, lt: `t!${pad(to)}` }));
  }

  private async byKeys(keys: AsyncIterable<string>): Promise<IndexedRequest[]> {
    const ids: string[] = [];
    for await (const key of keys) ids.push(key.slice(key.lastIndexOf("!") + 1));
    const values = await this.index.getMany(ids.map((id) => `d!${id}`));
    return values.flatMap((v) => (v === undefined ? [] : [JSON.parse(v) as IndexedRequest]));
  }

  /** The lead department of every domain that has one. */
  async leadDepartments(): Promise<Record<string, string>> {
    const value = await this.lists.get("lead");
    return value === undefined ? {} : (JSON.parse(value) as Record<string, string>);
  }

  async setLeadDepartments(leads: Record<string, string>): Promise<void> {
    await this.lists.batch([{ type: "put", key: "lead", value: JSON.stringify(leads) }], SYNCED);
  }

  /** The data catalogue items on the county's data list (duty types' fields are on it by the duty list). */
  async dataList(): Promise<string[]> {
    const value = await this.lists.get("data");
    return value === undefined ? [] : (JSON.parse(value) as string[]);
  }

  async setDataList(items: string[]): Promise<void> {
    await this.lists.batch([{ type: "put", key: "data", value: JSON.stringify(items) }], SYNCED);
  }
}
