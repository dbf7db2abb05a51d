/**
 * Composition: wires the chain, the store, the services and the HTTP API into one gateway.
 * `npm start` / `dutyproof serve` call startGateway with settings from the environment.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { type RequestListener, type Server, createServer } from "node:http";
import { join } from "node:path";
import { Contract, JsonRpcProvider, Wallet } from "ethers";
import { checkLogOperator, externalDeployment, ignitionDeploymentDir, logIdOf } from "./chain/ignitionDeployment.ts";
import { refuseAdminHotKey, sealToSucceed, takeOverSealedLog } from "./chain/logSuccession.ts";
import { operatorWallet } from "./chain/operatorWallet.ts";
import { type Logger, createLogger } from "./observability/logger.ts";
import { GatewayMetrics } from "./observability/metrics.ts";
import { httpObservability, requestObserver } from "./observability/httpObservability.ts";
import { eip712Domain } from "./core/eip712.ts";
import { Catalog } from "./catalog/loadCatalog.ts";
import { LocalChainNode } from "./chain/LocalChainNode.ts";
import { IpcJsonRpcClient, IpcJsonRpcProvider } from "./chain/IpcJsonRpc.ts";
import { redactUrl, scrubUrlSecrets, urlSecrets } from "./chain/redactUrl.ts";
import { chainRpcEndpoint, ledgerRoleHolder } from "./http/chainRpcEndpoint.ts";
import { type Deployment, deployDutyLedger } from "./chain/deployment.ts";
import { loadDutyLedgerArtifact } from "./chain/dutyLedgerArtifact.ts";
import type { GatewayConfig } from "./config.ts";
import { installNativeHashes } from "./crypto/nativeHashes.ts";
import { recoverSigner } from "./crypto/recoverSigner.ts";
import { VerifyPool } from "./crypto/VerifyPool.ts";
import { createOwnerOnly, restrictToOwner } from "./ownerOnly.ts";
import { Anchorer } from "./gateway/Anchorer.ts";
import { AccessTokens } from "./gateway/AccessTokens.ts";
import { Grants } from "./gateway/Grants.ts";
import { audited, auditLogPath } from "./observability/AuditLog.ts";
import { AttestationService, fieldErrors } from "./gateway/AttestationService.ts";
import { DutyproofError } from "./core/errors.ts";
import { evidenceSchema, verifyEvidence } from "./core/verifier.ts";
import { fetchChainFacts } from "./chain/chainFacts.ts";
import { ownTrustAnchor, readTrustFile } from "./chain/trustAnchors.ts";
import { mergeTrustAnchors } from "./core/trust.ts";
import { RegistryCache } from "./gateway/RegistryCache.ts";
import { createRequestListener } from "./http/app.ts";
import { unitRateLimit } from "./http/rateLimit.ts";
import { RateLimiter } from "./core/rateLimit.ts";
import { eraseRecord } from "./gateway/ledgerNotices.ts";
import { LedgerStore } from "./store/LedgerStore.ts";
import { BurdenService, chainBurdenRegistry } from "./burden/BurdenService.ts";
import { burdenSettingsFromEnvironment } from "./burden/burdenSettings.ts";
import { loadLogSigningKey } from "./logSigningKey.ts";
import { SignedCheckpoints } from "./gateway/SignedCheckpoints.ts";
import { tlogOrigin } from "./core/tlog.ts";

export interface RunningGateway {
  url: string;
  /** The chain endpoint /v1/info publishes: the gateway's POST /v1/rpc in embedded mode. */
  rpcUrl: string;
  deployment: Deployment;
  wallet: Wallet;
  ledger: Contract;
  store: LedgerStore;
  anchorer: Anchorer;
  catalog: Catalog;
  burden: BurdenService;
  logger: Logger;
  metrics: GatewayMetrics;
  /**
   * Graceful stop: /readyz answers 503 for `drainMs` while requests are still served, then the
   * listener closes and requests in flight finish, the anchoring step in progress completes, the
   * store is closed (flushed) and the embedded node snapshotted and stopped.
   */
  close: (options?: { drainMs?: number }) => Promise<void>;
}

/** Reads the operator key (env, file, or DATA_DIR/keys/operator.key, generated on first run). */
export function loadOperatorKey(config: GatewayConfig): string {
  if (config.operatorKey) return checkedKey(config.operatorKey, "OPERATOR_KEY");
  if (config.operatorKeyFile) {
    let text: string;
    try {
      text = readFileSync(config.operatorKeyFile, "utf8");
    } catch {
      throw new Error(`OPERATOR_KEY_FILE ${config.operatorKeyFile} cannot be read`);
    }
    return checkedKey(text.trim(), `OPERATOR_KEY_FILE ${config.operatorKeyFile}`);
  }
  const keyPath = join(config.dataDir, "keys", "operator.key");
  if (!existsSync(keyPath)) {
    if (config.rpcUrl) throw new Error("an external chain needs OPERATOR_KEY or OPERATOR_KEY_FILE");
    mkdirSync(join(config.dataDir, "keys"), { recursive: true, mode: 0o700 });
    writeFileSync(keyPath, Wallet.createRandom().privateKey + "\n", { mode: 0o600, flag: "wx" });
  }
  return checkedKey(readFileSync(keyPath, "utf8").trim(), keyPath);
}

/** A private key as 0x + 64 hex; the error names where it came from, never the value. */
function checkedKey(key: string, source: string): string {
  const normalized = key.startsWith("0x") ? key : `0x${key}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(normalized)) throw new Error(`${source} is not a private key (0x and 64 hex digits)`);
  return normalized;
}

/** Total bytes of the files under `dir` (the LevelDB store), for /metrics. */
function directoryBytes(dir: string): number {
  let total = 0;
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    try {
      const stat = statSync(join(dir, name));
      total += stat.isDirectory() ? directoryBytes(join(dir, name)) : stat.size;
    } catch {
      // removed by a compaction meanwhile
    }
  }
  return total;
}

/**
 * Starts a gateway. Its log lines (JSON, pino) go to stdout, or to `log` one line a call when
 * given (tests pass a function to keep or silence them).
 */
export async function startGateway(
  config: GatewayConfig,
  log?: (line: string) => void,
  /** `now`: the gateway's clock in Unix seconds, for a simulation that replays a past year. */
  hooks: { now?: () => number } = {},
): Promise<RunningGateway> {
  // Credentials in an external RPC_URL never reach a log line, whichever error carries the URL.
  const secrets = urlSecrets(config.rpcUrl);
  const write = log ?? (secrets.length ? (line: string) => void process.stdout.write(line + "\n") : undefined);
  const logger = createLogger(
    write ? { write: secrets.length ? (line) => write(scrubUrlSecrets(line, config.rpcUrl, secrets)) : write } : {},
  );
  installNativeHashes();
  createOwnerOnly();
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  restrictToOwner(config.dataDir);
  const embedded = config.rpcUrl === undefined;
  const node = embedded
    ? new LocalChainNode({ stateDir: join(config.dataDir, "chain"), port: config.chainPort })
    : null;
  if (node) await node.start();
  // cacheTimeout -1: ethers otherwise answers a repeated call (a nonce!) from a 250 ms cache.
  const providerOptions = { staticNetwork: true, pollingInterval: 200, cacheTimeout: -1 };
  const provider = node
    ? new IpcJsonRpcProvider(node.ipcPath, providerOptions)
    : new JsonRpcProvider(config.rpcUrl, undefined, providerOptions);
  const stoppers: Array<() => Promise<void>> = [];
  try {
    const chainId = Number((await provider.getNetwork()).chainId);
    if (config.expectedChainId !== undefined && config.expectedChainId !== chainId) {
      throw new Error(`the RPC endpoint serves chain ${chainId}, but CHAIN_ID is ${config.expectedChainId}`);
    }
    const wallet = await operatorWallet(loadOperatorKey(config), provider, config.gasPrice);
    const ledgerAt = (address: string) => new Contract(address, loadDutyLedgerArtifact().abi as never, wallet);
    const catalog = new Catalog(join(config.dataDir, "duty-types"));
    const deploymentPath = join(config.dataDir, "deployment.json");
    let deployment: Deployment;
    if (existsSync(deploymentPath)) {
      deployment = JSON.parse(readFileSync(deploymentPath, "utf8")) as Deployment;
      if (deployment.chainId !== chainId)
        throw new Error(`deployment.json is for chain ${deployment.chainId}, the endpoint serves ${chainId}`);
      if ((await provider.getCode(deployment.address)) === "0x") {
        throw new Error(
          `no DutyLedger at ${deployment.address} on chain ${chainId}; the chain lost its state (restore DATA_DIR/chain)`,
        );
      }
    } else if (!embedded) {
      // An external chain: the ledger's address comes from Hardhat Ignition's deployment output.
      deployment = await externalDeployment({
        ignitionDir: ignitionDeploymentDir(config.ignitionDir, chainId),
        chainId,
        provider,
        ledgerAt,
        logName: config.logName,
        operator: wallet.address,
      });
      writeFileSync(deploymentPath, JSON.stringify(deployment, null, 2) + "\n", { mode: 0o600 });
      logger.info({ chainId, contract: deployment.address, logId: deployment.logId }, "deployment read from Ignition");
    } else {
      await node!.rpc("anvil_setBalance", [wallet.address, "0x" + (10n ** 24n).toString(16)]);
      logger.info("first run: deploying DutyLedger and registering the starter duty catalog");
      deployment = await deployDutyLedger(wallet, {
        logName: config.logName,
        catalog: catalog.list().map((e) => e.document),
        afterEachTransaction: () => node!.snapshot(),
      });
      writeFileSync(deploymentPath, JSON.stringify(deployment, null, 2) + "\n", { mode: 0o600 });
    }
    const ledger = ledgerAt(deployment.address);
    // A DATA_DIR of a log sealed with this LOG_NAME as successor continues in it (chain/logSuccession.ts).
    const seal = embedded ? null : await sealToSucceed(ledger, deployment, logIdOf(config.logName), config.logName);
    if (!embedded) {
      await checkLogOperator(ledger, logIdOf(config.logName), config.logName, wallet.address);
      await refuseAdminHotKey(ledger, wallet.address);
    }

    const store = new LedgerStore(join(config.dataDir, "ledger"));
    await store.open();
    stoppers.push(() => store.close());
    if (seal) {
      const sealedLogId = deployment.logId;
      deployment = await takeOverSealedLog({ ledger, store, deployment, seal, logId: logIdOf(config.logName) });
      writeFileSync(deploymentPath, JSON.stringify(deployment, null, 2) + "\n", { mode: 0o600 });
      logger.warn(
        { sealedLogId, logId: deployment.logId },
        "the sealed log's honest records continue in its successor",
      );
    }
    // A store older than the chain's history of its own log (restored from an old backup, or
    // another gateway's directory) would append leaves that fork anchored history: refuse.
    const [chainSize] = await ledger.getFunction("latestCheckpoint")(deployment.logId);
    if (Number(chainSize) > store.treeSize) {
      throw new Error(
        `the chain holds a checkpoint of size ${chainSize} for this log but DATA_DIR has ${store.treeSize} leaves; DATA_DIR is older than the chain (see "Backups" in docs/operations.md)`,
      );
    }
    // The log's C2SP checkpoints: signed once anchored; a crash before signing is caught up here.
    const signedCheckpoints = new SignedCheckpoints({
      store,
      signer: loadLogSigningKey(config.dataDir, tlogOrigin(deployment.chainId, deployment.address, deployment.logId)),
    });
    await signedCheckpoints.signAnchored();
    const registry = new RegistryCache(ledger);
    const pool = new VerifyPool();
    stoppers.push(() => pool.close());
    // Ready means able to take records: the workers that check signatures must have loaded.
    await pool.ready;
    const attestations = new AttestationService({
      store,
      registry,
      catalog,
      domain: eip712Domain(deployment.chainId, deployment.address),
      logId: deployment.logId,
      acceptVersion1: config.acceptEnvelopeV1,
      deriveMany: (domain, items) => pool.deriveEach(domain, items),
      now: hooks.now ?? (() => Math.floor(Date.now() / 1000)),
      admitUnit: unitRateLimit(
        new RateLimiter({
          perSecond: config.rateLimitUnitPerSecond,
          burst: config.rateLimitUnitBurst,
          maxKeys: config.rateLimitMaxKeys,
        }),
      ),
    });
    const anchorer = new Anchorer({
      store,
      ledger,
      wallet,
      provider,
      logId: deployment.logId,
      intervalMs: config.anchorIntervalMs,
      maxLeaves: config.anchorMaxLeaves,
      confirmations: config.confirmations,
      persistChain: node ? () => node.snapshot() : undefined,
      log: (message) => (message.startsWith("anchoring:") ? logger.warn(message) : logger.info(message)),
      onForeignCheckpoint: (foreign, message) => logger.error({ foreignCheckpoint: foreign }, message),
      onAnchored: () =>
        signedCheckpoints.signAnchored().catch((e: unknown) => logger.error(`signing the checkpoint: ${String(e)}`)),
    });
    anchorer.start();
    stoppers.unshift(() => anchorer.stop());

    const grants = new Grants(join(config.dataDir, "grants.json"), (message) => logger.error(message));
    const burden = new BurdenService({
      store,
      registry: chainBurdenRegistry(ledger),
      catalog,
      deployment,
      domain: eip712Domain(deployment.chainId, deployment.address),
      acceptVersion1: config.acceptEnvelopeV1,
      settings: burdenSettingsFromEnvironment(),
      now: hooks.now ?? (() => Math.floor(Date.now() / 1000)),
      onAppended: () => anchorer.poke(),
      granted: (grantee, owner) => grants.coversDepartmentId(grantee, owner),
    });

    // Set on shutdown: /readyz answers 503 so a load balancer stops sending, while requests in
    // flight finish.
    let draining = false;
    const metrics = new GatewayMetrics({
      logSize: () => store.treeSize,
      anchored: async () => {
        const [latest] = (await store.listCheckpoints({ reverse: true, limit: 20 })).filter(
          (c) => c.status === "anchored",
        );
        const size = latest?.size ?? 0;
        if (size >= store.treeSize) return { size };
        const [oldest] = await store.recordsFrom(size, 1);
        return { size, oldestWaitingSince: oldest?.record.receivedAt };
      },
      anchorFailures: () => anchorer.failures,
      chainHead: () => provider.getBlockNumber(),
      storeBytes: () => directoryBytes(join(config.dataDir, "ledger")),
      foreignCheckpointSize: () => anchorer.foreignCheckpoint?.size ?? 0,
    });
    // The listener is bound before the routes are built: in embedded mode the chain endpoint the
    // gateway publishes (and reads through) is its own POST /v1/rpc, whose URL needs the port.
    let listener: RequestListener | null = null;
    const server: Server = await new Promise((resolve, reject) => {
      const s = createServer((req, res) => {
        if (listener) listener(req, res);
        else res.writeHead(503, { "retry-after": "1" }).end();
      }).listen(config.port, config.host, () => resolve(s));
      s.once("error", reject);
    });
    stoppers.unshift(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          // A browser keeps sockets open that carry no request (preconnects, keep-alive), which
          // would hold close() forever; requests in flight get a grace period, then all are cut.
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 10_000).unref();
        }),
    );
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    const url = `http://${config.host}:${port}`;
    const rpcUrl = config.rpcUrl ?? `${url}/v1/rpc`;
    const publicRpcUrl = config.rpcUrl ? redactUrl(config.rpcUrl) : rpcUrl;
    const nodeClient = node ? new IpcJsonRpcClient(node.ipcPath) : null;
    if (nodeClient) stoppers.push(async () => nodeClient.close());

    const tokens = new AccessTokens(join(config.dataDir, "tokens.json"), {
      ownerOf: (dutyTypeId) => catalog.get(dutyTypeId)?.document.department,
      departmentReads: (department, owner) => grants.covers(department, owner),
      onUnreadable: (message) => logger.error(message),
    });
    // Every administrative act the gateway performs is in the admin audit log, as the CLI's are.
    const adminAct = <T>(
      action: string,
      target: Record<string, string | number | boolean>,
      run: () => Promise<T>,
      address?: string,
    ) =>
      audited(auditLogPath(config.dataDir), action, target, { user: "gateway", ...(address ? { address } : {}) }, run);
    // What /v1/verify, the console and /v1/trust believe: this gateway's deployment and TRUST_FILE's.
    const trust = mergeTrustAnchors(
      [{ ...ownTrustAnchor(deployment, config.logName), tlogKeys: [signedCheckpoints.verifierKey] }],
      config.trustFile ? readTrustFile(config.trustFile) : [],
    );
    const observe = requestObserver({ logger, metrics, draining: () => draining });
    listener = createRequestListener({
      store,
      attestations,
      catalog: () => catalog.list(),
      deployment,
      rpcUrl,
      trust,
      publicRpcUrl,
      chainRpc: nodeClient
        ? chainRpcEndpoint({
            forward: (request) => nodeClient.request(request),
            chainId: deployment.chainId,
            ledgerAddress: deployment.address,
            holdsRole: ledgerRoleHolder(ledger, deployment.logId),
            afterTransaction: () => node!.snapshot(),
          })
        : undefined,
      log: (message) => logger.error(message),
      observability: httpObservability(observe, metrics),
      observe,
      clientLimiter: new RateLimiter({
        perSecond: config.rateLimitClientPerSecond,
        burst: config.rateLimitClientBurst,
        maxKeys: config.rateLimitMaxKeys,
      }),
      onAppended: () => anchorer.poke(),
      tlog: { store, checkpoints: signedCheckpoints },
      mayRead: async (token, unitId) => tokens.mayRead(token, unitId),
      mayReadDutyType: async (token, unitId, dutyTypeId) => tokens.mayReadDutyType(token, unitId, dutyTypeId),
      mayAudit: async (token) => tokens.mayAudit(token),
      admin: {
        operatorAddress: wallet.address,
        logId: deployment.logId,
        now: () => Math.floor(Date.now() / 1000),
        erase: (recordId, order) =>
          adminAct(
            "record.erase",
            { recordId, order },
            async () => {
              const now = Math.floor(Date.now() / 1000);
              const { erasure } = await eraseRecord(store, (d) => catalog.get(d)?.document, recordId, order, now);
              logger.info({ recordId, order: erasure.order }, "record's personal content erased");
              return { recordId, erasure };
            },
            wallet.address,
          ),
      },
      burden: {
        service: burden,
        mayRead: async (token, unitId) => tokens.mayRead(token, unitId),
        mayOperate: async (token) => tokens.mayOperate(token),
        departmentOf: async (token) => tokens.departmentOf(token),
        maySeeDemand: async (token, demand) => tokens.maySeeDemand(token, demand),
        audited: (action, target, run) => adminAct(action, target, run),
      },
      // The verdict comes from the chain the receipt names, read through this gateway's RPC
      // endpoint, and only if the gateway trusts that deployment; its own store plays no part.
      verify: async (body) => {
        const parsed = evidenceSchema.safeParse(body);
        if (!parsed.success) {
          const errors = fieldErrors(parsed.error);
          throw new DutyproofError("request.invalid", "not a receipt, or a record with its receipt", { errors });
        }
        const facts = await fetchChainFacts(rpcUrl, parsed.data.receipt, trust);
        return verifyEvidence(parsed.data, facts, recoverSigner, trust);
      },
      ready: async () => {
        if (draining) return { ready: false, checks: { gateway: "draining" } };
        const checks: Record<string, string> = { store: "ok", chain: "ok" };
        try {
          await provider.getBlockNumber();
        } catch {
          checks.chain = "unreachable";
        }
        if (anchorer.lastError) checks.anchoring = anchorer.lastError;
        // Receipts would stay pending for good: not ready until the log is sealed and succeeded.
        const foreign = anchorer.foreignCheckpoint;
        if (foreign) checks.log = `foreign checkpoint of size ${foreign.size} on chain; anchoring stopped`;
        return { ready: checks.chain === "ok" && !foreign, checks };
      },
    });
    if (node) stoppers.push(() => node.stop());

    let closing: Promise<void> | null = null;
    const close = (options: { drainMs?: number } = {}) =>
      (closing ??= (async () => {
        draining = true;
        const drainMs = options.drainMs ?? 0;
        logger.info({ drainMs }, "draining: readyz answers 503, requests in flight finish");
        if (drainMs > 0) await new Promise((resolve) => setTimeout(resolve, drainMs));
        for (const stop of stoppers) await stop().catch((e: unknown) => logger.error(`shutdown: ${String(e)}`));
        provider.destroy();
        logger.info("stopped: store closed" + (node ? ", chain state saved" : ""));
      })());
    logger.info({ url, chainId: deployment.chainId, contract: deployment.address, logId: deployment.logId }, "ready");
    return {
      url,
      rpcUrl: publicRpcUrl,
      deployment,
      wallet,
      ledger,
      store,
      anchorer,
      catalog,
      burden,
      logger,
      metrics,
      close,
    };
  } catch (error) {
    for (const stop of stoppers) await stop().catch(() => {});
    provider.destroy();
    if (node) await node.stop();
    throw error;
  }
}
