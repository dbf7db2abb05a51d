#!/usr/bin/env node
/**
 * The dutyproof command line. Every command prints one line on failure and exits non-zero:
 * 2 for a usage error, 1 for anything else.
 *
 *   dutyproof serve                                    run the gateway (what `npm start` runs)
 *   dutyproof unit keygen --out FILE                   new unit key as an encrypted JSON keystore
 *   dutyproof unit register NAME --level N (--signer ADDRESS | --keystore FILE) [--parent NAME]
 *   dutyproof inspector register ADDRESS --department CODE
 *   dutyproof duty-type register FILE                  register a duty-type schema document
 *   dutyproof submit --keystore FILE --unit NAME --duty-type CODE --fields JSON [--performed-at SECONDS]
 *                    [--demand DEMAND_ID]                   answers an evidence demand (a task)
 *   dutyproof receipt RECORD_ID
 *   dutyproof verify (FILE | --hash HASH) [--rpc URL] [--json] [--lang zh-CN|en]
 *                                                      exit 0 valid, 1 invalid, 2 usage, 3 chain unreachable
 *   dutyproof export --token TOKEN --unit NAME [--duty-type CODE] [--from DATE] [--to DATE] --out FILE
 *   dutyproof replay (--token AUDITOR_TOKEN | --bundle FILE) [--rpc URL] [--json]
 *                                                      exit 0 clean, 1 findings, 3 chain or gateway unreachable
 *   dutyproof erase RECORD_ID --order REFERENCE          erase a record's personal fields (operator key)
 *   dutyproof token issue --scope (unit:NAME | inspector | auditor | operator) [--label TEXT]
 *   dutyproof log create NAME --operator ADDRESS      admin: a log for a new gateway, and its operator
 *   dutyproof audit-log (verify | show) [--json]       the administrative audit log and its hash chain
 *   dutyproof backup --out FILE                        DATA_DIR as one file (gateway stopped)
 *   dutyproof restore FILE --data-dir DIR              into a new directory
 *   dutyproof demand | tasks | duty-list | burden report | summary …   see scripts/burdenCommands.ts
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
import { bytesToHex } from "../server/core/bytes.ts";
import { recordDigest } from "../server/core/record.ts";
import { loadDutyTypeFile } from "../server/catalog/loadCatalog.ts";
import { LocalChainNode } from "../server/chain/LocalChainNode.ts";
import { type Deployment, departmentIdOf, registerDutyTypes } from "../server/chain/deployment.ts";
import { loadDutyLedgerArtifact } from "../server/chain/dutyLedgerArtifact.ts";
import { configFromEnvironment } from "../server/config.ts";
import { issueToken } from "../server/gateway/AccessTokens.ts";
import {
  type Bundle,
  type ChainFacts,
  type Receipt,
  type Verdict,
  bundleSchema,
  evidenceSchema,
  reasonText,
  verifyEvidence,
} from "../server/core/verifier.ts";
import { ChainUnreachableError, fetchChainFacts } from "../server/chain/chainFacts.ts";
import { recoverSigner } from "../server/crypto/recoverSigner.ts";
import { replayFromGateway } from "../server/audit/replayFromGateway.ts";
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

/**
 * The deployment, operator wallet and ledger for the admin commands: DATA_DIR/deployment.json,
 * or on an external chain (RPC_URL) Hardhat Ignition's deployment output.
 */
async function admin() {
  const config = configFromEnvironment();
  const path = join(config.dataDir, "deployment.json");
  const rpcUrl = config.rpcUrl ?? `http://127.0.0.1:${config.chainPort}`;
  const provider = new JsonRpcProvider(rpcUrl, undefined, {
    staticNetwork: true,
    cacheTimeout: -1,
    pollingInterval: 250,
  });
  let chainId: number;
  try {
    chainId = Number(await provider.send("eth_chainId", []));
  } catch {
    throw new Error(`the chain at ${rpcUrl} does not answer; is the gateway running?`);
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
    if (!config.rpcUrl)
      await new LocalChainNode({ stateDir: join(config.dataDir, "chain"), port: config.chainPort }).snapshot();
  };
  // Every admin command is recorded in DATA_DIR's audit log: who (OS account and key), what, outcome.
  const audit = <T>(action: string, target: Record<string, string | number | boolean>, run: () => Promise<T>) =>
    audited(auditLogPath(config.dataDir), action, target, { user: currentUser(), address: wallet.address }, run);
  return { deployment, wallet, ledger, provider, persist, audit };
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

const rpcUrlOf = (values: Record<string, string | undefined>) =>
  values.rpc ?? process.env.RPC_URL ?? `http://127.0.0.1:${configFromEnvironment().chainPort}`;

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
    if (action !== "register") throw new UsageError("unit: expected keygen or register");
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
    if (scope !== "inspector" && scope !== "auditor" && scope !== "operator" && !scope.startsWith("unit:")) {
      throw new UsageError("--scope must be unit:NAME, inspector, auditor or operator");
    }
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

  async verify(args) {
    const { values, switches, positionals } = options(args, ["rpc", "lang", "hash"], ["json"]);
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
      raw = body;
    } else {
      try {
        raw = JSON.parse(readFileSync(file!, "utf8"));
      } catch {
        throw new UsageError(`${file} is not a readable JSON file`);
      }
    }
    // Chain facts, fetched once per checkpoint and unit; an unreachable chain ends with exit 3.
    const rpcUrl = rpcUrlOf(values);
    const factsCache = new Map<string, ChainFacts>();
    const factsFor = async (receipt: Receipt): Promise<ChainFacts> => {
      const key = [receipt.chainId, receipt.contract, receipt.logId, receipt.treeSize, receipt.unitId].join(":");
      let facts = factsCache.get(key);
      if (!facts) {
        try {
          facts = await fetchChainFacts(rpcUrl, receipt);
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
        verdicts.push({ recordId: item.receipt.recordId, ...verifyEvidence(item, facts, recoverSigner) });
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
      ...verifyEvidence(evidence, facts, recoverSigner),
      ...(told.supersededBy ? { supersededBy: told.supersededBy } : {}),
      ...(told.withdrawnBy ? { withdrawnBy: told.withdrawnBy } : {}),
      ...(told.erasure ? { erasure: told.erasure } : {}),
    };
    const r = evidence.receipt;
    if (json) {
      console.log(
        JSON.stringify(
          { ...verdict, recordId: r.recordId, unitId: r.unitId, chainId: r.chainId, contract: r.contract, rpcUrl },
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
    const { values, switches } = options(args, ["token", "rpc", "bundle"], ["json"]);
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
    const bar = progressBar(process.stderr, "replay");
    let report;
    try {
      report = bundle
        ? await replayFromBundle({ bundle, rpcUrl, onProgress: bar.update })
        : await replayFromGateway({ gatewayUrl: gatewayUrl(), token: token!, rpcUrl, onProgress: bar.update });
    } catch (error) {
      bar.finish();
      console.error(`dutyproof: ${(error as Error).message.split("\n")[0]}`);
      if (error instanceof BundleLogError) throw new ExitCode(2);
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
    if (action !== "create") throw new UsageError("log: expected create NAME --operator ADDRESS");
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
    const { values } = options(args, ["out", "data-dir"]);
    const out = required(values, "out");
    const dataDir = values["data-dir"] ?? configFromEnvironment().dataDir;
    const result = await audited(auditLogPath(dataDir), "data-dir.backup", { out }, undefined, () =>
      backupDataDir(dataDir, out),
    );
    console.log(
      `backup of ${dataDir} written to ${out}: ${result.files} files, ${result.bytes} bytes, log size ${result.treeSize} (anchored ${result.anchoredSize})`,
    );
  },

  async restore(args) {
    const { values, positionals } = options(args, ["data-dir"]);
    const file = positionals[0];
    if (!file) throw new UsageError("restore: give the backup file");
    const dataDir = required(values, "data-dir");
    const result = await restoreDataDir(file, dataDir);
    appendAuditEntry(auditLogPath(dataDir), {
      action: "data-dir.restore",
      target: { from: file, backupCreatedAt: result.createdAt, treeSize: result.treeSize },
      outcome: "ok",
    });
    console.log(
      `restored ${result.files} files into ${dataDir}: the log as of ${result.createdAt}, ${result.treeSize} records (${result.anchoredSize} anchored); records acknowledged after that are not in it`,
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
