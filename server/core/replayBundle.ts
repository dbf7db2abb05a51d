/**
 * Audit replay of an export bundle: the same checks as replay of a whole log (core/replay.ts),
 * record by record, except that a bundle holds some of a log's leaves, not all of them, so each
 * record's place in the log is proved by its receipt's inclusion proof against the root the
 * chain anchored for that size instead of by rebuilding the tree. Pure, like replay.
 */
import { bytesToHex, hexToBytes } from "./bytes.ts";
import { eip712Domain } from "./eip712.ts";
import { isValidInclusion } from "./merkle/verify.ts";
import { leafHashOf } from "./record.ts";
import {
  type AnchoredCheckpoint,
  type AuditRecord,
  AmendmentTracker,
  type Finding,
  type ReplayInput,
  type ReplayReport,
  checkCheckpointChain,
  checkRecord,
  summarise,
} from "./replay.ts";
import type { Bundle } from "./verifier.ts";

export interface BundleReplayInput extends Pick<
  ReplayInput,
  "unitHistory" | "recover" | "onProgress" | "predecessorLogIds"
> {
  bundle: Bundle;
  /**
   * Every checkpoint of the bundle's log, from the chain, in anchoring order; for a log that
   * succeeds sealed ones, their honest checkpoints first (core/succession.ts).
   */
  checkpoints: AnchoredCheckpoint[];
}

export function replayBundle(input: BundleReplayInput): ReplayReport {
  const findings: Finding[] = [];
  const checkpoints = [...input.checkpoints];
  checkCheckpointChain(checkpoints, findings);
  const bySize = new Map(checkpoints.map((c) => [c.size, c]));
  const anchoredSize = checkpoints.at(-1)?.size ?? 0;
  const items = [...input.bundle.items].sort((a, b) => a.receipt.leafIndex - b.receipt.leafIndex);
  const amendments = new AmendmentTracker();
  let previousIndex = -1;
  let count = 0;
  let erased = 0;
  for (const item of items) {
    const { receipt } = item;
    const position = receipt.leafIndex;
    if (position === previousIndex) {
      findings.push({
        kind: "record.misplaced",
        leafIndex: position,
        recordId: receipt.recordId,
        detail: `a second record claims leaf ${position}`,
      });
    }
    previousIndex = position;
    const record: AuditRecord = {
      leafIndex: position,
      recordId: receipt.recordId,
      // An erased record's remaining envelope is what its receipt states (what the signature
      // binds); a version 2 receipt's record was signed for the receipt's log.
      envelope: item.envelope ?? {
        ...(receipt.version === 2
          ? { version: 2 as const, logId: receipt.signedLogId ?? receipt.logId }
          : { version: 1 as const }),
        unitId: receipt.unitId,
        dutyTypeId: receipt.dutyTypeId,
        performedAt: receipt.performedAt,
        fields: {},
      },
      signature: receipt.signature.toLowerCase(),
      acceptedAt: receipt.acceptedAt,
      signer: receipt.signer.toLowerCase(),
      leafHash: receipt.leafHash,
      ...(item.erasure ? { erasure: item.erasure } : {}),
    };
    if (!item.envelope && !item.erasure) {
      findings.push({
        kind: "record.altered",
        leafIndex: position,
        recordId: receipt.recordId,
        detail: "the bundle holds no content for this record and no erasure notice",
      });
    }
    if (item.erasure) erased++;
    const first = checkpoints.find((c) => c.size > position);
    const domain = eip712Domain(receipt.chainId, receipt.contract);
    const logged = checkRecord(
      record,
      position,
      first?.anchoredAt,
      { ...input, domain, logId: receipt.logId },
      findings,
    );
    amendments.visit(record, position, findings);
    // Its place in the log: the receipt's proof must lead to the root the chain anchored.
    const anchored = bySize.get(receipt.treeSize);
    const leaf = logged ? leafHashOf(logged, record.signature) : hexToBytes(receipt.leafHash);
    const included =
      anchored !== undefined &&
      position < receipt.treeSize &&
      isValidInclusion(
        leaf,
        position,
        receipt.treeSize,
        receipt.inclusionProof.map(hexToBytes),
        hexToBytes(anchored.root),
      );
    if (!included) {
      findings.push({
        kind: "record.not_in_log",
        leafIndex: position,
        recordId: receipt.recordId,
        detail: anchored
          ? `leaf ${bytesToHex(leaf)} is not at ${position} under the root anchored for size ${receipt.treeSize}`
          : `the chain anchored no checkpoint of size ${receipt.treeSize} in this log`,
      });
    }
    count++;
    input.onProgress?.(count);
  }
  return {
    ...summarise(findings),
    checkpoints: checkpoints.length,
    records: count,
    demands: 0, // a bundle carries records only
    anchoredSize,
    corrections: amendments.corrections,
    withdrawals: amendments.withdrawals,
    erased,
    findings,
  };
}
