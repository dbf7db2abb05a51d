/** Reads, over any EVM JSON-RPC endpoint, what the verifier needs the chain to state. */
import { JsonRpcProvider } from "ethers";
import type { ChainFacts, Receipt } from "../core/verifier.ts";
import { fetchUnitHistory, ledgerAt } from "./chainHistory.ts";
import { readLogSeal } from "./logSuccession.ts";

/** Thrown when the endpoint cannot be reached or does not answer as an EVM node. */
export class ChainUnreachableError extends Error {}

export async function fetchChainFacts(rpcUrl: string, receipt: Receipt): Promise<ChainFacts> {
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  try {
    let chainId: number;
    try {
      chainId = Number(await provider.send("eth_chainId", []));
    } catch (error) {
      throw new ChainUnreachableError(`the chain at ${rpcUrl} does not answer`, { cause: error });
    }
    const code = await provider.getCode(receipt.contract);
    if (code === "0x" || chainId !== receipt.chainId) {
      return {
        chainId,
        contractHasCode: code !== "0x",
        checkpoint: { found: false, root: "0x", anchoredAt: 0, blockNumber: 0 },
        keyHistory: [],
        statusHistory: [],
      };
    }
    const ledger = ledgerAt(provider, receipt.contract);
    const [[found, checkpoint], history, seal] = await Promise.all([
      ledger.getFunction("checkpointAt")(receipt.logId, receipt.treeSize),
      fetchUnitHistory(ledger, receipt.unitId),
      readLogSeal(ledger, receipt.logId),
    ]);
    return {
      chainId,
      contractHasCode: true,
      checkpoint: {
        found: Boolean(found),
        root: String(checkpoint.root),
        anchoredAt: Number(checkpoint.anchoredAt),
        blockNumber: Number(checkpoint.blockNumber),
      },
      keyHistory: history.keys,
      statusHistory: history.statuses,
      ...(seal ? { seal: { size: seal.size, successorLogId: seal.successorLogId } } : {}),
    };
  } finally {
    provider.destroy();
  }
}
