/**
 * The production deployment as Hardhat Ignition wrote it (ignition/deployments/<id>/): the
 * gateway takes DutyLedger's address, chain id and deployment block from there instead of a
 * pasted address, and checks each against the chain before it trusts them.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Contract, JsonRpcProvider } from "ethers";
import { id } from "ethers";
import type { Deployment } from "./deployment.ts";

/** The Ignition future that deploys the ledger (ignition/modules/DutyLedger.ts). */
export const ledgerFutureId = "DutyLedger#DutyLedger";

/** The log id of a gateway's log name, as `dutyproof log create` and the embedded mode derive it. */
export const logIdOf = (name: string): string => (/^0x[0-9a-f]{64}$/.test(name) ? name : id(`log:${name}`));

/** Where Ignition keeps a chain's deployment: IGNITION_DEPLOYMENT_DIR, else its default path. */
export function ignitionDeploymentDir(explicit: string | undefined, chainId: number): string {
  return resolve(explicit ?? join(import.meta.dirname, "..", "..", "ignition", "deployments", `chain-${chainId}`));
}

/** Reads address, chain id and deployment block of DutyLedger from an Ignition deployment. */
export function readIgnitionDeployment(dir: string): { chainId: number; address: string; deployBlock: number } {
  const addressesPath = join(dir, "deployed_addresses.json");
  const journalPath = join(dir, "journal.jsonl");
  if (!existsSync(addressesPath) || !existsSync(journalPath)) {
    throw new Error(
      `no Ignition deployment in ${dir}; run \`npx hardhat ignition deploy ignition/modules/DutyLedger.ts --network external\` or set IGNITION_DEPLOYMENT_DIR`,
    );
  }
  const address = (JSON.parse(readFileSync(addressesPath, "utf8")) as Record<string, string>)[ledgerFutureId];
  if (!address) throw new Error(`${addressesPath} names no ${ledgerFutureId}; the deployment did not finish`);
  let chainId: number | undefined;
  let deployBlock: number | undefined;
  for (const line of readFileSync(journalPath, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const entry = JSON.parse(line) as {
      type?: string;
      chainId?: number;
      futureId?: string;
      receipt?: { blockNumber?: number; contractAddress?: string };
    };
    if (entry.type === "DEPLOYMENT_INITIALIZE") chainId = entry.chainId;
    if (
      entry.type === "TRANSACTION_CONFIRM" &&
      entry.futureId === ledgerFutureId &&
      entry.receipt?.contractAddress?.toLowerCase() === address.toLowerCase()
    ) {
      deployBlock = entry.receipt.blockNumber;
    }
  }
  if (chainId === undefined || deployBlock === undefined) {
    throw new Error(`${journalPath} does not record the chain and block of ${ledgerFutureId}`);
  }
  return { chainId, address, deployBlock };
}

/**
 * The deployment of a gateway on an external chain: DutyLedger from Ignition's output, and the
 * log named `logName`, which must exist with this gateway's key as its operator (the admin
 * creates it with `dutyproof log create`). Throws a one-line reason otherwise.
 */
export async function externalDeployment(options: {
  ignitionDir: string;
  chainId: number;
  provider: JsonRpcProvider;
  ledgerAt: (address: string) => Contract;
  logName: string;
  operator: string;
}): Promise<Deployment> {
  const found = readIgnitionDeployment(options.ignitionDir);
  if (found.chainId !== options.chainId) {
    throw new Error(
      `the Ignition deployment in ${options.ignitionDir} is for chain ${found.chainId}, the endpoint serves ${options.chainId}`,
    );
  }
  if ((await options.provider.getCode(found.address)) === "0x") {
    throw new Error(`no contract at ${found.address} on chain ${options.chainId} (from ${options.ignitionDir})`);
  }
  const logId = logIdOf(options.logName);
  await checkLogOperator(options.ledgerAt(found.address), logId, options.logName, options.operator);
  return { chainId: found.chainId, address: found.address, deployBlock: found.deployBlock, logId };
}

/** Throws unless `logId` exists on the ledger and `operator` is the key allowed to anchor it. */
export async function checkLogOperator(ledger: Contract, logId: string, logName: string, operator: string) {
  const head = (await ledger.getFunction("logHead")(logId)) as { operator: string };
  if (/^0x0{40}$/i.test(head.operator)) {
    const seal = (await ledger.getFunction("logSeal")(logId)) as {
      size: bigint;
      sealedAt: bigint;
      successorLogId: string;
    };
    if (seal.sealedAt !== 0n) {
      throw new Error(
        `log ${logName} (${logId}) was sealed at size ${seal.size}; it continues as log ${seal.successorLogId}: start the gateway with the successor's LOG_NAME and operator key (docs/operations.md, "Recovering from a stolen operator key")`,
      );
    }
    throw new Error(
      `the ledger has no log ${logName} (${logId}); the admin creates it with \`dutyproof log create ${logName} --operator ${operator}\``,
    );
  }
  if (head.operator.toLowerCase() !== operator.toLowerCase()) {
    throw new Error(
      `log ${logName} is operated by ${head.operator}, not by this gateway's key ${operator}; it cannot anchor that log`,
    );
  }
}
