/** Reads, over any EVM JSON-RPC endpoint, what the verifier needs the chain to state. */
import { type Contract, JsonRpcProvider, isError } from "ethers";
import type { ChainFacts, Receipt } from "../core/verifier.ts";
import { type TrustAnchors, trustedDeploymentOf } from "../core/trust.ts";
import { fetchUnitHistory, ledgerAt } from "./chainHistory.ts";
import { redactUrl } from "./redactUrl.ts";
import { readLogSeal } from "./logSuccession.ts";

/** Thrown when the endpoint cannot be reached or does not answer as an EVM node. */
export class ChainUnreachableError extends Error {}

/** The facts of a receipt the verifier refuses anyway: nothing is asked of its contract. */
const nothingAnchored = (chainId: number, contractHasCode: boolean): ChainFacts => ({
  chainId,
  contractHasCode,
  checkpoint: { found: false, root: "0x", anchoredAt: 0, blockNumber: 0 },
  keyHistory: [],
  statusHistory: [],
});

/** The root of the CheckpointAnchored event of `size` in `blockNumber`, or null if it has none. */
async function eventRootAt(ledger: Contract, logId: string, size: number, blockNumber: number) {
  const events = await ledger.queryFilter(ledger.filters.CheckpointAnchored!(logId, size), blockNumber, blockNumber);
  const args = (events.at(-1) as unknown as { args?: { root: string } } | undefined)?.args;
  return args ? String(args.root) : null;
}

/**
 * The chain's facts about a receipt. Only a deployment among `trust` is read from: a receipt
 * naming any other contract is refused by the verifier without this process calling into it.
 * A contract that does not answer as DutyLedger reads as no contract.
 */
export async function fetchChainFacts(rpcUrl: string, receipt: Receipt, trust: TrustAnchors): Promise<ChainFacts> {
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  try {
    let chainId: number;
    try {
      chainId = Number(await provider.send("eth_chainId", []));
    } catch (error) {
      throw new ChainUnreachableError(`the chain at ${redactUrl(rpcUrl)} does not answer`, { cause: error });
    }
    if (chainId !== receipt.chainId || !trustedDeploymentOf(trust, chainId, receipt.contract, receipt.logId))
      return nothingAnchored(chainId, true);
    const code = await provider.getCode(receipt.contract);
    if (code === "0x") return nothingAnchored(chainId, false);
    const ledger = ledgerAt(provider, receipt.contract);
    try {
      const [[found, checkpoint], history, seal, signedLogSeal] = await Promise.all([
        ledger.getFunction("checkpointAt")(receipt.logId, receipt.treeSize),
        fetchUnitHistory(ledger, receipt.unitId),
        readLogSeal(ledger, receipt.logId),
        receipt.signedLogId && receipt.signedLogId !== receipt.logId
          ? readLogSeal(ledger, receipt.signedLogId)
          : Promise.resolve(null),
      ]);
      const blockNumber = Number(checkpoint.blockNumber);
      return {
        chainId,
        contractHasCode: true,
        checkpoint: {
          found: Boolean(found),
          root: String(checkpoint.root),
          anchoredAt: Number(checkpoint.anchoredAt),
          blockNumber,
          ...(found ? { eventRoot: await eventRootAt(ledger, receipt.logId, receipt.treeSize, blockNumber) } : {}),
        },
        keyHistory: history.keys,
        statusHistory: history.statuses,
        ...(seal ? { seal: { size: seal.size, successorLogId: seal.successorLogId } } : {}),
        ...(signedLogSeal
          ? { signedLogSeal: { size: signedLogSeal.size, successorLogId: signedLogSeal.successorLogId } }
          : {}),
      };
    } catch (error) {
      // Code that reverts or answers in another shape than DutyLedger's is not a ledger.
      if (isError(error, "CALL_EXCEPTION") || isError(error, "BAD_DATA")) return nothingAnchored(chainId, false);
      throw new ChainUnreachableError(`the chain at ${rpcUrl} did not answer the ledger's calls`, { cause: error });
    }
  } finally {
    provider.destroy();
  }
}
