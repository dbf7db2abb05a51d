/**
 * The embedded chain node as DATA_DIR's owner reaches it: over the IPC socket in
 * DATA_DIR/chain/rpc, with every method anvil has. Tests that deliberately act on the chain behind
 * the gateway's back (registering units with the operator key, tampering, faults) use this; the
 * product ships no such path for anyone else. Whoever owns DATA_DIR can rewrite the embedded
 * chain: that is what witnesses run by other organisations are for (docs/security.md).
 */
import { join } from "node:path";
import { IpcJsonRpcProvider } from "../../server/chain/IpcJsonRpc.ts";
import { localChainSocket } from "../../server/chain/LocalChainNode.ts";

/** A provider on the embedded node of the gateway whose DATA_DIR is `dataDir`. */
export function chainOwnerProvider(dataDir: string, pollingInterval = 100): IpcJsonRpcProvider {
  return new IpcJsonRpcProvider(localChainSocket(join(dataDir, "chain")), { pollingInterval });
}
