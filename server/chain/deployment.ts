/**
 * First-run deployment of the embedded mode: DutyLedger with the gateway's key as admin,
 * registrar and log operator, one log for this gateway, and the starter duty catalog.
 */
import { Contract, ContractFactory, type Wallet, id } from "ethers";
import type { DutyTypeDocument } from "../core/dutyType.ts";
import { dutyTypeIdOf, levelMaskOf } from "../core/dutyType.ts";
import { loadDutyLedgerArtifact } from "./dutyLedgerArtifact.ts";

/** What a gateway needs to know about the deployment it anchors to (DATA_DIR/deployment.json). */
export interface Deployment {
  chainId: number;
  address: string;
  deployBlock: number;
  logId: string;
  /** Sealed logs this gateway's log succeeds, oldest first (docs/protocol.md §2, "Log succession"). */
  predecessorLogIds?: string[];
}

export const REGISTRAR_ROLE = id("REGISTRAR_ROLE");

/** The department id stored on chain for a department code. */
export const departmentIdOf = (code: string): string => id(`department:${code}`);

export async function deployDutyLedger(
  wallet: Wallet,
  options: { logName: string; catalog: DutyTypeDocument[]; afterEachTransaction?: () => Promise<void> },
): Promise<Deployment> {
  const { abi, bytecode } = loadDutyLedgerArtifact();
  const factory = new ContractFactory(abi as never, bytecode, wallet);
  const deployed = await factory.deploy(wallet.address);
  const receipt = await deployed.deploymentTransaction()!.wait();
  const address = await deployed.getAddress();
  const ledger = new Contract(address, abi as never, wallet);
  const logId = id(`log:${options.logName}`);
  await (await ledger.getFunction("grantRole")(REGISTRAR_ROLE, wallet.address)).wait();
  await (await ledger.getFunction("createLog")(logId, wallet.address)).wait();
  await registerDutyTypes(ledger, options.catalog);
  await options.afterEachTransaction?.();
  const network = await wallet.provider!.getNetwork();
  return { chainId: Number(network.chainId), address, deployBlock: receipt!.blockNumber, logId };
}

/** Registers the duty types the ledger does not know yet; returns how many were new. */
export async function registerDutyTypes(ledger: Contract, catalog: DutyTypeDocument[]): Promise<number> {
  let added = 0;
  for (const doc of catalog) {
    const dutyTypeId = dutyTypeIdOf(doc);
    const existing = await ledger.getFunction("dutyType")(dutyTypeId);
    if (existing.registeredAt !== 0n) continue;
    await (
      await ledger.getFunction("registerDutyType")(dutyTypeId, departmentIdOf(doc.department), levelMaskOf(doc))
    ).wait();
    added++;
  }
  return added;
}
