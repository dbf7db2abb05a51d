/**
 * Verification in the browser with the CLI's own verifier (server/core/verifier.ts, bundled):
 * the record digest, leaf, signature and inclusion proof are computed here; only the chain's
 * facts (checkpoint, the unit's key and status history) are read, through the gateway's RPC,
 * and only for a deployment the gateway trusts (its /v1/trust): evidence naming any other
 * ledger is refused, however consistent with that ledger it is.
 */
import {
  type Bundle,
  type ChainFacts,
  type Receipt,
  type Verdict,
  bundleSchema,
  chainFactsKey,
  evidenceSchema,
  verifyEvidence,
} from "../../server/core/verifier.ts";
import { parseSignature } from "../../server/core/eip712.ts";
import { type TrustAnchors, type TrustFile, trustedDeploymentOf } from "../../server/core/trust.ts";
import type { RecordEnvelope } from "../../server/core/record.ts";
import { requestOk } from "./api.ts";

export interface Evidence {
  receipt: Receipt;
  envelope?: RecordEnvelope;
  signature?: string;
}

export interface ItemResult {
  evidence: Evidence;
  verdict: Verdict;
}

export type VerificationResult =
  | { kind: "single"; item: ItemResult }
  | { kind: "bundle"; bundle: Bundle; items: ItemResult[] }
  | { kind: "unreadable" };

export type Recover = (digest: Uint8Array, signature: string) => string | null;

/** Signer recovery with ethers (loaded on first use): lower-case address, or null. */
export async function loadRecover(): Promise<Recover> {
  const { recoverAddress } = await import("ethers");
  return (digest, signature) => {
    // The same shape rules as the gateway's recovery: 65 bytes, low s, v 27 or 28.
    if (!parseSignature(signature)) return null;
    try {
      return recoverAddress(digest, signature).toLowerCase();
    } catch {
      return null;
    }
  };
}

/** Chain facts from the gateway, once per (chain, contract, log, size, unit). */
export function gatewayFacts(): (receipt: Receipt) => Promise<ChainFacts> {
  const cache = new Map<string, Promise<ChainFacts>>();
  return (receipt) => {
    const key = chainFactsKey(receipt);
    let facts = cache.get(key);
    if (!facts) {
      const query = new URLSearchParams({
        chainId: String(receipt.chainId),
        contract: receipt.contract,
        logId: receipt.logId,
        treeSize: String(receipt.treeSize),
        unitId: receipt.unitId,
        ...(receipt.signedLogId ? { signedLogId: receipt.signedLogId } : {}),
      });
      facts = requestOk<ChainFacts>(`/v1/chain-facts?${query}`).then((r) => r.body);
      facts.catch(() => cache.delete(key));
      cache.set(key, facts);
    }
    return facts;
  };
}

/** The deployments the gateway that served the console trusts (its trust file). */
export async function gatewayTrust(): Promise<TrustAnchors> {
  return (await requestOk<TrustFile>("/v1/trust")).body.deployments;
}

/**
 * Verifies what a file or paste holds: an export bundle, or a receipt with or without its
 * record, against `trust`. The chain is asked nothing about a deployment outside it.
 */
export async function verifyDocument(
  raw: unknown,
  factsFor: (receipt: Receipt) => Promise<ChainFacts>,
  recover: Recover,
  trust: TrustAnchors,
): Promise<VerificationResult> {
  const verify = async (evidence: Evidence): Promise<Verdict> => {
    const r = evidence.receipt;
    const facts: ChainFacts = trustedDeploymentOf(trust, r.chainId, r.contract, r.logId)
      ? await factsFor(r)
      : {
          chainId: r.chainId,
          contractHasCode: false,
          checkpoint: { found: false, root: "0x", anchoredAt: 0, blockNumber: 0 },
          keyHistory: [],
          statusHistory: [],
        };
    return verifyEvidence(evidence, facts, recover, trust);
  };
  const bundle = bundleSchema.safeParse(raw);
  if (bundle.success) {
    const items: ItemResult[] = [];
    for (const evidence of bundle.data.items) items.push({ evidence, verdict: await verify(evidence) });
    return { kind: "bundle", bundle: bundle.data, items };
  }
  const parsed = evidenceSchema.safeParse(raw);
  if (!parsed.success) return { kind: "unreadable" };
  const evidence = parsed.data as Evidence;
  return { kind: "single", item: { evidence, verdict: await verify(evidence) } };
}
