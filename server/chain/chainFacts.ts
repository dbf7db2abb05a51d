/** Reads, over any EVM JSON-RPC endpoint, what the verifier needs the chain to state. */
import { Contract, JsonRpcProvider } from "ethers";
import type { ChainFacts, Receipt, StatusPeriodFact } from "../core/verifier.ts";
import { loadDutyLedgerArtifact } from "./dutyLedgerArtifact.ts";

const statusNames: StatusPeriodFact["status"][] = ["none", "active", "suspended"];

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
    const ledger = new Contract(receipt.contract, loadDutyLedgerArtifact().abi as never, provider);
    const [[found, checkpoint], keys, statuses] = await Promise.all([
      ledger.getFunction("checkpointAt")(receipt.logId, receipt.treeSize),
      ledger.getFunction("unitKeyHistory")(receipt.unitId),
      ledger.getFunction("unitStatusHistory")(receipt.unitId),
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
      keyHistory: (keys as Array<{ signer: string; validFrom: bigint; validUntil: bigint }>).map((k) => ({
        signer: k.signer,
        validFrom: Number(k.validFrom),
        validUntil: Number(k.validUntil),
      })),
      statusHistory: (statuses as Array<{ status: bigint; since: bigint }>).map((p) => ({
        status: statusNames[Number(p.status)] ?? "none",
        since: Number(p.since),
      })),
    };
  } finally {
    provider.destroy();
  }
}
