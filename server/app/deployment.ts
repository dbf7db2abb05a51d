/**
 * Deployment discovery: which DutyLedger (chain, address, log) this gateway serves. A DATA_DIR
 * that served before names it in deployment.json; an external chain's first start reads it from
 * Hardhat Ignition's output; an embedded chain's first start deploys it.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Contract, JsonRpcProvider, Wallet } from "ethers";
import type { Catalog } from "../catalog/loadCatalog.ts";
import { type Deployment, deployDutyLedger } from "../chain/deployment.ts";
import { externalDeployment, ignitionDeploymentDir } from "../chain/ignitionDeployment.ts";
import type { Logger } from "../observability/logger.ts";

export interface DeploymentDiscovery {
  dataDir: string;
  chainId: number;
  provider: JsonRpcProvider;
  wallet: Wallet;
  catalog: Catalog;
  logger: Logger;
  logName: string;
  /** Hardhat Ignition's deployments directory for an external chain (IGNITION_DIR). */
  ignitionDir?: string | undefined;
  /** The DutyLedger at an address, connected to the operator's wallet. */
  ledgerAt: (address: string) => Contract;
  /**
   * The embedded node, when there is one: funds the operator and persists each deployment
   * transaction. Absent: an external chain, whose deployment Ignition made.
   */
  embedded?: { fund: (address: string) => Promise<void>; snapshot: () => Promise<void> } | undefined;
}

/** Where the deployment a DATA_DIR serves is kept. */
export const deploymentPath = (dataDir: string): string => join(dataDir, "deployment.json");

/** Writes deployment.json (owner-only): the deployment this DATA_DIR serves from now on. */
export function saveDeployment(dataDir: string, deployment: Deployment): void {
  writeFileSync(deploymentPath(dataDir), JSON.stringify(deployment, null, 2) + "\n", { mode: 0o600 });
}

/**
 * The deployment this gateway serves; throws when deployment.json names another chain or a
 * contract the chain does not hold (its state was lost).
 */
export async function discoverDeployment(options: DeploymentDiscovery): Promise<Deployment> {
  const { dataDir, chainId, provider, logger } = options;
  const path = deploymentPath(dataDir);
  if (existsSync(path)) {
    const deployment = JSON.parse(readFileSync(path, "utf8")) as Deployment;
    if (deployment.chainId !== chainId)
      throw new Error(`deployment.json is for chain ${deployment.chainId}, the endpoint serves ${chainId}`);
    if ((await provider.getCode(deployment.address)) === "0x") {
      throw new Error(
        `no DutyLedger at ${deployment.address} on chain ${chainId}; the chain lost its state (restore DATA_DIR/chain)`,
      );
    }
    return deployment;
  }
  if (!options.embedded) {
    // An external chain: the ledger's address comes from Hardhat Ignition's deployment output.
    const deployment = await externalDeployment({
      ignitionDir: ignitionDeploymentDir(options.ignitionDir, chainId),
      chainId,
      provider,
      ledgerAt: options.ledgerAt,
      logName: options.logName,
      operator: options.wallet.address,
    });
    saveDeployment(dataDir, deployment);
    logger.info({ chainId, contract: deployment.address, logId: deployment.logId }, "deployment read from Ignition");
    return deployment;
  }
  const { fund, snapshot } = options.embedded;
  await fund(options.wallet.address);
  logger.info("first run: deploying DutyLedger and registering the starter duty catalog");
  const deployment = await deployDutyLedger(options.wallet, {
    logName: options.logName,
    catalog: options.catalog.list().map((e) => e.document),
    afterEachTransaction: snapshot,
  });
  saveDeployment(dataDir, deployment);
  return deployment;
}
