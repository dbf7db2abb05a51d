/**
 * Verifies the Semaphore proofs of the tips in an audit feed (about 30 ms each), so that replay,
 * which is pure and synchronous, gets each proof's verdict with its entry.
 */
import { verifyProof } from "@semaphore-protocol/proof";
import { type AuditTipEntry, isAuditTipEntry } from "../core/tip.ts";

/** Sets `proofValid` on every tip entry of `items`; a malformed proof is not valid. */
export async function verifyTipProofs(items: readonly object[]): Promise<void> {
  for (const item of items) {
    if (!isAuditTipEntry(item) || item.body.type !== "tip") continue;
    (item as AuditTipEntry).proofValid = await verifyTipProof(item.body.proof);
  }
}

/** Whether a Semaphore proof verifies; false for one the library cannot even read. */
export async function verifyTipProof(proof: unknown): Promise<boolean> {
  try {
    return await verifyProof(proof as Parameters<typeof verifyProof>[0]);
  } catch {
    return false;
  }
}
