/**
 * What the gateway answers about the log: a record's anchored receipt, where a leaf was anchored,
 * and a checkpoint as the public sees it. Shared by the HTTP routes, evidence demands and export
 * bundles, so each shape has one definition.
 */
import type { Deployment } from "../chain/deployment.ts";
import type { StoredCheckpoint, StoredRecord } from "../store/LedgerStore.ts";

/** The receipt of an anchored record: everything needed to verify it with an EVM client. */
export function anchoredReceipt(
  record: StoredRecord,
  checkpoint: StoredCheckpoint,
  proof: string[],
  deployment: Deployment,
) {
  return {
    status: "anchored" as const,
    // The record envelope's version: a version 2 record's signature binds `logId` below.
    version: record.envelope.version,
    recordId: record.recordId,
    unitId: record.envelope.unitId,
    dutyTypeId: record.envelope.dutyTypeId,
    performedAt: record.envelope.performedAt,
    signer: record.signer,
    signature: record.signature,
    leafHash: record.leafHash,
    leafIndex: record.leafIndex,
    ...anchoringFacts(checkpoint, proof, deployment),
    acceptedAt: Math.floor(record.receivedAt / 1000),
  };
}

/** Where a leaf was anchored: the checkpoint, the proof into it and the chain that holds it. */
export function anchoringFacts(checkpoint: StoredCheckpoint, proof: string[], deployment: Deployment) {
  return {
    treeSize: checkpoint.size,
    root: checkpoint.root,
    inclusionProof: proof,
    logId: deployment.logId,
    chainId: deployment.chainId,
    contract: deployment.address,
    transactionHash: checkpoint.txHash,
    blockNumber: checkpoint.blockNumber,
    anchoredAt: checkpoint.anchoredAt,
  };
}

/** A checkpoint as served publicly: no nonce, raw transaction or creation time. */
export function publicCheckpoint(c: StoredCheckpoint, deployment: Deployment) {
  return {
    logId: deployment.logId,
    size: c.size,
    root: c.root,
    previousSize: c.previousSize,
    status: c.status,
    transactionHash: c.txHash,
    blockNumber: c.blockNumber,
    anchoredAt: c.anchoredAt,
  };
}
