/**
 * Audit replay of burden request entries ("DPR1" leaves), by the rules of demand entries: the
 * request hashes to its id, the outcome to its digest and has the outcome's shape, the signer
 * signed it, was an active inspector when the gateway accepted it, and signed it for the log
 * replayed. Pure; checkDemandEntry (./demandAudit.ts) hands request entries here.
 */
import { bytesToHex, hexToBytes } from "./bytes.ts";
import type { Eip712Domain } from "./eip712.ts";
import {
  type RequestEnvelope,
  type RequestOutcome,
  requestDigest,
  requestEnvelopeSchema,
  requestLeafHashOf,
  requestMessageOf,
  requestOutcomeDigest,
  requestOutcomeSchema,
  requestTypedDataDigest,
} from "./request.ts";

/** A burden request entry as the audit feed serves it. */
export interface AuditRequestEntry {
  kind: "request";
  leafIndex: number;
  claimedIndex?: number;
  entryId: string; // the request id the gateway logged
  request: RequestEnvelope;
  signature: string;
  outcome: RequestOutcome;
  outcomeDigest: string;
  acceptedAt: number; // Unix seconds, gateway clock
}

export interface RequestProblem {
  kind: "demand.altered" | "demand.bad_signature" | "demand.inspector_not_valid" | "demand.wrong_log";
  detail: string;
}

const isHash = (value: string) => /^0x[0-9a-f]{64}$/.test(value);

/**
 * Checks one request entry. The leaf is rebuilt from the logged ids, so an altered request or
 * outcome is reported once, as altered, rather than also breaking every root after it.
 */
export function checkRequestEntry(
  entry: AuditRequestEntry,
  domain: Eip712Domain,
  recover: (digest: Uint8Array, signature: string) => string | null,
  inspectorActiveAt?: (inspector: string, t: number) => boolean,
  logIds?: readonly string[],
): { leafHash: Uint8Array; problems: RequestProblem[] } {
  const problems: RequestProblem[] = [];
  const leafOf = (digest: Uint8Array, outcome: Uint8Array) =>
    requestLeafHashOf(
      isHash(entry.entryId) ? hexToBytes(entry.entryId) : digest,
      entry.signature,
      isHash(entry.outcomeDigest) ? hexToBytes(entry.outcomeDigest) : outcome,
    );
  const request = requestEnvelopeSchema.safeParse(entry.request);
  const outcomeShape = requestOutcomeSchema.safeParse(entry.outcome);
  if (!request.success || !outcomeShape.success) {
    problems.push({ kind: "demand.altered", detail: "not a well-formed burden request and outcome" });
    const zero = new Uint8Array(32);
    return { leafHash: leafOf(zero, zero), problems };
  }
  if (logIds !== undefined && !logIds.includes(entry.request.logId)) {
    problems.push({ kind: "demand.wrong_log", detail: `signed for log ${entry.request.logId}, not ${logIds[0]}` });
  }
  const digest = requestDigest(entry.request);
  const outcome = requestOutcomeDigest(entry.outcome);
  if (bytesToHex(digest) !== entry.entryId) {
    problems.push({ kind: "demand.altered", detail: `the request hashes to ${bytesToHex(digest)}` });
  } else if (bytesToHex(outcome) !== entry.outcomeDigest) {
    problems.push({ kind: "demand.altered", detail: `the request's outcome hashes to ${bytesToHex(outcome)}` });
  }
  const signer = recover(requestTypedDataDigest(domain, requestMessageOf(entry.request)), entry.signature);
  if (signer === null || signer !== entry.request.inspector) {
    problems.push({
      kind: "demand.bad_signature",
      detail: "the signature does not recover to the request's inspector",
    });
  } else if (inspectorActiveAt && !inspectorActiveAt(signer, entry.acceptedAt)) {
    problems.push({
      kind: "demand.inspector_not_valid",
      detail: `${signer} was not an active inspector at ${entry.acceptedAt}`,
    });
  }
  return { leafHash: leafOf(digest, outcome), problems };
}
