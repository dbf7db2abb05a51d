/**
 * The witness policy of a verifier (`dutyproof verify --witness KEY… --quorum K`): a receipt is
 * accepted only if a checkpoint note of its log carries K valid cosignatures of the given
 * witnesses and commits to the receipt's tree — the same root at the receipt's size, or a later
 * size the receipt's root is consistent with. A log that shows a forked view to some witnesses
 * cannot gather a majority quorum for it (each honest witness cosigns one root per size), so a
 * receipt proved against the fork fails here. Pure.
 */
import { bytesEqual, hexToBytes } from "./bytes.ts";
import { DutyproofError } from "./errors.ts";
import { isValidConsistency } from "./merkle/verify.ts";
import { type NoteVerifier, NOTE_COSIGNATURE_V1, parseCheckpoint, parseNote, verifyNote } from "./note.ts";
import { tlogOrigin } from "./tlog.ts";
import type { Verdict } from "./verifier.ts";

/** K of the listed witnesses must have cosigned. */
export interface WitnessPolicy {
  witnesses: readonly NoteVerifier[];
  quorum: number;
}

/** The receipt fields the check needs. */
export interface QuorumSubject {
  chainId: number;
  contract: string;
  logId: string;
  treeSize: number;
  /** 0x-hex root the receipt's inclusion proof leads to. */
  root: string;
}

export type QuorumReason = "checkpoint.not_cosigned" | "checkpoint.note_mismatch" | "checkpoint.note_invalid";

export type QuorumVerdict =
  | { ok: true; cosigners: string[]; checkpointSize: number }
  | { ok: false; reason: QuorumReason; detail: string; cosigners: string[] };

/**
 * Checks `note` (a signed checkpoint with cosignature lines) against the policy for the receipt.
 * When the note's size is above the receipt's, `consistency` must prove the receipt's tree a
 * prefix of the note's (RFC 9162 consistency proof from treeSize to the note's size).
 */
export function checkWitnessQuorum(
  subject: QuorumSubject,
  note: string,
  policy: WitnessPolicy,
  consistency: readonly Uint8Array[] = [],
): QuorumVerdict {
  const origin = tlogOrigin(subject.chainId, subject.contract, subject.logId);
  let text: string;
  let cosigners: string[] = [];
  try {
    const parsed = parseNote(note);
    text = parsed.text;
    const witnesses = policy.witnesses.filter((w) => w.type === NOTE_COSIGNATURE_V1);
    try {
      cosigners = verifyNote(parsed, witnesses).verified.map((v) => v.verifier.name);
    } catch (error) {
      if (!(error instanceof DutyproofError) || error.code !== "note.unknown_signer") throw error;
    }
  } catch (error) {
    if (!(error instanceof DutyproofError)) throw error;
    return { ok: false, reason: "checkpoint.note_invalid", detail: error.message, cosigners };
  }
  let checkpoint;
  try {
    checkpoint = parseCheckpoint(text);
  } catch (error) {
    if (!(error instanceof DutyproofError)) throw error;
    return { ok: false, reason: "checkpoint.note_invalid", detail: error.message, cosigners };
  }
  if (checkpoint.origin !== origin) {
    const detail = `the checkpoint is of ${checkpoint.origin}, the receipt's log is ${origin}`;
    return { ok: false, reason: "checkpoint.note_mismatch", detail, cosigners };
  }
  if (cosigners.length < policy.quorum) {
    const detail = `${cosigners.length} of the ${policy.quorum} witness cosignatures required`;
    return { ok: false, reason: "checkpoint.not_cosigned", detail, cosigners };
  }
  const root = hexToBytes(subject.root);
  if (checkpoint.size < subject.treeSize) {
    const detail = `the cosigned checkpoint (size ${checkpoint.size}) is older than the receipt's tree (size ${subject.treeSize})`;
    return { ok: false, reason: "checkpoint.not_cosigned", detail, cosigners };
  }
  const commits =
    checkpoint.size === subject.treeSize
      ? bytesEqual(checkpoint.rootHash, root)
      : isValidConsistency(subject.treeSize, checkpoint.size, root, checkpoint.rootHash, consistency);
  if (!commits) {
    const detail = `the cosigned checkpoint of size ${checkpoint.size} does not contain the receipt's tree of size ${subject.treeSize}`;
    return { ok: false, reason: "checkpoint.note_mismatch", detail, cosigners };
  }
  return { ok: true, cosigners, checkpointSize: checkpoint.size };
}

/** A verifier's verdict with the witness check added: an invalid quorum makes it invalid. */
export function withWitnessCheck<V extends Verdict>(verdict: V, quorum: QuorumVerdict): V {
  const check = quorum.ok
    ? { name: "witnesses" as const, ok: true }
    : { name: "witnesses" as const, ok: false, reason: quorum.reason };
  const checks = [...verdict.checks, check];
  if (quorum.ok || !verdict.valid) return { ...verdict, checks };
  return { ...verdict, valid: false, reason: quorum.reason, checks };
}
