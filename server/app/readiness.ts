/**
 * Readiness and the metrics' sources: what /readyz and /metrics say about the gateway. Ready
 * means able to take records and get them anchored.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Anchorer } from "../gateway/Anchorer.ts";
import type { MetricsSource } from "../observability/metrics.ts";
import type { LedgerStore } from "../store/LedgerStore.ts";

export interface Readiness {
  ready: boolean;
  checks: Record<string, string>;
}

export interface ReadinessDependencies {
  anchorer: Pick<Anchorer, "lastError" | "foreignCheckpoint">;
  /** The chain's head block; throws when the node does not answer. */
  chainHead: () => Promise<number>;
  /** True while the gateway drains for shutdown. */
  draining: () => boolean;
  /** The witnesses' check (gateway/WitnessClient.ts witnessReadiness), when the log has witnesses. */
  witnesses?: () => { ready: boolean; check: string };
}

/** The /readyz verdict: not ready while draining, with the chain unreachable, or a foreign checkpoint. */
export async function readiness(deps: ReadinessDependencies): Promise<Readiness> {
  if (deps.draining()) return { ready: false, checks: { gateway: "draining" } };
  const checks: Record<string, string> = { store: "ok", chain: "ok" };
  try {
    await deps.chainHead();
  } catch {
    checks.chain = "unreachable";
  }
  if (deps.anchorer.lastError) checks.anchoring = deps.anchorer.lastError;
  // Receipts would stay pending for good: not ready until the log is sealed and succeeded.
  const foreign = deps.anchorer.foreignCheckpoint;
  if (foreign) checks.log = `foreign checkpoint of size ${foreign.size} on chain; anchoring stopped`;
  const witnessed = deps.witnesses?.();
  if (witnessed) checks.witnesses = witnessed.check;
  return { ready: checks.chain === "ok" && !foreign && (witnessed?.ready ?? true), checks };
}

/** Total bytes of the files under `dir` (the LevelDB store), for /metrics. */
export function directoryBytes(dir: string): number {
  let total = 0;
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    try {
      const stat = statSync(join(dir, name));
      total += stat.isDirectory() ? directoryBytes(join(dir, name)) : stat.size;
    } catch {
      // removed by a compaction meanwhile
    }
  }
  return total;
}

/** Where /metrics reads the gateway's figures from. */
export function gatewayMetricsSource(deps: {
  store: LedgerStore;
  storeDir: string;
  anchorer: Pick<Anchorer, "failures" | "foreignCheckpoint">;
  chainHead: () => Promise<number>;
}): MetricsSource {
  const { store, anchorer } = deps;
  return {
    logSize: () => store.treeSize,
    anchored: async () => {
      const [latest] = (await store.listCheckpoints({ reverse: true, limit: 20 })).filter(
        (c) => c.status === "anchored",
      );
      const size = latest?.size ?? 0;
      if (size >= store.treeSize) return { size };
      const [oldest] = await store.recordsFrom(size, 1);
      return { size, oldestWaitingSince: oldest?.record.receivedAt };
    },
    anchorFailures: () => anchorer.failures,
    chainHead: deps.chainHead,
    storeBytes: () => directoryBytes(deps.storeDir),
    foreignCheckpointSize: () => anchorer.foreignCheckpoint?.size ?? 0,
  };
}
