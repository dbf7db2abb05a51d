/**
 * The monitor's core: following a log from the last checkpoint it verified, with a state that
 * stays O(log n) however long the log grows. The state keeps the log's right edge (the compact
 * range: the perfect subtrees covering every leaf seen, left to right), so the root of the next
 * checkpoint is recomputed from that edge and the new entries alone — no consistency proof is
 * needed and no old tile is read again. Pure: the adapters fetch checkpoints, entries and tiles.
 *
 * When the new entries do not give the checkpoint's root, the caller can pass the tree's own
 * leaf hashes for the new range (the level-0 hash tiles, which the checkpoint commits to): if
 * those give the root, the log's tree is sound and the served entries are at fault, and each is
 * reported at its leaf as dropped, reordered, foreign or altered. If neither gives the root, the
 * tree no longer extends what the monitor verified before: history was rewritten.
 */
import { bytesEqual, bytesToHex, hexToBytes } from "./bytes.ts";
import { LEAF_MAGIC } from "./record.ts";
import { DEMAND_LEAF_MAGIC } from "./demand.ts";
import { isConfirmationLeaf } from "./confirmation.ts";
import { REQUEST_LEAF_MAGIC } from "./request.ts";
import { SM_LEAF_BYTES, SM_LEAF_MAGIC } from "./smSuite.ts";
import { isTipLeaf } from "./tip.ts";
import { type Hash, emptyRoot, hashChildren, hashLeaf } from "./merkle/hasher.ts";
import { rangeNodes } from "./merkle/layout.ts";

/** What a monitor remembers between runs: enough to check the next checkpoint, nothing more. */
export interface MonitorState {
  /** The log's origin line (its note key name). */
  origin: string;
  /** Leaves verified so far; the last checked entry is size − 1. */
  size: number;
  /** Root of the first `size` leaves. */
  root: Hash;
  /** Hashes of the perfect subtrees covering [0, size), largest (leftmost) first. */
  edge: Hash[];
}

/** Kinds of problem the monitor's core reports; every one is a problem, none informational. */
export type MonitorFindingKind =
  | "checkpoint.size_rollback" // the log's size went backwards
  | "checkpoint.fork" // a different root for a size already verified
  | "checkpoint.not_extending" // the tree's own leaves give another root: history before `size` was rewritten
  | "checkpoint.root_mismatch" // the entries do not give the root and no tree hashes were given to say why
  | "entry.dropped" // the tree holds a leaf here that the served entries leave out
  | "entry.reordered" // the entry served here belongs at another leaf nearby
  | "entry.foreign" // an entry served here that the tree does not hold
  | "entry.altered" // the entry served here does not hash to the tree's leaf
  | "entry.missing" // fewer entries were served than the checkpoint holds
  | "entry.malformed" // not a DPL1/DPG1 record, DPD1 demand, DPR1 request, DPC1 confirmation or DPT1 tip-group leaf
  | "chain.root_mismatch" // the root anchored on chain for a size is not the log's root at that size
  // Reported by the monitor's adapter (server/audit/monitorLog.ts), listed here to keep one list:
  | "log.key_changed" // the log names another verifier key than the one pinned in the state
  | "checkpoint.bad_signature" // the checkpoint does not open with the pinned key, or is malformed
  | "checkpoint.quorum_not_met" // fewer valid witness cosignatures than the quorum
  | "chain.not_anchored" // the chain holds no checkpoint of the signed checkpoint's size
  | "chain.checkpoint_lost" // the chain no longer holds a checkpoint the monitor verified: rolled back or overwritten
  | "log.unreadable" // the log does not serve its checkpoint, tiles or entries as tlog-tiles says
  | "entry.content_mismatch"; // (auditor token) the record served for a leaf is not the one its entry commits to

/** One problem, at the leaf (or checkpoint size) where it is. */
export interface MonitorFinding {
  kind: MonitorFindingKind;
  leafIndex?: number;
  checkpointSize?: number;
  /** The record or demand id, when the finding is about one. */
  recordId?: string;
  detail: string;
}

/** The monitor's state before its first checkpoint. */
export function initialMonitorState(origin: string): MonitorState {
  return { origin, size: 0, root: emptyRoot(), edge: [] };
}

/** Root of a compact range: its subtrees folded right to left. */
export function edgeRoot(edge: readonly Hash[]): Hash {
  if (edge.length === 0) return emptyRoot();
  let hash = edge[edge.length - 1]!;
  for (let i = edge.length - 2; i >= 0; i--) hash = hashChildren(edge[i]!, hash);
  return hash;
}

/**
 * Appends one leaf hash to a compact range of `size` leaves, in place. A leaf closes as many
 * pairs as `size` has trailing one bits.
 */
export function appendToEdge(edge: Hash[], size: number, leafHash: Hash): void {
  let hash = leafHash;
  for (let s = size; s % 2 === 1; s = (s - 1) / 2) hash = hashChildren(edge.pop()!, hash);
  edge.push(hash);
}

/** Whether `edge` has the shape of a compact range of `size` leaves (one subtree per one bit). */
export function edgeFits(edge: readonly Hash[], size: number): boolean {
  const expected = size === 0 ? 0 : rangeNodes(0, size).length;
  return edge.length === expected && edge.every((h) => h instanceof Uint8Array && h.length === 32);
}

/** Whether leaf data has one of the log's leaf formats (docs/protocol.md). */
export function isLogLeaf(data: Uint8Array): boolean {
  const magic = (m: Uint8Array) => data[0] === m[0] && data[1] === m[1] && data[2] === m[2] && data[3] === m[3];
  return (
    (data.length === 101 && magic(LEAF_MAGIC)) ||
    (data.length === 133 && (magic(DEMAND_LEAF_MAGIC) || magic(REQUEST_LEAF_MAGIC))) ||
    (data.length === SM_LEAF_BYTES && magic(SM_LEAF_MAGIC)) ||
    isConfirmationLeaf(data) ||
    isTipLeaf(data)
  );
}

/** What {@link advanceMonitor} is given: a verified checkpoint and the entries it adds. */
export interface MonitorStep {
  /** The new checkpoint's size and root (its signature already verified by the caller). */
  size: number;
  root: Hash;
  /** Leaf data of the entries [state.size, size), in order, as the log served them. */
  entries: readonly Uint8Array[];
  /** The tree's own leaf hashes for [state.size, size) (level-0 hash tiles), to locate a mismatch. */
  treeLeafHashes?: readonly Hash[];
  /** Roots anchored on chain for sizes in (state.size, size]: each must be the log's root there. */
  anchored?: ReadonlyArray<{ size: number; root: Hash }>;
}

/** The outcome of one step: the next state (unchanged unless the step is clean) and findings. */
export interface MonitorAdvance {
  state: MonitorState;
  findings: MonitorFinding[];
  /** True when the entries did not give the root and tree leaf hashes would say which leaf is at fault. */
  wantsTreeLeafHashes: boolean;
}

/**
 * Checks a new checkpoint against the state and the entries it adds. Preconditions: the
 * checkpoint's signature is verified and it is for `state.origin`; `state` is well formed.
 * The state advances only when no problem is found, so a finding is reported again on the next
 * run rather than forgotten.
 */
export function advanceMonitor(state: MonitorState, step: MonitorStep): MonitorAdvance {
  const findings: MonitorFinding[] = [];
  const unchanged = { state, findings, wantsTreeLeafHashes: false };
  if (step.size < state.size) {
    findings.push({
      kind: "checkpoint.size_rollback",
      checkpointSize: step.size,
      detail: `the log's size went back from ${state.size} to ${step.size}`,
    });
    return unchanged;
  }
  if (step.size === state.size) {
    if (!bytesEqual(step.root, state.root)) {
      findings.push({
        kind: "checkpoint.fork",
        checkpointSize: step.size,
        detail: `root ${bytesToHex(step.root)} for size ${step.size}, which was verified with root ${bytesToHex(state.root)}`,
      });
    }
    return unchanged;
  }

  const want = step.size - state.size;
  const entries = step.entries.slice(0, want);
  for (const [i, data] of entries.entries()) {
    if (!isLogLeaf(data)) {
      findings.push({
        kind: "entry.malformed",
        leafIndex: state.size + i,
        detail: `a ${data.length}-byte entry that is not a record (DPL1, DPG1), demand (DPD1), request (DPR1), confirmation (DPC1) or tip-group (DPT1) leaf`,
      });
    }
  }
  const anchored = [...(step.anchored ?? [])].sort((a, b) => a.size - b.size);
  const edge = [...state.edge];
  let size = state.size;
  let nextAnchor = 0;
  const anchorMismatches: MonitorFinding[] = [];
  for (const data of entries) {
    appendToEdge(edge, size, hashLeaf(data));
    size++;
    // The root at an anchored size costs O(log n) from the edge at that moment.
    while (nextAnchor < anchored.length && anchored[nextAnchor]!.size <= size) {
      const a = anchored[nextAnchor++]!;
      if (a.size !== size) continue;
      const root = edgeRoot(edge);
      if (!bytesEqual(root, a.root)) {
        anchorMismatches.push({
          kind: "chain.root_mismatch",
          checkpointSize: a.size,
          detail: `the chain anchored root ${bytesToHex(a.root)} for size ${a.size}, the log's entries give ${bytesToHex(root)}`,
        });
      }
    }
  }
  if (entries.length < want) {
    findings.push({
      kind: "entry.missing",
      leafIndex: state.size + entries.length,
      detail: `${want - entries.length} of the ${want} new entries were not served`,
    });
  }
  const root = edgeRoot(edge);
  if (entries.length === want && bytesEqual(root, step.root)) {
    findings.push(...anchorMismatches);
    const next = findings.length === 0 ? { origin: state.origin, size, root, edge } : state;
    return { state: next, findings, wantsTreeLeafHashes: false };
  }

  if (!step.treeLeafHashes) {
    findings.push(...anchorMismatches);
    findings.push({
      kind: "checkpoint.root_mismatch",
      leafIndex: state.size,
      checkpointSize: step.size,
      detail: `the entries [${state.size}, ${step.size}) give root ${bytesToHex(root)}, the checkpoint says ${bytesToHex(step.root)}`,
    });
    return { state, findings, wantsTreeLeafHashes: true };
  }

  const tree = step.treeLeafHashes;
  const treeEdge = [...state.edge];
  for (let i = 0; i < tree.length && i < want; i++) appendToEdge(treeEdge, state.size + i, tree[i]!);
  if (tree.length !== want || !bytesEqual(edgeRoot(treeEdge), step.root)) {
    // The tree itself does not grow from the verified edge: the leaves before state.size changed.
    findings.push(...anchorMismatches);
    findings.push({
      kind: "checkpoint.not_extending",
      leafIndex: state.size,
      checkpointSize: step.size,
      detail: `checkpoint ${step.size} does not extend the verified tree of ${state.size} leaves (root ${bytesToHex(state.root)}): history was rewritten`,
    });
    return { state, findings, wantsTreeLeafHashes: false };
  }
  // The tree is sound: the entries served are what is wrong, and the leaf-by-leaf comparison
  // (over every entry served, even past the checkpoint) says which, so a count is not repeated.
  const located = findings.filter((f) => f.kind !== "entry.missing");
  located.push(...locateEntryFaults(state.size, step.entries.map(hashLeaf), tree));
  return { state, findings: located, wantsTreeLeafHashes: false };
}

/**
 * Compares the served entries' leaf hashes with the tree's, leaf by leaf, and names each fault
 * at the tree's leaf index: a pair swapped is reordered, an entry matching the next leaf means
 * the leaf between was dropped, an entry the next leaf matches was inserted (foreign).
 */
export function locateEntryFaults(first: number, served: readonly Hash[], tree: readonly Hash[]): MonitorFinding[] {
  const findings: MonitorFinding[] = [];
  const eq = (a: Hash | undefined, b: Hash | undefined) => a !== undefined && b !== undefined && bytesEqual(a, b);
  let s = 0;
  let t = 0;
  while (t < tree.length) {
    const at = first + t;
    if (s >= served.length) {
      findings.push({ kind: "entry.dropped", leafIndex: at, detail: `no entry was served for leaf ${at}` });
      t++;
      continue;
    }
    if (eq(served[s], tree[t])) {
      s++;
      t++;
    } else if (eq(served[s], tree[t + 1]) && eq(served[s + 1], tree[t])) {
      const detail = `leaves ${at} and ${at + 1} are served in each other's place`;
      findings.push({ kind: "entry.reordered", leafIndex: at, detail });
      findings.push({ kind: "entry.reordered", leafIndex: at + 1, detail });
      s += 2;
      t += 2;
    } else if (eq(served[s], tree[t + 1])) {
      findings.push({
        kind: "entry.dropped",
        leafIndex: at,
        detail: `the tree holds leaf ${at} (${bytesToHex(tree[t]!)}), the entries leave it out`,
      });
      t++;
    } else if (eq(served[s + 1], tree[t])) {
      findings.push({
        kind: "entry.foreign",
        leafIndex: at,
        detail: `an entry (leaf hash ${bytesToHex(served[s]!)}) was served before leaf ${at}; the tree does not hold it`,
      });
      s++;
    } else {
      findings.push({
        kind: "entry.altered",
        leafIndex: at,
        detail: `the entry served for leaf ${at} hashes to ${bytesToHex(served[s]!)}, the tree holds ${bytesToHex(tree[t]!)}`,
      });
      s++;
      t++;
    }
  }
  for (; s < served.length; s++) {
    findings.push({
      kind: "entry.foreign",
      leafIndex: first + tree.length,
      detail: `an entry (leaf hash ${bytesToHex(served[s]!)}) was served beyond the tree's last leaf`,
    });
  }
  return findings;
}

/** The state as JSON (hashes as 0x hex), for a state file. */
export interface MonitorStateJson {
  origin: string;
  size: number;
  root: string;
  edge: string[];
}

export function monitorStateToJson(state: MonitorState): MonitorStateJson {
  return { origin: state.origin, size: state.size, root: bytesToHex(state.root), edge: state.edge.map(bytesToHex) };
}

/** Reads a state back; throws a RangeError unless it is well formed and its edge gives its root. */
export function monitorStateFromJson(json: MonitorStateJson): MonitorState {
  const hash = /^0x[0-9a-f]{64}$/;
  if (
    typeof json !== "object" ||
    json === null ||
    typeof json.origin !== "string" ||
    !Number.isSafeInteger(json.size) ||
    json.size < 0 ||
    typeof json.root !== "string" ||
    !hash.test(json.root) ||
    !Array.isArray(json.edge) ||
    !json.edge.every((h) => typeof h === "string" && hash.test(h))
  ) {
    throw new RangeError("the monitor state is not well formed");
  }
  const state = { origin: json.origin, size: json.size, root: hexToBytes(json.root), edge: json.edge.map(hexToBytes) };
  if (!edgeFits(state.edge, state.size) || !bytesEqual(edgeRoot(state.edge), state.root)) {
    throw new RangeError("the monitor state's edge does not give its root");
  }
  return state;
}
