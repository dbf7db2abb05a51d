/**
 * Audit replay of demand log entries ("DPD1" leaves): the demand hashes to its id, the outcome to
 * its digest, the inspector signed it, and (with the chain's history) the inspector was active
 * when the gateway accepted it, and a version 2 demand was signed for the log replayed. Pure; server/core/replay.ts calls it for every demand entry.
 */
import { bytesToHex, hexToBytes } from "./bytes.ts";
import type { Eip712Domain } from "./eip712.ts";
import {
  type DemandEnvelope,
  type DemandOutcome,
  demandDigest,
  demandLeafHashOf,
  demandMessageOf,
  demandTypedDataDigest,
  outcomeDigest,
} from "./demand.ts";
import { type AuditRequestEntry, checkRequestEntry } from "./requestAudit.ts";

/** A demand entry as the audit feed serves it. */
export interface AuditDemandEntry {
  kind: "demand";
  leafIndex: number;
  claimedIndex?: number;
  entryId: string; // the demand id the gateway logged
  demand: DemandEnvelope;
  signature: string;
  outcome: DemandOutcome;
  outcomeDigest: string; // the outcome digest the gateway logged
  acceptedAt: number; // Unix seconds, gateway clock
}

export interface DemandProblem {
  kind: "demand.altered" | "demand.bad_signature" | "demand.inspector_not_valid" | "demand.wrong_log";
  detail: string;
}

const isHash = (value: string) => /^0x[0-9a-f]{64}$/.test(value);

/**
 * Checks one entry. The leaf is rebuilt from the logged ids, so an altered demand or outcome is
 * reported once, as altered, rather than also breaking every checkpoint root after it.
 */
export function checkDemandEntry(
  entry: AuditDemandEntry | AuditRequestEntry,
  domain: Eip712Domain,
  recover: (digest: Uint8Array, signature: string) => string | null,
  inspectorActiveAt?: (inspector: string, t: number) => boolean,
  /** The logs a version 2 demand may name: the one replayed and the sealed logs it succeeds. */
  logIds?: readonly string[],
): { leafHash: Uint8Array; problems: DemandProblem[] } {
  // Burden requests ("DPR1") are checked by the same rules, in their own format.
  if (entry.kind === "request") return checkRequestEntry(entry, domain, recover, inspectorActiveAt, logIds);
  const problems: DemandProblem[] = [];
  if (entry.demand.version === 2 && logIds !== undefined && !logIds.includes(entry.demand.logId)) {
    problems.push({ kind: "demand.wrong_log", detail: `signed for log ${entry.demand.logId}, not ${logIds[0]}` });
  }
  const digest = demandDigest(entry.demand);
  const outcome = outcomeDigest(entry.outcome);
  if (bytesToHex(digest) !== entry.entryId) {
    problems.push({ kind: "demand.altered", detail: `the demand hashes to ${bytesToHex(digest)}` });
  } else if (bytesToHex(outcome) !== entry.outcomeDigest) {
    problems.push({ kind: "demand.altered", detail: `the outcome hashes to ${bytesToHex(outcome)}` });
  }
  const signer = recover(demandTypedDataDigest(domain, demandMessageOf(entry.demand)), entry.signature);
  if (signer === null || signer !== entry.demand.inspector) {
    problems.push({ kind: "demand.bad_signature", detail: "the signature does not recover to the demand's inspector" });
  } else if (inspectorActiveAt && !inspectorActiveAt(signer, entry.acceptedAt)) {
    problems.push({
      kind: "demand.inspector_not_valid",
      detail: `${signer} was not an active inspector at ${entry.acceptedAt}`,
    });
  }
  const leafHash = demandLeafHashOf(
    isHash(entry.entryId) ? hexToBytes(entry.entryId) : digest,
    entry.signature,
    isHash(entry.outcomeDigest) ? hexToBytes(entry.outcomeDigest) : outcome,
  );
  return { leafHash, problems };
}

/** Whether an inspector was active at t, from its InspectorRegistered/StatusChanged history. */
export function inspectorActiveAt(history: Array<{ active: boolean; since: number }>, t: number): boolean {
  return [...history].reverse().find((p) => p.since <= t)?.active === true;
}
