/**
 * The log's tree arithmetic over tiles, written once: appending leaf hashes to a tiled log
 * (`integrate`) and reading roots and proofs out of its tiles. Pure: the caller reads and
 * writes the tiles, this module only says which tiles it needs and what the new ones hold.
 *
 * A tiled log of `size` leaves is described, for appending, by its right edge: the last tile of
 * each tile level (tiles.ts). Those tiles hold every node an append can still complete from, so
 * nothing else has to be read to extend the log.
 */
import { type Hash, emptyRoot, hashChildren } from "./hasher.ts";
import { type LeafRange, type NodeId, rangeNodes } from "./layout.ts";
import { TILE_HEIGHT, TILE_WIDTH, type Tile, TileWriter, tileAddress } from "./tiles.ts";

/** A tile's place in the log: its tile level and its index within that level. */
export interface TileId {
  readonly level: number;
  readonly index: number;
}

/** Looks up a tile the caller has read. Precondition: the tile was among those asked for. */
export type TileLookup = (level: number, index: number) => Tile | undefined;

/**
 * The tiles that make up the right edge of a log of `size` leaves: for each tile level holding a
 * complete node, the tile with the last of them. Empty for an empty log.
 */
export function rightEdgeTiles(size: number): TileId[] {
  const tiles: TileId[] = [];
  for (let level = 0; ; level++) {
    const nodes = Math.floor(size / 2 ** (TILE_HEIGHT * level));
    if (nodes === 0) return tiles;
    tiles.push({ level, index: Math.floor((nodes - 1) / TILE_WIDTH) });
  }
}

/** The node's hash from the tile the caller looked up; throws if the tile does not hold it. */
function nodeFrom(node: NodeId, lookup: TileLookup): Hash {
  const address = tileAddress(node);
  const tile = lookup(address.level, address.index);
  if (!tile?.has(address.row, address.position)) throw new Error(`log node ${node.level}/${node.index} is missing`);
  return tile.get(address.row, address.position);
}

/** h = nodes[last]; h = H(nodes[i], h) for i descending: the hash of a range from its nodes. */
function foldRight(nodes: readonly Hash[]): Hash {
  let hash = nodes[nodes.length - 1]!;
  for (let i = nodes.length - 2; i >= 0; i--) hash = hashChildren(nodes[i]!, hash);
  return hash;
}

/** The edge as a lookup: the tile of that level if it has that index. */
const edgeLookup =
  (edge: ReadonlyMap<number, Tile>): TileLookup =>
  (level, index) => {
    const tile = edge.get(level);
    return tile?.index === index ? tile : undefined;
  };

/**
 * The RFC 9162 root of a log of `size` leaves from its right-edge tiles (every perfect subtree
 * covering [0, size) lies in one of them). Precondition: `edge` is the log's right edge.
 */
export function rootFromEdge(size: number, edge: ReadonlyMap<number, Tile>): Hash {
  if (size === 0) return emptyRoot();
  const lookup = edgeLookup(edge);
  return foldRight(rangeNodes(0, size).map((node) => nodeFrom(node, lookup)));
}

/** What appending leaves to a tiled log gives: the new tree and the tiles to store. */
export interface Integration {
  /** Leaves in the log after the append. */
  readonly size: number;
  /** The RFC 9162 root after the append (computed when first read). */
  readonly root: Hash;
  /** Every tile the append changed or created, by tile key; all of them must be stored. */
  readonly tiles: ReadonlyMap<string, Tile>;
  /** The right edge after the append, to pass to the next `integrate`. */
  readonly edge: Map<number, Tile>;
}

/**
 * Appends `leafHashes` (in log order) to a log of `size` leaves whose right edge is `edge`
 * (rightEdgeTiles(size), read from storage; an empty map for an empty log). The edge tiles are
 * not modified: a changed tile is a copy, so a failed write leaves the caller's edge as it was.
 * Precondition: `edge` is the right edge of exactly `size` leaves.
 */
export function integrate(size: number, edge: ReadonlyMap<number, Tile>, leafHashes: readonly Hash[]): Integration {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError("size must be a non-negative safe integer");
  // The perfect subtrees covering [0, size), by level: the only nodes an append combines with.
  const frontier = new Map<number, Hash>();
  if (size > 0) {
    const lookup = edgeLookup(edge);
    for (const node of rangeNodes(0, size)) frontier.set(node.level, nodeFrom(node, lookup));
  }
  const writer = new TileWriter(edge);
  let at = size;
  for (const leafHash of leafHashes) {
    let level = 0;
    let index = at;
    let hash = leafHash;
    writer.set({ level, index }, hash);
    // Each odd index closes a pair, and so a node one level up, as far as pairs close.
    while (index % 2 === 1) {
      hash = hashChildren(frontier.get(level)!, hash);
      frontier.delete(level);
      level++;
      index = (index - 1) / 2;
      writer.set({ level, index }, hash);
    }
    frontier.set(level, hash);
    at++;
  }
  const newSize = at;
  let root: Hash | undefined;
  return {
    size: newSize,
    get root() {
      root ??=
        newSize === 0
          ? emptyRoot()
          : foldRight([...frontier.keys()].sort((a, b) => b - a).map((level) => frontier.get(level)!));
      return root;
    },
    tiles: writer.changedTiles(),
    edge: writer.edgeAfter(),
  };
}

/**
 * The tiles holding the nodes the hashes of `ranges` are folded from (each range as proofs use
 * them: see rangeNodes), each tile once.
 */
export function tilesForRanges(ranges: readonly LeafRange[]): TileId[] {
  const seen = new Set<string>();
  const out: TileId[] = [];
  for (const range of ranges) {
    for (const node of rangeNodes(range.begin, range.end)) {
      const { level, index } = tileAddress(node);
      const key = `${level}:${index}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push({ level, index });
      }
    }
  }
  return out;
}

/**
 * The hashes of `ranges` (roots and proof entries, see layout.ts) from tiles. Precondition:
 * `lookup` returns every tile tilesForRanges(ranges) names, holding the nodes the ranges need.
 */
export function hashRangesFromTiles(ranges: readonly LeafRange[], lookup: TileLookup): Hash[] {
  return ranges.map((range) => foldRight(rangeNodes(range.begin, range.end).map((node) => nodeFrom(node, lookup))));
}
