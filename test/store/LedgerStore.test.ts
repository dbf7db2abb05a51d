import { expect } from "chai";
import { join } from "node:path";
import { Level } from "level";
import { bytesToHex } from "../../server/core/bytes.ts";
import { ManualClock } from "../../server/core/clock.ts";
import { MemoryTree, hashChildren, hashLeaf } from "../../server/core/merkle/index.ts";
import type { RecordEnvelope } from "../../server/core/record.ts";
import { type AppendRequest, LedgerStore } from "../../server/store/LedgerStore.ts";
import { tempDir } from "../helpers/tempDir.ts";

function request(i: number): AppendRequest {
  const leafHash = hashLeaf(new TextEncoder().encode(`record ${i}`));
  const envelope = {
    version: 1,
    unitId: "0x" + "11".repeat(32),
    dutyTypeId: "0x" + "22".repeat(32),
    performedAt: 1_800_000_000,
    fields: { n: i },
    salt: "0x" + "33".repeat(32),
  } as RecordEnvelope;
  return {
    recordId: bytesToHex(leafHash),
    envelope,
    signature: "0x" + "44".repeat(65),
    signer: "0x" + "55".repeat(20),
    leafHash,
  };
}

describe("store/LedgerStore (LevelDB on disk)", () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => (dir = tempDir("store")));
  afterEach(() => dir.remove());

  it("appends concurrent records in one order, with roots and proofs equal to the reference tree", async () => {
    const store = new LedgerStore(join(dir.path, "db"));
    await store.open();
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => store.append(request(i))));
    expect(results.every((r) => r.created)).to.equal(true);
    const reference = new MemoryTree();
    const byIndex = [...results].sort((a, b) => a.record.leafIndex - b.record.leafIndex);
    expect(byIndex.map((r) => r.record.leafIndex)).to.deep.equal([...Array(300).keys()]);
    for (const r of byIndex) reference.appendLeafHash(request(Number(r.record.envelope.fields.n)).leafHash);
    expect(bytesToHex(store.currentRoot())).to.equal(bytesToHex(reference.root()));
    for (const size of [1, 2, 3, 7, 64, 100, 255, 256, 299, 300]) {
      expect(bytesToHex(await store.rootAt(size))).to.equal(bytesToHex(reference.root(size)));
      const index = size - 1;
      expect((await store.inclusionProof(index, size)).map(bytesToHex)).to.deep.equal(
        reference.inclusionProof(index, size).map(bytesToHex),
      );
      expect((await store.consistencyProof(Math.ceil(size / 3), size)).map(bytesToHex)).to.deep.equal(
        reference.consistencyProof(Math.ceil(size / 3), size).map(bytesToHex),
      );
    }
    await store.close();
  });

  it("returns the stored record for a duplicate, in the same batch or later, and never adds a leaf", async () => {
    const store = new LedgerStore(join(dir.path, "db"));
    await store.open();
    const [a, b] = await Promise.all([store.append(request(1)), store.append(request(1))]);
    expect([a.created, b.created]).to.deep.equal([true, false]);
    expect(b.record.leafIndex).to.equal(a.record.leafIndex);
    const c = await store.append(request(1));
    expect([c.created, c.record.leafIndex, store.treeSize]).to.deep.equal([false, 0, 1]);
    await store.close();
  });

  it("reopens with the same size and root and keeps appending correctly", async () => {
    const location = join(dir.path, "db");
    const reference = new MemoryTree();
    let store = new LedgerStore(location);
    await store.open();
    for (let i = 0; i < 37; i++) {
      await store.append(request(i));
      reference.appendLeafHash(request(i).leafHash);
    }
    await store.close();
    store = new LedgerStore(location);
    await store.open();
    expect(store.treeSize).to.equal(37);
    expect(bytesToHex(store.currentRoot())).to.equal(bytesToHex(reference.root()));
    for (let i = 37; i < 70; i++) {
      await store.append(request(i));
      reference.appendLeafHash(request(i).leafHash);
    }
    expect(bytesToHex(store.currentRoot())).to.equal(bytesToHex(reference.root()));
    expect(await store.leafIndexOf(bytesToHex(request(50).leafHash))).to.equal(50);
    expect((await store.getRecord(bytesToHex(request(12).leafHash)))?.leafIndex).to.equal(12);
    await store.close();
  });

  it("keeps checkpoints in size order and finds the first anchored one covering a leaf", async () => {
    const store = new LedgerStore(join(dir.path, "db"));
    await store.open();
    for (const [size, status] of [
      [10, "anchored"],
      [20, "sent"],
      [30, "anchored"],
    ] as const) {
      await store.putCheckpoint({ size, root: "0x00", previousSize: 0, status, createdAt: 0 });
    }
    expect((await store.listCheckpoints()).map((c) => c.size)).to.deep.equal([10, 20, 30]);
    expect((await store.anchoredCheckpointCovering(9))?.size).to.equal(10);
    expect((await store.anchoredCheckpointCovering(10))?.size).to.equal(30);
    expect(await store.anchoredCheckpointCovering(30)).to.equal(undefined);
    await store.close();
  });

  it("keeps the log's hashes in tiles across tile boundaries, reopened at each boundary", async () => {
    const location = join(dir.path, "db");
    const reference = new MemoryTree();
    let appended = 0;
    for (const target of [255, 256, 257, 511, 512, 700, 1024, 1100]) {
      const store = new LedgerStore(location);
      await store.open();
      expect(store.treeSize).to.equal(appended);
      await Promise.all(Array.from({ length: target - appended }, (_, i) => store.append(request(appended + i))));
      for (; appended < target; appended++) reference.appendLeafHash(request(appended).leafHash);
      expect(bytesToHex(store.currentRoot()), `root at ${target}`).to.equal(bytesToHex(reference.root()));
      for (const index of [0, 1, 255, 256, target - 2, target - 1].filter((i) => i < target)) {
        expect((await store.inclusionProof(index, target)).map(bytesToHex), `leaf ${index} of ${target}`).to.deep.equal(
          reference.inclusionProof(index, target).map(bytesToHex),
        );
      }
      for (const earlier of [1, 255, 256, 257, 300].filter((n) => n <= target)) {
        expect(bytesToHex(await store.rootAt(earlier))).to.equal(bytesToHex(reference.root(earlier)));
        expect((await store.consistencyProof(earlier, target)).map(bytesToHex)).to.deep.equal(
          reference.consistencyProof(earlier, target).map(bytesToHex),
        );
      }
      await store.close();
    }
  });

  it("writes tiles in the stored layout, byte for byte: width, then each row's nodes; row 0 the leaf hashes in order", async () => {
    // The layout is spelled out here from the tree's levels, not from the code that writes it:
    // an existing store must open without migration, and row 0 of each tile is served as a
    // C2SP tile.
    const location = join(dir.path, "db");
    const count = 1_300; // two tile levels, the last tile of each partial
    const store = new LedgerStore(location);
    await store.open();
    for (let at = 0; at < count;) {
      const group = Math.min(count - at, 1 + ((at * 7) % 300));
      await Promise.all(Array.from({ length: group }, (_, i) => store.append(request(at + i))));
      at += group;
    }
    await store.close();
    const levels: Uint8Array[][] = [Array.from({ length: count }, (_, i) => request(i).leafHash)];
    while (levels.at(-1)!.length > 1) {
      const below = levels.at(-1)!;
      levels.push(
        Array.from({ length: Math.floor(below.length / 2) }, (_, i) => hashChildren(below[2 * i]!, below[2 * i + 1]!)),
      );
    }
    const expected = new Map<string, string>();
    for (let tileLevel = 0; levels[8 * tileLevel] !== undefined; tileLevel++) {
      const bottom = levels[8 * tileLevel]!;
      for (let index = 0; index * 256 < bottom.length; index++) {
        const width = Math.min(256, bottom.length - index * 256);
        const parts: Uint8Array[] = [Uint8Array.of(width >> 8, width & 0xff)];
        for (let row = 0; row < 8; row++) {
          const per = 256 >> row;
          parts.push(...(levels[8 * tileLevel + row] ?? []).slice(index * per, index * per + (width >> row)));
        }
        const key = `${tileLevel.toString().padStart(2, "0")}:${index.toString().padStart(16, "0")}`;
        expected.set(key, bytesToHex(Uint8Array.from(parts.flatMap((part) => [...part]))));
      }
    }
    const db = new Level<string, string>(location, { valueEncoding: "utf8" });
    const stored = new Map<string, string>();
    for await (const [key, value] of db.sublevel<string, Uint8Array>("tile", { valueEncoding: "view" }).iterator()) {
      stored.set(key, bytesToHex(value));
    }
    await db.close();
    expect([...stored.keys()]).to.deep.equal([...expected.keys()].sort());
    for (const [key, value] of expected) expect(stored.get(key), `tile ${key}`).to.equal(value);
  });

  it("dates what it receives by the clock it is given", async () => {
    const clock = new ManualClock(1_800_000_000_123);
    const store = new LedgerStore(join(dir.path, "db"), { clock });
    await store.open();
    const first = await store.append(request(0));
    clock.advance(5_000);
    const second = await store.append(request(1));
    expect([first.record.receivedAt, second.record.receivedAt]).to.deep.equal([1_800_000_000_123, 1_800_000_005_123]);
    expect((await store.getRecord(second.record.recordId))!.receivedAt).to.equal(1_800_000_005_123);
    await store.close();
  });

  it("serves proofs for earlier sizes while appends are being committed", async () => {
    const store = new LedgerStore(join(dir.path, "db"));
    await store.open();
    const reference = new MemoryTree();
    for (let i = 0; i < 600; i++) reference.appendLeafHash(request(i).leafHash);
    await Promise.all(Array.from({ length: 300 }, (_, i) => store.append(request(i))));
    const appends = Array.from({ length: 300 }, (_, i) => store.append(request(300 + i)));
    const proofs = Array.from({ length: 300 }, (_, i) => store.inclusionProof(i % 290, 300 - (i % 7)));
    const got = await Promise.all(proofs);
    await Promise.all(appends);
    got.forEach((proof, i) =>
      expect(proof.map(bytesToHex)).to.deep.equal(reference.inclusionProof(i % 290, 300 - (i % 7)).map(bytesToHex)),
    );
    expect(bytesToHex(store.currentRoot())).to.equal(bytesToHex(reference.root()));
    await store.close();
  });

  /** Writes a log of `count` leaves the way the store did before tiles: one key per node. */
  async function writeNodeLayout(location: string, count: number, corrupt?: number): Promise<MemoryTree> {
    const reference = new MemoryTree();
    const db = new Level<string, string>(location, { valueEncoding: "utf8" });
    const nodes = db.sublevel<string, string>("node", { valueEncoding: "utf8" });
    const meta = db.sublevel<string, string>("meta", { valueEncoding: "utf8" });
    const key = (level: number, index: number) =>
      `${String(level).padStart(2, "0")}:${String(index).padStart(16, "0")}`;
    const ops: Array<{ type: "put"; sublevel: typeof nodes; key: string; value: string }> = [];
    let row = Array.from({ length: count }, (_, i) => request(i).leafHash);
    row.forEach((hash) => reference.appendLeafHash(hash));
    for (let level = 0; row.length > 0; level++) {
      row.forEach((hash, i) => ops.push({ type: "put", sublevel: nodes, key: key(level, i), value: bytesToHex(hash) }));
      row = Array.from({ length: Math.floor(row.length / 2) }, (_, i) => hashChildren(row[2 * i]!, row[2 * i + 1]!));
    }
    if (corrupt !== undefined)
      ops.push({ type: "put", sublevel: nodes, key: key(0, corrupt), value: "0x" + "ab".repeat(32) });
    ops.push({ type: "put", sublevel: meta, key: "size", value: String(count) });
    await db.batch(ops as never);
    await db.close();
    return reference;
  }

  it("migrates a store written with one key per node to tiles, and refuses one whose leaves do not give its root", async () => {
    const location = join(dir.path, "db");
    const reference = await writeNodeLayout(location, 1_000);
    let store = new LedgerStore(location);
    await store.open();
    expect(store.treeSize).to.equal(1_000);
    expect(bytesToHex(store.currentRoot())).to.equal(bytesToHex(reference.root()));
    expect((await store.inclusionProof(517, 1_000)).map(bytesToHex)).to.deep.equal(
      reference.inclusionProof(517, 1_000).map(bytesToHex),
    );
    await store.append(request(1_000));
    reference.appendLeafHash(request(1_000).leafHash);
    expect(bytesToHex(store.currentRoot())).to.equal(bytesToHex(reference.root()));
    await store.close();
    // The old keys are gone and the layout is recorded: the next open reads tiles only.
    const db = new Level<string, string>(location, { valueEncoding: "utf8" });
    expect(await db.sublevel("node").keys().all()).to.deep.equal([]);
    expect(await db.sublevel<string, string>("meta", { valueEncoding: "utf8" }).get("layout")).to.equal("tiles-8");
    await db.close();
    store = new LedgerStore(location);
    await store.open();
    expect(bytesToHex(store.currentRoot())).to.equal(bytesToHex(reference.root()));
    await store.close();

    const other = join(dir.path, "corrupt");
    await writeNodeLayout(other, 300, 299 - 44);
    const broken = new LedgerStore(other);
    let refusal: unknown;
    await broken.open().catch((error: unknown) => (refusal = error));
    expect(String(refusal)).to.match(/do not give the root/);
  });
});
