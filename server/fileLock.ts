/**
 * A lock file for read-modify-write of a small file shared by processes: the gateway and CLI
 * commands run by hand (the admin audit log, the token file).
 */
import { closeSync, openSync, rmSync, statSync } from "node:fs";

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Runs `body` holding `path`.lock; a lock older than 30 s is left over from a crash and taken. */
export function withLock<T>(path: string, body: () => T): T {
  const lock = `${path}.lock`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      closeSync(openSync(lock, "wx", 0o600));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      try {
        if (Date.now() - statSync(lock).mtimeMs > 30_000) rmSync(lock, { force: true });
      } catch {
        // removed meanwhile
      }
      if (Date.now() > deadline) throw new Error(`${path} stays locked (${lock})`, { cause: error });
      sleepSync(20);
    }
  }
  try {
    return body();
  } finally {
    rmSync(lock, { force: true });
  }
}
