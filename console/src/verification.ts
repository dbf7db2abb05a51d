/**
 * Verification in the browser with the CLI's own driver (server/core/verifyDocument.ts, bundled):
 * the record digest, leaf, signature and inclusion proof are computed here; only the chain's
 * facts (checkpoint, the unit's key and status history) are read, through the gateway's RPC,
 * and only for a deployment the gateway trusts (its /v1/trust): evidence naming any other
 * ledger is refused, however consistent with that ledger it is.
 */
import { type ChainFacts, type Receipt, chainFactsKey } from "../../server/core/verifier.ts";
import { parseSignature } from "../../server/core/eip712.ts";
import type { TrustAnchors, TrustFile } from "../../server/core/trust.ts";
import type { Recover } from "../../server/core/verifyDocument.ts";
import { requestOk } from "./api.ts";

export {
  type Evidence,
  type ItemResult,
  type Recover,
  type VerificationResult,
  verifyDocument,
} from "../../server/core/verifyDocument.ts";

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
