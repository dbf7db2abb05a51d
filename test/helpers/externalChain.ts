/**
 * A chain node as production sees it: anvil run as its own process, reached only over JSON-RPC,
 * and the DutyLedger deployed on it by Hardhat Ignition (`--network external`) exactly as an
 * operator does; plus the CLI run as a child process without blocking the event loop.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { Contract, Wallet } from "ethers";
import type { Deployment } from "../../server/chain/deployment.ts";
import { loadDutyLedgerArtifact } from "../../server/chain/dutyLedgerArtifact.ts";
import { anvilBinary, jsonRpc } from "../../server/chain/LocalChainNode.ts";
import { cliPath } from "./serve.ts";

export const projectRoot = join(import.meta.dirname, "..", "..");

export interface ExternalChain {
  rpcUrl: string;
  process: ChildProcess;
  rpc: (method: string, params?: unknown[]) => Promise<unknown>;
  stop: () => Promise<void>;
}

/** Starts anvil on loopback `port` with `args` (e.g. a chain id, zero gas price) and waits for it. */
export async function startExternalChain(port: number, args: string[] = []): Promise<ExternalChain> {
  const child = spawn(anvilBinary(), ["--host", "127.0.0.1", "--port", String(port), "--silent", ...args], {
    stdio: "ignore",
  });
  const rpcUrl = `http://127.0.0.1:${port}`;
  const rpc = (method: string, params: unknown[] = []) => jsonRpc(rpcUrl, method, params);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      await rpc("eth_chainId");
      return { rpcUrl, process: child, rpc, stop };
    } catch {
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await stop();
  throw new Error(`anvil did not answer on ${rpcUrl}`);
}

export interface Finished {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, collecting its output (async: the test's own servers keep serving). */
export function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 120_000,
  cwd = projectRoot,
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", reject);
    child.once("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** `dutyproof …` on the project's Node. */
export const runCli = (args: string[], env: NodeJS.ProcessEnv, timeoutMs?: number) =>
  run(process.execPath, [cliPath, ...args], env, timeoutMs);

/**
 * The environment for a Hardhat child process: without the HARDHAT_* variables the test runner
 * sets for itself (HARDHAT_CONFIG would point the child at this project's config).
 */
export const hardhatEnv = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith("HARDHAT_")));

export const hardhatCli = join(projectRoot, "node_modules", "hardhat", "dist", "src", "cli.js");

/**
 * A copy of the project's build inputs in `dir`, for Hardhat commands that write artifacts, so
 * that no test rewrites the artifacts the running suite uses. (Run in the project, an Ignition
 * deploy once replaced them with a differently built contract, and the simulated chains created
 * afterwards could no longer name its errors.) Sources and settings are copied; node_modules and
 * server/ (which the Ignition module imports) are linked.
 */
export function scratchProject(dir: string): string {
  for (const entry of ["contracts", "hardhat.config.ts", "package.json", "tsconfig.json"]) {
    cpSync(join(projectRoot, entry), join(dir, entry), { recursive: true });
  }
  mkdirSync(join(dir, "ignition"), { recursive: true });
  cpSync(join(projectRoot, "ignition", "modules"), join(dir, "ignition", "modules"), { recursive: true });
  for (const entry of ["node_modules", "server"]) symlinkSync(join(projectRoot, entry), join(dir, entry));
  return dir;
}

/**
 * `npx hardhat ignition deploy ignition/modules/DutyLedger.ts --network external`, run in `project`
 * (a scratchProject) with the network's URL and key in the environment; the deployment lands in
 * its ignition/deployments/<id>.
 */
export const ignitionDeploy = (project: string, deploymentId: string, env: NodeJS.ProcessEnv) =>
  run(
    process.execPath,
    [
      hardhatCli,
      ...["ignition", "deploy", "ignition/modules/DutyLedger.ts", "--network", "external"],
      ...["--deployment-id", deploymentId],
    ],
    { ...hardhatEnv(env), HARDHAT_IGNITION_CONFIRM_DEPLOYMENT: "1" },
    180_000,
    project,
  );

/**
 * Gives `deployment`'s log an operator key of its own, funded by `admin`, as production requires
 * (a gateway whose key holds an admin or registrar role refuses to start); returns its key.
 */
export async function handOverLog(admin: Wallet, deployment: Deployment): Promise<string> {
  const operator = Wallet.createRandom();
  await (await admin.sendTransaction({ to: operator.address, value: 10n ** 18n })).wait();
  const ledger = new Contract(deployment.address, loadDutyLedgerArtifact().abi as never, admin);
  await (await ledger.getFunction("setLogOperator")(deployment.logId, operator.address)).wait();
  return operator.privateKey;
}
