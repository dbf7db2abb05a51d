/**
 * Tiles: how a store keeps the log's perfect-subtree hashes in a few large values instead of one
 * small value per node. Pure arithmetic and encoding, no I/O.
 *
 * A tile of tile level t and index n holds every node whose level is 8t..8t+7 and which lies
 * under node (8t + 8, n): row r (0..7) holds the nodes of level 8t + r with indexes
 * n·(256 >> r) .. (n + 1)·(256 >> r) − 1. Row 0 has 256 entries, row 7 has 2; 510 hashes in all,
 * 16,320 bytes when full. The node that would be row 8 is row 0 of the tile above.
 *
 * A tile's `width` is how many entries of row 0 are present (1..256); row r then holds
 * floor(width / 2^r) entries, exactly the nodes that are complete. Only the tiles on the log's
 * right edge are partial, one per tile level; every other tile is full and never changes again.
 *
 * Why: with one key per node an inclusion proof at a 1M-leaf log reads 20 keys spread over 20
 * parts of the key space, and each append writes two keys on average. With tiles a proof reads
 * one tile from disk (the tiles above it are few and stay cached) and a group of appends writes
 * one value per tile level it touches.
 */
import type { Hash } from "./hasher.ts";
import type { NodeId } from "./layout.ts";

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 1 << TILE_HEIGHT; // 256
const HASH = 32;
/** Entries in a full tile: 256 + 128 + … + 2. */
const ENTRIES = 2 * TILE_WIDTH - 2;

/** Where a node lives: its tile and its place in that tile. */
export interface TileAddress {
  /** Tile level (node level / 8, rounded down). */
  level: number;
  /** Tile index within its tile level. */
  index: number;
  /** Row in the tile (node level mod 8). */
  row: number;
  /** Position in the row. */
  position: number;
}

export function tileAddress(node: NodeId): TileAddress {
  const level = Math.floor(node.level / TILE_HEIGHT);
  const row = node.level % TILE_HEIGHT;
  const rowWidth = TILE_WIDTH >> row;
  // Node indexes go up to 2^53; division, not bit operations, keeps them exact.
  return { level, index: Math.floor(node.index / rowWidth), row, position: node.index % rowWidth };
}

/** Offset of row `row` in a tile's entries: 256 + 128 + … for the rows below it. */
const rowStart = (row: number) => 2 * TILE_WIDTH - ((2 * TILE_WIDTH) >> row);

/**
 * One tile in memory, laid out at full size (`width` says how much of it is present) from byte
 * `offset` of `bytes`. A full tile read from the store is its stored value itself, header and
 * all (offset 2): a full tile's rows are the stored rows, so reading it copies nothing.
 */
export class Tile {
  readonly level: number;
  readonly index: number;
  width: number;
  private readonly bytes: Uint8Array;
  private readonly offset: number;

  constructor(level: number, index: number, width = 0, bytes: Uint8Array = new Uint8Array(ENTRIES * HASH), offset = 0) {
    this.level = level;
    this.index = index;
    this.width = width;
    this.bytes = bytes;
    this.offset = offset;
  }

  get full(): boolean {
    return this.width === TILE_WIDTH;
  }

  /** Whether the entry is present (complete). */
  has(row: number, position: number): boolean {
    return position < this.width >> row;
  }

  /** The entry's hash. Precondition: has(row, position). The view shares the tile's memory. */
  get(row: number, position: number): Hash {
    const at = this.offset + (rowStart(row) + position) * HASH;
    return this.bytes.subarray(at, at + HASH);
  }

  /**
   * Sets an entry. Entries arrive in log order: row 0 only at position `width` (which grows the
   * tile), higher rows only once the row-0 entries under them are present.
   */
  set(row: number, position: number, hash: Hash): void {
    if (this.offset !== 0) throw new Error(`tile ${this.level}/${this.index} is read-only`);
    if (row === 0) {
      if (position !== this.width) throw new Error(`tile ${this.level}/${this.index}: leaf ${position} out of order`);
      this.width++;
    } else if (position >= this.width >> row) {
      throw new Error(`tile ${this.level}/${this.index}: node ${row}/${position} above missing entries`);
    }
    this.bytes.set(hash, (rowStart(row) + position) * HASH);
  }

  /** A writable copy. */
  clone(): Tile {
    const from = this.offset;
    return new Tile(this.level, this.index, this.width, this.bytes.slice(from, from + ENTRIES * HASH));
  }

  /** The stored form: width (2 bytes, big-endian), then each row's present entries in order. */
  encode(): Uint8Array {
    let entries = 0;
    for (let row = 0; row < TILE_HEIGHT; row++) entries += this.width >> row;
    const out = new Uint8Array(2 + entries * HASH);
    out[0] = this.width >> 8;
    out[1] = this.width & 0xff;
    let at = 2;
    for (let row = 0; row < TILE_HEIGHT; row++) {
      const length = (this.width >> row) * HASH;
      const from = this.offset + rowStart(row) * HASH;
      out.set(this.bytes.subarray(from, from + length), at);
      at += length;
    }
    return out;
  }

  static decode(level: number, index: number, encoded: Uint8Array): Tile {
    const width = (encoded[0]! << 8) | encoded[1]!;
    let entries = 0;
    for (let row = 0; row < TILE_HEIGHT; row++) entries += width >> row;
    if (width < 1 || width > TILE_WIDTH || encoded.length !== 2 + entries * HASH) {
      throw new Error(`tile ${level}/${index} is malformed (${encoded.length} bytes, width ${width})`);
    }
    if (width === TILE_WIDTH) return new Tile(level, index, width, encoded, 2);
    const tile = new Tile(level, index, width);
    let at = 2;
    for (let row = 0; row < TILE_HEIGHT; row++) {
      const length = (width >> row) * HASH;
      tile.bytes.set(encoded.subarray(at, at + length), rowStart(row) * HASH);
      at += length;
    }
    return tile;
  }
}

/**
 * The tiles a group of appends changes, staged on top of the committed right-edge tiles (which
 * it never modifies: it copies one before its first change). `edge` maps a tile level to the
 * last tile of that level.
 */
export class TileWriter {
  private readonly edge: ReadonlyMap<number, Tile>;
  private readonly changed = new Map<string, Tile>();
  private readonly newEdge: Map<number, Tile>;

  constructor(edge: ReadonlyMap<number, Tile>) {
    this.edge = edge;
    this.newEdge = new Map(edge);
  }

  /** Records a completed node. Nodes must arrive in the order appends complete them. */
  set(node: NodeId, hash: Hash): void {
    const { level, index, row, position } = tileAddress(node);
    let tile = this.newEdge.get(level);
    if (!tile || tile.index !== index) {
      if (row !== 0 || position !== 0 || index !== (tile ? tile.index + 1 : 0)) {
        throw new Error(`node ${node.level}/${node.index} does not extend the log's right edge`);
      }
      tile = new Tile(level, index);
    } else if (tile === this.edge.get(level)) {
      tile = tile.clone();
    }
    this.newEdge.set(level, tile);
    this.changed.set(tileKey(level, index), tile);
    tile.set(row, position, hash);
  }

  /** Every tile changed, by key, to be written in the same batch as the leaves. */
  changedTiles(): Map<string, Tile> {
    return this.changed;
  }

  /** The right edge once the staged changes are committed. */
  edgeAfter(): Map<number, Tile> {
    return this.newEdge;
  }
}

/** A tile's key: tile level (2 digits) and index (16 digits), so keys sort in log order. */
export function tileKey(level: number, index: number): string {
  return `${level.toString().padStart(2, "0")}:${index.toString().padStart(16, "0")}`;
}
