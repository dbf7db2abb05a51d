/**
 * The witness's rules (c2sp.org/tlog-witness), pure: the add-checkpoint request format, the
 * checks a witness makes before it cosigns, and the parse of its answer on the log's side. The
 * witness process (server/witness/) holds the state, the lock and the clock; the gateway's
 * client (server/gateway/WitnessClient.ts) builds requests and reads answers with the same code.
 */
import { bytesEqual } from "./bytes.ts";
import { DutyproofError } from "./errors.ts";
import { emptyRoot } from "./merkle/hasher.ts";
import { verifyConsistency } from "./merkle/verify.ts";
import {
  type Checkpoint,
  type NoteSignature,
  type NoteVerifier,
  NOTE_COSIGNATURE_V1,
  NOTE_ED25519,
  fromBase64,
  parseCheckpoint,
  parseNote,
  parseVerifierKey,
  toBase64,
  verifyNote,
} from "./note.ts";

/** The spec lets a client send at most this many consistency proof lines. */
export const MAX_PROOF_LINES = 63;

/** A parsed `POST /add-checkpoint` body. */
export interface AddCheckpointRequest {
  /** The size the client believes the witness last cosigned (0: never). */
  oldSize: number;
  /** Consistency proof from oldSize to the checkpoint's size (RFC 9162 §2.1.4). */
  proof: Uint8Array[];
  /** The signed checkpoint note, as sent. */
  note: string;
}

/** What a witness remembers of one log: the latest checkpoint it cosigned. */
export interface WitnessedCheckpoint {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  /** The signed note it cosigned (evidence, should the log later show another root). */
  note: string;
}

function malformed(message: string): DutyproofError {
  return new DutyproofError("witness.malformed", message);
}

/** Parses an add-checkpoint body: `old N`, proof lines, a blank line, the note. */
export function parseAddCheckpointRequest(body: string): AddCheckpointRequest {
  const blank = body.indexOf("\n\n");
  if (blank < 0) throw malformed("the request is an old size line, proof lines, a blank line and a checkpoint");
  const lines = body.slice(0, blank).split("\n");
  const match = /^old (0|[1-9][0-9]{0,15})$/.exec(lines[0]!);
  if (!match || !Number.isSafeInteger(Number(match[1]))) throw malformed("the first line is `old <size>` in decimal");
  const proofLines = lines.slice(1);
  if (proofLines.length > MAX_PROOF_LINES) throw malformed(`at most ${MAX_PROOF_LINES} proof lines are allowed`);
  const proof = proofLines.map((line) => {
    const hash = fromBase64(line);
    if (!hash || hash.length !== 32) throw malformed("each proof line is one base64 SHA-256 hash");
    return hash;
  });
  return { oldSize: Number(match[1]), proof, note: body.slice(blank + 2) };
}

/** Writes an add-checkpoint body (the log's side). */
export function formatAddCheckpointRequest(request: AddCheckpointRequest): string {
  return `old ${request.oldSize}\n${request.proof.map((hash) => toBase64(hash) + "\n").join("")}\n${request.note}`;
}

/**
 * Decides whether a witness may cosign: the checkpoint must be signed by a key the witness
 * trusts for its origin (the key's name is the origin), `oldSize` must be the size it last
 * cosigned (`last`, undefined if never), and the proof must show the checkpoint extends that
 * one; at an equal size the root must be the same. Throws a witness.* error naming the spec's
 * status otherwise (404 unknown log, 403 signature, 400 malformed, 409 size or root, 422 proof).
 */
export function checkAddCheckpoint(
  request: AddCheckpointRequest,
  logs: readonly NoteVerifier[],
  last: WitnessedCheckpoint | undefined,
): { checkpoint: Checkpoint; text: string } {
  let parsed;
  let checkpoint: Checkpoint;
  try {
    parsed = parseNote(request.note);
    checkpoint = parseCheckpoint(parsed.text);
  } catch (error) {
    if (error instanceof DutyproofError) throw malformed(`the checkpoint note: ${error.message}`);
    throw error;
  }
  const keys = logs.filter((k) => k.name === checkpoint.origin && k.type === NOTE_ED25519);
  if (keys.length === 0) {
    throw new DutyproofError("witness.unknown_log", `this witness follows no log ${checkpoint.origin}`, {
      origin: checkpoint.origin,
    });
  }
  try {
    verifyNote(parsed, keys);
  } catch (error) {
    if (!(error instanceof DutyproofError)) throw error;
    throw new DutyproofError("witness.bad_signature", `the checkpoint is not signed by ${checkpoint.origin}'s key`, {
      origin: checkpoint.origin,
    });
  }
  const { oldSize, proof } = request;
  if (oldSize > checkpoint.size) throw malformed(`old size ${oldSize} is above the checkpoint's ${checkpoint.size}`);
  const lastSize = last?.size ?? 0;
  if (oldSize !== lastSize) {
    throw new DutyproofError(
      "witness.old_size_mismatch",
      `the witness last cosigned size ${lastSize}, not ${oldSize}`,
      { size: lastSize },
    );
  }
  const badProof = (message: string) =>
    new DutyproofError("witness.bad_proof", message, { oldSize, size: checkpoint.size });
  if (checkpoint.size === 0 && !bytesEqual(checkpoint.rootHash, emptyRoot())) {
    throw badProof("a checkpoint of size 0 has the empty tree's root");
  }
  if (oldSize === 0) {
    if (proof.length !== 0) throw badProof("the proof from size 0 is empty");
  } else if (oldSize === checkpoint.size) {
    if (proof.length !== 0) throw badProof("the proof between equal sizes is empty");
    if (!bytesEqual(last!.rootHash, checkpoint.rootHash)) {
      throw new DutyproofError(
        "witness.root_conflict",
        `the witness cosigned another root for size ${oldSize}: the log shows two views`,
        { size: oldSize },
      );
    }
  } else {
    try {
      verifyConsistency(oldSize, checkpoint.size, last!.rootHash, checkpoint.rootHash, proof);
    } catch (error) {
      if (!(error instanceof DutyproofError)) throw error;
      throw badProof(`the consistency proof from ${oldSize} to ${checkpoint.size} does not verify: ${error.message}`);
    }
  }
  return { checkpoint, text: parsed.text };
}

/** The parts a dutyproof origin names: `dutyproof/<chainId>/<contract>/<logId>`; null for other origins. */
export function parseLogOrigin(origin: string): { chainId: number; contract: string; logId: string } | null {
  const match = /^dutyproof\/([1-9][0-9]{0,15})\/(0x[0-9a-f]{40})\/(0x[0-9a-f]{64})$/.exec(origin);
  if (!match || !Number.isSafeInteger(Number(match[1]))) return null;
  return { chainId: Number(match[1]), contract: match[2]!, logId: match[3]! };
}

/**
 * Reads a witness's 200 answer on the log's side: the cosignature lines of `witness` that verify
 * on the checkpoint text. Lines of other keys are ignored, as the spec asks; none that verify is
 * an error.
 */
export function readCosignatures(checkpointText: string, body: string, witness: NoteVerifier): NoteSignature[] {
  if (witness.type !== NOTE_COSIGNATURE_V1) throw malformed("a witness key is a cosignature/v1 (type 0x04) key");
  const parsed = parseNote(checkpointText + "\n" + body);
  verifyNote(parsed, [witness]);
  return parsed.signatures.filter((s) => s.name === witness.name && s.keyId === witness.keyId);
}

/** A witness the gateway asks to cosign: its cosignature/v1 key and its base URL. */
export interface WitnessEndpoint {
  verifier: NoteVerifier;
  /** The verifier key as configured (name+keyid+base64). */
  verifierKey: string;
  /** Base URL; requests go to `<url>/add-checkpoint`. */
  url: string;
}

/**
 * Parses WITNESSES: comma-separated `VERIFIER_KEY@URL` (a verifier key holds no "@"; the URL is
 * http or https). Throws a one-line Error naming the entry at fault.
 */
export function parseWitnessList(text: string): WitnessEndpoint[] {
  const entries = text
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  const witnesses = entries.map((entry) => {
    const at = entry.indexOf("@");
    if (at < 0) throw new Error(`WITNESSES: ${entry} is not VERIFIER_KEY@URL`);
    const verifierKey = entry.slice(0, at);
    const url = entry.slice(at + 1).replace(/\/+$/, "");
    let verifier: NoteVerifier;
    try {
      verifier = parseVerifierKey(verifierKey);
    } catch (error) {
      throw new Error(`WITNESSES: ${verifierKey}: ${(error as Error).message}`, { cause: error });
    }
    if (verifier.type !== NOTE_COSIGNATURE_V1)
      throw new Error(`WITNESSES: ${verifierKey} is not a witness (type 0x04) key`);
    if (!/^https?:\/\/[^\s/]+/.test(url)) throw new Error(`WITNESSES: ${url} is not an http(s) URL`);
    return { verifier, verifierKey, url };
  });
  const names = new Set(witnesses.map((w) => w.verifierKey));
  if (names.size !== witnesses.length) throw new Error("WITNESSES: a witness is listed twice");
  return witnesses;
}
