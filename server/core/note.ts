/**
 * Signed notes, checkpoints and cosignatures as the C2SP specifications define them
 * (c2sp.org/signed-note, c2sp.org/tlog-checkpoint, c2sp.org/tlog-cosignature), so that the
 * log's checkpoints open with any standard implementation, and witnesses and monitors written
 * for other transparency logs can check this one. Pure: Ed25519 and SHA-256 in JavaScript.
 *
 * A note is a text ending in a newline, a blank line, and one or more lines
 * `— <key name> <base64(key id (4 bytes, big-endian) ‖ signature)>`. The key id is the first four
 * bytes of SHA-256(name ‖ 0x0A ‖ signature type ‖ public key). Two signature types are used here:
 * 0x01 (Ed25519 over the note text: the log's own signature) and 0x04 (a timestamped Ed25519
 * cosignature: a witness's).
 */
import { ed25519 } from "@noble/curves/ed25519";
import { bytesEqual } from "./bytes.ts";
import { isWellFormedText } from "./canonical.ts";
import { DutyproofError } from "./errors.ts";
import { sha256 } from "./sha256.ts";

/** Signature type of a log's Ed25519 note signature. */
export const NOTE_ED25519 = 0x01;
/** Signature type of a timestamped Ed25519 cosignature (cosignature/v1). */
export const NOTE_COSIGNATURE_V1 = 0x04;

/** At most this many signature lines are read from a note; the spec asks verifiers to take 16. */
export const MAX_NOTE_SIGNATURES = 64;

const EM_DASH = "\u2014";
const utf8 = new TextEncoder();

/** A public key a note may be signed by: a log key or a witness key. */
export interface NoteVerifier {
  name: string;
  /** 0x01 (note signature) or 0x04 (cosignature/v1). */
  type: number;
  publicKey: Uint8Array;
  /** First four bytes of SHA-256(name ‖ "\n" ‖ type ‖ public key), big-endian. */
  keyId: number;
}

/** A private key that signs notes, with the verifier that checks its signatures. */
export interface NoteSigner extends NoteVerifier {
  /** The 32-byte Ed25519 seed. */
  seed: Uint8Array;
}

/** One signature line of a note. */
export interface NoteSignature {
  name: string;
  keyId: number;
  /** The bytes after the key id. */
  signature: Uint8Array;
}

/** A note split into its text and its signature lines (nothing verified yet). */
export interface ParsedNote {
  /** The signed text, including its final newline. */
  text: string;
  signatures: NoteSignature[];
}

function noteError(message: string): DutyproofError {
  return new DutyproofError("note.malformed", message);
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Strict standard base64 (RFC 4648 §4, padded); null for anything else. */
export function fromBase64(text: string): Uint8Array | null {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return null;
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  // Non-zero padding bits decode too, but would give a second spelling of the same bytes.
  return toBase64(bytes) === text ? bytes : null;
}

/** Key names are non-empty and hold no Unicode space and no "+". */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u.test(name);
}

/** The key id: SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4] as a big-endian uint32. */
export function noteKeyId(name: string, type: number, publicKey: Uint8Array): number {
  const nameBytes = utf8.encode(name);
  const input = new Uint8Array(nameBytes.length + 2 + publicKey.length);
  input.set(nameBytes, 0);
  input[nameBytes.length] = 0x0a;
  input[nameBytes.length + 1] = type;
  input.set(publicKey, nameBytes.length + 2);
  const hash = sha256(input);
  return ((hash[0]! << 24) | (hash[1]! << 16) | (hash[2]! << 8) | hash[3]!) >>> 0;
}

/** A verifier for an Ed25519 public key of the given signature type. */
export function noteVerifier(name: string, type: number, publicKey: Uint8Array): NoteVerifier {
  if (!isValidKeyName(name)) throw noteError(`"${name}" is not a valid key name (no spaces, no "+")`);
  if (publicKey.length !== 32) throw noteError("an Ed25519 public key is 32 bytes");
  if (type !== NOTE_ED25519 && type !== NOTE_COSIGNATURE_V1) throw noteError(`signature type ${type} is not supported`);
  return { name, type, publicKey: publicKey.slice(), keyId: noteKeyId(name, type, publicKey) };
}

/** A signer from a 32-byte Ed25519 seed. */
export function noteSigner(name: string, type: number, seed: Uint8Array): NoteSigner {
  if (seed.length !== 32) throw noteError("an Ed25519 private key (seed) is 32 bytes");
  return { ...noteVerifier(name, type, ed25519.getPublicKey(seed)), seed: seed.slice() };
}

function hex8(keyId: number): string {
  return keyId.toString(16).padStart(8, "0");
}

/** `count` fields separated by "+", the last taking the rest of the text (base64 may hold "+"); null if fewer. */
function splitFields(text: string, count: number): string[] | null {
  const parts = text.split("+");
  if (parts.length < count) return null;
  return [...parts.slice(0, count - 1), parts.slice(count - 1).join("+")];
}

/** The verifier key text: `name+keyid(8 hex)+base64(type ‖ public key)` (c2sp.org/signed-note vkeys). */
export function formatVerifierKey(verifier: NoteVerifier): string {
  const material = new Uint8Array(1 + verifier.publicKey.length);
  material[0] = verifier.type;
  material.set(verifier.publicKey, 1);
  return `${verifier.name}+${hex8(verifier.keyId)}+${toBase64(material)}`;
}

/** Parses a verifier key; the id must be the one the name and key give. */
export function parseVerifierKey(vkey: string): NoteVerifier {
  // Base64 has "+" in its alphabet: only the first two "+" separate fields.
  const parts = splitFields(vkey, 3);
  if (!parts) throw noteError("a verifier key is name+keyid+base64(type ‖ key)");
  const [name, id, material] = parts as [string, string, string];
  const bytes = fromBase64(material);
  if (!/^[0-9a-f]{8}$/.test(id) || !bytes || bytes.length < 2)
    throw noteError("a verifier key is name+keyid+base64(type ‖ key)");
  const verifier = noteVerifier(name, bytes[0]!, bytes.subarray(1));
  if (hex8(verifier.keyId) !== id) throw noteError(`the verifier key's id ${id} does not match its name and key`);
  return verifier;
}

/** The private key text, in the form Go's note package reads: PRIVATE+KEY+name+keyid+base64(type ‖ seed). */
export function formatSignerKey(signer: NoteSigner): string {
  const material = new Uint8Array(33);
  material[0] = signer.type;
  material.set(signer.seed, 1);
  return `PRIVATE+KEY+${signer.name}+${hex8(signer.keyId)}+${toBase64(material)}`;
}

/** Parses a private key written by {@link formatSignerKey}. */
export function parseSignerKey(text: string): NoteSigner {
  const parts = splitFields(text.trim(), 5);
  if (!parts || parts[0] !== "PRIVATE" || parts[1] !== "KEY")
    throw noteError("a signer key is PRIVATE+KEY+name+keyid+base64(type ‖ seed)");
  const bytes = fromBase64(parts[4]!);
  if (!bytes || bytes.length !== 33) throw noteError("a signer key holds a type byte and a 32-byte seed");
  const signer = noteSigner(parts[2]!, bytes[0]!, bytes.subarray(1));
  if (hex8(signer.keyId) !== parts[3]) throw noteError("the signer key's id does not match its name and key");
  return signer;
}

function checkText(text: string): void {
  if (!text.endsWith("\n")) throw noteError("a note's text ends with a newline");
  // Control characters other than newline are not allowed anywhere in a note.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) throw noteError("a note holds no control characters but newline");
  if (!isWellFormedText(text)) throw noteError("a note is valid UTF-8");
}

/** Splits a note into text and signature lines. */
export function parseNote(note: string): ParsedNote {
  checkText(note);
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw noteError("a note has a blank line between its text and its signatures");
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split("\n");
  if (lines.length > MAX_NOTE_SIGNATURES) throw noteError(`a note has more than ${MAX_NOTE_SIGNATURES} signatures`);
  const signatures = lines.map((line): NoteSignature => {
    const match = /^\u2014 (\S+) (\S+)$/u.exec(line);
    const bytes = match ? fromBase64(match[2]!) : null;
    if (!match || !bytes || bytes.length < 5 || !isValidKeyName(match[1]!))
      throw noteError("a signature line is \u2014 <name> <base64(key id ‖ signature)>");
    const keyId = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
    return { name: match[1]!, keyId, signature: bytes.slice(4) };
  });
  return { text, signatures };
}

function signatureLine(name: string, keyId: number, signature: Uint8Array): string {
  const bytes = new Uint8Array(4 + signature.length);
  new DataView(bytes.buffer).setUint32(0, keyId);
  bytes.set(signature, 4);
  return `${EM_DASH} ${name} ${toBase64(bytes)}\n`;
}

/** Signs a note's text with the log's key (type 0x01); returns the whole note. */
export function signNote(text: string, signer: NoteSigner, extraLines: NoteSignature[] = []): string {
  checkText(text);
  if (signer.type !== NOTE_ED25519) throw noteError("a note is signed with a type 0x01 key");
  const signature = ed25519.sign(utf8.encode(text), signer.seed);
  return formatNote({ text, signatures: [{ name: signer.name, keyId: signer.keyId, signature }, ...extraLines] });
}

/** Writes a note from its text and signature lines. */
export function formatNote(note: ParsedNote): string {
  return note.text + "\n" + note.signatures.map((s) => signatureLine(s.name, s.keyId, s.signature)).join("");
}

/** The message a cosignature/v1 signs: header, time line, then the checkpoint's whole text. */
export function cosignatureMessage(timestamp: number, checkpointText: string): Uint8Array {
  return utf8.encode(`cosignature/v1\ntime ${timestamp}\n${checkpointText}`);
}

/** A witness's cosignature line on a checkpoint text, made at `timestamp` (Unix seconds). */
export function cosign(checkpointText: string, signer: NoteSigner, timestamp: number): NoteSignature {
  if (signer.type !== NOTE_COSIGNATURE_V1) throw noteError("a cosignature is made with a type 0x04 key");
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw noteError("a cosignature's time is a Unix second");
  const body = new Uint8Array(72);
  new DataView(body.buffer).setBigUint64(0, BigInt(timestamp));
  body.set(ed25519.sign(cosignatureMessage(timestamp, checkpointText), signer.seed), 8);
  return { name: signer.name, keyId: signer.keyId, signature: body };
}

/** What a verified signature says: who signed and, for a cosignature, when. */
export interface VerifiedSignature {
  verifier: NoteVerifier;
  /** A cosignature's timestamp (Unix seconds); absent for a note signature. */
  timestamp?: number;
}

/** Checks one signature line against one known key (name and key id already match). */
function verifyOne(text: string, line: NoteSignature, verifier: NoteVerifier): VerifiedSignature | null {
  try {
    if (verifier.type === NOTE_ED25519) {
      if (line.signature.length !== 64) return null;
      return ed25519.verify(line.signature, utf8.encode(text), verifier.publicKey) ? { verifier } : null;
    }
    if (line.signature.length !== 72) return null;
    const timestamp = new DataView(line.signature.buffer, line.signature.byteOffset).getBigUint64(0);
    if (timestamp > BigInt(Number.MAX_SAFE_INTEGER)) return null;
    const ok = ed25519.verify(
      line.signature.subarray(8),
      cosignatureMessage(Number(timestamp), text),
      verifier.publicKey,
    );
    return ok ? { verifier, timestamp: Number(timestamp) } : null;
  } catch {
    return null;
  }
}

/**
 * Verifies a note against known keys, as the spec says: lines of unknown keys are ignored; a line
 * whose name and key id match a known key must verify, or the whole note is refused; at least
 * one known key must have signed. Returns the text and every verified signature.
 */
export function verifyNote(
  note: string | ParsedNote,
  known: readonly NoteVerifier[],
): { text: string; verified: VerifiedSignature[] } {
  const parsed = typeof note === "string" ? parseNote(note) : note;
  const verified: VerifiedSignature[] = [];
  for (const line of parsed.signatures) {
    const verifier = known.find((k) => k.name === line.name && k.keyId === line.keyId);
    if (!verifier) continue;
    const result = verifyOne(parsed.text, line, verifier);
    if (!result) {
      throw new DutyproofError("note.bad_signature", `the signature of ${line.name} on this note does not verify`, {
        name: line.name,
      });
    }
    if (!verified.some((v) => v.verifier === verifier)) verified.push(result);
  }
  if (verified.length === 0) {
    throw new DutyproofError("note.unknown_signer", "no key this verifier knows has signed the note");
  }
  return { text: parsed.text, verified };
}

/** A checkpoint's body (c2sp.org/tlog-checkpoint). */
export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  /** Extension lines, each without its newline; none are written by this log. */
  extensions: string[];
}

/** The checkpoint's text: origin, decimal size, base64 root, extension lines, each ending in a newline. */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  if (!checkpoint.origin || /[\n\r]/.test(checkpoint.origin)) throw noteError("an origin is one non-empty line");
  if (!Number.isSafeInteger(checkpoint.size) || checkpoint.size < 0) throw noteError("a tree size is a whole number");
  if (checkpoint.rootHash.length !== 32) throw noteError("a root hash is 32 bytes");
  return [checkpoint.origin, String(checkpoint.size), toBase64(checkpoint.rootHash), ...checkpoint.extensions]
    .map((line) => line + "\n")
    .join("");
}

/** Parses a checkpoint's text (the note text, signatures already removed). */
export function parseCheckpoint(text: string): Checkpoint {
  checkText(text);
  const lines = text.slice(0, -1).split("\n");
  const [origin, size, root, ...extensions] = lines;
  const rootHash = root === undefined ? null : fromBase64(root);
  if (!origin || size === undefined || !/^(0|[1-9][0-9]{0,15})$/.test(size) || !rootHash || rootHash.length !== 32)
    throw noteError("a checkpoint is an origin line, a decimal tree size and a base64 root hash");
  if (!Number.isSafeInteger(Number(size))) throw noteError("the checkpoint's tree size is too large");
  if (extensions.some((line) => line === "")) throw noteError("a checkpoint holds no empty lines");
  return { origin, size: Number(size), rootHash, extensions };
}

/**
 * Opens a signed checkpoint: the log's key must have signed it (and its origin must be the one
 * expected); the cosignatures of the given witness keys are verified and returned.
 */
export function openCheckpoint(
  note: string,
  log: NoteVerifier,
  origin: string,
  witnesses: readonly NoteVerifier[] = [],
): { checkpoint: Checkpoint; text: string; cosignatures: VerifiedSignature[] } {
  const parsed = parseNote(note);
  const { text, verified } = verifyNote(parsed, [log, ...witnesses]);
  if (!verified.some((v) => v.verifier === log)) {
    throw new DutyproofError("note.unknown_signer", "the log's key has not signed this checkpoint");
  }
  const checkpoint = parseCheckpoint(text);
  if (checkpoint.origin !== origin) {
    throw new DutyproofError("note.wrong_origin", `the checkpoint is for ${checkpoint.origin}, not ${origin}`, {
      origin: checkpoint.origin,
    });
  }
  return { checkpoint, text, cosignatures: verified.filter((v) => v.verifier !== log) };
}

/** True when two checkpoints name the same tree. */
export function sameTree(a: Checkpoint, b: Checkpoint): boolean {
  return a.origin === b.origin && a.size === b.size && bytesEqual(a.rootHash, b.rootHash);
}
