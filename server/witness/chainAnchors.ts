/**
 * What the chain anchored, as a witness started with `--rpc` reads it: the root the DutyLedger
 * of a log's origin stores for a tree size (`checkpointAt`). The witness's own JSON-RPC endpoint
 * is its independent view of the chain: a gateway whose chain node was rolled back or rewritten
 * shows checkpoints the witness's node does not anchor.
 */
import { Contract, JsonRpcProvider } from "ethers";
import { DutyproofError } from "../core/errors.ts";
import { hexToBytes } from "../core/bytes.ts";
import { redactUrl } from "../chain/redactUrl.ts";

/** A log as its origin names it. */
export interface AnchoredLog {
  chainId: number;
  contract: string;
  logId: string;
}

/** The root anchored for `size` in `log`, or null if no checkpoint of that size is anchored. */
export type AnchoredRootReader = (log: AnchoredLog, size: number) => Promise<Uint8Array | null>;

const abi = [
  "function checkpointAt(bytes32 logId, uint256 size) view returns (bool found, tuple(bytes32 root, uint64 anchoredAt, uint64 blockNumber, uint64 previousSize) checkpoint)",
];

/**
 * A reader over a JSON-RPC endpoint. It refuses (witness.chain_disagrees) a log of another chain
 * than the endpoint serves, and throws witness.chain_unreachable when the endpoint does not answer.
 */
export function chainAnchorReader(rpcUrl: string): AnchoredRootReader {
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: false, cacheTimeout: -1 });
  let chainId: number | undefined;
  return async (log, size) => {
    try {
      chainId ??= Number(await provider.send("eth_chainId", []));
    } catch (error) {
      throw unreachable(rpcUrl, error);
    }
    if (chainId !== log.chainId) {
      throw new DutyproofError(
        "witness.chain_disagrees",
        `the checkpoint is for chain ${log.chainId}, the witness's endpoint serves chain ${chainId}`,
      );
    }
    let result: { found: boolean; checkpoint: { root: string } };
    try {
      const ledger = new Contract(log.contract, abi, provider);
      const [found, checkpoint] = (await ledger.getFunction("checkpointAt")(log.logId, size)) as [
        boolean,
        { root: string },
      ];
      result = { found, checkpoint };
    } catch (error) {
      // No contract at the address decodes as an empty result: that is the chain disagreeing.
      if ((error as { code?: string }).code === "BAD_DATA") return null;
      throw unreachable(rpcUrl, error);
    }
    return result.found ? hexToBytes(result.checkpoint.root) : null;
  };
}

function unreachable(rpcUrl: string, cause: unknown): DutyproofError {
  return new DutyproofError(
    "witness.chain_unreachable",
    `the chain at ${redactUrl(rpcUrl)} does not answer`,
    {},
    {
      cause,
    },
  );
}
