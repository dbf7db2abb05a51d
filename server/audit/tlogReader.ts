/**
 * Reads a log the way any C2SP client does (c2sp.org/tlog-tiles): the signed checkpoint, entry
 * bundles and level-0 hash tiles over plain HTTP GET, nothing dutyproof-specific. The monitor
 * reads only the bundles and tiles its new range touches.
 */
import { TILE_WIDTH } from "../core/merkle/tiles.ts";
import type { Hash } from "../core/merkle/hasher.ts";
import { formatTilePath, splitEntryBundle } from "../core/tlog.ts";

/** The path of tile `index` at `level` ("entries" for entry bundles), for a tree of `treeSize`. */
export function tilePath(level: number | "entries", index: number, treeSize: number): string {
  const width = Math.min(TILE_WIDTH, treeSize - index * TILE_WIDTH);
  return formatTilePath(
    level === "entries" ? { kind: "entries", level: 0, index, width } : { kind: "hash", level, index, width },
  );
}

/** Thrown when the log does not serve what the spec says it must: a finding, not a crash. */
export class TlogReadError extends Error {
  /** The HTTP status, when the log answered one other than 200. */
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.status = status;
  }
}

/** A client of one log's /tlog/ prefix. */
export class TlogReader {
  private readonly prefix: string;
  private readonly timeoutMs: number;

  constructor(prefix: string, timeoutMs = 60_000) {
    this.prefix = prefix.endsWith("/") ? prefix : `${prefix}/`;
    this.timeoutMs = timeoutMs;
  }

  private async get(path: string): Promise<Uint8Array> {
    let res: Response;
    try {
      res = await fetch(this.prefix + path, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new Error(`the log at ${this.prefix} does not answer (${(error as Error).message})`, { cause: error });
    }
    if (res.status !== 200) throw new TlogReadError(`GET ${path} answered ${res.status}`, res.status);
    return new Uint8Array(await res.arrayBuffer());
  }

  /** The signed checkpoint note, with whatever cosignature lines the log serves. */
  async checkpoint(): Promise<string> {
    return new TextDecoder("utf-8", { fatal: false }).decode(await this.get("checkpoint"));
  }

  /**
   * The entries [from, to) of a tree of `treeSize` leaves, from the bundles covering them, read
   * in parallel a few at a time. Precondition: 0 <= from <= to <= treeSize.
   */
  async entries(from: number, to: number, treeSize: number): Promise<Uint8Array[]> {
    // A bundle with too few or too many entries is passed on as served: comparing it with the
    // tree (core/monitor.ts) names the leaf at fault, which a count here could not.
    return this.range(from, to, treeSize, "entries", (bytes, path) => {
      const entries = splitEntryBundle(bytes);
      if (!entries) throw new TlogReadError(`entry bundle ${path} is not a sequence of length-prefixed entries`);
      return entries;
    });
  }

  /** The tree's leaf hashes [from, to), from its level-0 tiles. */
  async leafHashes(from: number, to: number, treeSize: number): Promise<Hash[]> {
    return this.range(from, to, treeSize, 0, (bytes, path, width) => {
      if (bytes.length !== width * 32) throw new TlogReadError(`tile ${path} does not hold ${width} hashes`);
      return Array.from({ length: width }, (_, i) => bytes.subarray(i * 32, i * 32 + 32));
    });
  }

  private async range<T>(
    from: number,
    to: number,
    treeSize: number,
    level: 0 | "entries",
    split: (bytes: Uint8Array, path: string, width: number) => T[],
  ): Promise<T[]> {
    if (from >= to) return [];
    const first = Math.floor(from / TILE_WIDTH);
    const last = Math.floor((to - 1) / TILE_WIDTH);
    const tiles: T[][] = new Array(last - first + 1);
    const parallel = 8;
    let next = first;
    const worker = async () => {
      while (next <= last) {
        const index = next++;
        const path = tilePath(level, index, treeSize);
        const width = Math.min(TILE_WIDTH, treeSize - index * TILE_WIDTH);
        tiles[index - first] = split(await this.get(path), path, width);
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, last - first + 1) }, worker));
    const out: T[] = [];
    for (const [i, tile] of tiles.entries()) {
      const start = (first + i) * TILE_WIDTH;
      const end = i === tiles.length - 1 ? tile.length : Math.min(tile.length, to - start);
      for (let j = Math.max(0, from - start); j < end; j++) out.push(tile[j]!);
    }
    return out;
  }
}
