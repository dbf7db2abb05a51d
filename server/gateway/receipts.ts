/**
 * A checkpoint as the public sees it. Receipts and bundles come from one assembler
 * (evidenceAssembler.ts).
 */
import type { Deployment } from "../chain/deployment.ts";
import type { StoredCheckpoint } from "../store/LedgerStore.ts";
import type { PublicCheckpoint } from "../core/apiResponses.ts";

/** A checkpoint as served publicly: no nonce, raw transaction or creation time. */
export function publicCheckpoint(c: StoredCheckpoint, deployment: Deployment): PublicCheckpoint {
  return {
    logId: c.logId ?? deployment.logId,
    size: c.size,
    root: c.root,
    previousSize: c.previousSize,
    status: c.status,
    transactionHash: c.txHash,
    blockNumber: c.blockNumber,
    anchoredAt: c.anchoredAt,
  };
}
