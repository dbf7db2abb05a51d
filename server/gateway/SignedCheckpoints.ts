/**
 * The log's signed checkpoints (c2sp.org/tlog-checkpoint): every checkpoint the Anchorer has
 * anchored on chain is signed with the log's key, once its transaction is confirmed, so the
 * checkpoint a C2SP client opens and the one the contract holds are the same tree. The notes are
 * kept durably in the ledger store (sublevel "x-tlog-notes", keyed by size), with the witnesses'
 * cosignature lines once they are added.
 *
 * A crash between the anchoring's confirmation and the signature leaves an anchored checkpoint
 * without a note; `signAnchored` (run at start and after each anchoring) signs every anchored
 * checkpoint above the latest signed one, so none stays unsigned.
 */
import { hexToBytes } from "../core/bytes.ts";
import { DutyproofError } from "../core/errors.ts";
import {
  type NoteSignature,
  type NoteSigner,
  formatCheckpoint,
  formatNote,
  formatVerifierKey,
  parseCheckpoint,
  parseNote,
  signNote,
} from "../core/note.ts";
import type { LedgerStore, StoredCheckpoint } from "../store/LedgerStore.ts";

/** The store's sublevel of signed notes (LedgerStore.sublevel prefixes it with "x-"). */
const NOTES = "tlog-notes";
const pad = (n: number) => n.toString().padStart(16, "0");

/**
 * The signed note of the checkpoint of `size` as stored (with the cosignatures it has gathered),
 * or undefined when that checkpoint was not signed (yet, or before this log had a key).
 */
export async function checkpointNoteAt(store: LedgerStore, size: number): Promise<string | undefined> {
  return store.sublevel(NOTES).get(pad(size));
}

/** The latest signed checkpoint: its size and the whole note. */
export interface LatestNote {
  size: number;
  note: string;
}

export class SignedCheckpoints {
  private readonly store: LedgerStore;
  private readonly signer: NoteSigner;
  private readonly notes: ReturnType<LedgerStore["sublevel"]>;
  private latestNote: LatestNote | undefined;
  /** Signing runs one at a time: at start and after each anchoring may overlap. */
  private signing: Promise<void> = Promise.resolve();

  /** The log's origin, which is also its key's name. */
  readonly origin: string;
  /** The log's verifier key (`name+keyid+base64(0x01 ‖ public key)`), published in /v1/info. */
  readonly verifierKey: string;

  /** Called after new checkpoints were signed and stored, with the latest (e.g. to ask witnesses). */
  private readonly onSigned?: (latest: LatestNote) => void;

  constructor(options: { store: LedgerStore; signer: NoteSigner; onSigned?: (latest: LatestNote) => void }) {
    this.store = options.store;
    this.onSigned = options.onSigned;
    this.signer = options.signer;
    this.origin = options.signer.name;
    this.verifierKey = formatVerifierKey(options.signer);
    this.notes = options.store.sublevel(NOTES);
  }

  /** The latest signed checkpoint, or undefined before the first anchoring. */
  latest(): LatestNote | undefined {
    return this.latestNote;
  }

  /** Size of the latest signed checkpoint: tiles and entries are served up to it, not beyond. */
  get signedSize(): number {
    return this.latestNote?.size ?? 0;
  }

  /** The stored note of the checkpoint of `size`, if it was signed. */
  noteAt(size: number): Promise<string | undefined> {
    return checkpointNoteAt(this.store, size);
  }

  /**
   * Signs every anchored checkpoint of this log above the latest signed one (a checkpoint kept
   * from a sealed predecessor log has another origin and is left alone), in one synced batch.
   */
  signAnchored(): Promise<void> {
    const run = this.signing.then(() => this.signPending());
    this.signing = run.catch(() => {});
    return run;
  }

  /**
   * Signs `checkpoint`, confirmed on chain and about to be stored as anchored, so that no receipt
   * is ever served anchored without its note. A checkpoint of a sealed predecessor log, or one at
   * or below the latest signed size (signed before a restart, perhaps cosigned since), is left as
   * it is.
   */
  signConfirmed(checkpoint: StoredCheckpoint): Promise<void> {
    const run = this.signing.then(async () => {
      if (this.latestNote === undefined) this.latestNote = await this.readLatest();
      if (checkpoint.logId !== undefined || checkpoint.size <= (this.latestNote?.size ?? 0)) return;
      const note = this.sign(checkpoint);
      await this.notes.put(pad(checkpoint.size), note, { sync: true } as never);
      this.latestNote = { size: checkpoint.size, note };
      this.onSigned?.(this.latestNote);
    });
    this.signing = run.catch(() => {});
    return run;
  }

  private async signPending(): Promise<void> {
    if (this.latestNote === undefined) this.latestNote = await this.readLatest();
    let after = this.latestNote?.size ?? 0;
    for (;;) {
      const page = await this.store.listCheckpoints({ afterSize: after, limit: 1000 });
      if (page.length === 0) return;
      const signed = page
        .filter((c) => c.status === "anchored" && c.logId === undefined)
        .map((c) => ({ size: c.size, note: this.sign(c) }));
      if (signed.length > 0) {
        await this.notes.batch(
          signed.map(({ size, note }) => ({ type: "put" as const, key: pad(size), value: note })),
          { sync: true } as never,
        );
        this.latestNote = signed[signed.length - 1]!;
        this.onSigned?.(this.latestNote);
      }
      // A checkpoint still being sent stops the walk: nothing above it is anchored yet.
      const stop = page.findIndex((c) => c.status !== "anchored" && c.logId === undefined);
      if (stop >= 0) return;
      after = page[page.length - 1]!.size;
    }
  }

  private sign(checkpoint: StoredCheckpoint): string {
    const text = formatCheckpoint({
      origin: this.origin,
      size: checkpoint.size,
      rootHash: hexToBytes(checkpoint.root),
      extensions: [],
    });
    return signNote(text, this.signer);
  }

  /** The latest stored note of this origin (a note of an older log id is not this log's). */
  private async readLatest(): Promise<LatestNote | undefined> {
    for await (const [key, note] of this.notes.iterator({ reverse: true, limit: 1 })) {
      const checkpoint = parseCheckpoint(parseNote(note).text);
      if (checkpoint.origin === this.origin) return { size: Number(key), note };
    }
    return undefined;
  }

  /**
   * Adds signature lines (witnesses' cosignatures) to the stored note of `size`: a line of a key
   * already on the note replaces that key's line. The note's text and the log's own signature
   * stay as they are. Throws when that checkpoint was never signed.
   */
  async addSignatures(size: number, lines: readonly NoteSignature[]): Promise<string> {
    const run = this.signing.then(async () => {
      const stored = await this.noteAt(size);
      if (stored === undefined) {
        throw new DutyproofError("proof.not_available", `no signed checkpoint of size ${size}`);
      }
      const note = parseNote(stored);
      const same = (a: NoteSignature, b: NoteSignature) => a.name === b.name && a.keyId === b.keyId;
      const [own, ...others] = note.signatures;
      const kept = others.filter((line) => !lines.some((added) => same(added, line)));
      const updated = formatNote({
        text: note.text,
        signatures: [own!, ...kept, ...lines.filter((l) => !same(l, own!))],
      });
      await this.notes.put(pad(size), updated, { sync: true } as never);
      if (this.latestNote?.size === size) this.latestNote = { size, note: updated };
      return updated;
    });
    this.signing = run.then(
      () => {},
      () => {},
    );
    return run;
  }
}
