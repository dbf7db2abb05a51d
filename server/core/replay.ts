/**
 * Audit replay: rebuilds a log from its records and checks it against everything the chain
 * recorded — every checkpoint must extend the one before it and have the root the records give,
 * every record must be signed by its unit's valid key at the time. Pure: the adapters feed it
 * chain events and records in log order; it returns findings, one per problem.
 */
import { type AmendTarget, type ErasedEnvelope, type Erasure, checkAmendment } from "./amendment.ts";
import { bytesToHex, hexToBytes } from "./bytes.ts";
import type { Eip712Domain } from "./eip712.ts";
import { DutyproofError } from "./errors.ts";
import { MemoryTree } from "./merkle/MemoryTree.ts";
import { type RecordEnvelope, leafHashOf, recordDigest, signedMessageOf } from "./record.ts";
import { z } from "zod";
import { recordEnvelopeSchema, recordEnvelopeV1Schema, recordEnvelopeV2Schema } from "./recordSchema.ts";
import { type KeyPeriodFact, type StatusPeriodFact, acceptanceTimePlausible, keyValidAt } from "./verifier.ts";
import { type AuditDemandEntry, checkDemandEntry } from "./demandAudit.ts";
import { type AuditConfirmationEntry, checkConfirmationEntry } from "./confirmation.ts";
import { recordSignerOf } from "./recordSigner.ts";
import { suiteOfEnvelope } from "./smSuite.ts";
import { type AuditTipEntry, type TipProblem, TipLogChecker, isAuditTipEntry } from "./tip.ts";
import type { AuditRequestEntry } from "./requestAudit.ts";
import type { CheckpointAfterSeal } from "./succession.ts";

export interface AnchoredCheckpoint {
  size: number;
  root: string;
  previousSize: number;
  blockNumber: number;
  anchoredAt: number; // Unix seconds, block time
  /** The root the contract stores for `size` (`checkpointAt`); null: it stores none. Unchecked if absent. */
  storedRoot?: string | null;
}

/** A record as the gateway serves it to an auditor, in leaf order. */
export interface AuditRecord {
  leafIndex: number; // its position in the log's leaf table
  claimedIndex?: number; // the leaf index it was acknowledged with, if the feed says
  recordId: string;
  envelope: RecordEnvelope | ErasedEnvelope; // erased: personal fields and salt gone
  signature: string;
  acceptedAt: number; // Unix seconds, gateway clock
  signer?: string; // the signer the gateway derived and stored, if the feed says
  leafHash?: string; // the leaf hash the gateway stored, if the feed says
  erasure?: Erasure; // set when the record's personal content was lawfully erased
  /** Digest and signer already derived by the same code elsewhere (a worker thread). */
  derived?: { recordId: string; signer: string | null; leafHash?: string };
}

/** One leaf of the log as replay reads it: a record, or an entry of another kind. */
export type AuditLogItem = AuditRecord | AuditDemandEntry | AuditRequestEntry | AuditConfirmationEntry | AuditTipEntry;

export type FindingKind =
  | "checkpoint.not_extending" // a checkpoint's previous size is not the checkpoint before it
  | "checkpoint.root_mismatch" // the records do not give the anchored root: altered, missing or reordered
  | "checkpoint.stored_root_disagrees" // the contract's stored root is not its CheckpointAnchored event's
  | "record.missing" // no record at a leaf index inside an anchored checkpoint
  | "record.misplaced" // a record claims another leaf index than its position
  | "record.altered" // its content does not hash to its record id, or is not a well-formed record
  | "record.wrong_log" // a version 2 record signed for another log than the one replayed
  | "record.bad_signature" // the signature does not recover
  | "record.key_not_valid" // signed by a key that was not the unit's valid key then, or unit suspended
  | "record.implausible_time" // accepted more than a day before, or 5 minutes after, its anchoring
  | "record.not_in_log" // (bundle replay) its inclusion proof does not lead to the anchored root
  | "amendment.target_not_found" // amends a record that is not earlier in the log (or bundle)
  | "amendment.other_unit" // amends another unit's record
  | "amendment.duty_type_mismatch" // amends a record of another duty type
  | "amendment.withdrawal_has_fields" // a withdrawal that carries fields
  | "amendment.target_not_current" // amends a record already corrected or withdrawn, or a withdrawal
  | "record.erased" // (not a problem) its personal content was erased under an order
  | "record.unanchored" // (not a problem) beyond the last anchored checkpoint
  | "checkpoint.after_seal" // (not a problem) anchored in a sealed log above its seal: not part of the log
  | "demand.altered" // an evidence demand or its outcome does not hash to what was logged
  | "demand.bad_signature" // a demand's signature does not recover to its inspector
  | "demand.inspector_not_valid" // the inspector was not registered and active then
  | "demand.wrong_log" // a version 2 demand signed for another log than the one replayed
  | "confirmation.altered" // a resident's confirmation or an appeal does not hash to what was logged
  | TipProblem["kind"]; // a tip-group entry (core/tip.ts) altered, or a tip not provably from a member

/** Kinds that report a fact rather than a problem. */
export const informationalKinds: ReadonlySet<FindingKind> = new Set([
  "record.erased",
  "record.unanchored",
  "checkpoint.after_seal",
]);

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
  confirmations?: number; // residents' confirmations and appeals among the leaves (docs/protocol.md §8)
  anchoredSize: number;
  /** Records that correct or withdraw an earlier one, and records whose content was erased. */
  corrections: number;
  withdrawals: number;
  erased: number;
  findings: Finding[];
  counts: Partial<Record<FindingKind, number>>;
}

type UnitHistory = { keys: KeyPeriodFact[]; statuses: StatusPeriodFact[] };

export interface ReplayInput {
  domain: Eip712Domain;
  /** The id of the log replayed: a version 2 record meant for another log is a finding. */
  logId?: string;
  /**
   * Sealed logs the replayed log succeeds (docs/protocol.md §2): records and demands signed for
   * one of them were accepted before its seal and carried over, so they are not findings.
   */
  predecessorLogIds?: string[];
  checkpoints: AnchoredCheckpoint[]; // in anchoring order
  /** Checkpoints of sealed predecessor logs above their seals (core/succession.ts); reported, not checked. */
  afterSeal?: CheckpointAfterSeal[];
  records: Iterable<AuditLogItem>; // in leaf order
  /** The registry's history for a unit, from chain events. */
  unitHistory: (unitId: string) => UnitHistory;
  recover: (digest: Uint8Array, signature: string) => string | null;
  /** Whether an inspector was active at a time, from chain events; not checked when absent. */
  inspectorActiveAt?: (inspector: string, t: number) => boolean;
  onProgress?: (done: number) => void;
}

const hex32 = /^0x[0-9a-f]{64}$/;
/** A signature of either suite: EIP-712's 65 bytes or the SM suite's 128 (core/smSuite.ts). */
const signatureHex = /^0x(?:[0-9a-f]{130}|[0-9a-f]{256})$/;
const erasedSalt = { salt: recordEnvelopeV1Schema.shape.salt.optional() };
const auditEnvelopeSchema = z.discriminatedUnion("version", [
  recordEnvelopeV1Schema.extend(erasedSalt),
  recordEnvelopeV2Schema.extend(erasedSalt),
]);

/**
 * Checks that a checkpoint chain extends itself link by link, from the empty log, and that the
 * contract still stores the root each CheckpointAnchored event recorded: verifiers read the
 * stored root, so a state overwrite would otherwise fail honest receipts unnoticed by replay.
 */
export function checkCheckpointChain(checkpoints: AnchoredCheckpoint[], findings: Finding[]): void {
  let previous = 0;
  for (const c of checkpoints) {
    if (c.storedRoot !== undefined && c.storedRoot !== c.root) {
      findings.push({
        kind: "checkpoint.stored_root_disagrees",
        checkpointSize: c.size,
        detail: `the contract stores ${c.storedRoot ?? "no checkpoint"} for size ${c.size}, its event recorded ${c.root}`,
      });
    }
    if (c.previousSize !== previous || c.size <= previous) {
      findings.push({
        kind: "checkpoint.not_extending",
        checkpointSize: c.size,
        detail: `checkpoint ${c.size} names ${c.previousSize} as its predecessor, the chain's previous is ${previous}`,
      });
    }
    previous = c.size;
  }
}

/**
 * The checks of one record that need nothing but the record, its unit's registry history and
 * the anchoring time of its first checkpoint: well-formed, unchanged, signed, key valid then,
 * plausible acceptance time; and, for an erased record, that its signature still binds the
 * stored digest. Returns the record digest the leaf is rebuilt from (null if there is none).
 */
export function checkRecord(
  record: AuditRecord,
  position: number,
  anchoredAt: number | undefined,
  input: Pick<ReplayInput, "domain" | "logId" | "predecessorLogIds" | "unitHistory" | "recover">,
  findings: Finding[],
): Uint8Array | null {
  const at = { leafIndex: position, recordId: record.recordId };
  const erased = record.erasure !== undefined;
  const shape = erased
    ? auditEnvelopeSchema.safeParse(record.envelope)
    : recordEnvelopeSchema.safeParse(record.envelope);
  if (
    !shape.success ||
    typeof record.recordId !== "string" ||
    !hex32.test(record.recordId) ||
    typeof record.signature !== "string" ||
    !signatureHex.test(record.signature) ||
    (erased && record.envelope.salt !== undefined) ||
    !Number.isSafeInteger(record.acceptedAt)
  ) {
    findings.push({ kind: "record.altered", ...at, detail: "not a well-formed record" });
    return typeof record.recordId === "string" && hex32.test(record.recordId) ? hexToBytes(record.recordId) : null;
  }
  const logged = hexToBytes(record.recordId);
  const meantFor = "logId" in record.envelope ? record.envelope.logId : undefined;
  if (
    meantFor !== undefined &&
    input.logId !== undefined &&
    meantFor !== input.logId &&
    !input.predecessorLogIds?.includes(meantFor)
  ) {
    // Signed by its unit, but for another log: a gateway took what was not meant for it.
    findings.push({ kind: "record.wrong_log", ...at, detail: `signed for log ${meantFor}, not ${input.logId}` });
  }
  let digest = logged;
  let signer: string | null;
  if (erased) {
    findings.push({
      kind: "record.erased",
      ...at,
      detail: `personal content erased at ${record.erasure!.erasedAt} under order ${JSON.stringify(record.erasure!.order)}`,
    });
    // The signature covers the digest the log keeps; the erased fields cannot be checked.
    signer = recordSignerOf(
      input.domain,
      signedMessageOf(record.envelope, logged),
      logged,
      record.signature,
      input.recover,
      suiteOfEnvelope(record.envelope),
    );
  } else if (record.derived) {
    digest = record.derived.recordId === record.recordId ? logged : hexToBytes(record.derived.recordId);
    signer = record.derived.signer;
  } else {
    digest = recordDigest(record.envelope as RecordEnvelope);
    signer = recordSignerOf(
      input.domain,
      signedMessageOf(record.envelope, digest),
      digest,
      record.signature,
      input.recover,
      suiteOfEnvelope(record.envelope),
    );
  }
  if (digest !== logged && bytesToHex(digest) !== record.recordId) {
    // Its signature and key cannot be judged for content the unit never signed.
    findings.push({ kind: "record.altered", ...at, detail: `content hashes to ${bytesToHex(digest)}` });
    return logged;
  }
  const fromWorker = record.derived?.recordId === record.recordId ? record.derived.leafHash : undefined;
  if (
    record.leafHash !== undefined &&
    record.leafHash !== (fromWorker ?? bytesToHex(leafHashOf(logged, record.signature)))
  ) {
    findings.push({ kind: "record.altered", ...at, detail: `stored leaf hash ${record.leafHash} is not the record's` });
  }
  if (!signer) {
    findings.push({ kind: "record.bad_signature", ...at, detail: "the signature does not recover" });
    return logged;
  }
  if (record.signer !== undefined && record.signer !== signer) {
    findings.push({
      kind: "record.altered",
      ...at,
      detail: `stored signer ${record.signer}, the signature gives ${signer}`,
    });
  }
  if (!acceptanceTimePlausible(record.acceptedAt, anchoredAt)) {
    findings.push({
      kind: "record.implausible_time",
      ...at,
      detail: `accepted at ${record.acceptedAt}, its first checkpoint was anchored at ${anchoredAt}`,
    });
  } else if (!keyValidAt(input.unitHistory(record.envelope.unitId), signer, record.acceptedAt)) {
    findings.push({
      kind: "record.key_not_valid",
      ...at,
      detail: `${signer} was not unit ${record.envelope.unitId}'s valid key at ${record.acceptedAt}, or the unit was suspended`,
    });
  }
  return logged;
}

/** Follows `amends` links in log order with the gateway's own rules (core/amendment.ts). */
export class AmendmentTracker {
  private readonly seen = new Map<string, AmendTarget>();
  corrections = 0;
  withdrawals = 0;

  /** Checks `record`'s link against the records seen before it, then remembers `record`. */
  visit(record: AuditRecord, position: number, findings: Finding[]): void {
    const envelope = record.envelope as RecordEnvelope;
    const link = envelope.amends;
    if (link) {
      if (link.kind === "correction") this.corrections++;
      else this.withdrawals++;
      const target = this.seen.get(link.recordId);
      try {
        checkAmendment(envelope, target);
        target!.amendedBy = { recordId: record.recordId, kind: link.kind };
      } catch (error) {
        if (!(error instanceof DutyproofError)) throw error;
        findings.push({
          kind: error.code as FindingKind,
          leafIndex: position,
          recordId: record.recordId,
          detail: `${link.kind} of ${link.recordId}: ${error.message}`,
        });
      }
    }
    if (!this.seen.has(record.recordId)) {
      this.seen.set(record.recordId, {
        recordId: record.recordId,
        unitId: envelope.unitId,
        dutyTypeId: envelope.dutyTypeId,
        amendsKind: link?.kind,
      });
    }
  }
}

/** Counts by kind, and whether anything but informational findings remain. */
export function summarise(findings: Finding[]): { clean: boolean; counts: Partial<Record<FindingKind, number>> } {
  const counts: Partial<Record<FindingKind, number>> = {};
  for (const f of findings) counts[f.kind] = (counts[f.kind] ?? 0) + 1;
  return { clean: findings.every((f) => informationalKinds.has(f.kind)), counts };
}

/**
 * Replay fed one record at a time, in leaf order, so that a caller can overlap it with other
 * work (reading the next page, deriving signatures on worker threads). `replay` is the same
 * over an iterable.
 */
export class LogReplayer {
  private readonly input: Omit<ReplayInput, "records">;
  private readonly findings: Finding[] = [];
  private readonly checkpoints: AnchoredCheckpoint[];
  private readonly anchoredSize: number;
  private readonly tree = new MemoryTree();
  private readonly amendments = new AmendmentTracker();
  private nextCheckpoint = 0;
  private covering = 0;
  private expected = 0;
  private count = 0;
  private erased = 0;
  private demands = 0;
  private confirmations = 0;
  private tipLog: TipLogChecker | undefined;

  constructor(input: Omit<ReplayInput, "records">) {
    this.input = input;
    this.checkpoints = [...input.checkpoints];
    checkCheckpointChain(this.checkpoints, this.findings);
    this.anchoredSize = this.checkpoints.at(-1)?.size ?? 0;
  }

  /** Anchoring time of the first checkpoint covering a leaf; positions only grow. */
  private anchoredAtFor(index: number): number | undefined {
    while (this.covering < this.checkpoints.length && this.checkpoints[this.covering]!.size <= index) this.covering++;
    return this.checkpoints[this.covering]?.anchoredAt;
  }

  private checkRootsUpTo(size: number): void {
    const { checkpoints, findings } = this;
    while (this.nextCheckpoint < checkpoints.length && checkpoints[this.nextCheckpoint]!.size <= size) {
      const c = checkpoints[this.nextCheckpoint]!;
      const root = bytesToHex(this.tree.root(c.size));
      if (root !== c.root) {
        findings.push({
          kind: "checkpoint.root_mismatch",
          checkpointSize: c.size,
          detail: `the records give root ${root}, the chain anchored ${c.root}`,
        });
      }
      this.nextCheckpoint++;
    }
  }

  /** Checks the next record of the log. */
  add(record: AuditLogItem): void {
    const { findings, anchoredSize } = this;
    const position = record.leafIndex;
    for (let missing = this.expected; missing < Math.min(position, anchoredSize); missing++) {
      findings.push({ kind: "record.missing", leafIndex: missing, detail: `no record at leaf ${missing}` });
    }
    this.expected = position + 1;
    if (isAuditTipEntry(record)) {
      this.addTipEntry(record, position);
      return;
    }
    if ("kind" in record) {
      if (record.kind === "confirmation") this.addConfirmation(record, position);
      else this.addDemand(record, position);
      return;
    }
    if (record.claimedIndex !== undefined && record.claimedIndex !== position) {
      findings.push({
        kind: "record.misplaced",
        leafIndex: position,
        recordId: record.recordId,
        detail: `record was acknowledged at leaf ${record.claimedIndex} but sits at ${position}`,
      });
    }
    if (record.erasure !== undefined) this.erased++;
    const before = findings.length;
    const logged = checkRecord(record, position, this.anchoredAtFor(position), this.input, findings);
    // A record that is not well-formed has no trustworthy link to follow.
    if (!findings.slice(before).some((f) => f.kind === "record.altered" && f.detail === "not a well-formed record"))
      this.amendments.visit(record, position, findings);
    // The leaf is rebuilt from the logged id or, lacking one, not at all: the checkpoint roots
    // after it then fail, and the altered-record finding explains why. So one altered record
    // is reported once, as altered, rather than also breaking every root after it.
    if (logged && signatureHex.test(String(record.signature))) {
      const derived = record.derived;
      // A worker that derived the leaf from the same id and signature saves hashing it again.
      this.tree.appendLeafHash(
        derived?.leafHash && derived.recordId === record.recordId
          ? hexToBytes(derived.leafHash)
          : leafHashOf(logged, record.signature),
      );
    }
    if (position >= anchoredSize) {
      findings.push({
        kind: "record.unanchored",
        leafIndex: position,
        recordId: record.recordId,
        detail: "not in any anchored checkpoint yet",
      });
    }
    this.checkRootsUpTo(this.tree.size);
    this.count++;
    this.input.onProgress?.(this.count);
  }

  /** An evidence-demand entry (docs/protocol.md §4): its digests, signature and inspector. */
  private addDemand(entry: AuditDemandEntry | AuditRequestEntry, position: number): void {
    const { findings, input } = this;
    if (entry.claimedIndex !== undefined && entry.claimedIndex !== position) {
      findings.push({
        kind: "record.misplaced",
        leafIndex: position,
        recordId: entry.entryId,
        detail: `demand was logged at leaf ${entry.claimedIndex} but sits at ${position}`,
      });
    }
    const checked = checkDemandEntry(
      entry,
      input.domain,
      input.recover,
      input.inspectorActiveAt,
      input.logId === undefined ? undefined : [input.logId, ...(input.predecessorLogIds ?? [])],
    );
    for (const p of checked.problems) findings.push({ ...p, leafIndex: position, recordId: entry.entryId });
    this.tree.appendLeafHash(checked.leafHash);
    if (position >= this.anchoredSize) {
      findings.push({ kind: "record.unanchored", leafIndex: position, detail: "not in any anchored checkpoint yet" });
    }
    this.checkRootsUpTo(this.tree.size);
    this.count++;
    this.demands++;
    input.onProgress?.(this.count);
  }

  /** A resident's confirmation or a unit's appeal (docs/protocol.md §8): it hashes to its logged id. */
  private addConfirmation(entry: AuditConfirmationEntry, position: number): void {
    const { findings } = this;
    if (entry.claimedIndex !== undefined && entry.claimedIndex !== position) {
      findings.push({
        kind: "record.misplaced",
        leafIndex: position,
        recordId: entry.entryId,
        detail: `confirmation was logged at leaf ${entry.claimedIndex} but sits at ${position}`,
      });
    }
    const checked = checkConfirmationEntry(entry);
    for (const p of checked.problems) findings.push({ ...p, leafIndex: position, recordId: entry.entryId });
    this.tree.appendLeafHash(checked.leafHash);
    if (position >= this.anchoredSize) {
      findings.push({ kind: "record.unanchored", leafIndex: position, detail: "not in any anchored checkpoint yet" });
    }
    this.checkRootsUpTo(this.tree.size);
    this.count++;
    this.confirmations++;
    this.input.onProgress?.(this.count);
  }

  /** A tip-group entry (docs/protocol.md, "Anonymous tips"): its digest, group root, nullifier, proof. */
  private addTipEntry(entry: AuditTipEntry, position: number): void {
    const { findings } = this;
    if (entry.claimedIndex !== undefined && entry.claimedIndex !== position) {
      findings.push({
        kind: "record.misplaced",
        leafIndex: position,
        recordId: entry.entryId,
        detail: `tip-group entry was logged at leaf ${entry.claimedIndex} but sits at ${position}`,
      });
    }
    this.tipLog ??= new TipLogChecker(this.input.logId);
    const checked = this.tipLog.check(entry.entryId, entry, entry.proofValid);
    for (const p of checked.problems) findings.push({ ...p, leafIndex: position, recordId: entry.entryId });
    this.tree.appendLeafHash(checked.leafHash);
    if (position >= this.anchoredSize) {
      findings.push({ kind: "record.unanchored", leafIndex: position, detail: "not in any anchored checkpoint yet" });
    }
    this.checkRootsUpTo(this.tree.size);
    this.count++;
    this.input.onProgress?.(this.count);
  }

  /** The report, once every record was added. */
  finish(): ReplayReport {
    const { findings, anchoredSize } = this;
    for (let missing = this.expected; missing < anchoredSize; missing++) {
      findings.push({ kind: "record.missing", leafIndex: missing, detail: `no record at leaf ${missing}` });
    }
    // Checkpoints beyond the records were not matched: the missing-record findings explain them.
    for (const c of this.input.afterSeal ?? []) {
      const records = c.size <= this.tree.size ? bytesToHex(this.tree.root(c.size)) : null;
      findings.push({
        kind: "checkpoint.after_seal",
        checkpointSize: c.size,
        detail:
          `checkpoint ${c.size} (root ${c.root}) of sealed log ${c.logId} lies above its seal and is not part of the log; ` +
          (records === c.root
            ? "the records give the same root"
            : records === null
              ? `it claims leaves beyond the ${this.tree.size} records: foreign leaves`
              : `the records give root ${records}: a foreign leaf`),
      });
    }
    return {
      ...summarise(findings),
      checkpoints: this.checkpoints.length,
      records: this.count,
      demands: this.demands,
      confirmations: this.confirmations,
      anchoredSize,
      corrections: this.amendments.corrections,
      withdrawals: this.amendments.withdrawals,
      erased: this.erased,
      findings,
    };
  }
}

export function replay(input: ReplayInput): ReplayReport {
  const replayer = new LogReplayer(input);
  for (const record of input.records) replayer.add(record);
  return replayer.finish();
}
