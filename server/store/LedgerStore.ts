/**
 * The gateway's LevelDB store: accepted records, the Merkle log's leaves and its perfect-subtree
 * hashes in tiles (core/merkle/tiles.ts), and the checkpoints with their anchoring transactions
 * (the outbox). Every write that acknowledges something is one synced batch, so a crash leaves
 * either all of it or none.
 *
 * Appends are serialised through one writer and grouped: requests that arrive while a batch is
 * being written share the next batch and its fsync ("group commit").
 */
import { Level } from "level";
import { bytesToHex, hexToBytes } from "../core/bytes.ts";
import {
  type Hash,
  type LeafRange,
  type NodeId,
  type TileId,
  Tile,
  consistencyProofRanges,
  hashRangesFromTiles,
  inclusionProofRanges,
  integrate,
  rangeNodes,
  rightEdgeTiles,
  rootFromEdge,
  rootOf,
  tileAddress,
  tileKey,
  tilesForRanges,
} from "../core/merkle/index.ts";
import { emptyRoot } from "../core/merkle/hasher.ts";
import type { RecordEnvelope } from "../core/record.ts";
import type { AmendmentNotice, ErasedEnvelope, Erasure } from "../core/amendment.ts";
import type { DemandEntry } from "../core/demand.ts";
import type { ConfirmationEntry } from "../core/confirmation.ts";
import type { RequestEntry } from "../core/request.ts";
import type { TipLogValue } from "../core/tip.ts";
import type { Clock } from "../core/clock.ts";
import { systemClock } from "../clock.ts";
import { faultPoint } from "../faultPoint.ts";

/** A record as stored: what the unit sent, and where it sits in the log. */
export interface StoredRecord {
  recordId: string;
  envelope: RecordEnvelope | ErasedEnvelope; // erased: personal fields and salt gone (see `erasure`)
  signature: string;
  signer: string;
  leafHash: string;
  leafIndex: number;
  receivedAt: number; // Unix milliseconds, gateway clock
  erasure?: Erasure; // set once the record's personal content was lawfully erased
}

/** A checkpoint of the log and the state of its anchoring. */
export interface StoredCheckpoint {
  size: number;
  root: string;
  previousSize: number;
  status: "sent" | "anchored";
  createdAt: number; // Unix milliseconds
  nonce?: number;
  txHash?: string;
  rawTransaction?: string;
  blockNumber?: number;
  anchoredAt?: number; // Unix seconds, block time
  /** Set only on checkpoints of a sealed predecessor log; absent: the gateway's current log. */
  logId?: string;
}

export interface AppendRequest {
  recordId: string;
  envelope: RecordEnvelope;
  signature: string;
  signer: string;
  leafHash: Hash;
}

export interface AppendResult {
  record: StoredRecord;
  /** false when the same record had been accepted before (idempotent replay). */
  created: boolean;
}

/** What the gateway logs of an evidence demand: the logged demand and the quota then in force. */
export type StoredDemandValue = DemandEntry & { quotaLimit?: number };

/**
 * A log entry that is not a duty record: an evidence demand and its outcome, with its own leaf
 * format ("DPD1", core/demand.ts), its value kept beside the records. `entryId` (the demand id)
 * shares the records' key space in the leaf table, so it must never equal a record id (a
 * different digest domain guarantees that).
 */
export interface DemandAppendRequest {
  kind: "demand";
  entryId: string;
  value: StoredDemandValue;
  leafHash: Hash;
}

/**
 * A tip-group entry ("DPT1", core/tip.ts): a member joined or left, a tip, a reply. Its
 * `receivedAt` is kept to the day only (a tip's exact time could point at its sender).
 */
export interface TipAppendRequest {
  kind: "tip";
  entryId: string;
  value: TipLogValue;
  leafHash: Hash;
}

/** A tip-group entry as stored, and where it sits in the log. */
export interface StoredTipEntry {
  kind: "tip";
  entryId: string;
  value: TipLogValue;
  leafHash: string;
  leafIndex: number;
  receivedAt: number; // Unix milliseconds, gateway clock, rounded down to the day
}

/** A demand entry as stored, and where it sits in the log. */
export interface StoredDemand {
  kind: "demand";
  entryId: string;
  value: StoredDemandValue;
  leafHash: string;
  leafIndex: number;
  receivedAt: number; // Unix milliseconds, gateway clock
}

/** A burden request entry ("DPR1", core/request.ts), appended and stored like a demand's. */
export interface RequestAppendRequest {
  kind: "request";
  entryId: string;
  value: RequestEntry;
  leafHash: Hash;
}

/** A burden request entry as stored, and where it sits in the log. */
export interface StoredRequest {
  kind: "request";
  entryId: string;
  value: RequestEntry;
  leafHash: string;
  leafIndex: number;
  receivedAt: number; // Unix milliseconds, gateway clock
}

/**
 * A resident's confirmation of a record, or a unit's appeal against one (core/confirmation.ts,
 * leaf "DPC1"), logged like a demand: `entryId` is the entry's digest.
 */
export interface ConfirmationAppendRequest {
  kind: "confirmation";
  entryId: string;
  value: ConfirmationEntry;
  leafHash: Hash;
}

/** A confirmation entry as stored, and where it sits in the log. */
export interface StoredConfirmation {
  kind: "confirmation";
  entryId: string;
  value: ConfirmationEntry;
  leafHash: string;
  leafIndex: number;
  receivedAt: number; // Unix milliseconds, gateway clock
}

/** A log entry that is not a record, by kind. */
export type StoredEntry = StoredDemand | StoredRequest | StoredConfirmation | StoredTipEntry;
type EntryAppendRequest = DemandAppendRequest | RequestAppendRequest | ConfirmationAppendRequest | TipAppendRequest;

/**
 * One leaf of the log as read back in leaf order: a duty record or a demand, told apart by
 * `kind`. `position` is the leaf's index in the log table; the stored value's own `leafIndex`
 * is what it was acknowledged with (an auditor compares the two). The member without a field
 * has it `undefined`, so a reader may also test `record` or `entry` directly.
 */
export type LogEntry =
  | { kind: "record"; position: number; record: StoredRecord; entry?: undefined }
  | { kind: "demand"; position: number; entry: StoredDemand; record?: undefined }
  | { kind: "request"; position: number; entry: StoredRequest; record?: undefined }
  | { kind: "confirmation"; position: number; entry: StoredConfirmation; record?: undefined }
  | { kind: "tip"; position: number; entry: StoredTipEntry; record?: undefined };

/** An append queued for the next group commit, with the promise it settles. */
type PendingAppend =
  | {
      kind: "record";
      request: AppendRequest;
      resolve: (result: AppendResult) => void;
      reject: (error: unknown) => void;
    }
  | {
      kind: "entry";
      request: EntryAppendRequest;
      resolve: (result: { entry: StoredEntry; created: boolean }) => void;
      reject: (error: unknown) => void;
    };

function openSublevel(db: Level<string, string>, name: string) {
  return db.sublevel<string, string>(name, { valueEncoding: "utf8" });
}
type Sublevel = ReturnType<typeof openSublevel>;
function openBinarySublevel(db: Level<string, string>, name: string) {
  return db.sublevel<string, Uint8Array>(name, { valueEncoding: "view" });
}
type BinarySublevel = ReturnType<typeof openBinarySublevel>;
type PutOperation =
  | { type: "put"; sublevel: Sublevel; key: string; value: string }
  | { type: "put"; sublevel: BinarySublevel; key: string; value: Uint8Array };

const pad = (n: number) => n.toString().padStart(16, "0");
/** Key of a node in the store's first layout, one key per node (read only to migrate it). */
const nodeKey = (node: NodeId) => `${node.level.toString().padStart(2, "0")}:${pad(node.index)}`;
/** The layout of the log's hashes this code writes (meta key "layout"). */
const LAYOUT = "tiles-8";

/** A small least-recently-used map of full tiles (which never change). */
class TileCache {
  private readonly entries = new Map<string, Tile>();
  private readonly capacity: number;
  constructor(capacity: number) {
    this.capacity = capacity;
  }
  get(key: string): Tile | undefined {
    const tile = this.entries.get(key);
    if (tile) {
      this.entries.delete(key);
      this.entries.set(key, tile);
    }
    return tile;
  }
  set(key: string, tile: Tile): void {
    this.entries.delete(key);
    this.entries.set(key, tile);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
  clear(): void {
    this.entries.clear();
  }
}

export class LedgerStore {
  private readonly db: Level<string, string>;
  private readonly records: Sublevel;
  private readonly leaves: Sublevel;
  private readonly leafIndexByHash: Sublevel;
  /** The first layout's one key per node; only read, to migrate an older store to tiles. */
  private readonly nodes: Sublevel;
  private readonly tiles: BinarySublevel;
  private readonly checkpoints: Sublevel;
  private readonly meta: Sublevel;
  private readonly amendedBy: Sublevel;

  /**
   * The last tile of each tile level, as committed: the log's right edge (core/merkle/integrate.ts),
   * the only tiles that are not yet full and all an append reads.
   */
  private edge = new Map<number, Tile>();
  /**
   * Full tiles read for proofs. Tiles above the leaves are few (at 10M leaves, 154 of 16 KB),
   * so nearly all proofs read just one tile, of leaves, from disk.
   */
  private readonly upperTiles = new TileCache(1024);
  private readonly leafTiles = new TileCache(256);
  private readonly foldedRanges = new Map<string, Hash>();
  private size = 0;
  private pending: PendingAppend[] = [];
  private readonly entries: Sublevel;
  private writing: Promise<void> | null = null;
  private closed = false;
  /** A write failed: reopen before the next one (see `write`). */
  private broken = false;
  private reopening: Promise<void> | null = null;

  readonly location: string;
  /** The gateway's clock: the time a record or demand is received at. */
  private readonly clock: Clock;

  /** `options.clock` defaults to the system clock (for the composition root and tools). */
  constructor(location: string, options: { clock?: Clock } = {}) {
    this.location = location;
    this.clock = options.clock ?? systemClock;
    // Uncompressed tables: an erased value can then be shown absent by scanning the files
    // (test/audit/amendments.test.ts); records are mostly random hex, which Snappy barely shrinks.
    // A 32 MB memtable instead of LevelDB's 4 MB: a record's random-keyed entries are merged
    // into the level below once per 32 MB written, not once per 4 MB, which cut compaction's
    // share of the gateway's CPU per batched record to about a third (docs/operations.md
    // "Ingest path"; `npm run bench` reports the store's whole cost as
    // store_append_cpu_us_per_record).
    this.db = new Level<string, string>(location, {
      valueEncoding: "utf8",
      compression: false,
      writeBufferSize: 32 * 1024 * 1024,
    } as never);
    this.records = this.own("record", openSublevel(this.db, "record"));
    this.leaves = this.own("leaf", openSublevel(this.db, "leaf"));
    this.leafIndexByHash = this.own("leafhash", openSublevel(this.db, "leafhash"));
    this.nodes = this.own("node", openSublevel(this.db, "node"));
    this.tiles = this.own("tile", openBinarySublevel(this.db, "tile"));
    this.checkpoints = this.own("checkpoint", openSublevel(this.db, "checkpoint"));
    this.meta = this.own("meta", openSublevel(this.db, "meta"));
    this.amendedBy = this.own("amendedby", openSublevel(this.db, "amendedby"));
    this.entries = this.own("entry", openSublevel(this.db, "entry"));
  }

  /**
   * Every sublevel handed out, the store's own and adapters': the one list that `open` (and so
   * the reopening after a failed write) derives from. Sublevels close with their database but
   * do not reopen with it, so one left off this list would answer "database is not open" after
   * a failed write until the gateway restarts.
   */
  private readonly sublevels = new Map<string, Sublevel | BinarySublevel>();

  private own<S extends Sublevel | BinarySublevel>(name: string, sublevel: S): S {
    this.sublevels.set(name, sublevel);
    return sublevel;
  }

  /**
   * A sublevel of the same database for an adapter's own state (names start with "x-"); the
   * same object for the same name, reopened with the store.
   */
  sublevel(name: string): Sublevel {
    const known = this.sublevels.get(`x-${name}`);
    return known ? (known as Sublevel) : this.own(`x-${name}`, openSublevel(this.db, `x-${name}`));
  }

  /** Opens the database and rebuilds the in-memory right edge of the log from the stored tiles. */
  async open(): Promise<void> {
    await this.db.open();
    await Promise.all([...this.sublevels.values()].map((sublevel) => sublevel.open()));
    const size = await this.meta.get("size");
    this.size = size === undefined ? 0 : Number(size);
    const layout = await this.meta.get("layout");
    if (layout === undefined) await this.migrateToTiles();
    else if (layout !== LAYOUT) throw new Error(`the store's log layout ${layout} is not one this gateway reads`);
    this.upperTiles.clear();
    this.leafTiles.clear();
    await this.loadEdge();
  }

  private async loadEdge(): Promise<void> {
    const ids = rightEdgeTiles(this.size);
    const tiles = await this.readTiles(ids, false);
    this.edge = new Map(tiles.map((tile) => [tile.level, tile]));
  }

  /**
   * A store written before tiles keeps one key per node. Its leaf hashes (the level-0 nodes) are
   * folded into tiles again, and the result must give the root the old nodes give; then the
   * layout is recorded and the old keys are removed. A crash part-way leaves the layout unset,
   * and the next open starts the migration over (tile writes are idempotent).
   */
  private async migrateToTiles(): Promise<void> {
    if (this.size > 0) {
      const oldFrontier = rangeNodes(0, this.size);
      const oldValues = await this.nodes.getMany(oldFrontier.map(nodeKey));
      const oldNodes = new Map<string, Hash>();
      oldValues.forEach((value, i) => {
        if (value === undefined) throw new Error(`log node ${nodeKey(oldFrontier[i]!)} is missing`);
        oldNodes.set(nodeKey(oldFrontier[i]!), hexToBytes(value));
      });
      const oldRoot = rootOf(this.size, (node) => oldNodes.get(nodeKey(node))!);
      let size = 0;
      let edge = new Map<number, Tile>();
      let root = emptyRoot();
      let batch: Hash[] = [];
      const flush = async () => {
        const integration = integrate(size, edge, batch);
        const ops = [...integration.tiles].map(([key, tile]) => ({
          type: "put" as const,
          sublevel: this.tiles,
          key,
          value: tile.encode(),
        }));
        await this.db.batch(ops as never, { sync: false });
        ({ size, edge, root } = integration);
        batch = [];
      };
      for await (const value of this.nodes.values({ gte: "00:", lt: "00;" })) {
        if (size + batch.length === this.size) break;
        batch.push(hexToBytes(value));
        if (batch.length === 65_536) await flush();
      }
      await flush();
      if (size !== this.size) throw new Error(`the log has ${this.size} leaves but ${size} leaf hashes are stored`);
      if (bytesToHex(root) !== bytesToHex(oldRoot)) {
        throw new Error("the log's tiles do not give the root its stored nodes give");
      }
    }
    await this.db.batch([{ type: "put", sublevel: this.meta, key: "layout", value: LAYOUT }], { sync: true });
    await this.nodes.clear();
  }

  /**
   * One synced batch. A failed write (disk full, I/O error) can leave a torn record at the end
   * of LevelDB's write-ahead log, and records appended after it would be dropped with it when
   * the log is next replayed; so after a failure the database is closed and reopened (which
   * replays the log, drops the torn record and starts a fresh log) before anything else is
   * written. While that reopening fails (the disk is still full), the database stays closed:
   * writes and reads fail until a later write reopens it.
   */
  private async write(ops: PutOperation[]): Promise<void> {
    await this.reopenIfBroken();
    try {
      // A chained batch: one call into LevelDB per operation with its key and value, where an
      // array batch has the binding read each operation's fields back out of a JavaScript object,
      // which cost the main thread measurably more CPU per record.
      // Tile values are binary: each put takes its sublevel's encodings.
      const batch = this.db.batch();
      for (const op of ops) batch.put(op.key, op.value as string, { sublevel: op.sublevel as Sublevel });
      await batch.write({ sync: true });
    } catch (error) {
      this.broken = true;
      throw error;
    }
  }

  private async reopenIfBroken(): Promise<void> {
    if (this.broken) {
      this.reopening ??= (async () => {
        try {
          await this.db.close();
          await this.open();
          this.broken = false;
        } finally {
          this.reopening = null;
        }
      })();
      await this.reopening;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.writing) await this.writing;
    await this.db.close();
  }

  /** Number of leaves in the log. */
  get treeSize(): number {
    return this.size;
  }

  /** The log's current root. */
  currentRoot(): Hash {
    return rootFromEdge(this.size, this.edge);
  }

  async getRecord(recordId: string): Promise<StoredRecord | undefined> {
    const value = await this.records.get(recordId);
    return value === undefined ? undefined : (JSON.parse(value) as StoredRecord);
  }

  /** The record that corrects or withdraws `recordId`, if any (at most one: see core/amendment.ts). */
  async amendmentOf(recordId: string): Promise<AmendmentNotice | undefined> {
    const value = await this.amendedBy.get(recordId);
    return value === undefined ? undefined : (JSON.parse(value) as AmendmentNotice);
  }

  /**
   * Replaces a record by its erased form so that no file under the store's directory keeps the
   * old value. LevelDB keeps an overwritten value in its write-ahead log and table files until a
   * compaction merges it with the newer one, and a memtable flush writes both versions if both
   * are still in memory. So: flush first (the original then sits in a table file and the log
   * that held it is retired), write the erased form (synced), then compact the record's key
   * range, which flushes the new value and merges it down through every level holding the key,
   * dropping the old one. Precondition: `erased` is the stored record with its personal fields
   * and salt removed and `erasure` set; no iterator is open on the store (an open snapshot keeps
   * old values alive).
   */
  async replaceErased(erased: StoredRecord): Promise<void> {
    // `level` resolves to classic-level (LevelDB) under Node; its type hides compactRange.
    const leveldb = this.db as unknown as { compactRange(start: string, end: string): Promise<void> };
    const key = `!record!${erased.recordId}`;
    await leveldb.compactRange(key, key);
    await this.db.batch(
      [{ type: "put", sublevel: this.records, key: erased.recordId, value: JSON.stringify(erased) }],
      {
        sync: true,
      },
    );
    await leveldb.compactRange(key, key);
  }

  async recordIdAt(index: number): Promise<string | undefined> {
    return this.leaves.get(pad(index));
  }

  /**
   * The log's leaves from index `from` (up to `limit` of them), in leaf order, each with the
   * record it points to. `position` is the leaf's index in the log table; the record's own
   * `leafIndex` is what it was acknowledged with. An auditor compares the two.
   */
  async recordsFrom(from: number, limit: number): Promise<Array<{ position: number; record: StoredRecord }>> {
    const entries: Array<[number, string]> = [];
    for await (const [key, id] of this.leaves.iterator({ gte: pad(from), limit })) entries.push([Number(key), id]);
    const values = await this.records.getMany(entries.map(([, id]) => id));
    return entries.flatMap(([position], i) =>
      values[i] === undefined ? [] : [{ position, record: JSON.parse(values[i]!) as StoredRecord }],
    );
  }

  /** The demand entry logged under `entryId` (a demand id), if any. */
  async getEntry(entryId: string): Promise<StoredDemand | undefined> {
    const entry = await this.getAnyEntry(entryId);
    return entry?.kind === "demand" ? entry : undefined;
  }

  /** The entry of any kind but a record logged under `entryId`, if any. */
  async getAnyEntry(entryId: string): Promise<StoredEntry | undefined> {
    const value = await this.entries.get(entryId);
    if (value === undefined) return undefined;
    return JSON.parse(value) as StoredEntry; // every stored entry names its kind
  }

  /** The burden request entry logged under `entryId` (a request id), if any. */
  async getRequestEntry(entryId: string): Promise<StoredRequest | undefined> {
    const entry = await this.getAnyEntry(entryId);
    return entry?.kind === "request" ? entry : undefined;
  }

  /** The tip-group entry logged under `entryId`, if any. */
  async getTipEntry(entryId: string): Promise<StoredTipEntry | undefined> {
    const entry = await this.getAnyEntry(entryId);
    return entry?.kind === "tip" ? entry : undefined;
  }

  /** Like recordsFrom, but every leaf: records and demands, in leaf order, told apart by `kind`. */
  async entriesFrom(from: number, limit: number): Promise<LogEntry[]> {
    const ids: Array<[number, string]> = [];
    for await (const [key, id] of this.leaves.iterator({ gte: pad(from), limit })) ids.push([Number(key), id]);
    const records = await this.records.getMany(ids.map(([, id]) => id));
    const missing = ids.flatMap(([, id], i) => (records[i] === undefined ? [id] : []));
    const entries = new Map<string, string | undefined>();
    const found = await this.entries.getMany(missing);
    missing.forEach((id, i) => entries.set(id, found[i]));
    return ids.flatMap(([position, id], i): LogEntry[] => {
      if (records[i] !== undefined)
        return [{ kind: "record", position, record: JSON.parse(records[i]!) as StoredRecord }];
      const entry = entries.get(id);
      if (entry === undefined) return [];
      const parsed = JSON.parse(entry) as StoredEntry;
      if (parsed.kind === "request") return [{ kind: "request", position, entry: parsed }];
      if (parsed.kind === "confirmation") return [{ kind: "confirmation", position, entry: parsed }];
      if (parsed.kind === "tip") return [{ kind: "tip", position, entry: parsed }];
      return [{ kind: "demand", position, entry: parsed }];
    });
  }

  /** Appends a demand entry durably, in the same group commit as records. */
  appendEntry(request: DemandAppendRequest): Promise<{ entry: StoredDemand; created: boolean }>;
  appendEntry(request: RequestAppendRequest): Promise<{ entry: StoredRequest; created: boolean }>;
  /** Appends a confirmation entry durably, in the same group commit as records. */
  appendEntry(request: ConfirmationAppendRequest): Promise<{ entry: StoredConfirmation; created: boolean }>;
  /** Appends a tip-group entry durably, in the same group commit as records. */
  appendEntry(request: TipAppendRequest): Promise<{ entry: StoredTipEntry; created: boolean }>;
  appendEntry(request: EntryAppendRequest): Promise<{ entry: StoredEntry; created: boolean }> {
    if (this.closed) return Promise.reject(new Error("store is closed"));
    return new Promise((resolve, reject) => {
      this.pending.push({ kind: "entry", request, resolve, reject });
      this.writing ??= this.drain();
    });
  }

  async leafIndexOf(leafHash: string): Promise<number | undefined> {
    // Read like a tile (synchronously, for less CPU): the proof service's other read.
    const value = await this.quickGet<string>(this.leafIndexByHash, leafHash);
    return value === undefined ? undefined : Number(value);
  }

  /**
   * Appends records durably; resolves once the synced batch holding them is written. A record
   * whose id is already stored (or already queued) resolves to the stored one, created = false.
   */
  append(request: AppendRequest): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error("store is closed"));
    return new Promise((resolve, reject) => {
      this.pending.push({ kind: "record", request, resolve, reject });
      this.writing ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const group = this.pending;
        this.pending = [];
        // A database that could not be reopened after a failed write rejects the whole group.
        await this.writeGroup(group).catch((error: unknown) => group.forEach((g) => g.reject(error)));
      }
    } finally {
      this.writing = null;
    }
  }

  private async writeGroup(group: PendingAppend[]): Promise<void> {
    await this.reopenIfBroken();
    // Records and demands are looked up in their own sublevels; "~" never is a key of either.
    // Most ids are new, and LevelDB's bloom filters answer those in memory: a trip through the
    // thread pool only delayed the group's write under single-record load.
    const existing = await this.quickGetMany<string>(
      this.records,
      group.map((g) => (g.kind === "record" ? g.request.recordId : "~")),
    );
    const existingEntries = group.some((g) => g.kind === "entry")
      ? await this.entries.getMany(group.map((g) => (g.kind === "entry" ? g.request.entryId : "~")))
      : [];
    const ops: PutOperation[] = [];
    // Each pending append's outcome, settled once the batch is written.
    const settle: Array<() => void> = [];
    const inGroup = new Map<string, StoredRecord>();
    const entriesInGroup = new Map<string, StoredEntry>();
    const leafHashes: Hash[] = [];
    let size = this.size;
    const receivedAt = this.clock.now();
    for (const [i, pending] of group.entries()) {
      let leafId: string;
      if (pending.kind === "entry") {
        const { request } = pending;
        const had =
          existingEntries[i] !== undefined
            ? (JSON.parse(existingEntries[i]!) as StoredEntry)
            : entriesInGroup.get(request.entryId);
        if (had) {
          // An id is a digest of a kind's own domain: the entry found is of the pending kind.
          settle.push(() =>
            (pending.resolve as (r: { entry: typeof had; created: boolean }) => void)({ entry: had, created: false }),
          );
          continue;
        }
        const entry = {
          entryId: request.entryId,
          kind: request.kind,
          value: request.value,
          leafHash: bytesToHex(request.leafHash),
          leafIndex: size,
          // A tip's exact time could point at its sender: it keeps the day only.
          receivedAt: request.kind === "tip" ? receivedAt - (receivedAt % 86_400_000) : receivedAt,
        } as StoredEntry;
        entriesInGroup.set(entry.entryId, entry);
        settle.push(() =>
          (pending.resolve as (r: { entry: typeof entry; created: boolean }) => void)({ entry, created: true }),
        );
        ops.push({ type: "put", sublevel: this.entries, key: entry.entryId, value: JSON.stringify(entry) });
        leafId = entry.entryId;
      } else {
        const { request } = pending;
        const stored =
          existing[i] !== undefined ? (JSON.parse(existing[i]!) as StoredRecord) : inGroup.get(request.recordId);
        if (stored) {
          settle.push(() => pending.resolve({ record: stored, created: false }));
          continue;
        }
        const record: StoredRecord = {
          recordId: request.recordId,
          envelope: request.envelope,
          signature: request.signature,
          signer: request.signer,
          leafHash: bytesToHex(request.leafHash),
          leafIndex: size,
          receivedAt,
        };
        inGroup.set(record.recordId, record);
        settle.push(() => pending.resolve({ record, created: true }));
        ops.push({ type: "put", sublevel: this.records, key: record.recordId, value: JSON.stringify(record) });
        const link = request.envelope.amends;
        if (link) {
          const notice: AmendmentNotice = { kind: link.kind, recordId: record.recordId, reason: link.reason };
          ops.push({ type: "put", sublevel: this.amendedBy, key: link.recordId, value: JSON.stringify(notice) });
        }
        leafId = record.recordId;
      }
      const leafHash = pending.request.leafHash;
      ops.push({ type: "put", sublevel: this.leaves, key: pad(size), value: leafId });
      ops.push({ type: "put", sublevel: this.leafIndexByHash, key: bytesToHex(leafHash), value: String(size) });
      leafHashes.push(leafHash);
      size++;
    }
    try {
      if (ops.length > 0) {
        const integration = integrate(this.size, this.edge, leafHashes);
        for (const [key, tile] of integration.tiles) {
          ops.push({ type: "put", sublevel: this.tiles, key, value: tile.encode() });
        }
        ops.push({ type: "put", sublevel: this.meta, key: "size", value: String(integration.size) });
        faultPoint("store.commit.before");
        await this.write(ops);
        faultPoint("store.commit.after");
        this.edge = integration.edge;
        this.size = integration.size;
      }
      settle.forEach((resolve) => resolve());
    } catch (error) {
      for (const g of group) g.reject(error);
    }
  }

  /**
   * One small read, synchronous while the database is open (a read then skips the thread pool);
   * while it is being reopened after a failed write, the read waits for it like any other.
   */
  private quickGet<V>(
    sublevel: { getSync(key: string): V | undefined; get(key: string): Promise<V | undefined> },
    key: string,
  ) {
    return this.db.status === "open" ? sublevel.getSync(key) : sublevel.get(key);
  }

  /** quickGet for several keys, for reads that bloom filters mostly answer in memory. */
  private quickGetMany<V>(
    sublevel: { getSync(key: string): V | undefined; getMany(keys: string[]): Promise<Array<V | undefined>> },
    keys: string[],
  ) {
    return this.db.status === "open" ? keys.map((key) => sublevel.getSync(key)) : sublevel.getMany(keys);
  }

  /**
   * Tiles by address: the committed right edge, then the caches, then one read for the rest.
   * Only full tiles are cached (a partial one read from disk may already be behind the edge).
   */
  private async readTiles(addresses: readonly TileId[], cache: boolean): Promise<Tile[]> {
    const out: Array<Tile | undefined> = addresses.map(({ level, index }) => {
      const edge = this.edge.get(level);
      if (edge?.index === index) return edge;
      const key = tileKey(level, index);
      return level === 0 ? this.leafTiles.get(key) : this.upperTiles.get(key);
    });
    const missing = addresses.flatMap((a, i) => (out[i] === undefined ? [i] : []));
    if (missing.length > 0) {
      const keys = missing.map((i) => tileKey(addresses[i]!.level, addresses[i]!.index));
      // One key, the usual case, is read synchronously: a tile costs a fraction of the CPU
      // that way that a trip through the thread pool does. A read that misses the page cache
      // then holds the event loop for one disk read.
      const values: Array<Uint8Array | undefined> =
        keys.length === 1 ? [await this.quickGet<Uint8Array>(this.tiles, keys[0]!)] : await this.tiles.getMany(keys);
      missing.forEach((i, j) => {
        const { level, index } = addresses[i]!;
        const value = values[j];
        if (value === undefined) throw new Error(`log tile ${tileKey(level, index)} is missing`);
        const tile = Tile.decode(level, index, value);
        if (cache && tile.full) (level === 0 ? this.leafTiles : this.upperTiles).set(tileKey(level, index), tile);
        out[i] = tile;
      });
    }
    return out as Tile[];
  }

  /**
   * Hashes of leaf ranges, from the tiles core/merkle/integrate.ts names. A range that is not one
   * perfect subtree (a proof's right edge) is folded from several nodes; its hash never changes,
   * and every proof into the same tree size shares it, so folded hashes are kept (a few
   * thousand, dropped all at once when full).
   */
  private async hashRanges(ranges: LeafRange[]): Promise<Hash[]> {
    const keys = ranges.map((r) => `${r.begin}:${r.end}`);
    const out: Array<Hash | undefined> = keys.map((key) => this.foldedRanges.get(key));
    const wanted = ranges.filter((_, i) => out[i] === undefined);
    if (wanted.length === 0) return out as Hash[];
    const ids = tilesForRanges(wanted);
    const tiles = await this.readTiles(ids, true);
    const byKey = new Map(tiles.map((tile) => [`${tile.level}:${tile.index}`, tile]));
    const hashes = hashRangesFromTiles(wanted, (level, index) => byKey.get(`${level}:${index}`));
    let at = 0;
    return ranges.map((range, i) => {
      if (out[i] !== undefined) return out[i];
      const hash = hashes[at++]!;
      if (!isPerfect(range)) {
        if (this.foldedRanges.size >= 4096) this.foldedRanges.clear();
        this.foldedRanges.set(keys[i]!, hash);
      }
      return hash;
    });
  }

  /**
   * The first `width` hashes of row 0 of tile (`level`, `index`): the C2SP tile of that address
   * (c2sp.org/tlog-tiles), which the store's tiles hold byte for byte. Precondition: the log
   * holds at least (index · 256 + width) nodes at level 8 · `level`.
   */
  async tileRow(level: number, index: number, width: number): Promise<Uint8Array> {
    const [tile] = await this.readTiles([{ level, index }], true);
    if (!tile || tile.width < width) throw new Error(`log tile ${tileKey(level, index)} has fewer than ${width} nodes`);
    const out = new Uint8Array(32 * width);
    for (let i = 0; i < width; i++) out.set(tile.get(0, i), 32 * i);
    return out;
  }

  /**
   * Nodes of the tree by level and index, read from their tiles (a monitor's saved right edge).
   * Precondition: each node is complete in the stored tree.
   */
  async readNodes(ids: readonly NodeId[]): Promise<Hash[]> {
    const addresses = ids.map(tileAddress);
    const tiles = await this.readTiles(
      addresses.map(({ level, index }) => ({ level, index })),
      true,
    );
    return addresses.map((a, i) => tiles[i]!.get(a.row, a.position).slice());
  }

  /** Root of the first `size` leaves. Precondition: size <= treeSize. */
  async rootAt(size: number): Promise<Hash> {
    if (size === 0) return emptyRoot();
    return (await this.hashRanges([{ begin: 0, end: size }]))[0]!;
  }

  /** Inclusion proof of leaf `index` in the first `size` leaves. Precondition: index < size <= treeSize. */
  async inclusionProof(index: number, size: number): Promise<Hash[]> {
    return this.hashRanges(inclusionProofRanges(index, size));
  }

  /** Consistency proof between two sizes. Precondition: 0 < size1 <= size2 <= treeSize. */
  async consistencyProof(size1: number, size2: number): Promise<Hash[]> {
    return this.hashRanges(consistencyProofRanges(size1, size2));
  }

  // ───────────── checkpoints (the anchoring outbox) ─────────────

  async putCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    const value = JSON.stringify(checkpoint);
    await this.write([{ type: "put", sublevel: this.checkpoints, key: pad(checkpoint.size), value }]);
  }

  /** Forgets a checkpoint (one a sealed log's successor does not take over). */
  async deleteCheckpoint(size: number): Promise<void> {
    await this.reopenIfBroken();
    await this.db.batch([{ type: "del", sublevel: this.checkpoints, key: pad(size) }], { sync: true });
  }

  async getCheckpoint(size: number): Promise<StoredCheckpoint | undefined> {
    const value = await this.checkpoints.get(pad(size));
    return value === undefined ? undefined : (JSON.parse(value) as StoredCheckpoint);
  }

  /** Checkpoints in increasing size, optionally only those above `afterSize`. */
  async listCheckpoints(
    options: { afterSize?: number; limit?: number; reverse?: boolean } = {},
  ): Promise<StoredCheckpoint[]> {
    const out: StoredCheckpoint[] = [];
    const range = options.afterSize === undefined ? {} : { gt: pad(options.afterSize) };
    for await (const value of this.checkpoints.values({
      ...range,
      limit: options.limit ?? -1,
      reverse: options.reverse ?? false,
    })) {
      out.push(JSON.parse(value) as StoredCheckpoint);
    }
    return out;
  }

  /** The first anchored checkpoint that contains leaf `index`, if any. */
  async anchoredCheckpointCovering(index: number): Promise<StoredCheckpoint | undefined> {
    for await (const value of this.checkpoints.values({ gt: pad(index) })) {
      const checkpoint = JSON.parse(value) as StoredCheckpoint;
      if (checkpoint.status === "anchored") return checkpoint;
    }
    return undefined;
  }
}

/** Whether a range is one perfect subtree (its hash is a stored node, not a fold of several). */
function isPerfect({ begin, end }: LeafRange): boolean {
  const span = end - begin;
  return Number.isInteger(Math.log2(span)) && begin % span === 0;
}
