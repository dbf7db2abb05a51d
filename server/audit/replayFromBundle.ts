/**
 * Audit replay of an export bundle, offline except for the chain: the checkpoints and the
 * registry history come from any RPC endpoint, the records only from the file.
 */
import { JsonRpcProvider } from "ethers";
import type { ReplayReport } from "../core/replay.ts";
import { replayBundle } from "../core/replayBundle.ts";
import type { Bundle, KeyPeriodFact, StatusPeriodFact } from "../core/verifier.ts";
import { fetchCheckpoints, fetchUnitHistory, ledgerAt } from "../chain/chainHistory.ts";
import { recoverSigner } from "../crypto/recoverSigner.ts";
import { type ReplayResult, trustedLog } from "./replayFromGateway.ts";
import type { TrustAnchors } from "../core/trust.ts";

/** Thrown when a bundle's receipts do not all name one log, or name no log at all. */
export class BundleLogError extends Error {}

export async function replayFromBundle(target: {
  bundle: Bundle;
  rpcUrl: string;
  /** The deployments the auditor trusts; a bundle anchored anywhere else is refused. */
  trust: TrustAnchors;
  onProgress?: (done: number, total: number) => void;
}): Promise<ReplayResult> {
  const { bundle } = target;
  const logs = new Set(
    bundle.items.map((i) => `${i.receipt.chainId}:${i.receipt.contract.toLowerCase()}:${i.receipt.logId}`),
  );
  if (bundle.log) logs.add(`${bundle.log.chainId}:${bundle.log.contract.toLowerCase()}:${bundle.log.logId}`);
  if (logs.size !== 1)
    throw new BundleLogError(`the bundle's receipts name ${logs.size} logs; replay needs exactly one`);
  const [chainText, contract, logId] = [...logs][0]!.split(":") as [string, string, string];
  const chainId = Number(chainText);
  const anchor = trustedLog(target.trust, { chainId, contract, logId }, "the bundle");
  const provider = new JsonRpcProvider(target.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  try {
    const served = Number(await provider.send("eth_chainId", []));
    if (served !== chainId) throw new Error(`the RPC endpoint serves chain ${served}, the bundle is for ${chainId}`);
    const ledger = ledgerAt(provider, contract);
    const checkpoints = await fetchCheckpoints(ledger, logId, anchor.deployBlock ?? 0);
    const histories = new Map<string, { keys: KeyPeriodFact[]; statuses: StatusPeriodFact[] }>();
    for (const unitId of new Set(bundle.items.map((i) => i.receipt.unitId)))
      histories.set(unitId, await fetchUnitHistory(ledger, unitId));
    const total = bundle.items.length;
    const report: ReplayReport = replayBundle({
      bundle,
      checkpoints,
      unitHistory: (unitId) => histories.get(unitId) ?? { keys: [], statuses: [] },
      recover: recoverSigner,
      onProgress: target.onProgress ? (done) => target.onProgress!(done, total) : undefined,
    });
    return { ...report, chainId, contract, logId };
  } finally {
    provider.destroy();
  }
}
