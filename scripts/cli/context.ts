/**
 * What several commands share: ids from names, secrets from files or the environment, the
 * trust anchors of the verifiers, the admin's ledger connection, and files written with `--out`.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Contract, JsonRpcProvider, Wallet, id } from "ethers";
import { LocalChainNode, jsonRpc, localChainSocket } from "../../server/chain/LocalChainNode.ts";
import { IpcJsonRpcProvider } from "../../server/chain/IpcJsonRpc.ts";
import { redactUrl } from "../../server/chain/redactUrl.ts";
import { TrustFileError, ownDeploymentOf, readTrustFile } from "../../server/chain/trustAnchors.ts";
import { type TrustedDeployment, mergeTrustAnchors } from "../../server/core/trust.ts";
import type { Deployment } from "../../server/chain/deployment.ts";
import { loadDutyLedgerArtifact } from "../../server/chain/dutyLedgerArtifact.ts";
import { configFromEnvironment } from "../../server/config.ts";
import { ignitionDeploymentDir, logIdOf, readIgnitionDeployment } from "../../server/chain/ignitionDeployment.ts";
import { operatorWallet } from "../../server/chain/operatorWallet.ts";
import { audited, auditLogPath, currentUser } from "../../server/observability/AuditLog.ts";
import { CliError, UnreachableError, UsageError } from "./errors.ts";
import { gatewayUrl } from "./gateway.ts";

/** A unit id: 0x + 64 hex as given, else keccak256("unit:" + name). */
export const unitIdOf = (name: string): string => (/^0x[0-9a-f]{64}$/.test(name) ? name : id(`unit:${name}`));

/** A record or demand id: 0x + 64 lower-case hex, else a usage error. */
export function hash32(what: string, value: string | undefined): string {
  if (!value || !/^0x[0-9a-f]{64}$/.test(value))
    throw new UsageError(`${what} must be 0x and 64 lower-case hex digits`);
  return value;
}

/** The keystore password: --password-file, else DUTYPROOF_PASSWORD. */
export function password(values: Record<string, string | undefined>): string {
  const file = values["password-file"];
  if (file !== undefined) {
    try {
      return readFileSync(file, "utf8").trim();
    } catch {
      throw new UsageError(`--password-file ${file} cannot be read`);
    }
  }
  const env = process.env.DUTYPROOF_PASSWORD;
  if (!env) throw new UsageError("give the keystore password in DUTYPROOF_PASSWORD or --password-file");
  return env;
}

/** Opens an encrypted JSON keystore (--keystore) with the password. */
export async function openKeystore(values: Record<string, string | undefined>, file: string): Promise<Wallet> {
  let json: string;
  try {
    json = readFileSync(file, "utf8");
  } catch {
    throw new UsageError(`--keystore ${file} cannot be read`);
  }
  const secret = password(values);
  try {
    return (await Wallet.fromEncryptedJson(json, secret)) as Wallet;
  } catch {
    throw new CliError("cannot open the keystore: wrong password or not a keystore file");
  }
}

/** The address in a keystore file, without opening it. */
export function keystoreAddress(file: string): string {
  try {
    const address = (JSON.parse(readFileSync(file, "utf8")) as { address?: unknown }).address;
    if (typeof address === "string") return address.startsWith("0x") ? address : `0x${address}`;
  } catch {
    // reported below
  }
  throw new UsageError(`${file} is not a keystore file`);
}

/** A bearer token: --token, else DUTYPROOF_TOKEN. */
export function tokenOf(values: Record<string, string | undefined>, what: string): string {
  const token = values.token ?? process.env.DUTYPROOF_TOKEN;
  if (!token) throw new UsageError(`${what} needs a bearer token: --token or DUTYPROOF_TOKEN`);
  return token;
}

/** The passphrase that authenticates (and with --include-keys, encrypts) a backup. */
export function backupPassphrase(values: Record<string, string | undefined>): string {
  const file = values["passphrase-file"];
  if (file !== undefined) {
    try {
      return readFileSync(file, "utf8").replace(/\r?\n$/, "");
    } catch {
      throw new UsageError(`--passphrase-file ${file} cannot be read`);
    }
  }
  const env = process.env.DUTYPROOF_BACKUP_PASSPHRASE;
  if (!env) throw new UsageError("give the backup passphrase in DUTYPROOF_BACKUP_PASSPHRASE or --passphrase-file");
  return env;
}

/**
 * Writes output meant for a file (bundles, receipts, trust files) to `--out FILE`, never to
 * stdout, so that what `npm run` prints around a command cannot end up in it.
 */
export function writeOut(file: string, text: string, options: { mode?: number; exclusive?: boolean } = {}): void {
  if (options.exclusive && existsSync(file)) throw new CliError(`${file} exists; refusing to overwrite it`);
  try {
    writeFileSync(file, text.endsWith("\n") ? text : `${text}\n`, {
      ...(options.mode ? { mode: options.mode } : {}),
      ...(options.exclusive ? { flag: "wx" } : {}),
    });
  } catch (error) {
    throw new CliError(`cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? "error"}`, undefined, {
      cause: error,
    });
  }
}

/** Reads a JSON file given on the command line; unreadable or not JSON is a usage error. */
export function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    throw new UsageError(`${file} is not a readable JSON file`);
  }
}

/** The chain a reader checks against: --rpc, RPC_URL, or the local gateway's read-only endpoint. */
export const rpcUrlOf = (values: Record<string, string | undefined>): string =>
  values.rpc ?? process.env.RPC_URL ?? `${gatewayUrl()}/v1/rpc`;

/** The deployment of this machine's settings as a trust anchor, if it has one. */
export async function ownDeployment(): Promise<TrustedDeployment | undefined> {
  const config = configFromEnvironment();
  let chainId = config.expectedChainId;
  // Ignition's output is kept per chain: ask the endpoint which one it serves.
  if (chainId === undefined && config.rpcUrl && !existsSync(join(config.dataDir, "deployment.json")))
    chainId = await jsonRpc(config.rpcUrl, "eth_chainId").then(Number, () => undefined);
  return ownDeploymentOf(config, chainId);
}

/**
 * The trust anchors of verify and replay: this machine's own deployment, if its settings have
 * one, and those of `--trust FILE`. None at all is a usage error: there is nothing to check
 * evidence against but the evidence.
 */
export async function verifierTrust(trustFile: string | undefined): Promise<TrustedDeployment[]> {
  const own = await ownDeployment();
  let given: TrustedDeployment[] = [];
  if (trustFile) {
    try {
      given = readTrustFile(trustFile);
    } catch (error) {
      if (error instanceof TrustFileError) throw new UsageError(error.message);
      throw error;
    }
  }
  const anchors = mergeTrustAnchors(own ? [own] : [], given);
  if (anchors.length === 0)
    throw new UsageError(
      "no trust anchors: give --trust FILE (a county's trust file), or run where DATA_DIR holds the gateway's deployment",
    );
  return anchors;
}

/** The deployment in DATA_DIR (embedded mode), or a failure saying where it was looked for. */
export function dataDirDeployment(): Deployment {
  const { dataDir } = configFromEnvironment();
  const path = join(dataDir, "deployment.json");
  if (!existsSync(path)) throw new CliError(`no deployment in ${dataDir}; start the gateway first (npm start)`);
  return JSON.parse(readFileSync(path, "utf8")) as Deployment;
}

/**
 * The deployment, operator wallet and ledger for the admin commands: DATA_DIR/deployment.json,
 * or on an external chain (RPC_URL) Hardhat Ignition's deployment output. The embedded node is
 * reached over its IPC socket in DATA_DIR, as the gateway reaches it: these commands sign with
 * the operator key, which is in DATA_DIR too, so only DATA_DIR's owner can run them either way.
 */
export async function admin() {
  const config = configFromEnvironment();
  const path = join(config.dataDir, "deployment.json");
  const options = { staticNetwork: true, cacheTimeout: -1, pollingInterval: 250 };
  const socket = localChainSocket(join(config.dataDir, "chain"));
  const provider = config.rpcUrl
    ? new JsonRpcProvider(config.rpcUrl, undefined, options)
    : new IpcJsonRpcProvider(socket, options);
  let chainId: number;
  try {
    chainId = Number(await provider.send("eth_chainId", []));
  } catch (error) {
    const where = config.rpcUrl ? `the chain at ${redactUrl(config.rpcUrl)}` : `the chain node's socket ${socket}`;
    throw new UnreachableError(`${where} does not answer; is the gateway running?`, { cause: error });
  }
  if (config.expectedChainId !== undefined && config.expectedChainId !== chainId) {
    throw new CliError(`the RPC endpoint serves chain ${chainId}, but CHAIN_ID is ${config.expectedChainId}`);
  }
  let deployment: Deployment;
  if (existsSync(path)) deployment = JSON.parse(readFileSync(path, "utf8")) as Deployment;
  else if (config.rpcUrl) {
    const found = readIgnitionDeployment(ignitionDeploymentDir(config.ignitionDir, chainId));
    deployment = { ...found, logId: logIdOf(config.logName) };
  } else throw new CliError(`no deployment in ${config.dataDir}; start the gateway first (npm start)`);
  // Loaded here: the gateway's composition root brings Express and LevelDB, which only the
  // commands that sign as the operator need.
  const { loadOperatorKey } = await import("../../server/main.ts");
  const wallet = await operatorWallet(loadOperatorKey(config), provider, config.gasPrice);
  const ledger = new Contract(deployment.address, loadDutyLedgerArtifact().abi as never, wallet);
  // In embedded mode the chain's state is saved after each change, as the gateway does.
  const persist = async () => {
    if (!config.rpcUrl) await new LocalChainNode({ stateDir: join(config.dataDir, "chain") }).snapshot();
  };
  // Every admin command is recorded in DATA_DIR's audit log: who (OS account and key), what, outcome.
  const audit = <T>(action: string, target: Record<string, string | number | boolean>, run: () => Promise<T>) =>
    audited(auditLogPath(config.dataDir), action, target, { user: currentUser(), address: wallet.address }, run);
  return { deployment, wallet, ledger, provider, persist, audit };
}

/** Sends a ledger transaction; a revert becomes "the ledger refused: ErrorName(args)". */
export async function send(ledger: Contract, call: Promise<{ wait: () => Promise<unknown> }>): Promise<void> {
  try {
    await (await call).wait();
  } catch (error) {
    const e = error as { revert?: { name: string; args: unknown[] }; data?: string; shortMessage?: string };
    const revert = e.revert ?? (e.data ? ledger.interface.parseError(e.data) : null);
    if (revert)
      throw new CliError(`the ledger refused: ${revert.name}(${[...revert.args].join(", ")})`, undefined, {
        cause: error,
      });
    throw new CliError(e.shortMessage ?? String(error), undefined, { cause: error });
  }
}
