/**
 * The append-only audit log of administrative actions (registrations, key rotations, erasures,
 * token issuance, log creation): DATA_DIR/audit/admin.log, one hash-chained JSON entry a line
 * (server/core/auditChain.ts), opened for appending only, fsynced after every entry. The CLI
 * and the gateway may both append; a lock file keeps each append (read head, write next) whole.
 * `dutyproof audit-log verify` checks the chain.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  writeSync,
} from "node:fs";
import { userInfo } from "node:os";
import { dirname, join } from "node:path";
import { type AuditEntry, type AuditVerification, chainAuditEntry, verifyAuditEntries } from "../core/auditChain.ts";
import { withLock } from "../fileLock.ts";
import type { Clock } from "../core/clock.ts";
import { systemClock } from "../clock.ts";

export const auditLogPath = (dataDir: string): string => join(dataDir, "audit", "admin.log");

/** The OS account running this process: the "who" of an action taken at the console. */
export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid:${process.getuid?.() ?? "?"}`;
  }
}

/** The last entry of the file, read from its tail. */
function lastEntry(fd: number): AuditEntry | undefined {
  const size = fstatSync(fd).size;
  if (size === 0) return undefined;
  let length = Math.min(size, 8192);
  for (;;) {
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const lines = buffer.toString("utf8").trimEnd().split("\n");
    if (lines.length > 1 || length === size) return JSON.parse(lines.at(-1)!) as AuditEntry;
    length = Math.min(size, length * 4);
  }
}

/** Appends one entry durably and returns it; `clock` dates it (the system clock when absent). */
export function appendAuditEntry(
  path: string,
  action: Omit<AuditEntry, "seq" | "prev" | "hash" | "at" | "actor"> & { actor?: AuditEntry["actor"] },
  clock: Clock = systemClock,
): AuditEntry {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  return withLock(path, () => {
    const fd = openSync(path, "a+", 0o600);
    try {
      const entry = chainAuditEntry(lastEntry(fd), {
        at: new Date(clock.now()).toISOString(),
        actor: action.actor ?? { user: currentUser() },
        action: action.action,
        target: action.target,
        outcome: action.outcome,
        ...(action.detail === undefined ? {} : { detail: action.detail }),
      });
      writeSync(fd, JSON.stringify(entry) + "\n");
      fsyncSync(fd);
      return entry;
    } finally {
      closeSync(fd);
    }
  });
}

/** Every entry of the log, parsed (a line that is not JSON becomes null and fails verification). */
export function readAuditLog(path: string): unknown[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        return null;
      }
    });
}

export function verifyAuditLog(path: string): AuditVerification {
  return verifyAuditEntries(readAuditLog(path));
}

/**
 * Runs an administrative action and records it with its outcome, failed ones included; the
 * action's own error is rethrown after it is recorded.
 */
export async function audited<T>(
  path: string,
  action: string,
  target: AuditEntry["target"],
  actor: AuditEntry["actor"] | undefined,
  run: () => Promise<T>,
  clock: Clock = systemClock,
): Promise<T> {
  try {
    const result = await run();
    appendAuditEntry(path, { action, target, outcome: "ok", ...(actor ? { actor } : {}) }, clock);
    return result;
  } catch (error) {
    const detail = (error instanceof Error ? error.message : String(error)).split("\n")[0]!.slice(0, 500);
    appendAuditEntry(path, { action, target, outcome: "failed", detail, ...(actor ? { actor } : {}) }, clock);
    throw error;
  }
}
