/**
 * `integrate` (core/merkle/integrate.ts), the one place the log's tree is extended, against the
 * in-memory reference tree: every size up to a few tile boundaries appended leaf by leaf, and
 * larger logs appended in random batches. The batches come from a seeded generator; the seed is
 * printed with every failure and can be set with INTEGRATE_SEED to repeat a run.
 */
import { expect } from "chai";
import { randomInt } from "node:crypto";
import { bytesToHex } from "../../server/core/bytes.ts";
import {
  type Hash,
  MemoryTree,
  TILE_WIDTH,
  Tile,
  consistencyProofRanges,
  emptyRoot,
  hashLeaf,
  hashRangesFromTiles,
  inclusionProofRanges,
  integrate,
  rightEdgeTiles,
  rootFromEdge,
  tileKey,
  tilesForRanges,
} from "../../server/core/merkle/index.ts";

const seed = Number(process.env.INTEGRATE_SEED ?? randomInt(2 ** 31));
const hex = bytesToHex;
const leaf = (i: number) => hashLeaf(new TextEncoder().encode(`integrate leaf ${i}`));

/** mulberry32: a small seeded generator, so a failing split can be replayed. */
function generator(start: number): (below: number) => number {
  let state = start >>> 0;
  return (below) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * below);
  };
}

/** A tiled log kept the way a store keeps it: every written tile encoded, read back decoded. */
class TiledLog {
  readonly stored = new Map<string, Uint8Array>();
  private readonly decoded = new Map<string, Tile>();
  size = 0;
  edge = new Map<number, Tile>();

  append(leafHashes: Hash[]): Hash {
    const integration = integrate(this.size, this.edge, leafHashes);
    for (const [key, tile] of integration.tiles) {
      const encoded = tile.encode();
      this.stored.set(key, encoded);
      this.decoded.set(key, Tile.decode(tile.level, tile.index, encoded));
    }
    this.size = integration.size;
    this.edge = integration.edge;
    return integration.root;
  }

  read = (level: number, index: number): Tile | undefined => this.decoded.get(tileKey(level, index));

  /** The right edge read back from storage, as a store does when it opens. */
  edgeFromStorage(): Map<number, Tile> {
    return new Map(rightEdgeTiles(this.size).map(({ level, index }) => [level, this.read(level, index)!]));
  }

  hashes(ranges: Array<{ begin: number; end: number }>): string[] {
    for (const { level, index } of tilesForRanges(ranges)) {
      expect(this.stored.has(tileKey(level, index)), `tile ${level}/${index} named for the ranges`).to.equal(true);
    }
    return hashRangesFromTiles(ranges, this.read).map(hex);
  }
}

describe("core/merkle/integrate", function () {
  this.timeout(300_000);
  it("gives the reference root and every proof at every size up to 600, one leaf at a time", () => {
    const log = new TiledLog();
    const reference = new MemoryTree();
    expect(hex(rootFromEdge(0, log.edge))).to.equal(hex(emptyRoot()));
    for (let i = 0; i < 600; i++) {
      reference.appendLeafHash(leaf(i));
      const root = log.append([leaf(i)]);
      const size = i + 1;
      expect(hex(root), `root at ${size}`).to.equal(hex(reference.root()));
      expect(hex(rootFromEdge(size, log.edgeFromStorage())), `root from stored edge at ${size}`).to.equal(
        hex(reference.root()),
      );
      for (let index = 0; index < size; index += 1 + Math.floor(size / 16)) {
        expect(log.hashes(inclusionProofRanges(index, size)), `inclusion ${index} at ${size}`).to.deep.equal(
          reference.inclusionProof(index, size).map(hex),
        );
      }
      for (let earlier = 1; earlier < size; earlier += 1 + Math.floor(size / 16)) {
        expect(log.hashes(consistencyProofRanges(earlier, size)), `consistency ${earlier}→${size}`).to.deep.equal(
          reference.consistencyProof(earlier, size).map(hex),
        );
      }
    }
  });

  it("gives the same tiles, byte for byte, however the appends are batched (random splits up to 70,000 leaves)", () => {
    const random = generator(seed);
    const count = 70_000; // past 65,536: three tile levels
    const leaves = Array.from({ length: count }, (_, i) => leaf(i));
    const reference = new MemoryTree();
    for (const hash of leaves) reference.appendLeafHash(hash);
    // One batch of every leaf, against which random splits are compared tile by tile.
    const whole = new TiledLog();
    whole.append(leaves);
    for (let round = 0; round < 2; round++) {
      const log = new TiledLog();
      const at = `seed ${seed}, round ${round}`;
      while (log.size < count) {
        // Mostly small batches, as single submissions give; now and then a large one.
        const most = random(8) === 0 ? 3000 : 40;
        const batch = leaves.slice(log.size, log.size + 1 + random(most));
        const before = log.size;
        // Every few batches the edge comes back from storage, as after a restart.
        if (random(4) === 0) log.edge = log.edgeFromStorage();
        const root = log.append(batch);
        expect(hex(root), `${at}: root at ${log.size} after ${before}`).to.equal(hex(reference.root(log.size)));
      }
      expect([...log.stored.keys()].sort(), at).to.deep.equal([...whole.stored.keys()].sort());
      for (const [key, value] of whole.stored)
        expect(hex(log.stored.get(key)!), `${at}: tile ${key}`).to.equal(hex(value));
      for (let i = 0; i < 40; i++) {
        const size = 1 + random(count);
        const index = random(size);
        expect(log.hashes(inclusionProofRanges(index, size)), `${at}: inclusion ${index} at ${size}`).to.deep.equal(
          reference.inclusionProof(index, size).map(hex),
        );
        const earlier = 1 + random(size);
        expect(log.hashes(consistencyProofRanges(earlier, size)), `${at}: ${earlier}→${size}`).to.deep.equal(
          reference.consistencyProof(earlier, size).map(hex),
        );
      }
    }
    // Row 0 of each level-0 tile is its 256 leaf hashes in order (what C2SP tiles serve), and
    // row 0 of a level-1 tile the 256 roots of the level-0 tiles under it.
    for (let index = 0; index * TILE_WIDTH < count; index++) {
      const stored = whole.stored.get(tileKey(0, index))!;
      const width = Math.min(TILE_WIDTH, count - index * TILE_WIDTH);
      const row0 = leaves.slice(index * TILE_WIDTH, index * TILE_WIDTH + width);
      expect(stored[0]! * 256 + stored[1]!, `tile 0/${index} width`).to.equal(width);
      expect(hex(stored.subarray(2, 2 + width * 32)), `tile 0/${index} row 0`).to.equal(
        hex(Uint8Array.from(row0.flatMap((h) => [...h]))),
      );
    }
    const level1 = whole.read(1, 0)!;
    for (let position = 0; position < TILE_WIDTH; position++) {
      expect(hex(level1.get(0, position)), `tile 1/0 row 0 position ${position}`).to.equal(
        hex(nodeOf(reference, 8, position)),
      );
    }
  });

  it("leaves the caller's edge untouched and refuses an edge that is not the log's", () => {
    const log = new TiledLog();
    log.append(Array.from({ length: 300 }, (_, i) => leaf(i)));
    const before = hex(log.edge.get(0)!.encode());
    const integration = integrate(log.size, log.edge, [leaf(300), leaf(301)]);
    expect(hex(log.edge.get(0)!.encode()), "the committed edge is copied, not changed").to.equal(before);
    expect(integration.size).to.equal(302);
    // The edge of a smaller log does not hold the nodes a log of 300 leaves extends from.
    const small = new TiledLog();
    small.append(Array.from({ length: 10 }, (_, i) => leaf(i)));
    expect(() => integrate(300, small.edge, [leaf(300)])).to.throw(/missing/);
    expect(() => integrate(-1, new Map(), [])).to.throw(RangeError);
  });
});

/** The hash of the perfect subtree of `2^level` leaves at `index`, from the reference tree. */
function nodeOf(reference: MemoryTree, level: number, index: number): Hash {
  const span = 2 ** level;
  // A perfect subtree's root is its own range's root: prove nothing, fold the range's leaves.
  const tree = new MemoryTree();
  for (let i = index * span; i < (index + 1) * span; i++) tree.appendLeafHash(reference.leafHash(i));
  return tree.root();
}
