/**
 * The witness policy of a verifier (`dutyproof verify --witness KEY… --quorum K`, a trust file's
 * `witnesses`/`witnessQuorum`, the console's page setting): a receipt is accepted only if a
 * checkpoint note of its log carries K valid cosignatures of the given witnesses and commits to
 * the receipt's tree — the same root at the receipt's size, or a later size the receipt's root is
 * consistent with. A log that shows a forked view to some witnesses cannot gather a majority
 * quorum for it (each honest witness cosigns one root per size), so a receipt proved against the
 * fork fails here. Pure: the CLI and the console pass in how to read the gateway's checkpoint.
 */
import { bytesEqual, hexToBytes } from "./bytes.ts";
import { DutyproofError } from "./errors.ts";
import { isValidConsistency } from "./merkle/verify.ts";
import {
  type NoteVerifier,
  NOTE_COSIGNATURE_V1,
  formatVerifierKey,
  parseCheckpoint,
  parseNote,
  parseVerifierKey,
  verifyNote,
} from "./note.ts";
import { tlogOrigin } from "./tlog.ts";
import { type TrustAnchors } from "./trust.ts";
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

/** What one witness of the policy did on the checkpoint note checked. */
export type WitnessStatus = "cosigned" | "missing" | "bad_signature";

/** One witness of the policy and its status, in the policy's order. */
export interface WitnessOutcome {
  name: string;
  /** The witness's verifier key as the policy names it. */
  key: string;
  status: WitnessStatus;
}

export type QuorumVerdict =
  | { ok: true; cosigners: string[]; checkpointSize: number; quorum: number; witnesses: WitnessOutcome[] }
  | {
      ok: false;
      reason: QuorumReason;
      detail: string;
      cosigners: string[];
      quorum: number;
      witnesses: WitnessOutcome[];
    };

/** Why a witness list and quorum make no policy: which key, or the quorum, is at fault. */
export type PolicyProblem =
  | { problem: "key_malformed"; key: string; detail: string }
  | { problem: "not_witness_key"; key: string }
  | { problem: "quorum_out_of_range"; witnesses: number }
  | { problem: "quorum_without_witnesses" };

/**
 * The policy of verifier keys (type 0x04, signed-note form) and a quorum (default: every key
 * given; at most the number of keys). No keys and no quorum: no policy (undefined).
 */
export function witnessPolicyOf(
  keys: readonly string[],
  quorum?: number,
): { ok: true; policy: WitnessPolicy | undefined } | ({ ok: false } & PolicyProblem) {
  if (keys.length === 0) {
    return quorum === undefined ? { ok: true, policy: undefined } : { ok: false, problem: "quorum_without_witnesses" };
  }
  const witnesses: NoteVerifier[] = [];
  for (const key of keys) {
    let verifier: NoteVerifier;
    try {
      verifier = parseVerifierKey(key);
    } catch (error) {
      if (!(error instanceof DutyproofError)) throw error;
      return { ok: false, problem: "key_malformed", key, detail: error.message };
    }
    if (verifier.type !== NOTE_COSIGNATURE_V1) return { ok: false, problem: "not_witness_key", key };
    // A witness named twice would count twice towards the quorum.
    if (!witnesses.some((w) => w.name === verifier.name && w.keyId === verifier.keyId)) witnesses.push(verifier);
  }
  const k = quorum ?? witnesses.length;
  if (!Number.isInteger(k) || k < 1 || k > witnesses.length) {
    return { ok: false, problem: "quorum_out_of_range", witnesses: witnesses.length };
  }
  return { ok: true, policy: { witnesses, quorum: k } };
}

/**
 * The witness policy the trust anchors set for a log: that of the first trusted deployment
 * covering the log that lists `witnesses`, or undefined. The trust file's schema admits only
 * keys and quorums that make a policy.
 */
export function trustedWitnessPolicy(anchors: TrustAnchors, subject: QuorumSubject): WitnessPolicy | undefined {
  const wanted = subject.contract.toLowerCase();
  const deployment = anchors.find(
    (d) =>
      d.chainId === subject.chainId &&
      d.contract.toLowerCase() === wanted &&
      (d.logIds === undefined || d.logIds.includes(subject.logId.toLowerCase())) &&
      d.witnesses !== undefined &&
      d.witnesses.length > 0,
  );
  if (!deployment) return undefined;
  const made = witnessPolicyOf(deployment.witnesses!, deployment.witnessQuorum);
  return made.ok ? made.policy : undefined;
}

/** Each policy witness's status on a parsed note: the note spec's rule, one witness at a time. */
function witnessOutcomes(note: ReturnType<typeof parseNote>, policy: WitnessPolicy): WitnessOutcome[] {
  return policy.witnesses.map((witness) => {
    const lines = note.signatures.filter((s) => s.name === witness.name && s.keyId === witness.keyId);
    let status: WitnessStatus = "missing";
    if (lines.length > 0) {
      try {
        verifyNote({ text: note.text, signatures: lines }, [witness]);
        status = "cosigned";
      } catch (error) {
        if (!(error instanceof DutyproofError)) throw error;
        status = "bad_signature";
      }
    }
    return { name: witness.name, key: formatVerifierKey(witness), status };
  });
}

/**
 * Checks `note` (a signed checkpoint with cosignature lines) against the policy for the receipt.
 * When the note's size is above the receipt's, `consistency` must prove the receipt's tree a
 * prefix of the note's (RFC 9162 consistency proof from treeSize to the note's size). A named
 * witness's line that does not verify makes the note invalid, as c2sp.org/signed-note says.
 */
export function checkWitnessQuorum(
  subject: QuorumSubject,
  note: string,
  policy: WitnessPolicy,
  consistency: readonly Uint8Array[] = [],
): QuorumVerdict {
  const origin = tlogOrigin(subject.chainId, subject.contract, subject.logId);
  const { quorum } = policy;
  const unread: WitnessOutcome[] = policy.witnesses.map((w) => ({
    name: w.name,
    key: formatVerifierKey(w),
    status: "missing",
  }));
  let parsed;
  let checkpoint;
  try {
    parsed = parseNote(note);
    checkpoint = parseCheckpoint(parsed.text);
  } catch (error) {
    if (!(error instanceof DutyproofError)) throw error;
    return {
      ok: false,
      reason: "checkpoint.note_invalid",
      detail: error.message,
      cosigners: [],
      quorum,
      witnesses: unread,
    };
  }
  const witnesses = witnessOutcomes(parsed, policy);
  const cosigners = witnesses.filter((w) => w.status === "cosigned").map((w) => w.name);
  const fail = (reason: QuorumReason, detail: string): QuorumVerdict => ({
    ok: false,
    reason,
    detail,
    cosigners,
    quorum,
    witnesses,
  });
  const bad = witnesses.find((w) => w.status === "bad_signature");
  if (bad) return fail("checkpoint.note_invalid", `the signature of ${bad.name} on this note does not verify`);
  if (checkpoint.origin !== origin) {
    return fail(
      "checkpoint.note_mismatch",
      `the checkpoint is of ${checkpoint.origin}, the receipt's log is ${origin}`,
    );
  }
  if (cosigners.length < quorum) {
    return fail("checkpoint.not_cosigned", `${cosigners.length} of the ${quorum} witness cosignatures required`);
  }
  const root = hexToBytes(subject.root);
  if (checkpoint.size < subject.treeSize) {
    return fail(
      "checkpoint.not_cosigned",
      `the cosigned checkpoint (size ${checkpoint.size}) is older than the receipt's tree (size ${subject.treeSize})`,
    );
  }
  const commits =
    checkpoint.size === subject.treeSize
      ? bytesEqual(checkpoint.rootHash, root)
      : isValidConsistency(subject.treeSize, checkpoint.size, root, checkpoint.rootHash, consistency);
  if (!commits) {
    return fail(
      "checkpoint.note_mismatch",
      `the cosigned checkpoint of size ${checkpoint.size} does not contain the receipt's tree of size ${subject.treeSize}`,
    );
  }
  return { ok: true, cosigners, checkpointSize: checkpoint.size, quorum, witnesses };
}

/** Where a verifier reads the log's latest cosigned checkpoint and consistency proofs (the gateway). */
export interface CheckpointSource {
  /** The latest signed checkpoint with its cosignature lines (GET /tlog/checkpoint); undefined if none. */
  latestNote(): Promise<string | undefined>;
  /** An RFC 9162 consistency proof from `from` to `to` (GET /v1/proofs/consistency); undefined if none. */
  consistency(from: number, to: number): Promise<Uint8Array[] | undefined>;
}

function noteSize(note: string): number | undefined {
  try {
    return parseCheckpoint(parseNote(note).text).size;
  } catch {
    return undefined;
  }
}

/**
 * The witness check of one receipt: on the checkpoint note it carries when that note meets the
 * policy; otherwise (no note, or too few cosignatures: a receipt served before the witnesses
 * answered) on the log's latest cosigned checkpoint, with a consistency proof from the receipt's
 * size. A carried note that is invalid or names another tree is a finding, never retried. When
 * the latest checkpoint cannot be read, the carried note's verdict stands; with no carried note,
 * whatever `source` throws propagates.
 */
export async function receiptWitnessCheck(
  policy: WitnessPolicy,
  subject: QuorumSubject,
  carriedNote: string | undefined,
  source: CheckpointSource,
): Promise<QuorumVerdict> {
  let carried: QuorumVerdict | undefined;
  if (carriedNote !== undefined) {
    carried = checkWitnessQuorum(subject, carriedNote, policy);
    if (carried.ok || carried.reason !== "checkpoint.not_cosigned") return carried;
  }
  let latest: string | undefined;
  try {
    latest = await source.latestNote();
  } catch (error) {
    if (carried) return carried;
    throw error;
  }
  if (latest === undefined || latest === carriedNote) {
    if (carried) return carried;
    const witnesses = policy.witnesses.map((w) => ({
      name: w.name,
      key: formatVerifierKey(w),
      status: "missing" as const,
    }));
    const detail = "neither the receipt nor the gateway has a cosigned checkpoint of its log";
    return { ok: false, reason: "checkpoint.not_cosigned", detail, cosigners: [], quorum: policy.quorum, witnesses };
  }
  const size = noteSize(latest);
  let proof: Uint8Array[] = [];
  if (size !== undefined && size > subject.treeSize) {
    proof = (await source.consistency(subject.treeSize, size).catch(() => undefined)) ?? [];
  }
  const verdict = checkWitnessQuorum(subject, latest, policy, proof);
  // A later checkpoint that merely lacks quorum too says nothing the carried one did not.
  return carried && !verdict.ok && verdict.reason === "checkpoint.not_cosigned" ? carried : verdict;
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
