import { expect } from "chai";
import { bytesToHex } from "../../server/core/bytes.ts";
import {
  type Hash,
  type NodeId,
  TILE_WIDTH,
  Tile,
  TileWriter,
  hashChildren,
  hashLeaf,
  tileAddress,
} from "../../server/core/merkle/index.ts";
import { encodeEntryBundle, splitEntryBundle } from "../../server/core/tlog.ts";

const leaf = (i: number) => hashLeaf(new TextEncoder().encode(`tile leaf ${i}`));
const filler = (i: number) => Uint8Array.from({ length: 32 }, (_, j) => (i * 31 + j) & 0xff);

/** Appends `count` leaves through a TileWriter per group of `group`, as the store does. */
function grow(count: number, group: number) {
  const tiles = new Map<string, Tile>();
  let edge = new Map<number, Tile>();
  const frontier = new Map<number, Hash>();
  for (let base = 0; base < count; base += group) {
    const writer = new TileWriter(edge);
    for (let index = base; index < Math.min(count, base + group); index++) {
      let hash = leaf(index);
      let level = 0;
      let at = index;
      writer.set({ level, index: at }, hash);
      while (at % 2 === 1) {
        hash = hashChildren(frontier.get(level)!, hash);
        frontier.delete(level);
        level++;
        at = (at - 1) / 2;
        writer.set({ level, index: at }, hash);
      }
      frontier.set(level, hash);
    }
    // What the store writes: every changed tile, encoded, replacing the stored one.
    for (const [key, tile] of writer.changedTiles()) tiles.set(key, Tile.decode(tile.level, tile.index, tile.encode()));
    edge = writer.edgeAfter();
  }
  const read = (node: NodeId) => {
    const a = tileAddress(node);
    const tile = tiles.get(`${a.level.toString().padStart(2, "0")}:${a.index.toString().padStart(16, "0")}`);
    if (!tile || !tile.has(a.row, a.position)) return undefined;
    return tile.get(a.row, a.position);
  };
  // The reference: every level of the tree, computed row by row.
  const levels: Hash[][] = [Array.from({ length: count }, (_, i) => leaf(i))];
  while (levels.at(-1)!.length > 1) {
    const below = levels.at(-1)!;
    levels.push(
      Array.from({ length: Math.floor(below.length / 2) }, (_, i) => hashChildren(below[2 * i]!, below[2 * i + 1]!)),
    );
  }
  return { read, levels, edge };
}

describe("core/merkle/tiles", () => {
  it("places nodes in tiles of 8 levels: row by level, position by index", () => {
    expect(tileAddress({ level: 0, index: 0 })).to.deep.equal({ level: 0, index: 0, row: 0, position: 0 });
    expect(tileAddress({ level: 0, index: 257 })).to.deep.equal({ level: 0, index: 1, row: 0, position: 1 });
    expect(tileAddress({ level: 7, index: 5 })).to.deep.equal({ level: 0, index: 2, row: 7, position: 1 });
    expect(tileAddress({ level: 8, index: 3 })).to.deep.equal({ level: 1, index: 0, row: 0, position: 3 });
    expect(tileAddress({ level: 17, index: 129 })).to.deep.equal({ level: 2, index: 1, row: 1, position: 1 });
    // Indexes beyond 32 bits stay exact.
    expect(tileAddress({ level: 0, index: 2 ** 40 + 5 })).to.deep.equal({
      level: 0,
      index: 2 ** 32,
      row: 0,
      position: 5,
    });
  });

  it("encodes every width and decodes to the same entries; refuses malformed values", () => {
    for (const width of [1, 2, 3, 7, 8, 9, 100, 127, 128, 129, 200, 255, TILE_WIDTH]) {
      const tile = new Tile(0, 7);
      for (let p = 0; p < width; p++) {
        tile.set(0, p, filler(p));
        // Entries above complete as soon as the row-0 entries under them are there.
        for (let row = 1; row < 8 && (p + 1) % (1 << row) === 0; row++)
          tile.set(row, (p + 1) / (1 << row) - 1, filler(1000 * row + p));
      }
      const encoded = tile.encode();
      const decoded = Tile.decode(0, 7, encoded);
      expect(decoded.width).to.equal(width);
      for (let row = 0; row < 8; row++) {
        for (let p = 0; p < TILE_WIDTH >> row; p++) {
          expect(decoded.has(row, p)).to.equal(p < width >> row);
          if (decoded.has(row, p)) expect(bytesToHex(decoded.get(row, p))).to.equal(bytesToHex(tile.get(row, p)));
        }
      }
      expect(() => Tile.decode(0, 7, encoded.subarray(0, encoded.length - 1))).to.throw(/malformed/);
    }
    expect(() => Tile.decode(0, 0, Uint8Array.of(0, 0))).to.throw(/malformed/);
    expect(() => Tile.decode(0, 0, Uint8Array.of(1, 1))).to.throw(/malformed/);
  });

  it("reads a full stored tile in place, read-only, and clones it writable", () => {
    const tile = new Tile(1, 3);
    for (let p = 0; p < TILE_WIDTH; p++) {
      tile.set(0, p, filler(p));
      for (let row = 1; row < 8 && (p + 1) % (1 << row) === 0; row++) {
        tile.set(row, (p + 1) / (1 << row) - 1, filler(1000 * row + p));
      }
    }
    const stored = tile.encode();
    const read = Tile.decode(1, 3, stored);
    expect(read.full).to.equal(true);
    // In place: the entry is a view of the stored bytes.
    expect(read.get(7, 1).buffer).to.equal(stored.buffer);
    expect(bytesToHex(read.get(7, 1))).to.equal(bytesToHex(tile.get(7, 1)));
    expect(() => read.set(1, 0, filler(9))).to.throw(/read-only/);
    const copy = read.clone();
    expect(bytesToHex(copy.encode())).to.equal(bytesToHex(stored));
    expect(copy.get(0, 0).buffer).to.not.equal(stored.buffer);
  });

  it("refuses entries out of log order", () => {
    const tile = new Tile(0, 0);
    expect(() => tile.set(0, 1, filler(1))).to.throw(/out of order/);
    tile.set(0, 0, filler(0));
    expect(() => tile.set(1, 0, filler(1))).to.throw(/above missing/);
    const writer = new TileWriter(new Map());
    expect(() => writer.set({ level: 0, index: 256 }, filler(0))).to.throw(/right edge/);
    expect(() => writer.set({ level: 8, index: 0 }, filler(0))).to.not.throw();
    expect(() => writer.set({ level: 8, index: 2 }, filler(0))).to.throw(/out of order/);
  });

  it("holds every node of the tree, across three tile levels, whatever the grouping of appends", () => {
    for (const [count, group] of [
      [66_000, 997],
      [700, 1],
      [700, 3],
    ] as const) {
      const { read, levels, edge } = grow(count, group);
      for (let level = 0; level < levels.length; level++) {
        // Every perfect node is present and equal to the reference's; nothing incomplete is claimed.
        levels[level]!.forEach((hash, index) =>
          expect(bytesToHex(read({ level, index }) ?? new Uint8Array()), `node ${level}/${index}`).to.equal(
            bytesToHex(hash),
          ),
        );
        expect(read({ level, index: levels[level]!.length }), `node ${level}/${levels[level]!.length}`).to.equal(
          undefined,
        );
      }
      // The edge has one tile per tile level, the last of each.
      expect([...edge.keys()].sort()).to.deep.equal([0, 1, 2].filter((t) => Math.floor(count / 256 ** t) > 0));
      expect(edge.get(0)!.index).to.equal(Math.floor((count - 1) / 256));
    }
  });
});

describe("entry bundles (c2sp.org/tlog-tiles)", () => {
  it("splits what it encodes, and refuses bytes that are not whole length-prefixed entries", () => {
    const entries = [new Uint8Array(0), new TextEncoder().encode("DPL1"), new Uint8Array(300).fill(7)];
    const bundle = encodeEntryBundle(entries);
    expect(splitEntryBundle(bundle)?.map((e) => bytesToHex(e))).to.deep.equal(entries.map((e) => bytesToHex(e)));
    expect(splitEntryBundle(new Uint8Array(0))).to.deep.equal([]);
    expect(splitEntryBundle(bundle.subarray(0, bundle.length - 1))).to.equal(null);
    expect(splitEntryBundle(Uint8Array.of(0))).to.equal(null);
  });
});
