/**
 * Where a verifier's trust anchors come from: a trust file (`--trust FILE`, TRUST_FILE), and the
 * deployment of its own settings (DATA_DIR/deployment.json, or Hardhat Ignition's output for
 * RPC_URL and CHAIN_ID). Never from the evidence being verified.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { GatewayConfig } from "../config.ts";
import { type TrustedDeployment, trustFileSchema } from "../core/trust.ts";
import type { Deployment } from "./deployment.ts";
import { ignitionDeploymentDir, logIdOf, readIgnitionDeployment } from "./ignitionDeployment.ts";
import { tlogOrigin } from "../core/tlog.ts";
import { logVerifierKeyIn } from "../logSigningKey.ts";

/** Thrown when a trust file cannot be read or is not a trust file; the message is one line. */
export class TrustFileError extends Error {}

/** The deployments a trust file names. Throws TrustFileError with the first fault. */
export function readTrustFile(path: string): TrustedDeployment[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new TrustFileError(`${path} is not a readable JSON file`);
  }
  const parsed = trustFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.join(".") || "(top level)";
    throw new TrustFileError(`${path} is not a dutyproof/trust/v1 file: ${at}: ${issue.message}`);
  }
  return parsed.data.deployments;
}

/** A gateway's own deployment as a trust anchor: its chain, its ledger, its one log. */
export function ownTrustAnchor(deployment: Deployment, name: string): TrustedDeployment {
  return {
    name,
    chainId: deployment.chainId,
    contract: deployment.address,
    // Receipts of the sealed logs this one succeeds stay verifiable up to each seal.
    logIds: [...(deployment.predecessorLogIds ?? []), deployment.logId].map((id) => id.toLowerCase()),
    deployBlock: deployment.deployBlock,
  };
}

/**
 * The deployment of the CLI's own settings, if it has one: DATA_DIR/deployment.json, else on an
 * external chain (RPC_URL) Ignition's output for `chainId` with LOG_NAME's log. Undefined when
 * neither exists (an inspector's machine with only a trust file).
 */
export function ownDeploymentOf(config: GatewayConfig, chainId: number | undefined): TrustedDeployment | undefined {
  const path = join(config.dataDir, "deployment.json");
  if (existsSync(path)) {
    const deployment = JSON.parse(readFileSync(path, "utf8")) as Deployment;
    const anchor = ownTrustAnchor(deployment, "this machine's DATA_DIR");
    // The gateway's log key beside it: its checkpoints (and receipts' notes) are checked too.
    const logKey = logVerifierKeyIn(
      config.dataDir,
      tlogOrigin(deployment.chainId, deployment.address, deployment.logId),
    );
    return logKey ? { ...anchor, tlogKeys: [logKey] } : anchor;
  }
  const id = config.expectedChainId ?? chainId;
  if (!config.rpcUrl || id === undefined) return undefined;
  const dir = ignitionDeploymentDir(config.ignitionDir, id);
  if (!existsSync(join(dir, "deployed_addresses.json"))) return undefined;
  const found = readIgnitionDeployment(dir);
  return ownTrustAnchor({ ...found, logId: logIdOf(config.logName) }, "this machine's Ignition deployment");
}
