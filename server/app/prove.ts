/**
 * The prove and anchor-status use cases: inclusion and consistency proofs from the local log,
 * the anchored checkpoints, and receipts of records (by record id) and of leaves (by leaf hash).
 */
import { bytesToHex } from "../core/bytes.ts";
import { DutyproofError } from "../core/errors.ts";
import { type EvidenceSources, leafReceipt, recordReceipt } from "../gateway/evidenceAssembler.ts";
import { publicCheckpoint } from "../gateway/receipts.ts";
import type { LedgerStore } from "../store/LedgerStore.ts";

/** The proof that the leaf `leafHash` is in the tree of size `treeSize`. */
export async function inclusionProof(store: LedgerStore, query: { leafHash: string; treeSize: number }) {
  const index = await store.leafIndexOf(query.leafHash);
  if (index === undefined || index >= query.treeSize || query.treeSize > store.treeSize) {
    throw new DutyproofError("proof.not_available", "no such leaf below that tree size");
  }
  const proof = (await store.inclusionProof(index, query.treeSize)).map(bytesToHex);
  return { leafHash: query.leafHash, leafIndex: index, treeSize: query.treeSize, proof };
}

/** The proof that the tree of size `to` extends the tree of size `from`. */
export async function consistencyProof(store: LedgerStore, query: { from: number; to: number }) {
  if (query.from > query.to || query.to > store.treeSize) {
    throw new DutyproofError("proof.not_available", "sizes must satisfy 1 <= from <= to <= log size");
  }
  const proof = (await store.consistencyProof(query.from, query.to)).map(bytesToHex);
  return { from: query.from, to: query.to, proof };
}

/** The latest checkpoint anchored on chain; request.not_found before the first. */
export async function latestCheckpoint({ store, deployment }: EvidenceSources) {
  const [latest] = (await store.listCheckpoints({ reverse: true, limit: 20 })).filter((c) => c.status === "anchored");
  if (!latest) throw new DutyproofError("request.not_found", "no checkpoint has been anchored yet");
  return publicCheckpoint(latest, deployment);
}

/** The checkpoint history, newest first. */
export async function checkpointHistory({ store, deployment }: EvidenceSources, limit: number) {
  const list = await store.listCheckpoints({ reverse: true, limit });
  return { checkpoints: list.map((c) => publicCheckpoint(c, deployment)) };
}

/**
 * The receipt of a record by its record id (the holder's secret: the full receipt), or of a leaf
 * by its leaf hash (public: whether and when it was anchored, with its proof, nothing about the
 * record). Answers the status and body: 202 while pending.
 */
export async function receiptByHash(sources: EvidenceSources, hash: string): Promise<[number, unknown]> {
  const { store } = sources;
  const record = await store.getRecord(hash);
  if (!record) {
    const index = await store.leafIndexOf(hash);
    if (index === undefined || (await store.recordIdAt(index)) === undefined)
      throw new DutyproofError("record.not_found", `no record or leaf ${hash}`);
    return leafReceipt(sources, hash, index);
  }
  return recordReceipt(sources, record);
}
