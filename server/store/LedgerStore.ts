/**
 * The gateway's LevelDB store: accepted records, the Merkle log's leaves and perfect-subtree
 * nodes, and the checkpoints with their anchoring transactions (the outbox). Every write that
 * acknowledges something is one synced batch, so a crash leaves either all of it or none.
 *
 * Appends are serialised through one writer and grouped: requests that arrive while a batch is
 * being written share the next batch and its fsync ("group commit").
 */
import { Level } from "level";
import { bytesToHex, hexToBytes } from "../core/bytes.ts";
import {
  type Hash,
  type NodeId,
  consistencyProofRanges,
  hashChildren,
  inclusionProofRanges,
  rangeNodes,
} from "../core/merkle/index.ts";
import { emptyRoot } from "../core/merkle/hasher.ts";
import type { RecordEnvelope } from "../core/record.ts";
import type { AmendmentNotice, ErasedEnvelope, Erasure } from "../core/amendment.ts";
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

/**
 * A log entry that is not a duty record (an evidence demand and its outcome): its own leaf
 * format, its JSON value kept beside the records. `entryId` shares the records' key space in the
 * leaf table, so it must never equal a record id (a different digest domain guarantees that).
 */
export interface EntryAppendRequest {
  entryId: string;
  kind: string; // e.g. "demand"
  value: unknown; // JSON
  leafHash: Hash;
}

export interface StoredEntry {
  entryId: string;
  kind: string;
  value: unknown;
  leafHash: string;
  leafIndex: number;
  receivedAt: number; // Unix milliseconds, gateway clock
}

function openSublevel(db: Level<string, string>, name: string) {
  return db.sublevel<string, string>(name, { valueEncoding: "utf8" });
}
type Sublevel = ReturnType<typeof openSublevel>;
type PutOperation = { type: "put"; sublevel: Sublevel; key: string; value: string };

const pad = (n: number) => n.toString().padStart(16, "0");
const nodeKey = (node: NodeId) => `${node.level.toString().padStart(2, "0")}:${pad(node.index)}`;

export class LedgerStore {
  private readonly db: Level<string, string>;
  private readonly records: Sublevel;
  private readonly leaves: Sublevel;
  private readonly leafIndexByHash: Sublevel;
  private readonly nodes: Sublevel;
  private readonly checkpoints: Sublevel;
  private readonly meta: Sublevel;
  private readonly amendedBy: Sublevel;

  /** Perfect subtrees covering [0, size), by level: the only nodes an append needs. */
  private frontier = new Map<number, Hash>();
  private size = 0;
  private pending: Array<{
    request: AppendRequest | EntryAppendRequest;
    resolve: (r: AppendResult & { entry?: StoredEntry }) => void;
    reject: (e: unknown) => void;
  }> = [];
  private readonly entries: Sublevel;
  private writing: Promise<void> | null = null;
  private closed = false;
  /** A write failed: reopen before the next one (see `write`). */
  private broken = false;
  private reopening: Promise<void> | null = null;

  readonly location: string;

  constructor(location: string) {
    this.location = location;
    // Uncompressed tables: an erased value can then be shown absent by scanning the files
    // (test/audit/amendments.test.ts); records are mostly random hex, which Snappy barely shrinks.
    this.db = new Level<string, string>(location, { valueEncoding: "utf8", compression: false } as never);
    this.records = openSublevel(this.db, "record");
    this.leaves = openSublevel(this.db, "leaf");
    this.leafIndexByHash = openSublevel(this.db, "leafhash");
    this.nodes = openSublevel(this.db, "node");
    this.checkpoints = openSublevel(this.db, "checkpoint");
    this.meta = openSublevel(this.db, "meta");
    this.amendedBy = openSublevel(this.db, "amendedby");
    this.entries = openSublevel(this.db, "entry");
  }

  /** A sublevel of the same database for an adapter's own state (names start with "x-"). */
  sublevel(name: string): Sublevel {
    return openSublevel(this.db, `x-${name}`);
  }

  /** Opens the database and rebuilds the in-memory frontier from the stored nodes. */
  async open(): Promise<void> {
    await this.db.open();
    // Sublevels close with their database but do not reopen with it.
    const sublevels = [this.records, this.leaves, this.leafIndexByHash, this.nodes, this.checkpoints, this.meta];
    await Promise.all(sublevels.map((sublevel) => sublevel.open()));
    await this.loadFrontier();
  }

  private async loadFrontier(): Promise<void> {
    const size = await this.meta.get("size");
    this.size = size === undefined ? 0 : Number(size);
    this.frontier = new Map();
    if (this.size > 0) {
      const ids = rangeNodes(0, this.size);
      const hashes = await this.readNodes(ids);
      ids.forEach((id, i) => this.frontier.set(id.level, hashes[i]!));
    }
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
      await this.db.batch(ops, { sync: true });
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
    if (this.size === 0) return emptyRoot();
    const levels = [...this.frontier.keys()].sort((a, b) => a - b);
    let hash = this.frontier.get(levels[0]!)!;
    for (const level of levels.slice(1)) hash = hashChildren(this.frontier.get(level)!, hash);
    return hash;
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

  async getEntry(entryId: string): Promise<StoredEntry | undefined> {
    const value = await this.entries.get(entryId);
    return value === undefined ? undefined : (JSON.parse(value) as StoredEntry);
  }

  /** Like recordsFrom, but every leaf: records and other entries (demands), in leaf order. */
  async entriesFrom(
    from: number,
    limit: number,
  ): Promise<Array<{ position: number; record?: StoredRecord; entry?: StoredEntry }>> {
    const ids: Array<[number, string]> = [];
    for await (const [key, id] of this.leaves.iterator({ gte: pad(from), limit })) ids.push([Number(key), id]);
    const records = await this.records.getMany(ids.map(([, id]) => id));
    const missing = ids.flatMap(([, id], i) => (records[i] === undefined ? [id] : []));
    const entries = new Map<string, string | undefined>();
    const found = await this.entries.getMany(missing);
    missing.forEach((id, i) => entries.set(id, found[i]));
    return ids.flatMap(([position, id], i): Array<{ position: number; record?: StoredRecord; entry?: StoredEntry }> => {
      if (records[i] !== undefined) return [{ position, record: JSON.parse(records[i]!) as StoredRecord }];
      const entry = entries.get(id);
      return entry === undefined ? [] : [{ position, entry: JSON.parse(entry) as StoredEntry }];
    });
  }

  /** Appends a non-record log entry durably, in the same group commit as records. */
  appendEntry(request: EntryAppendRequest): Promise<{ entry: StoredEntry; created: boolean }> {
    if (this.closed) return Promise.reject(new Error("store is closed"));
    return new Promise((resolve, reject) => {
      this.pending.push({ request, resolve: (r) => resolve({ entry: r.entry!, created: r.created }), reject });
      this.writing ??= this.drain();
    });
  }

  async leafIndexOf(leafHash: string): Promise<number | undefined> {
    const value = await this.leafIndexByHash.get(leafHash);
    return value === undefined ? undefined : Number(value);
  }

  /**
   * Appends records durably; resolves once the synced batch holding them is written. A record
   * whose id is already stored (or already queued) resolves to the stored one, created = false.
   */
  append(request: AppendRequest): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error("store is closed"));
    return new Promise((resolve, reject) => {
      this.pending.push({ request, resolve, reject });
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

  private async writeGroup(group: typeof this.pending): Promise<void> {
    await this.reopenIfBroken();
    const isEntry = (r: AppendRequest | EntryAppendRequest): r is EntryAppendRequest => "entryId" in r;
    // Records and other entries are looked up in their own sublevels; "~" never is a key of either.
    const existing = await this.records.getMany(group.map((g) => (isEntry(g.request) ? "~" : g.request.recordId)));
    const existingEntries = group.some((g) => isEntry(g.request))
      ? await this.entries.getMany(group.map((g) => (isEntry(g.request) ? g.request.entryId : "~")))
      : [];
    const ops: PutOperation[] = [];
    const results: Array<AppendResult & { entry?: StoredEntry }> = [];
    const inGroup = new Map<string, StoredRecord>();
    const entriesInGroup = new Map<string, StoredEntry>();
    const frontier = new Map(this.frontier);
    let size = this.size;
    const receivedAt = Date.now();
    for (const [i, { request }] of group.entries()) {
      let leafId: string;
      if (isEntry(request)) {
        const had =
          existingEntries[i] !== undefined
            ? (JSON.parse(existingEntries[i]!) as StoredEntry)
            : entriesInGroup.get(request.entryId);
        if (had) {
          results.push({ record: undefined as never, entry: had, created: false });
          continue;
        }
        const entry: StoredEntry = {
          entryId: request.entryId,
          kind: request.kind,
          value: request.value,
          leafHash: bytesToHex(request.leafHash),
          leafIndex: size,
          receivedAt,
        };
        entriesInGroup.set(entry.entryId, entry);
        results.push({ record: undefined as never, entry, created: true });
        ops.push({ type: "put", sublevel: this.entries, key: entry.entryId, value: JSON.stringify(entry) });
        leafId = entry.entryId;
      } else {
        const stored =
          existing[i] !== undefined ? (JSON.parse(existing[i]!) as StoredRecord) : inGroup.get(request.recordId);
        if (stored) {
          results.push({ record: stored, created: false });
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
        results.push({ record, created: true });
        ops.push({ type: "put", sublevel: this.records, key: record.recordId, value: JSON.stringify(record) });
        const link = request.envelope.amends;
        if (link) {
          const notice: AmendmentNotice = { kind: link.kind, recordId: record.recordId, reason: link.reason };
          ops.push({ type: "put", sublevel: this.amendedBy, key: link.recordId, value: JSON.stringify(notice) });
        }
        leafId = record.recordId;
      }
      ops.push({ type: "put", sublevel: this.leaves, key: pad(size), value: leafId });
      ops.push({ type: "put", sublevel: this.leafIndexByHash, key: bytesToHex(request.leafHash), value: String(size) });
      // Fold the new leaf into the frontier, writing every perfect node it completes.
      let level = 0;
      let index = size;
      let hash = request.leafHash;
      ops.push({ type: "put", sublevel: this.nodes, key: nodeKey({ level, index }), value: bytesToHex(hash) });
      while (index % 2 === 1) {
        hash = hashChildren(frontier.get(level)!, hash);
        frontier.delete(level);
        level++;
        index = (index - 1) / 2;
        ops.push({ type: "put", sublevel: this.nodes, key: nodeKey({ level, index }), value: bytesToHex(hash) });
      }
      frontier.set(level, hash);
      size++;
    }
    try {
      if (ops.length > 0) {
        ops.push({ type: "put", sublevel: this.meta, key: "size", value: String(size) });
        faultPoint("store.commit.before");
        await this.write(ops);
        faultPoint("store.commit.after");
        this.frontier = frontier;
        this.size = size;
      }
      group.forEach((g, i) => g.resolve(results[i]!));
    } catch (error) {
      for (const g of group) g.reject(error);
    }
  }

  /** Hashes of perfect nodes, in the order asked. Precondition: every node is complete. */
  async readNodes(ids: readonly NodeId[]): Promise<Hash[]> {
    const values = await this.nodes.getMany(ids.map(nodeKey));
    return values.map((value, i) => {
      if (value === undefined) throw new Error(`log node ${nodeKey(ids[i]!)} is missing`);
      return hexToBytes(value);
    });
  }

  private async hashRanges(ranges: Array<{ begin: number; end: number }>): Promise<Hash[]> {
    const perRange = ranges.map((r) => rangeNodes(r.begin, r.end));
    const hashes = await this.readNodes(perRange.flat());
    let at = 0;
    return perRange.map((ids) => {
      const own = hashes.slice(at, at + ids.length);
      at += ids.length;
      let hash = own[own.length - 1]!;
      for (let i = own.length - 2; i >= 0; i--) hash = hashChildren(own[i]!, hash);
      return hash;
    });
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
