/**
 * An inspector's side of the protocol: builds a demand envelope and signs it with ethers'
 * EIP-712 encoder, from the definition the gateway serves at /v1/demands/eip712 (so a third
 * party's client does the same). Used by the CLI, the county simulation and the tests.
 */
import { randomBytes } from "node:crypto";
import type { BaseWallet } from "ethers";
import { bytesToHex } from "../core/bytes.ts";
import { type DemandEnvelope, demandDigest } from "./demand.ts";

export interface DemandDefinition {
  domain: Record<string, unknown>;
  types: Record<string, ReadonlyArray<{ name: string; type: string }>>;
  primaryType: string;
  /** The gateway's log id, which a version 2 demand names. */
  logId: string;
}

export interface DemandDraft {
  unitId: string;
  dutyTypeIds: string[];
  from: number;
  to: number;
  purpose: string;
  department: string;
  onSite?: boolean;
  emergencyReason?: string;
  issuedAt: number;
  salt?: string;
}

/**
 * A version 2 demand envelope for the log `logId` (the definition's) from a draft: duty types
 * sorted and de-duplicated, a fresh salt.
 */
export function demandOf(inspector: string, draft: DemandDraft, logId: string): DemandEnvelope {
  return {
    version: 2,
    logId,
    unitId: draft.unitId,
    dutyTypeIds: [...new Set(draft.dutyTypeIds)].sort(),
    from: draft.from,
    to: draft.to,
    purpose: draft.purpose,
    department: draft.department,
    inspector: inspector.toLowerCase(),
    onSite: draft.onSite ?? false,
    ...(draft.emergencyReason ? { emergency: { reason: draft.emergencyReason } } : {}),
    issuedAt: draft.issuedAt,
    salt: draft.salt ?? bytesToHex(randomBytes(32)),
  };
}

/**
 * Signs a demand: EIP-712 EvidenceDemand over (logId, unitId, inspector, issuedAt, demandDigest)
 * for a version 2 envelope, with the types the definition gives.
 */
export async function signDemand(
  wallet: BaseWallet,
  definition: DemandDefinition,
  demand: DemandEnvelope,
): Promise<string> {
  const message = {
    ...(demand.version === 2 ? { logId: demand.logId } : {}),
    unitId: demand.unitId,
    inspector: demand.inspector,
    issuedAt: demand.issuedAt,
    demandDigest: bytesToHex(demandDigest(demand)),
  };
  const types = { [definition.primaryType]: [...definition.types[definition.primaryType]!] };
  return wallet.signTypedData(definition.domain, types, message);
}
