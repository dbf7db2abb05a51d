/**
 * What the chain anchored, as a witness started with `--rpc` reads it: the root the DutyLedger
 * of a log's origin stores for a tree size (`checkpointAt`). The witness's own JSON-RPC endpoint
 * is its independent view of the chain: a gateway whose chain node was rolled back or rewritten
 * shows checkpoints the witness's node does not anchor (or no longer anchors as it did).
 */
import { Interface } from "ethers";
import { DutyproofError } from "../core/errors.ts";
import { hexToBytes } from "../core/bytes.ts";
import { jsonRpc } from "../chain/LocalChainNode.ts";
import { redactUrl } from "../chain/redactUrl.ts";

/** A log as its origin names it. */
export interface AnchoredLog {
  chainId: number;
  contract: string;
  logId: string;
}

/** The root anchored for `size` in `log`, or null if no checkpoint of that size is anchored. */
export type AnchoredRootReader = (log: AnchoredLog, size: number) => Promise<Uint8Array | null>;

const ledger = new Interface([
  "function checkpointAt(bytes32 logId, uint256 size) view returns (bool found, tuple(bytes32 root, uint64 anchoredAt, uint64 blockNumber, uint64 previousSize) checkpoint)",
]);

/**
 * A reader over a JSON-RPC endpoint. It refuses (witness.chain_disagrees) a log of another chain
 * than the endpoint serves or a contract that is not there, and throws witness.chain_unreachable
 * when the endpoint does not answer.
 */
export function chainAnchorReader(rpcUrl: string): AnchoredRootReader {
  const call = async (method: string, params: unknown[]) => {
    try {
      return await jsonRpc(rpcUrl, method, params);
    } catch (cause) {
      throw new DutyproofError(
        "witness.chain_unreachable",
        `the chain at ${redactUrl(rpcUrl)} does not answer`,
        {},
        {
          cause,
        },
      );
    }
  };
  return async (log, size) => {
    const chainId = Number(await call("eth_chainId", []));
    if (chainId !== log.chainId) {
      throw new DutyproofError(
        "witness.chain_disagrees",
        `the checkpoint is for chain ${log.chainId}, the witness's endpoint serves chain ${chainId}`,
      );
    }
    const data = ledger.encodeFunctionData("checkpointAt", [log.logId, size]);
    const result = await call("eth_call", [{ to: log.contract, data }, "latest"]);
    let found: boolean;
    let root: string;
    try {
      [found, { root }] = ledger.decodeFunctionResult("checkpointAt", result as string) as unknown as [
        boolean,
        { root: string },
      ];
    } catch {
      throw new DutyproofError("witness.chain_disagrees", `there is no DutyLedger at ${log.contract} on this chain`);
    }
    return found ? hexToBytes(root) : null;
  };
}
