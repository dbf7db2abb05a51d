/**
 * Audit replay of an export bundle, offline except for the chain: the checkpoints and the
 * registry history come from any RPC endpoint, the records only from the file.
 */
import { JsonRpcProvider } from "ethers";
import type { ReplayReport } from "../core/replay.ts";
import { replayBundle } from "../core/replayBundle.ts";
import type { Bundle, KeyPeriodFact, StatusPeriodFact } from "../core/verifier.ts";
import { fetchUnitHistory, ledgerAt } from "../chain/chainHistory.ts";
import { fetchSucceededCheckpoints } from "../chain/logSuccession.ts";
import { recoverSigner } from "../crypto/recoverSigner.ts";
import { type ReplayResult, trustedLog } from "./replayFromGateway.ts";
import { type TrustAnchors, trustedDeploymentOf } from "../core/trust.ts";

/**
 * Thrown when a bundle's receipts name no log, logs of more than one deployment, or logs that
 * are not one line of succession.
 */
export class BundleLogError extends Error {}

export async function replayFromBundle(target: {
  bundle: Bundle;
  rpcUrl: string;
  /** The deployments the auditor trusts; a bundle anchored anywhere else is refused. */
  trust: TrustAnchors;
  onProgress?: (done: number, total: number) => void;
}): Promise<ReplayResult> {
  const { bundle } = target;
  const deployments = new Set<string>();
  const logIds = new Set<string>();
  for (const named of [...bundle.items.map((i) => i.receipt), ...(bundle.log ? [bundle.log] : [])]) {
    deployments.add(`${named.chainId}:${named.contract.toLowerCase()}`);
    logIds.add(named.logId.toLowerCase());
  }
  if (deployments.size !== 1 || logIds.size === 0)
    throw new BundleLogError(
      `the bundle's receipts name ${deployments.size} deployments; replay needs the logs of exactly one`,
    );
  const [chainText, contract] = [...deployments][0]!.split(":") as [string, string];
  const chainId = Number(chainText);
  // Refused before any chain read: a bundle of a deployment the auditor does not trust.
  const [firstLog] = logIds;
  const trusted = [...logIds].find((logId) => trustedDeploymentOf(target.trust, chainId, contract, logId));
  const deployBlock = trustedLog(
    target.trust,
    { chainId, contract, logId: trusted ?? firstLog! },
    "the bundle",
  ).deployBlock;
  const provider = new JsonRpcProvider(target.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  try {
    const served = Number(await provider.send("eth_chainId", []));
    if (served !== chainId) throw new Error(`the RPC endpoint serves chain ${served}, the bundle is for ${chainId}`);
    const ledger = ledgerAt(provider, contract);
    // A bundle exported after a log was sealed holds receipts of the sealed log and of its
    // successor: they replay as one tree, the successor's, with its predecessors' honest prefix.
    // The log to replay is the one whose line of succession (on chain, by LogSealed events the
    // admin emitted) holds every log the bundle names.
    let head: { logId: string; succession: Awaited<ReturnType<typeof fetchSucceededCheckpoints>> } | undefined;
    for (const logId of logIds) {
      const succession = await fetchSucceededCheckpoints(ledger, logId, deployBlock ?? 0);
      const line = new Set([logId, ...succession.predecessorLogIds.map((id) => id.toLowerCase())]);
      if ([...logIds].every((id) => line.has(id))) {
        head = { logId, succession };
        break;
      }
    }
    if (!head)
      throw new BundleLogError(
        `the bundle's receipts name ${logIds.size} logs that are not one line of succession; replay needs one log`,
      );
    trustedLog(target.trust, { chainId, contract, logId: head.logId }, "the bundle");
    const { checkpoints, predecessorLogIds } = head.succession;
    const histories = new Map<string, { keys: KeyPeriodFact[]; statuses: StatusPeriodFact[] }>();
    for (const unitId of new Set(bundle.items.map((i) => i.receipt.unitId)))
      histories.set(unitId, await fetchUnitHistory(ledger, unitId));
    const total = bundle.items.length;
    const report: ReplayReport = replayBundle({
      bundle,
      checkpoints,
      predecessorLogIds,
      unitHistory: (unitId) => histories.get(unitId) ?? { keys: [], statuses: [] },
      recover: recoverSigner,
      onProgress: target.onProgress ? (done) => target.onProgress!(done, total) : undefined,
    });
    return { ...report, chainId, contract, logId: head.logId };
  } finally {
    provider.destroy();
  }
}
