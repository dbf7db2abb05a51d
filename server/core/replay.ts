/**
 * Audit replay: rebuilds a log from its records and checks it against everything the chain
 * recorded — every checkpoint must extend the one before it and have the root the records give,
 * every record must be signed by its unit's valid key at the time. Pure: the adapters feed it
 * chain events and records in log order; it returns findings, one per problem.
 */
import { bytesToHex, hexToBytes } from "./bytes.ts";
import { type Eip712Domain, typedDataDigest } from "./eip712.ts";
import { MemoryTree } from "./merkle/MemoryTree.ts";
import { type RecordEnvelope, leafHashOf, recordDigest, signedMessageOf } from "./record.ts";
import { type AuditDemandEntry, checkDemandEntry } from "../burden/demandAudit.ts";
import { type KeyPeriodFact, MAX_ACCEPT_TO_ANCHOR_SECONDS, type StatusPeriodFact, keyValidAt } from "./verifier.ts";

export interface AnchoredCheckpoint {
  size: number;
  root: string;
  previousSize: number;
  blockNumber: number;
  anchoredAt: number; // Unix seconds, block time
}

/** A record as the gateway serves it to an auditor, in leaf order. */
export interface AuditRecord {
  leafIndex: number; // its position in the log's leaf table
  claimedIndex?: number; // the leaf index it was acknowledged with, if the feed says
  recordId: string;
  envelope: RecordEnvelope;
  signature: string;
  acceptedAt: number; // Unix seconds, gateway clock
}

export type FindingKind =
  | "checkpoint.not_extending" // a checkpoint's previous size is not the checkpoint before it
  | "checkpoint.root_mismatch" // the records do not give the anchored root: altered, missing or reordered
  | "record.missing" // no record at a leaf index inside an anchored checkpoint
  | "record.misplaced" // a record claims another leaf index than its position
  | "record.altered" // its content does not hash to its record id
  | "record.bad_signature" // the signature does not recover
  | "record.key_not_valid" // signed by a key that was not the unit's valid key then, or unit suspended
  | "record.unanchored" // beyond the last anchored checkpoint (expected for the newest records)
  | "demand.altered" // an evidence demand or its outcome does not hash to what was logged
  | "demand.bad_signature" // a demand's signature does not recover to its inspector
  | "demand.inspector_not_valid"; // the inspector was not registered and active then

export interface Finding {
  kind: FindingKind;
  leafIndex?: number;
  recordId?: string;
  checkpointSize?: number;
  detail: string;
}

export interface ReplayReport {
  clean: boolean;
  checkpoints: number;
  records: number;
  demands: number; // evidence-demand entries among the leaves (docs/protocol.md §4)
  anchoredSize: number;
  findings: Finding[];
  counts: Partial<Record<FindingKind, number>>;
}

export interface ReplayInput {
  domain: Eip712Domain;
  checkpoints: AnchoredCheckpoint[]; // in anchoring order
  records: Iterable<AuditRecord | AuditDemandEntry>; // in leaf order
  /** The registry's history for a unit, from chain events. */
  unitHistory: (unitId: string) => { keys: KeyPeriodFact[]; statuses: StatusPeriodFact[] };
  recover: (digest: Uint8Array, signature: string) => string | null;
  /** Whether an inspector was active at a time, from chain events; not checked when absent. */
  inspectorActiveAt?: (inspector: string, t: number) => boolean;
  onProgress?: (done: number) => void;
}

export function replay(input: ReplayInput): ReplayReport {
  const findings: Finding[] = [];
  const checkpoints = [...input.checkpoints];
  let previous = 0;
  for (const c of checkpoints) {
    if (c.previousSize !== previous || c.size <= previous) {
      findings.push({
        kind: "checkpoint.not_extending",
        checkpointSize: c.size,
        detail: `checkpoint ${c.size} names ${c.previousSize} as its predecessor, the chain's previous is ${previous}`,
      });
    }
    previous = c.size;
  }
  const anchoredSize = checkpoints.at(-1)?.size ?? 0;
  const bySize = new Map(checkpoints.map((c) => [c.size, c]));
  const sizes = checkpoints.map((c) => c.size);
  let nextCheckpoint = 0;
  // Anchoring time of the first checkpoint covering each leaf: the time the chain vouches for.
  const anchoredAtFor = (index: number) => checkpoints.find((c) => c.size > index)?.anchoredAt;

  const tree = new MemoryTree();
  let count = 0;
  let demands = 0;
  const checkRootsUpTo = (size: number) => {
    while (nextCheckpoint < sizes.length && sizes[nextCheckpoint]! <= size) {
      const c = bySize.get(sizes[nextCheckpoint]!)!;
      const root = bytesToHex(tree.root(c.size));
      if (root !== c.root) {
        findings.push({
          kind: "checkpoint.root_mismatch",
          checkpointSize: c.size,
          detail: `the records give root ${root}, the chain anchored ${c.root}`,
        });
      }
      nextCheckpoint++;
    }
  };

  let expected = 0;
  for (const record of input.records) {
    const position = record.leafIndex;
    for (let missing = expected; missing < Math.min(position, anchoredSize); missing++) {
      findings.push({ kind: "record.missing", leafIndex: missing, detail: `no record at leaf ${missing}` });
    }
    expected = position + 1;
    if ("kind" in record) {
      if (record.claimedIndex !== undefined && record.claimedIndex !== position) {
        findings.push({
          kind: "record.misplaced",
          leafIndex: position,
          recordId: record.entryId,
          detail: `demand was logged at leaf ${record.claimedIndex} but sits at ${position}`,
        });
      }
      const checked = checkDemandEntry(record, input.domain, input.recover, input.inspectorActiveAt);
      for (const p of checked.problems) findings.push({ ...p, leafIndex: position, recordId: record.entryId });
      tree.appendLeafHash(checked.leafHash);
      if (position >= anchoredSize) {
        findings.push({ kind: "record.unanchored", leafIndex: position, detail: "not in any anchored checkpoint yet" });
      }
      checkRootsUpTo(tree.size);
      count++;
      demands++;
      input.onProgress?.(count);
      continue;
    }
    if (record.claimedIndex !== undefined && record.claimedIndex !== position) {
      findings.push({
        kind: "record.misplaced",
        leafIndex: position,
        recordId: record.recordId,
        detail: `record was acknowledged at leaf ${record.claimedIndex} but sits at ${position}`,
      });
    }
    const digest = recordDigest(record.envelope);
    const recordId = bytesToHex(digest);
    if (recordId !== record.recordId) {
      findings.push({
        kind: "record.altered",
        leafIndex: position,
        recordId: record.recordId,
        detail: `content hashes to ${recordId}`,
      });
    }
    const signer = input.recover(typedDataDigest(input.domain, signedMessageOf(record.envelope)), record.signature);
    if (!signer) {
      findings.push({
        kind: "record.bad_signature",
        leafIndex: position,
        recordId: record.recordId,
        detail: "the signature does not recover",
      });
    } else {
      const anchoredAt = anchoredAtFor(position);
      const believed =
        anchoredAt === undefined
          ? record.acceptedAt
          : Math.max(record.acceptedAt, anchoredAt - MAX_ACCEPT_TO_ANCHOR_SECONDS);
      if (!keyValidAt(input.unitHistory(record.envelope.unitId), signer, believed)) {
        findings.push({
          kind: "record.key_not_valid",
          leafIndex: position,
          recordId: record.recordId,
          detail: `${signer} was not unit ${record.envelope.unitId}'s valid key at ${believed}, or the unit was suspended`,
        });
      }
    }
    tree.appendLeafHash(leafHashOf(hexToDigest(record.recordId, digest), record.signature));
    if (position >= anchoredSize) {
      findings.push({
        kind: "record.unanchored",
        leafIndex: position,
        recordId: record.recordId,
        detail: "not in any anchored checkpoint yet",
      });
    }
    checkRootsUpTo(tree.size);
    count++;
    input.onProgress?.(count);
  }
  for (let missing = expected; missing < anchoredSize; missing++) {
    findings.push({ kind: "record.missing", leafIndex: missing, detail: `no record at leaf ${missing}` });
  }
  // Checkpoints beyond the records were not matched: the missing-record findings explain them.
  const counts: Partial<Record<FindingKind, number>> = {};
  for (const f of findings) counts[f.kind] = (counts[f.kind] ?? 0) + 1;
  const problems = findings.filter((f) => f.kind !== "record.unanchored");
  return {
    clean: problems.length === 0,
    checkpoints: checkpoints.length,
    records: count - demands,
    demands,
    anchoredSize,
    findings,
    counts,
  };
}

/**
 * The leaf commits to the record id the gateway logged. When the content no longer hashes to it
 * the leaf is still rebuilt from the logged id, so one altered record is reported once, as
 * altered, rather than also breaking every checkpoint root after it.
 */
function hexToDigest(recordId: string, recomputed: Uint8Array): Uint8Array {
  return /^0x[0-9a-f]{64}$/.test(recordId) ? hexToBytes(recordId) : recomputed;
}
