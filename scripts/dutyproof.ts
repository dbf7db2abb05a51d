#!/usr/bin/env node
/**
 * The dutyproof command line. Every command prints one line on failure and exits non-zero:
 * 2 for a usage error, 1 for anything else.
 *
 *   dutyproof serve                                    run the gateway (what `npm start` runs)
 *   dutyproof unit keygen --out FILE                   new unit key as an encrypted JSON keystore
 *   dutyproof unit register NAME --level N (--signer ADDRESS | --keystore FILE) [--parent NAME]
 *   dutyproof unit rotate-key NAME (--signer ADDRESS | --keystore FILE)   a lost or stolen key
 *   dutyproof unit (suspend | resume) NAME
 *   dutyproof inspector register ADDRESS --department CODE
 *   dutyproof duty-type register FILE                  register a duty-type schema document
 *   dutyproof submit --keystore FILE --unit NAME --duty-type CODE --fields JSON [--performed-at SECONDS]
 *                    [--demand DEMAND_ID]                   answers an evidence demand (a task)
 *   dutyproof receipt RECORD_ID
 *   dutyproof verify (FILE | --hash HASH) [--trust FILE] [--rpc URL] [--json] [--lang zh-CN|en]
 *                                                      exit 0 valid, 1 invalid, 2 usage, 3 chain unreachable
 *   dutyproof export --token TOKEN --unit NAME [--duty-type CODE] [--from DATE] [--to DATE] --out FILE
 *   dutyproof replay (--token AUDITOR_TOKEN | --bundle FILE) [--trust FILE] [--rpc URL] [--json]
 *                                                      exit 0 clean, 1 findings, 3 chain or gateway unreachable
 *   dutyproof erase RECORD_ID --order REFERENCE          erase a record's personal fields (operator key)
 *   dutyproof token issue --scope (unit:NAME | inspector:DEPARTMENT | auditor | operator) [--label TEXT]
 *   dutyproof grant add DEPARTMENT --over (DEPARTMENT[,DEPARTMENT…] | '*') --reason TEXT [--until DATE]
 *   dutyproof grant (revoke GRANT_ID | list)          a supervising body's cross-department reads
 *   dutyproof log create NAME --operator ADDRESS      admin: a log for a new gateway, and its operator
 *   dutyproof trust export [--name TEXT]                this deployment as a trust file, for inspectors
 *   dutyproof log seal NAME --size N --successor NAME  admin: end a log whose operator key was stolen
 *   dutyproof audit-log (verify | show) [--json]       the administrative audit log and its hash chain
 *   dutyproof backup --out FILE [--include-keys]       DATA_DIR as one file (gateway stopped), authenticated
 *                                                      under DUTYPROOF_BACKUP_PASSPHRASE or --passphrase-file
 *   dutyproof restore FILE --data-dir DIR              into a new directory, after checking it (same passphrase)
 *   dutyproof demand | tasks | duty-list | burden report | summary …   see scripts/burdenCommands.ts
 *   dutyproof monitor --state FILE --gateway URL [--once] …           see scripts/monitorCommand.ts
 *
 * verify and replay believe only the deployments of their trust anchors: the one of this
 * machine's settings (DATA_DIR/deployment.json, or the Ignition output for RPC_URL and CHAIN_ID)
 * and those of `--trust FILE` (docs/protocol.md, "Trust files").
 *
 * Settings come from the environment (README, "Configuration"): DATA_DIR, PORT, CHAIN_PORT,
 * RPC_URL, CHAIN_ID, OPERATOR_KEY(_FILE), IGNITION_DEPLOYMENT_DIR, LOG_NAME; GATEWAY_URL for submit and receipt; the keystore password from
 * DUTYPROOF_PASSWORD or --password-file.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Contract, JsonRpcProvider, Wallet, getAddress, id, isAddress } from "ethers";
import { bytesToHex, hexToBytes } from "../server/core/bytes.ts";
import { isValidInclusion } from "../server/core/merkle/verify.ts";
import { recordDigest } from "../server/core/record.ts";
import { loadDutyTypeFile } from "../server/catalog/loadCatalog.ts";
import { LocalChainNode, jsonRpc, localChainSocket } from "../server/chain/LocalChainNode.ts";
import { IpcJsonRpcProvider } from "../server/chain/IpcJsonRpc.ts";
import { redactUrl } from "../server/chain/redactUrl.ts";
import { TrustFileError, ownDeploymentOf, readTrustFile } from "../server/chain/trustAnchors.ts";
import { type TrustedDeployment, mergeTrustAnchors, trustFileOf, trustedDeploymentOf } from "../server/core/trust.ts";
import { type Deployment, departmentIdOf, registerDutyTypes } from "../server/chain/deployment.ts";
import { loadDutyLedgerArtifact } from "../server/chain/dutyLedgerArtifact.ts";
import { configFromEnvironment } from "../server/config.ts";
import { issueToken, validScope } from "../server/gateway/AccessTokens.ts";
import { addGrant, listGrants, revokeGrant } from "../server/gateway/Grants.ts";
import {
  type Bundle,
  type ChainFacts,
  type Receipt,
  type Verdict,
  bundleSchema,
  chainFactsKey,
  evidenceSchema,
  reasonText,
  verifyEvidence,
} from "../server/core/verifier.ts";
import { ChainUnreachableError, fetchChainFacts } from "../server/chain/chainFacts.ts";
import { recoverSigner } from "../server/crypto/recoverSigner.ts";
import { UntrustedDeploymentError, replayFromGateway } from "../server/audit/replayFromGateway.ts";
import { BundleLogError, replayFromBundle } from "../server/audit/replayFromBundle.ts";
import { progressBar } from "../server/audit/progressBar.ts";
import { informationalKinds } from "../server/core/replay.ts";
import { amendmentNotices } from "../server/core/amendment.ts";
import type { RecordNotices } from "../server/gateway/ledgerNotices.ts";
import { operatorMessage } from "../server/http/adminRoutes.ts";
import { loadOperatorKey, startGateway } from "../server/main.ts";
import { installNativeHashes } from "../server/crypto/nativeHashes.ts";
import { ignitionDeploymentDir, logIdOf, readIgnitionDeployment } from "../server/chain/ignitionDeployment.ts";
import { operatorWallet } from "../server/chain/operatorWallet.ts";
import {
  appendAuditEntry,
  audited,
  auditLogPath,
  currentUser,
  readAuditLog,
} from "../server/observability/AuditLog.ts";
import { verifyAuditEntries } from "../server/core/auditChain.ts";
import { backupDataDir, restoreDataDir } from "../server/backup/dataDirBackup.ts";
import { createLogger } from "../server/observability/logger.ts";
import { burdenCommands } from "./burdenCommands.ts";
import { monitorCommand } from "./monitorCommand.ts";

class UsageError extends Error {}

/** Ends the command with a given exit code after printing nothing more. */
class ExitCode extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`exit ${code}`);
    this.code = code;
  }
}

/** A unit id: 0x + 64 hex as given, else keccak256("unit:" + name). */
export const unitIdOf = (name: string): string => (/^0x[0-9a-f]{64}$/.test(name) ? name : id(`unit:${name}`));

/** Parses `--name value` options, `--flag` switches and positionals. */
function options(
  args: string[],
  names: string[],
  flags: string[] = [],
): { values: Record<string, string | undefined>; switches: Set<string>; positionals: string[] } {
  const spec: Record<string, { type: "string" | "boolean" }> = Object.fromEntries([
    ...names.map((n) => [n, { type: "string" as const }]),
    ...flags.map((n) => [n, { type: "boolean" as const }]),
  ]);
  try {
    const { values, positionals } = parseArgs({ args, options: spec, allowPositionals: true, strict: true });
    const strings: Record<string, string | undefined> = {};
    const switches = new Set<string>();
    for (const [key, value] of Object.entries(values)) {
      if (typeof value === "string") strings[key] = value;
      else if (value === true) switches.add(key);
    }
    return { values: strings, switches, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function required(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== "string" || value === "") throw new UsageError(`--${name} is required`);
  return value;
}

function password(values: Record<string, unknown>): string {
  const file = values["password-file"];
  if (typeof file === "string") return readFileSync(file, "utf8").trim();
  const env = process.env.DUTYPROOF_PASSWORD;
  if (!env) throw new UsageError("give the keystore password in DUTYPROOF_PASSWORD or --password-file");
  return env;
}

/** The passphrase that authenticates (and with --include-keys, encrypts) a backup. */
function backupPassphrase(values: Record<string, unknown>): string {
  const file = values["passphrase-file"];
  if (typeof file === "string") {
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
 * The deployment, operator wallet and ledger for the admin commands: DATA_DIR/deployment.json,
 * or on an external chain (RPC_URL) Hardhat Ignition's deployment output. The embedded node is
 * reached over its IPC socket in DATA_DIR, as the gateway reaches it: these commands sign with
 * the operator key, which is in DATA_DIR too, so only DATA_DIR's owner can run them either way.
 */
async function admin() {
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
  } catch {
    const where = config.rpcUrl ? `the chain at ${redactUrl(config.rpcUrl)}` : `the chain node's socket ${socket}`;
    throw new Error(`${where} does not answer; is the gateway running?`);
  }
  if (config.expectedChainId !== undefined && config.expectedChainId !== chainId) {
    throw new Error(`the RPC endpoint serves chain ${chainId}, but CHAIN_ID is ${config.expectedChainId}`);
  }
  let deployment: Deployment;
  if (existsSync(path)) deployment = JSON.parse(readFileSync(path, "utf8")) as Deployment;
  else if (config.rpcUrl) {
    const found = readIgnitionDeployment(ignitionDeploymentDir(config.ignitionDir, chainId));
    deployment = { ...found, logId: logIdOf(config.logName) };
  } else throw new Error(`no deployment in ${config.dataDir}; start the gateway first (npm start)`);
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

/**
 * A leaf hash alone: the gateway says only where the leaf was anchored (the record's content and
 * signer go to the holder of its record id), so this checks that much on chain: the proof leads
 * to the root the ledger holds for that checkpoint. Exit 0 when it does, 1 when not.
 */
async function verifyLeafOnly(
  body: Record<string, unknown>,
  rpcUrl: string,
  lang: "zh-CN" | "en",
  trust: TrustedDeployment[],
): Promise<void> {
  const zh = lang === "zh-CN";
  const hex = (v: unknown) => hexToBytes(String(v));
  const receipt = { ...body, unitId: "0x" + "00".repeat(32) } as unknown as Receipt;
  if (!trustedDeploymentOf(trust, receipt.chainId, receipt.contract, receipt.logId)) {
    console.log(
      zh
        ? `无效：该叶子锚定在本核验方不信任的部署中（链 ${receipt.chainId}，合约 ${receipt.contract}）`
        : `INVALID: the leaf is anchored in a deployment this verifier does not trust (chain ${receipt.chainId}, contract ${receipt.contract})`,
    );
    throw new ExitCode(1);
  }
  let facts: ChainFacts;
  try {
    facts = await fetchChainFacts(rpcUrl, receipt, trust);
  } catch (error) {
    if (error instanceof ChainUnreachableError) {
      console.log(zh ? `无法连接链节点 ${rpcUrl}` : `the chain at ${rpcUrl} does not answer`);
      throw new ExitCode(3);
    }
    throw error;
  }
  const proof = Array.isArray(body.inclusionProof) ? body.inclusionProof.map(hex) : [];
  const included =
    facts.checkpoint.found &&
    facts.checkpoint.root === body.root &&
    isValidInclusion(hex(body.leafHash), Number(body.leafIndex), Number(body.treeSize), proof, hex(body.root));
  const when = new Date(facts.checkpoint.anchoredAt * 1000).toISOString();
  if (!included) {
    console.log(
      zh ? `无效：该叶子不在链上锚定的检查点中` : `INVALID: the leaf is not in the checkpoint the chain holds`,
    );
    throw new ExitCode(1);
  }
  console.log(
    zh
      ? `已锚定：叶子 ${body.leafIndex} 于 ${when} 锚定在区块 ${facts.checkpoint.blockNumber}（仅凭叶子哈希；核验记录内容与签名需记录编号或回执文件）`
      : `ANCHORED: leaf ${body.leafIndex} anchored at ${when} in block ${facts.checkpoint.blockNumber} (leaf hash only; the record's content and signer need its record id or receipt file)`,
  );
}

/** `unit rotate-key`, `unit suspend`, `unit resume`: registry changes, each in the audit log. */
async function unitChange(action: "rotate-key" | "suspend" | "resume", rest: string[]): Promise<void> {
  const { values, positionals } = options(rest, ["signer", "keystore", "password-file"]);
  const name = positionals[0];
  if (!name) throw new UsageError(`unit ${action}: give the unit's name or 0x id`);
  const unitId = unitIdOf(name);
  if (action === "rotate-key") {
    let signer = values.signer;
    if (!signer && values.keystore) signer = JSON.parse(readFileSync(values.keystore, "utf8")).address;
    if (!signer || !isAddress(signer.startsWith("0x") ? signer : `0x${signer}`))
      throw new UsageError("give the new key as --signer ADDRESS or --keystore FILE");
    const newSigner = getAddress(signer.startsWith("0x") ? signer : `0x${signer}`);
    const { ledger, persist, audit } = await admin();
    await audit("unit.rotate-key", { unit: name, unitId, signer: newSigner }, () =>
      send(ledger, ledger.getFunction("rotateUnitKey")(unitId, newSigner)),
    );
    await persist();
    console.log(`unit ${name}: records are signed by ${newSigner} from now on; earlier records keep their key`);
    return;
  }
  const { ledger, persist, audit } = await admin();
  const status = action === "suspend" ? 2 : 1; // IDutyLedger.UnitStatus: Active 1, Suspended 2
  await audit(`unit.${action}`, { unit: name, unitId }, () =>
    send(ledger, ledger.getFunction("setUnitStatus")(unitId, status)),
  );
  await persist();
  console.log(`unit ${name} ${action === "suspend" ? "suspended: its new records are refused" : "active again"}`);
}

/**
 * `log seal NAME --size N --successor NAME`: the admin ends a log whose operator key was stolen at
 * its last honest checkpoint (the size the gateway's alarm names) and names the log, created
 * beforehand with a new operator, that continues it (docs/operations.md).
 */
async function sealLog(args: string[]): Promise<void> {
  const { values, positionals } = options(args, ["size", "successor"]);
  const name = positionals[0];
  if (!name) throw new UsageError("log seal: give the name of the log to seal");
  const sizeText = required(values, "size");
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText))
    throw new UsageError("--size must be the leaf count of the last honest checkpoint");
  const successor = required(values, "successor");
  const { ledger, persist, audit } = await admin();
  const logId = logIdOf(name);
  const successorLogId = logIdOf(successor);
  const size = Number(sizeText);
  await audit("log.seal", { log: name, logId, size, successor, successorLogId }, () =>
    send(ledger, ledger.getFunction("sealLog")(logId, size, successorLogId)),
  );
  await persist();
  console.log(`log ${name} sealed at size ${size}; it continues as log ${successor} (${successorLogId})`);
}

/** Sends a ledger transaction; a revert becomes "the ledger refused: ErrorName(args)". */
async function send(ledger: Contract, call: Promise<{ wait: () => Promise<unknown> }>): Promise<void> {
  try {
    await (await call).wait();
  } catch (error) {
    const e = error as { revert?: { name: string; args: unknown[] }; data?: string; shortMessage?: string };
    const revert = e.revert ?? (e.data ? ledger.interface.parseError(e.data) : null);
    if (revert) throw new Error(`the ledger refused: ${revert.name}(${[...revert.args].join(", ")})`, { cause: error });
    throw new Error(e.shortMessage ?? String(error), { cause: error });
  }
}

/** The chain a reader checks against: --rpc, RPC_URL, or the local gateway's read-only endpoint. */
const rpcUrlOf = (values: Record<string, string | undefined>) =>
  values.rpc ?? process.env.RPC_URL ?? `${gatewayUrl()}/v1/rpc`;

/** The deployment of this machine's settings as a trust anchor, if it has one. */
async function ownDeployment(): Promise<TrustedDeployment | undefined> {
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
async function verifierTrust(trustFile: string | undefined): Promise<TrustedDeployment[]> {
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

const gatewayUrl = () => process.env.GATEWAY_URL ?? `http://127.0.0.1:${configFromEnvironment().port}`;

async function gatewayJson(
  path: string,
  init?: RequestInit,
): Promise<{ status: number; body: Record<string, unknown> }> {
  let res: Response;
  try {
    res = await fetch(gatewayUrl() + path, { ...init, signal: AbortSignal.timeout(30_000) });
  } catch {
    throw new Error(`the gateway at ${gatewayUrl()} does not answer`);
  }
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Lines saying that a record was superseded, withdrawn or erased, in the reader's language. */
function noticeLines(r: RecordNotices, lang: "zh-CN" | "en"): string[] {
  const zh = lang === "zh-CN";
  const lines: string[] = [];
  if (r.supersededBy)
    lines.push(
      zh
        ? `已被更正：被记录 ${r.supersededBy.recordId} 取代（理由：${r.supersededBy.reason}）`
        : `superseded by ${r.supersededBy.recordId} (correction: ${r.supersededBy.reason})`,
    );
  if (r.withdrawnBy)
    lines.push(
      zh
        ? `已撤回：由记录 ${r.withdrawnBy.recordId} 撤回（理由：${r.withdrawnBy.reason}）`
        : `withdrawn by ${r.withdrawnBy.recordId} (${r.withdrawnBy.reason})`,
    );
  if (r.erasure) {
    const when = new Date(r.erasure.erasedAt * 1000).toISOString();
    lines.push(
      zh
        ? `个人信息已于 ${when} 依令 ${r.erasure.order} 删除（${r.erasure.fields.join("、") || "无个人字段"}）；签名与叶子仍与存证摘要相符`
        : `personal content erased ${when} under order ${r.erasure.order} (${r.erasure.fields.join(", ") || "no personal fields"}); signature and leaf still match the logged digest`,
    );
  }
  return lines;
}

const commands: Record<string, (args: string[]) => Promise<void>> = {
  async serve(args) {
    const { values } = options(args, ["port", "data-dir", "chain-port"]);
    const env = { ...process.env };
    if (values.port) env.PORT = values.port;
    if (values["data-dir"]) env.DATA_DIR = values["data-dir"];
    if (values["chain-port"]) env.CHAIN_PORT = values["chain-port"];
    const config = configFromEnvironment(env);
    // A transient fault in a background task (an RPC call while the chain restarts) must not
    // take the gateway down; it is logged, and the task's next round retries.
    const logger = createLogger();
    process.on("unhandledRejection", (reason) => logger.error(`background task failed: ${String(reason)}`));
    // Loaded here, not at the top: it brings esbuild, which no other command needs.
    const { ensureBuild } = await import("./ensureBuild.ts");
    await ensureBuild({ onBuild: (part) => logger.info({ part }, "building: missing or older than its sources") });
    const gateway = await startGateway(config);
    // The log is JSON lines; a person at a terminal also gets where things are.
    if (process.stdout.isTTY)
      console.error(`dutyproof gateway ready
  API        ${gateway.url}/v1/info
  API docs   ${gateway.url}/docs
  console    ${gateway.url}/console/
  metrics    ${gateway.url}/metrics
  chain RPC  ${gateway.rpcUrl} (chain ${gateway.deployment.chainId}, DutyLedger ${gateway.deployment.address})
  data       ${config.dataDir}`);
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, "stopping: finishing in-flight work");
      void gateway.close({ drainMs: config.shutdownDrainMs }).then(() => process.exit(0));
    };
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));
  },

  async unit(args) {
    const [action, ...rest] = args;
    if (action === "keygen") {
      const { values } = options(rest, ["out", "password-file"]);
      const out = required(values, "out");
      if (existsSync(out)) throw new Error(`${out} exists; refusing to overwrite a key`);
      const wallet = Wallet.createRandom();
      writeFileSync(out, await wallet.encrypt(password(values)), { mode: 0o600 });
      console.log(`new unit key ${wallet.address} written to ${out}`);
      return;
    }
    if (action === "rotate-key" || action === "suspend" || action === "resume") {
      await unitChange(action, rest);
      return;
    }
    if (action !== "register") throw new UsageError("unit: expected keygen, register, rotate-key, suspend or resume");
    const { values, positionals } = options(rest, ["level", "signer", "keystore", "parent", "password-file"]);
    const name = positionals[0];
    if (!name) throw new UsageError("unit register: give the unit's name or 0x id");
    const level = Number(required(values, "level"));
    if (!Number.isInteger(level) || level < 0 || level > 255) throw new UsageError("--level must be an integer 0-255");
    let signer = values.signer;
    if (!signer && values.keystore) signer = JSON.parse(readFileSync(values.keystore, "utf8")).address;
    if (!signer || !isAddress(signer.startsWith("0x") ? signer : `0x${signer}`))
      throw new UsageError("give --signer ADDRESS or --keystore FILE");
    const { ledger, persist, audit } = await admin();
    const unitId = unitIdOf(name);
    const parentId = values.parent ? unitIdOf(values.parent) : "0x" + "00".repeat(32);
    const signerAddress = getAddress(signer.startsWith("0x") ? signer : `0x${signer}`);
    await audit("unit.register", { unit: name, unitId, level, signer: signerAddress }, () =>
      send(ledger, ledger.getFunction("registerUnit")(unitId, parentId, level, signerAddress)),
    );
    await persist();
    console.log(`unit ${name} registered as ${unitId}`);
  },

  async inspector(args) {
    const [action, ...rest] = args;
    if (action !== "register") throw new UsageError("inspector: expected register");
    const { values, positionals } = options(rest, ["department"]);
    const address = positionals[0];
    if (!address || !isAddress(address)) throw new UsageError("inspector register: give the inspector's address");
    const { ledger, persist, audit } = await admin();
    const department = required(values, "department");
    await audit("inspector.register", { inspector: getAddress(address), department }, () =>
      send(ledger, ledger.getFunction("registerInspector")(getAddress(address), departmentIdOf(department))),
    );
    await persist();
    console.log(`inspector ${getAddress(address)} registered`);
  },

  async "duty-type"(args) {
    const [action, file] = args;
    if (action !== "register" || !file) throw new UsageError("duty-type: expected register FILE");
    const entry = loadDutyTypeFile(file);
    const { ledger, persist, audit } = await admin();
    const added = await audit("duty-type.register", { code: entry.document.code, dutyTypeId: entry.id }, () =>
      registerDutyTypes(ledger, [entry.document]),
    );
    await persist();
    // The gateway reads DATA_DIR/duty-types again when it changes, so it accepts the type at once.
    const dir = join(configFromEnvironment().dataDir, "duty-types");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${entry.document.code}.json`), JSON.stringify(entry.document, null, 2) + "\n");
    console.log(`duty type ${entry.document.code} ${added ? "registered" : "was already registered"} as ${entry.id}`);
  },

  async submit(args) {
    const { values } = options(args, [
      "keystore",
      "unit",
      "duty-type",
      "fields",
      "performed-at",
      "password-file",
      "demand",
    ]);
    if (values.demand !== undefined && !/^0x[0-9a-f]{64}$/.test(values.demand))
      throw new UsageError("--demand must be a demand id (0x + 64 hex)");
    let fields: Record<string, string | number | boolean>;
    try {
      fields = JSON.parse(required(values, "fields"));
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError("--fields must be a JSON object");
    }
    const wallet = await Wallet.fromEncryptedJson(
      readFileSync(required(values, "keystore"), "utf8"),
      password(values),
    ).catch(() => {
      throw new Error("cannot open the keystore: wrong password or not a keystore file");
    });
    const info = (await gatewayJson("/v1/info")).body as {
      logId: string;
      eip712: { domain: Record<string, unknown>; types: Record<string, Array<{ name: string; type: string }>> };
    };
    const catalog = (await gatewayJson("/v1/duty-types")).body.dutyTypes as Array<{ id: string; code: string }>;
    const wanted = required(values, "duty-type");
    const dutyType = catalog.find((d) => d.code === wanted || d.id === wanted);
    if (!dutyType) throw new UsageError(`unknown duty type ${wanted}; known: ${catalog.map((d) => d.code).join(", ")}`);
    // Version 2: the record names, and the signature binds, the log of the gateway it goes to.
    const envelope = {
      version: 2 as const,
      logId: info.logId,
      unitId: unitIdOf(required(values, "unit")),
      dutyTypeId: dutyType.id,
      performedAt: values["performed-at"] ? Number(values["performed-at"]) : Math.floor(Date.now() / 1000),
      fields,
      salt: bytesToHex(randomBytes(32)),
      ...(values.demand ? { demandId: values.demand } : {}),
    };
    const message = {
      logId: envelope.logId,
      unitId: envelope.unitId,
      dutyTypeId: envelope.dutyTypeId,
      performedAt: envelope.performedAt,
      recordDigest: bytesToHex(recordDigest(envelope)),
    };
    const signature = await wallet.signTypedData(
      info.eip712.domain,
      { DutyRecord: info.eip712.types.DutyRecord! },
      message,
    );
    const { status, body } = await gatewayJson("/v1/attestations", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ envelope, signature }),
    });
    if (status >= 400) {
      const errors = (body.errors as Array<{ path: string; message: string }> | undefined)
        ?.map((e) => `${e.path}: ${e.message}`)
        .join("; ");
      throw new Error(`refused (${status} ${body.code}): ${body.detail}${errors ? ` — ${errors}` : ""}`);
    }
    console.log(JSON.stringify({ ...body, envelope, signature }, null, 2));
  },

  async token(args) {
    const [action, ...rest] = args;
    if (action !== "issue") throw new UsageError("token: expected issue");
    const { values } = options(rest, ["scope", "label"]);
    let scope = required(values, "scope");
    if (scope.startsWith("unit:")) scope = `unit:${unitIdOf(scope.slice(5))}`;
    if (scope === "inspector")
      throw new UsageError("--scope inspector:DEPARTMENT: an inspector's token reads its own department's duty types");
    if (!validScope(scope))
      throw new UsageError("--scope must be unit:NAME, inspector:DEPARTMENT, auditor or operator");
    const config = configFromEnvironment();
    const token = await audited(
      auditLogPath(config.dataDir),
      "token.issue",
      { scope, label: values.label ?? "" },
      undefined,
      async () => issueToken(join(config.dataDir, "tokens.json"), scope, values.label ?? ""),
    );
    console.log(`token for ${scope} (shown once; send it as "Authorization: Bearer <token>"):\n${token}`);
  },

  async grant(args) {
    const [action, ...rest] = args;
    const config = configFromEnvironment();
    const path = join(config.dataDir, "grants.json");
    const now = Math.floor(Date.now() / 1000);
    const audit = <T>(name: string, target: Record<string, string | number | boolean>, run: () => Promise<T>) =>
      audited(auditLogPath(config.dataDir), name, target, undefined, run);
    if (action === "list") {
      for (const g of listGrants(path)) {
        const state =
          g.revokedAt !== undefined ? "revoked" : g.until !== undefined && g.until <= now ? "expired" : "in force";
        console.log(`${g.id}  ${g.grantee} reads ${g.over.join(",")}  ${state}  (${g.reason})`);
      }
      return;
    }
    if (action === "revoke") {
      const grantId = rest[0];
      if (!grantId) throw new UsageError("grant revoke: give the grant id (grant list shows them)");
      const revoked = await audit("grant.revoke", { grantId }, async () => revokeGrant(path, grantId, now));
      console.log(`grant ${revoked.id} (${revoked.grantee} over ${revoked.over.join(",")}) revoked`);
      return;
    }
    if (action !== "add") throw new UsageError("grant: expected add, revoke or list");
    const { values, positionals } = options(rest, ["over", "reason", "until"]);
    const grantee = positionals[0];
    if (!grantee) throw new UsageError("grant add: give the supervising body's department code");
    const over = required(values, "over")
      .split(",")
      .map((o) => o.trim())
      .filter((o) => o !== "");
    const reason = required(values, "reason");
    let until: number | undefined;
    if (values.until !== undefined) {
      until = Math.floor(Date.parse(values.until) / 1000);
      if (!Number.isFinite(until)) throw new UsageError("--until must be a date (2027-06-30 or ISO 8601)");
    }
    const target = { grantee, over: over.join(","), reason, ...(until === undefined ? {} : { until }) };
    const grant = await audit("grant.add", target, async () =>
      addGrant(path, { grantee, over, reason, ...(until === undefined ? {} : { until }) }, now),
    );
    console.log(`grant ${grant.id}: ${grant.grantee} reads and demands ${grant.over.join(",")}'s duty types`);
  },

  async verify(args) {
    const { values, switches, positionals } = options(args, ["rpc", "lang", "hash", "trust"], ["json"]);
    const json = switches.has("json");
    const file = positionals[0];
    if (!file && !values.hash) throw new UsageError("verify: give a receipt or record file, or --hash HASH");
    const lang = (values.lang ?? (process.env.LANG?.startsWith("en") ? "en" : "zh-CN")) as "zh-CN" | "en";
    if (lang !== "zh-CN" && lang !== "en") throw new UsageError("--lang must be zh-CN or en");
    let raw: unknown;
    if (values.hash) {
      // A bare hash: the gateway only finds the receipt; everything in it is checked on chain.
      if (!/^0x[0-9a-f]{64}$/.test(values.hash)) throw new UsageError("--hash must be 0x and 64 lower-case hex digits");
      const { status, body } = await gatewayJson(`/v1/receipts/${values.hash}`);
      if (status === 404) {
        console.log(
          lang === "zh-CN" ? `未找到：该哈希不在此网关的日志中` : `NOT FOUND: this gateway's log has no such hash`,
        );
        throw new ExitCode(1);
      }
      if (status === 202) {
        console.log(
          lang === "zh-CN"
            ? `已接收，尚未锚定（叶子序号 ${body.leafIndex}）`
            : `accepted, not anchored yet (leaf ${body.leafIndex})`,
        );
        throw new ExitCode(1);
      }
      if (body.recordId === undefined) {
        await verifyLeafOnly(body, rpcUrlOf(values), lang, await verifierTrust(values.trust));
        return;
      }
      raw = body;
    } else {
      try {
        raw = JSON.parse(readFileSync(file!, "utf8"));
      } catch {
        throw new UsageError(`${file} is not a readable JSON file`);
      }
    }
    const trust = await verifierTrust(values.trust);
    // Chain facts, fetched once per checkpoint and unit; an unreachable chain ends with exit 3.
    const rpcUrl = rpcUrlOf(values);
    const factsCache = new Map<string, ChainFacts>();
    const factsFor = async (receipt: Receipt): Promise<ChainFacts> => {
      const key = chainFactsKey(receipt);
      let facts = factsCache.get(key);
      if (!facts) {
        try {
          facts = await fetchChainFacts(rpcUrl, receipt, trust);
        } catch (error) {
          if (!(error instanceof ChainUnreachableError)) throw error;
          console.error(`dutyproof: ${error.message}`);
          throw new ExitCode(3);
        }
        factsCache.set(key, facts);
      }
      return facts;
    };
    const bundle = bundleSchema.safeParse(raw);
    if (bundle.success) {
      const verdicts: Array<Verdict & { recordId: string }> = [];
      for (const item of bundle.data.items) {
        const facts = await factsFor(item.receipt);
        verdicts.push({ recordId: item.receipt.recordId, ...verifyEvidence(item, facts, recoverSigner, trust) });
      }
      // A later record of the bundle that amends one is trusted only if it verified itself.
      const notices = amendmentNotices(
        bundle.data.items
          .filter((_, i) => verdicts[i]!.valid)
          .map((i) => ({ recordId: i.receipt.recordId, envelope: i.envelope })),
      );
      const results = verdicts.map((v, i) => {
        const notice = notices.get(v.recordId);
        const erasure = bundle.data.items[i]!.erasure;
        return {
          ...v,
          ...(notice ? { [notice.kind === "correction" ? "supersededBy" : "withdrawnBy"]: notice } : {}),
          ...(erasure ? { erasure } : {}),
        };
      });
      const invalid = results.filter((r) => !r.valid);
      if (json)
        console.log(
          JSON.stringify(
            { valid: invalid.length === 0, records: results.length, pending: bundle.data.pending, results },
            null,
            2,
          ),
        );
      else {
        const zh = lang === "zh-CN";
        console.log(
          invalid.length === 0
            ? zh
              ? `有效：导出包中 ${results.length} 条记录全部核验通过（另有 ${bundle.data.pending} 条尚未锚定）`
              : `VALID: all ${results.length} records of the bundle verify (${bundle.data.pending} more not anchored yet)`
            : zh
              ? `无效：${results.length} 条记录中 ${invalid.length} 条未通过核验`
              : `INVALID: ${invalid.length} of ${results.length} records fail`,
        );
        for (const r of invalid) console.log(`  ✗ ${r.recordId}: ${reasonText[r.reason!]?.[lang] ?? r.reason}`);
        for (const r of results) for (const line of noticeLines(r, lang)) console.log(`  ${r.recordId}: ${line}`);
      }
      if (invalid.length > 0) throw new ExitCode(1);
      return;
    }
    const parsed = evidenceSchema.safeParse(raw);
    if (!parsed.success) throw new UsageError(`${file ?? values.hash} holds no receipt dutyproof can read`);
    const evidence = parsed.data;
    const facts = await factsFor(evidence.receipt);
    // What the gateway says happened since (in a receipt it served): not checked on chain here.
    const told = raw as RecordNotices;
    const verdict = {
      ...verifyEvidence(evidence, facts, recoverSigner, trust),
      ...(told.supersededBy ? { supersededBy: told.supersededBy } : {}),
      ...(told.withdrawnBy ? { withdrawnBy: told.withdrawnBy } : {}),
      ...(told.erasure ? { erasure: told.erasure } : {}),
    };
    const r = evidence.receipt;
    if (json) {
      console.log(
        JSON.stringify(
          {
            ...verdict,
            recordId: r.recordId,
            unitId: r.unitId,
            chainId: r.chainId,
            contract: r.contract,
            rpcUrl: redactUrl(rpcUrl),
          },
          null,
          2,
        ),
      );
    } else {
      const when = verdict.anchoredAt ? new Date(verdict.anchoredAt * 1000).toISOString() : "";
      const zh = lang === "zh-CN";
      if (verdict.valid) {
        console.log(zh ? `有效：记录 ${r.recordId}` : `VALID: record ${r.recordId}`);
        console.log(zh ? `  单位 ${r.unitId}，签名人 ${r.signer}` : `  unit ${r.unitId}, signed by ${r.signer}`);
        console.log(
          zh
            ? `  已于 ${when} 锚定（区块 ${verdict.blockNumber}，链 ${r.chainId}，合约 ${r.contract}）`
            : `  anchored ${when} (block ${verdict.blockNumber}, chain ${r.chainId}, contract ${r.contract})`,
        );
        console.log(
          zh
            ? `  ${verdict.recordChecked ? "已核对记录内容" : "仅核验回执（未提供记录内容）"}`
            : `  ${verdict.recordChecked ? "record content checked" : "receipt only (no record content given)"}`,
        );
        for (const line of noticeLines(verdict, lang)) console.log(`  ${line}`);
      } else {
        console.log(
          zh
            ? `无效：${reasonText[verdict.reason!]?.["zh-CN"] ?? verdict.reason}`
            : `INVALID: ${reasonText[verdict.reason!]?.en ?? verdict.reason}`,
        );
        for (const c of verdict.checks.filter((c) => !c.ok)) console.log(`  ✗ ${c.name}: ${c.reason}`);
      }
    }
    if (!verdict.valid) throw new ExitCode(1);
  },

  async export(args) {
    const { values } = options(args, ["token", "unit", "duty-type", "from", "to", "out"]);
    const token = values.token ?? process.env.DUTYPROOF_TOKEN;
    if (!token) throw new UsageError("export needs a bearer token: --token or DUTYPROOF_TOKEN");
    const out = required(values, "out");
    const params = new URLSearchParams({ unitId: unitIdOf(required(values, "unit")) });
    if (values["duty-type"]) {
      const catalog = (await gatewayJson("/v1/duty-types")).body.dutyTypes as Array<{ id: string; code: string }>;
      const dutyType = catalog.find((d) => d.code === values["duty-type"] || d.id === values["duty-type"]);
      if (!dutyType) throw new UsageError(`unknown duty type ${values["duty-type"]}`);
      params.set("dutyTypeId", dutyType.id);
    }
    for (const bound of ["from", "to"] as const) {
      const value = values[bound];
      if (value === undefined) continue;
      const seconds = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00+08:00` : value) / 1000;
      if (!Number.isFinite(seconds))
        throw new UsageError(`--${bound} must be a date (YYYY-MM-DD, China time) or an ISO time`);
      params.set(bound, String(Math.floor(seconds)));
    }
    let res: Response;
    try {
      res = await fetch(`${gatewayUrl()}/v1/export?${params}`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(120_000),
      });
    } catch {
      throw new Error(`the gateway at ${gatewayUrl()} does not answer`);
    }
    const body = (await res.json()) as { items?: unknown[]; pending?: number; detail?: string };
    if (res.status !== 200) throw new Error(`export refused (${res.status}): ${body.detail}`);
    writeFileSync(out, JSON.stringify(body, null, 2) + "\n");
    console.log(
      `${body.items!.length} anchored records written to ${out}${body.pending ? ` (${body.pending} not anchored yet, left out)` : ""}`,
    );
  },

  async replay(args) {
    const { values, switches } = options(args, ["token", "rpc", "bundle", "trust"], ["json"]);
    const token = values.token ?? process.env.DUTYPROOF_TOKEN;
    let bundle: Bundle | undefined;
    if (values.bundle) {
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(values.bundle, "utf8"));
      } catch {
        throw new UsageError(`${values.bundle} is not a readable JSON file`);
      }
      const parsed = bundleSchema.safeParse(raw);
      if (!parsed.success) throw new UsageError(`${values.bundle} is not a dutyproof export bundle`);
      bundle = parsed.data;
    } else if (!token)
      throw new UsageError("replay needs an auditor token (--token or DUTYPROOF_TOKEN) or --bundle FILE");
    const rpcUrl = rpcUrlOf(values);
    const trust = await verifierTrust(values.trust);
    const bar = progressBar(process.stderr, "replay");
    let report;
    try {
      report = bundle
        ? await replayFromBundle({ bundle, rpcUrl, trust, onProgress: bar.update })
        : await replayFromGateway({ gatewayUrl: gatewayUrl(), token: token!, rpcUrl, trust, onProgress: bar.update });
    } catch (error) {
      bar.finish();
      console.error(`dutyproof: ${(error as Error).message.split("\n")[0]}`);
      if (error instanceof BundleLogError) throw new ExitCode(2);
      if (error instanceof UntrustedDeploymentError) throw new ExitCode(1);
      throw new ExitCode(/refused the audit feed/.test((error as Error).message) ? 1 : 3);
    }
    bar.finish();
    if (switches.has("json")) console.log(JSON.stringify(report, null, 2));
    else {
      const problems = report.findings.filter((f) => !informationalKinds.has(f.kind));
      const source = bundle ? "the bundle's " : "";
      const extras = `${report.corrections} correction(s), ${report.withdrawals} withdrawal(s), ${report.erased} erased`;
      console.log(
        report.clean
          ? `clean: ${source}${report.records} records${report.demands ? ` (${report.demands} of them evidence demands)` : ""}, ${report.checkpoints} checkpoints (anchored size ${report.anchoredSize}); every checkpoint extends the last, every record present, signed and unchanged; ${extras}`
          : `FINDINGS: ${problems.length} problem(s) in ${source}${report.records} records and ${report.checkpoints} checkpoints; ${extras}`,
      );
      for (const [kind, n] of Object.entries(report.counts)) console.log(`  ${kind}: ${n}`);
      for (const f of problems.slice(0, 50))
        console.log(`  ✗ ${f.kind}${f.leafIndex !== undefined ? ` at leaf ${f.leafIndex}` : ""}: ${f.detail}`);
    }
    if (!report.clean) throw new ExitCode(1);
  },

  async erase(args) {
    const { values, positionals } = options(args, ["order"]);
    const recordId = positionals[0];
    if (!recordId || !/^0x[0-9a-f]{64}$/.test(recordId))
      throw new UsageError("erase: give the record id (0x + 64 hex)");
    const order = required(values, "order");
    // Signed with the operator key, as every other admin action; the gateway checks it.
    const config = configFromEnvironment();
    const path = join(config.dataDir, "deployment.json");
    if (!existsSync(path))
      throw new Error(`no deployment in ${config.dataDir}; erase runs where the gateway's DATA_DIR is`);
    const deployment = JSON.parse(readFileSync(path, "utf8")) as Deployment;
    const wallet = new Wallet(loadOperatorKey(config));
    const erasure = await audited(
      auditLogPath(config.dataDir),
      "record.erase",
      { recordId, order },
      { user: currentUser(), address: wallet.address },
      async () => {
        const signedAt = Math.floor(Date.now() / 1000);
        const message = operatorMessage("erase", deployment.logId, recordId, order, signedAt);
        const signature = await wallet.signMessage(message);
        const { status, body } = await gatewayJson("/v1/admin/erasures", {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `DutyproofOperator ${signature}` },
          body: JSON.stringify({ recordId, order, signedAt }),
        });
        if (status >= 400) throw new Error(`refused (${status} ${body.code}): ${body.detail}`);
        return body.erasure as { fields: string[]; erasedAt: number };
      },
    );
    console.log(
      `record ${recordId}: personal content (${erasure.fields.join(", ") || "no personal fields"}) and salt erased at ${new Date(erasure.erasedAt * 1000).toISOString()} under order ${JSON.stringify(order)}`,
    );
  },

  async log(args) {
    const [action, ...rest] = args;
    if (action === "seal") return sealLog(rest);
    if (action !== "create")
      throw new UsageError("log: expected create NAME --operator ADDRESS, or seal NAME --size N --successor NAME");
    const { values, positionals } = options(rest, ["operator"]);
    const name = positionals[0];
    if (!name) throw new UsageError("log create: give the new gateway's log name (LOG_NAME of that gateway)");
    const operator = required(values, "operator");
    if (!isAddress(operator)) throw new UsageError("--operator must be the new gateway's address (0x + 40 hex)");
    const { ledger, persist, audit } = await admin();
    const logId = logIdOf(name);
    await audit("log.create", { log: name, logId, operator: getAddress(operator) }, () =>
      send(ledger, ledger.getFunction("createLog")(logId, getAddress(operator))),
    );
    await persist();
    console.log(`log ${name} created as ${logId}, operated by ${getAddress(operator)}`);
  },

  /** This machine's deployment as a trust file (stdout), for the inspectors a county equips. */
  async trust(args) {
    const [action, ...rest] = args;
    if (action !== "export") throw new UsageError("trust: expected export [--name TEXT]");
    const { values } = options(rest, ["name"]);
    const config = configFromEnvironment();
    const own = await ownDeployment();
    if (!own) throw new Error(`no deployment in ${config.dataDir}; start the gateway first (npm start)`);
    console.log(JSON.stringify(trustFileOf([{ ...own, name: values.name ?? config.logName }]), null, 2));
  },

  async "audit-log"(args) {
    const [action, ...rest] = args;
    if (action !== "verify" && action !== "show") throw new UsageError("audit-log: expected verify or show");
    const { switches } = options(rest, [], ["json"]);
    const path = auditLogPath(configFromEnvironment().dataDir);
    const entries = readAuditLog(path);
    const verdict = verifyAuditEntries(entries);
    if (action === "show") {
      for (const entry of entries) console.log(JSON.stringify(entry));
    } else if (switches.has("json")) console.log(JSON.stringify({ path, ...verdict }, null, 2));
    else if (verdict.ok) console.log(`intact: ${verdict.entries} entries, head ${verdict.head}`);
    else console.log(`BROKEN at entry ${verdict.problem!.index}: ${verdict.problem!.reason}`);
    if (!verdict.ok) throw new ExitCode(1);
  },

  async backup(args) {
    const { values, switches } = options(args, ["out", "data-dir", "passphrase-file"], ["include-keys"]);
    const out = required(values, "out");
    const dataDir = values["data-dir"] ?? configFromEnvironment().dataDir;
    const passphrase = backupPassphrase(values);
    const includeSecrets = switches.has("include-keys");
    const result = await audited(auditLogPath(dataDir), "data-dir.backup", { out, includeSecrets }, undefined, () =>
      backupDataDir(dataDir, out, { passphrase, includeSecrets }),
    );
    console.log(
      `backup of ${dataDir} written to ${out}: ${result.files} files, ${result.bytes} bytes, log size ${result.treeSize} (anchored ${result.anchoredSize}); ${
        includeSecrets
          ? "keys and tokens included, encrypted under the passphrase"
          : `left out: ${result.secretsLeftOut.join(", ") || "no keys or tokens found"} (keep the keys separately, or back up with --include-keys)`
      }`,
    );
  },

  async restore(args) {
    const { values, positionals } = options(args, ["data-dir", "passphrase-file"]);
    const file = positionals[0];
    if (!file) throw new UsageError("restore: give the backup file");
    const dataDir = required(values, "data-dir");
    const result = await restoreDataDir(file, dataDir, backupPassphrase(values));
    appendAuditEntry(auditLogPath(dataDir), {
      action: "data-dir.restore",
      target: { from: file, backupCreatedAt: result.createdAt, treeSize: result.treeSize },
      outcome: "ok",
    });
    console.log(
      `restored ${result.files} files into ${dataDir}: the log as of ${result.createdAt}, ${result.treeSize} records (${result.anchoredSize} anchored); records acknowledged after that are not in it${
        result.secrets === 0
          ? "; the backup holds no keys or tokens: put keys/operator.key back (or set OPERATOR_KEY_FILE) before starting, and issue tokens again"
          : ""
      }`,
    );
  },
  ...burdenCommands({
    options,
    required,
    password,
    gatewayJson,
    gatewayUrl,
    unitIdOf,
    usage: (m) => new UsageError(m),
  }),

  async monitor(args) {
    const code = await monitorCommand(args, (m) => new UsageError(m));
    if (code !== 0) throw new ExitCode(code);
  },

  async receipt(args) {
    const recordId = args[0];
    if (!recordId || !/^0x[0-9a-f]{64}$/.test(recordId))
      throw new UsageError("receipt: give the record id (0x + 64 hex)");
    const { status, body } = await gatewayJson(`/v1/attestations/${recordId}/receipt`);
    if (status >= 400) throw new Error(`${body.detail}`);
    console.log(JSON.stringify(body, null, 2));
  },
};

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  const run = command ? commands[command] : undefined;
  if (!run) throw new UsageError(`usage: dutyproof <${Object.keys(commands).join("|")}> … (see scripts/dutyproof.ts)`);
  installNativeHashes();
  await run(args);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ExitCode) process.exit(error.code);
  const message = error instanceof Error ? error.message : String(error);
  console.error(`dutyproof: ${message.split("\n")[0]}`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
