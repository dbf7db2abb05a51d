import { expect } from "chai";
import { join } from "node:path";
import { bytesToHex } from "../../server/core/bytes.ts";
import { MemoryTree, hashLeaf } from "../../server/core/merkle/index.ts";
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
});
