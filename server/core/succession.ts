/**
 * Log succession, as verify and replay follow it: a log sealed at `size` (its operator key was
 * stolen) is its checkpoints up to `size`; those above were anchored by the key's thief and are
 * not part of it; its successor's first checkpoint continues the same tree from the seal on.
 */
import type { AnchoredCheckpoint } from "./replay.ts";

/** A sealed predecessor of the log being replayed, with every checkpoint the chain holds for it. */
export interface SealedLog {
  logId: string;
  size: number; // the seal: leaves in its last checkpoint that belongs to it
  checkpoints: AnchoredCheckpoint[]; // in anchoring order, including any above the seal
}

/** A checkpoint of a sealed log above its seal. */
export interface CheckpointAfterSeal extends AnchoredCheckpoint {
  logId: string;
}

/**
 * The one chain of checkpoints the records must give: each sealed log's checkpoints up to its
 * seal (oldest log first), then `current`'s, where a log's first checkpoint, which the chain
 * records as extending the empty tree, extends the seal before it. The checkpoints above a seal
 * come back apart, for replay to report.
 */
export function joinSuccession(
  sealed: SealedLog[],
  current: AnchoredCheckpoint[],
): { checkpoints: AnchoredCheckpoint[]; afterSeal: CheckpointAfterSeal[]; predecessorLogIds: string[] } {
  const checkpoints: AnchoredCheckpoint[] = [];
  const afterSeal: CheckpointAfterSeal[] = [];
  let continued = 0;
  const take = (list: AnchoredCheckpoint[]) =>
    list.forEach((c, i) => checkpoints.push(i === 0 && c.previousSize === 0 ? { ...c, previousSize: continued } : c));
  for (const log of sealed) {
    take(log.checkpoints.filter((c) => c.size <= log.size));
    afterSeal.push(...log.checkpoints.filter((c) => c.size > log.size).map((c) => ({ ...c, logId: log.logId })));
    continued = log.size;
  }
  take(current);
  return { checkpoints, afterSeal, predecessorLogIds: sealed.map((log) => log.logId) };
}
