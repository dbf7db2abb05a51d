/**
 * A witness's memory of each log it follows: one small JSON file per origin in its state
 * directory, holding the latest checkpoint it cosigned. A file is replaced atomically and
 * durably (written to a temporary file, synced, renamed over the old one, the directory synced)
 * before the witness answers, so a kill -9 at any moment leaves either the old state or the new
 * one, never a cosignature handed out that the state does not remember.
 */
import { createHash, randomBytes } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { fromBase64, toBase64 } from "../core/note.ts";
import type { WitnessedCheckpoint } from "../core/witness.ts";

interface StateFile {
  origin: string;
  size: number;
  root: string;
  note: string;
}

/** The state directory of one witness (created 0700 if missing). */
export class WitnessStateDir {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** The file of an origin: named by its SHA-256, since an origin holds slashes. */
  private pathOf(origin: string): string {
    return join(this.dir, `${createHash("sha256").update(origin).digest("hex")}.json`);
  }

  /** The latest checkpoint cosigned for `origin`; undefined if none. Throws on a damaged file. */
  read(origin: string): WitnessedCheckpoint | undefined {
    let raw: string;
    try {
      raw = readFileSync(this.pathOf(origin), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    const state = JSON.parse(raw) as StateFile;
    const rootHash = fromBase64(state.root);
    if (state.origin !== origin || !Number.isSafeInteger(state.size) || !rootHash || rootHash.length !== 32) {
      throw new Error(`the witness state of ${origin} is damaged`);
    }
    return { origin, size: state.size, rootHash, note: state.note };
  }

  /** Replaces the state of `state.origin`; returns once it is on disk. */
  write(state: WitnessedCheckpoint): void {
    const file: StateFile = {
      origin: state.origin,
      size: state.size,
      root: toBase64(state.rootHash),
      note: state.note,
    };
    const path = this.pathOf(state.origin);
    const temporary = `${path}.${randomBytes(6).toString("hex")}.tmp`;
    const fd = openSync(temporary, "wx", 0o600);
    try {
      writeSync(fd, JSON.stringify(file) + "\n");
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
    // The rename itself is durable only once the directory is synced.
    const dirFd = openSync(this.dir, "r");
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }
}
