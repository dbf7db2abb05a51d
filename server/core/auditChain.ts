/**
 * The hash chain of the administrative audit log (pure: no file, no clock). Each entry commits
 * to the one before it: hash = SHA-256(JCS(entry without `hash`)), and `prev` is the previous
 * entry's hash (64 zeros for the first). Changing, removing or reordering any entry breaks every
 * hash after it; only cutting entries off the end leaves a valid chain, which is why the head
 * hash is worth writing down elsewhere (a backup manifest, a ticket, the chain).
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "./bytes.ts";
import { canonicalBytes } from "./canonical.ts";

export const genesisHash = "0".repeat(64);

/** One administrative action: who did what to what, when, with what outcome. */
export interface AuditEntry {
  seq: number; // 0, 1, 2, … in file order
  at: string; // ISO 8601 time of the action (UTC)
  actor: { user: string; address?: string }; // OS account, and the chain key used if any
  action: string; // e.g. "unit.register", "token.issue", "log.create"
  target: Record<string, string | number | boolean>;
  outcome: "ok" | "failed";
  detail?: string; // the reason of a failure
  prev: string; // hex SHA-256 of the previous entry, genesisHash for the first
  hash: string; // hex SHA-256 of this entry's JCS form without `hash`
}

export function auditEntryHash(entry: Omit<AuditEntry, "hash">): string {
  const { seq, at, actor, action, target, outcome, detail, prev } = entry;
  const body = { seq, at, actor, action, target, outcome, prev, ...(detail === undefined ? {} : { detail }) };
  return bytesToHex(sha256(canonicalBytes(body))).slice(2);
}

/** Chains a new entry after `previous` (undefined for the first). */
export function chainAuditEntry(
  previous: AuditEntry | undefined,
  fields: Omit<AuditEntry, "seq" | "prev" | "hash">,
): AuditEntry {
  const unsigned = { ...fields, seq: previous ? previous.seq + 1 : 0, prev: previous?.hash ?? genesisHash };
  return { ...unsigned, hash: auditEntryHash(unsigned) };
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  /** Hash of the last entry that verified (genesisHash when none). */
  head: string;
  /** The first entry that does not verify, by its position (0-based line), and why. */
  problem?: { index: number; reason: string };
}

/** Checks every entry's hash, sequence number and link to its predecessor, in order. */
export function verifyAuditEntries(entries: readonly unknown[]): AuditVerification {
  let head = genesisHash;
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index] as AuditEntry | null;
    const fail = (reason: string): AuditVerification => ({
      ok: false,
      entries: index,
      head,
      problem: { index, reason },
    });
    if (!entry || typeof entry !== "object" || typeof entry.hash !== "string") return fail("not an audit entry");
    if (entry.seq !== index) return fail(`sequence number ${entry.seq}, expected ${index}`);
    if (entry.prev !== head) return fail("does not link to the entry before it (removed or reordered entries)");
    const { hash, ...rest } = entry;
    if (auditEntryHash(rest) !== hash) return fail("content does not match its hash (altered)");
    head = hash;
  }
  return { ok: true, entries: entries.length, head };
}
