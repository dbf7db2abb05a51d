import { expect } from "chai";
import { bytesToHex } from "../../server/core/bytes.ts";
import { MemoryTree, hashLeaf } from "../../server/core/merkle/index.ts";
import {
  type MonitorState,
  advanceMonitor,
  edgeRoot,
  initialMonitorState,
  locateEntryFaults,
  monitorStateFromJson,
  monitorStateToJson,
} from "../../server/core/monitor.ts";
import { LEAF_MAGIC } from "../../server/core/record.ts";

const ORIGIN = "dutyproof/31337/0x5fbdb2315678afecb367f032d93f642f64180aa3/0x" + "33".repeat(32);

/** A DPL1 leaf whose digest and signature bytes are all `n` mixed in: distinct per n. */
function leaf(n: number): Uint8Array {
  const data = new Uint8Array(101);
  data.set(LEAF_MAGIC, 0);
  new DataView(data.buffer).setUint32(4, n);
  data[100] = 27;
  return data;
}

function honestLog(size: number): { tree: MemoryTree; entries: Uint8Array[] } {
  const tree = new MemoryTree();
  const entries: Uint8Array[] = [];
  for (let i = 0; i < size; i++) {
    entries.push(leaf(i));
    tree.appendLeafData(leaf(i));
  }
  return { tree, entries };
}

/** A monitor state after verifying the first `size` leaves of `entries`. */
function stateAt(entries: Uint8Array[], size: number, tree: MemoryTree): MonitorState {
  const result = advanceMonitor(initialMonitorState(ORIGIN), {
    size,
    root: tree.root(size),
    entries: entries.slice(0, size),
  });
  expect(result.findings).to.deep.equal([]);
  return result.state;
}

const kindsAt = (findings: Array<{ kind: string; leafIndex?: number }>) =>
  findings.map((f) => `${f.kind}@${f.leafIndex}`);

describe("monitor core (incremental checking from a compact range)", () => {
  it("recomputes MemoryTree's root at every size from the saved edge and the new entries only", () => {
    const { tree, entries } = honestLog(300);
    let state = initialMonitorState(ORIGIN);
    // Steps of uneven length cross every kind of edge shape, including tile boundaries.
    const sizes = [1, 2, 3, 7, 8, 9, 16, 17, 100, 255, 256, 257, 300];
    for (const size of sizes) {
      const result = advanceMonitor(state, { size, root: tree.root(size), entries: entries.slice(state.size, size) });
      expect(result.findings, `size ${size}`).to.deep.equal([]);
      expect(bytesToHex(result.state.root)).to.equal(bytesToHex(tree.root(size)));
      expect(result.state.size).to.equal(size);
      state = result.state;
    }
  });

  it("agrees with MemoryTree for every pair of sizes up to 64", () => {
    const { tree, entries } = honestLog(64);
    for (let a = 0; a <= 64; a++) {
      const from = a === 0 ? initialMonitorState(ORIGIN) : stateAt(entries, a, tree);
      for (let b = a; b <= 64; b++) {
        const result = advanceMonitor(from, { size: b, root: tree.root(b), entries: entries.slice(a, b) });
        expect(result.findings, `${a} -> ${b}`).to.deep.equal([]);
        expect(bytesToHex(edgeRoot(result.state.edge))).to.equal(bytesToHex(tree.root(b)));
      }
    }
  });

  it("reports a dropped entry at its leaf", () => {
    const { tree, entries } = honestLog(40);
    const state = stateAt(entries, 10, tree);
    const served = entries.slice(10, 40).filter((_, i) => i !== 13 - 10);
    const step = { size: 40, root: tree.root(40), entries: served };
    const first = advanceMonitor(state, step);
    expect(first.wantsTreeLeafHashes).to.equal(true);
    expect(first.state).to.equal(state);
    const treeLeafHashes = Array.from({ length: 30 }, (_, i) => tree.leafHash(10 + i));
    const located = advanceMonitor(state, { ...step, treeLeafHashes });
    expect(kindsAt(located.findings)).to.deep.equal(["entry.dropped@13"]);
    expect(located.state).to.equal(state);
  });

  it("reports two swapped entries at their leaves", () => {
    const { tree, entries } = honestLog(40);
    const state = stateAt(entries, 10, tree);
    const served = entries.slice(10, 40);
    [served[5], served[6]] = [served[6]!, served[5]!];
    const treeLeafHashes = Array.from({ length: 30 }, (_, i) => tree.leafHash(10 + i));
    const located = advanceMonitor(state, { size: 40, root: tree.root(40), entries: served, treeLeafHashes });
    expect(kindsAt(located.findings)).to.deep.equal(["entry.reordered@15", "entry.reordered@16"]);
  });

  it("reports an inserted foreign entry at its leaf", () => {
    const { tree, entries } = honestLog(40);
    const state = stateAt(entries, 10, tree);
    const served = entries.slice(10, 40);
    served.splice(20 - 10, 0, leaf(999));
    const treeLeafHashes = Array.from({ length: 30 }, (_, i) => tree.leafHash(10 + i));
    const located = advanceMonitor(state, { size: 40, root: tree.root(40), entries: served, treeLeafHashes });
    expect(kindsAt(located.findings)).to.deep.equal(["entry.foreign@20"]);
  });

  it("reports an altered entry at its leaf and a malformed one as malformed", () => {
    const { tree, entries } = honestLog(20);
    const state = stateAt(entries, 4, tree);
    const served = entries.slice(4, 20);
    served[3] = leaf(777);
    served[8] = Uint8Array.of(1, 2, 3);
    const treeLeafHashes = Array.from({ length: 16 }, (_, i) => tree.leafHash(4 + i));
    const located = advanceMonitor(state, { size: 20, root: tree.root(20), entries: served, treeLeafHashes });
    expect(kindsAt(located.findings)).to.deep.equal(["entry.malformed@12", "entry.altered@7", "entry.altered@12"]);
  });

  it("reports a log that drops a leaf from its tree and re-signs as a rewrite when the leaf was verified", () => {
    const { tree, entries } = honestLog(40);
    const state = stateAt(entries, 20, tree);
    const rewritten = new MemoryTree();
    const kept = entries.filter((_, i) => i !== 12);
    for (const e of kept) rewritten.appendLeafData(e);
    const treeLeafHashes = Array.from({ length: 19 }, (_, i) => rewritten.leafHash(20 + i));
    const step = { size: 39, root: rewritten.root(39), entries: kept.slice(20, 39), treeLeafHashes };
    const result = advanceMonitor(state, step);
    expect(kindsAt(result.findings)).to.deep.equal(["checkpoint.not_extending@20"]);
  });

  it("reports a rewrite of leaves not yet verified at the anchored checkpoint that covers them", () => {
    const { tree, entries } = honestLog(40);
    const state = stateAt(entries, 10, tree);
    // The log re-signs a tree without leaf 25, but the chain anchored the honest root of 30.
    const kept = entries.filter((_, i) => i !== 25);
    const rewritten = new MemoryTree();
    for (const e of kept) rewritten.appendLeafData(e);
    const result = advanceMonitor(state, {
      size: 39,
      root: rewritten.root(39),
      entries: kept.slice(10, 39),
      anchored: [
        { size: 20, root: tree.root(20) },
        { size: 30, root: tree.root(30) },
      ],
    });
    expect(result.findings.map((f) => `${f.kind}@${f.checkpointSize}`)).to.deep.equal(["chain.root_mismatch@30"]);
    expect(result.state).to.equal(state);
  });

  it("reports a size that goes backwards and a second root for a verified size", () => {
    const { tree, entries } = honestLog(20);
    const state = stateAt(entries, 12, tree);
    const back = advanceMonitor(state, { size: 11, root: tree.root(11), entries: [] });
    expect(back.findings.map((f) => f.kind)).to.deep.equal(["checkpoint.size_rollback"]);
    const fork = advanceMonitor(state, { size: 12, root: tree.root(13), entries: [] });
    expect(fork.findings.map((f) => f.kind)).to.deep.equal(["checkpoint.fork"]);
    const same = advanceMonitor(state, { size: 12, root: tree.root(12), entries: [] });
    expect(same.findings).to.deep.equal([]);
  });

  it("reports entries the log did not serve", () => {
    const { tree, entries } = honestLog(20);
    const state = stateAt(entries, 4, tree);
    const result = advanceMonitor(state, { size: 20, root: tree.root(20), entries: entries.slice(4, 18) });
    expect(kindsAt(result.findings)).to.deep.equal(["entry.missing@18", "checkpoint.root_mismatch@4"]);
  });

  it("locates faults with nothing served and with extra entries past the tree", () => {
    const tree = [hashLeaf(leaf(1)), hashLeaf(leaf(2))];
    expect(kindsAt(locateEntryFaults(5, [], tree))).to.deep.equal(["entry.dropped@5", "entry.dropped@6"]);
    expect(kindsAt(locateEntryFaults(5, [...tree, hashLeaf(leaf(3))], tree))).to.deep.equal(["entry.foreign@7"]);
  });

  it("round-trips its state through JSON and refuses an edge that does not give the root", () => {
    const { tree, entries } = honestLog(13);
    const state = stateAt(entries, 13, tree);
    const json = monitorStateToJson(state);
    expect(monitorStateToJson(monitorStateFromJson(JSON.parse(JSON.stringify(json))))).to.deep.equal(json);
    expect(() => monitorStateFromJson({ ...json, edge: json.edge.slice(1) })).to.throw(RangeError);
    expect(() => monitorStateFromJson({ ...json, root: "0x" + "00".repeat(32) })).to.throw(RangeError);
    expect(() => monitorStateFromJson({ ...json, size: -1 })).to.throw(RangeError);
  });
});
