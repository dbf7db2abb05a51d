/**
 * The set-up and the waits that the end-to-end suites share: a gateway's environment, a record
 * submitted by a unit, the poll until its receipt is anchored, and a production deployment on an
 * external chain deployed with Ignition. One place, so that a change of the API or of the
 * deployment steps is made once.
 */
import { expect } from "chai";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BaseWallet } from "ethers";
import { type ExternalChain, ignitionDeploy, scratchProject, startExternalChain } from "./externalChain.ts";
import { type Eip712Info, newEnvelope, signEnvelope } from "./unitClient.ts";

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it gives a value (anything but undefined, null or false), and returns it;
 * fails with `what` after `timeoutMs`. The one wait of the suites: none sleeps a fixed time
 * hoping that something has happened.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  { timeoutMs = 20_000, intervalMs = 100 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

/** The id of a duty type of the gateway's catalog, by its code. */
export async function dutyTypeId(url: string, code: string): Promise<string> {
  const { dutyTypes } = (await (await fetch(`${url}/v1/duty-types`)).json()) as {
    dutyTypes: Array<{ id: string; code: string }>;
  };
  const found = dutyTypes.find((d) => d.code === code);
  if (!found) throw new Error(`the gateway's catalog has no duty type ${code}`);
  return found.id;
}

/** A unit signs a record of duty type `code` and submits it; expects 201 and returns the record id. */
export async function submitRecord(
  url: string,
  unit: { key: BaseWallet; unitId: string },
  code: string,
  fields: Parameters<typeof newEnvelope>[3],
): Promise<string> {
  const info = (await (await fetch(`${url}/v1/info`)).json()) as { eip712: Eip712Info; logId: string };
  const envelope = newEnvelope(info.logId, unit.unitId, await dutyTypeId(url, code), fields);
  const res = await fetch(`${url}/v1/attestations`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ envelope, signature: await signEnvelope(unit.key, info.eip712, envelope) }),
  });
  expect(res.status, await res.clone().text()).to.equal(201);
  return ((await res.json()) as { recordId: string }).recordId;
}

/** A record's receipt as the gateway serves it now: HTTP status and body. */
export async function receiptOf<T = Record<string, unknown>>(
  url: string,
  recordId: string,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}/v1/attestations/${recordId}/receipt`);
  return { status: res.status, body: (await res.json()) as T };
}

/** Waits until the record's receipt is anchored and returns it. */
export async function anchoredReceipt<T extends { status?: string } = Record<string, unknown> & { status: string }>(
  url: string,
  recordId: string,
  timeoutMs = 20_000,
): Promise<T> {
  return waitFor(
    `receipt of ${recordId} anchored`,
    async () => {
      const { status, body } = await receiptOf<T>(url, recordId);
      return status === 200 && body.status === "anchored" ? body : undefined;
    },
    { timeoutMs },
  );
}

/** The environment of a gateway started as a process (`dutyproof serve`) in a test. */
export function servedGatewayEnv(
  dataDir: string,
  port: number,
  chainPort: number,
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATA_DIR: dataDir,
    PORT: String(port),
    CHAIN_PORT: String(chainPort),
    ANCHOR_INTERVAL_MS: "200",
    ...extra,
  };
}

/** A production deployment: an external chain, DutyLedger deployed by Ignition with the admin's key. */
export interface ProductionDeployment {
  chain: ExternalChain;
  /** The admin's CLI environment: RPC_URL, CHAIN_ID, the key file, the Ignition deployment. */
  adminEnv: NodeJS.ProcessEnv;
  ignitionDir: string;
}

/**
 * Starts an external chain and deploys DutyLedger with Ignition, as docs/operations.md's
 * production steps do, with the admin's key in a file of `adminDir`.
 */
export async function productionDeployment(options: {
  chainPort: number;
  chainId: number;
  admin: BaseWallet;
  adminDir: string;
  projectDir: string;
  deploymentId: string;
  /** Where the deployment's output goes (for a failed test's report). */
  printed?: string[];
}): Promise<ProductionDeployment> {
  const chain = await startExternalChain(options.chainPort, [
    ...["--chain-id", String(options.chainId), "--gas-price", "0", "--base-fee", "0", "--no-priority-fee"],
  ]);
  const ignitionDir = join(options.projectDir, "ignition", "deployments", options.deploymentId);
  const adminKeyFile = join(options.adminDir, "admin.key");
  writeFileSync(adminKeyFile, options.admin.privateKey + "\n", { mode: 0o600 });
  const adminEnv = {
    ...process.env,
    DATA_DIR: options.adminDir,
    RPC_URL: chain.rpcUrl,
    CHAIN_ID: String(options.chainId),
    OPERATOR_KEY_FILE: adminKeyFile,
    IGNITION_DEPLOYMENT_DIR: ignitionDir,
  };
  const deployed = await ignitionDeploy(scratchProject(options.projectDir), options.deploymentId, adminEnv);
  options.printed?.push(deployed.stdout, deployed.stderr);
  expect(deployed.status, deployed.stderr + deployed.stdout).to.equal(0);
  return { chain, adminEnv, ignitionDir };
}
