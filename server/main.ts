/**
 * Composition: wires the chain, the store, the services and the HTTP API into one gateway.
 * `npm start` / `dutyproof serve` call startGateway with settings from the environment.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { type RequestListener, type Server, createServer } from "node:http";
import { join } from "node:path";
import { Contract, JsonRpcProvider, Wallet } from "ethers";
import { checkLogOperator, logIdOf } from "./chain/ignitionDeployment.ts";
import { refuseAdminHotKey, sealToSucceed, takeOverSealedLog } from "./chain/logSuccession.ts";
import { operatorWallet } from "./chain/operatorWallet.ts";
import { type Logger, createLogger } from "./observability/logger.ts";
import { GatewayMetrics } from "./observability/metrics.ts";
import { requestObserver } from "./observability/httpObservability.ts";
import { eip712Domain } from "./core/eip712.ts";
import type { Clock } from "./core/clock.ts";
import { systemClock } from "./clock.ts";
import { Catalog } from "./catalog/loadCatalog.ts";
import { LocalChainNode } from "./chain/LocalChainNode.ts";
import { IpcJsonRpcClient, IpcJsonRpcProvider } from "./chain/IpcJsonRpc.ts";
import { redactUrl, scrubUrlSecrets, urlSecrets } from "./chain/redactUrl.ts";
import { chainRpcEndpoint, ledgerRoleHolder } from "./http/chainRpcEndpoint.ts";
import type { Deployment } from "./chain/deployment.ts";
import { loadDutyLedgerArtifact } from "./chain/dutyLedgerArtifact.ts";
import type { GatewayConfig } from "./config.ts";
import { installNativeHashes } from "./crypto/nativeHashes.ts";
import { VerifyPool } from "./crypto/VerifyPool.ts";
import { createOwnerOnly, restrictToOwner } from "./ownerOnly.ts";
import { Anchorer } from "./gateway/Anchorer.ts";
import { AccessTokens } from "./gateway/AccessTokens.ts";
import { Grants } from "./gateway/Grants.ts";
import { AttestationService } from "./gateway/AttestationService.ts";
import { ownTrustAnchor, readTrustFile } from "./chain/trustAnchors.ts";
import { mergeTrustAnchors } from "./core/trust.ts";
import { RegistryCache } from "./gateway/RegistryCache.ts";
import { createRequestListener } from "./http/app.ts";
import { UnitDirectory } from "./catalog/UnitDirectory.ts";
import { unitRateLimit } from "./http/rateLimit.ts";
import { RateLimiter } from "./core/rateLimit.ts";
import { discoverDeployment, saveDeployment } from "./app/deployment.ts";
import { gatewayAdminAudit } from "./app/adminAudit.ts";
import { unixSeconds } from "./app/clockTime.ts";
import { gatewayMetricsSource, readiness } from "./app/readiness.ts";
import { verifyEvidenceOnChain } from "./app/verify.ts";
import { LedgerStore } from "./store/LedgerStore.ts";
import { BurdenService, chainBurdenRegistry } from "./burden/BurdenService.ts";
import { burdenSettingsFromEnvironment } from "./burden/burdenSettings.ts";
import { TipService, tipSettingsFromEnvironment } from "./app/tips.ts";
import { releaseTipVerifier } from "./audit/tipProofs.ts";
import { type LiveMonitoring, startLiveMonitoring } from "./burden/liveMonitoring.ts";
import { liveSettingsFromEnvironment } from "./burden/liveSettings.ts";
import { loadLogSigningKey } from "./logSigningKey.ts";
import { SignedCheckpoints } from "./gateway/SignedCheckpoints.ts";
import { tlogOrigin } from "./core/tlog.ts";
import { WitnessClient, registerWitnessMetrics, witnessReadiness } from "./gateway/WitnessClient.ts";
import { type ConfirmationSettings, confirmationSettingsFromEnvironment } from "./confirm/confirmationSettings.ts";
import { ConfirmationLinks } from "./confirm/ConfirmationLinks.ts";
import { deliveryHook } from "./confirm/deliveryHook.ts";
import { confirmationPublicRoutes } from "./http/confirmationRoutes.ts";
import { publicRequestListener } from "./http/publicListener.ts";
import type { ConfirmationDependencies } from "./app/confirm.ts";

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
  live: LiveMonitoring;
  logger: Logger;
  metrics: GatewayMetrics;
  /** The public listener's URL (PUBLIC_PORT), serving residents' routes only; absent when not configured. */
  publicUrl?: string;
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

/**
 * Starts a gateway. Its log lines (JSON, pino) go to stdout, or to `log` one line a call when
 * given (tests pass a function to keep or silence them). `clock` is the gateway's time (the
 * system's unless given: a simulation that replays a past year, a test that sets time).
 */
export async function startGateway(
  config: GatewayConfig,
  log?: (line: string) => void,
  options: { clock?: Clock; confirmation?: Partial<ConfirmationSettings> } = {},
): Promise<RunningGateway> {
  const clock = options.clock ?? systemClock;
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
    let deployment = await discoverDeployment({
      dataDir: config.dataDir,
      chainId,
      provider,
      wallet,
      catalog,
      logger,
      logName: config.logName,
      ignitionDir: config.ignitionDir,
      ledgerAt,
      embedded: node
        ? {
            fund: (address) => node.rpc("anvil_setBalance", [address, "0x" + (10n ** 24n).toString(16)]).then(() => {}),
            snapshot: () => node.snapshot(),
          }
        : undefined,
    });
    const ledger = ledgerAt(deployment.address);
    // A DATA_DIR of a log sealed with this LOG_NAME as successor continues in it (chain/logSuccession.ts).
    const seal = embedded ? null : await sealToSucceed(ledger, deployment, logIdOf(config.logName), config.logName);
    if (!embedded) {
      await checkLogOperator(ledger, logIdOf(config.logName), config.logName, wallet.address);
      await refuseAdminHotKey(ledger, wallet.address);
    }

    // The store stamps acceptance and the anchorer paces itself by the system clock, whatever
    // clock the gateway's rules are given: acceptance times are checked against the chain's block
    // times (key validity at acceptance), and anchoring runs in real time. A simulation that
    // replays a past year sets the rules' clock only.
    const store = new LedgerStore(join(config.dataDir, "ledger"), { clock: systemClock });
    await store.open();
    stoppers.push(() => store.close());
    if (seal) {
      const sealedLogId = deployment.logId;
      deployment = await takeOverSealedLog({ ledger, store, deployment, seal, logId: logIdOf(config.logName) });
      saveDeployment(config.dataDir, deployment);
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
    const witnesses = config.witnesses.length
      ? new WitnessClient({
          witnesses: config.witnesses,
          quorum: config.witnessQuorum,
          checkpoints: signedCheckpoints,
          consistencyProof: (size1, size2) => store.consistencyProof(size1, size2),
          clock: systemClock,
          maxWaitMs: config.witnessMaxWaitMs,
          log: (level, message) => logger[level](message),
        })
      : undefined;
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
      clock,
      admitUnit: unitRateLimit(
        new RateLimiter({
          perSecond: config.rateLimitUnitPerSecond,
          burst: config.rateLimitUnitBurst,
          maxKeys: config.rateLimitMaxKeys,
        }),
        clock,
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
      clock: systemClock,
      onConfirmed: (checkpoint) => signedCheckpoints.signConfirmed(checkpoint),
      onAnchored: () =>
        signedCheckpoints
          .signAnchored()
          .then(() => void witnesses?.sendLatest())
          .catch((e: unknown) => logger.error(`signing the checkpoint: ${String(e)}`)),
    });
    anchorer.start();
    stoppers.unshift(() => anchorer.stop());
    witnesses?.start();
    if (witnesses) stoppers.unshift(() => witnesses.stop());

    const grants = new Grants(join(config.dataDir, "grants.json"), (message) => logger.error(message), clock);
    const burden = new BurdenService({
      store,
      registry: chainBurdenRegistry(ledger, clock),
      catalog,
      deployment,
      domain: eip712Domain(deployment.chainId, deployment.address),
      acceptVersion1: config.acceptEnvelopeV1,
      settings: burdenSettingsFromEnvironment(),
      clock,
      onAppended: () => {
        anchorer.poke();
        // Built with the metrics below; no demand is decided before the listener exists.
        liveMonitoring.monitor.poke();
      },
      granted: (grantee, owner) => grants.coversDepartmentId(grantee, owner, unixSeconds(clock)),
    });
    const tips = new TipService({
      store,
      logId: deployment.logId,
      clock,
      settings: tipSettingsFromEnvironment(),
      onAppended: () => anchorer.poke(),
    });
    await tips.open();
    stoppers.push(() => releaseTipVerifier());

    // Set on shutdown: /readyz answers 503 so a load balancer stops sending, while requests in
    // flight finish.
    let draining = false;
    const metrics = new GatewayMetrics(
      gatewayMetricsSource({
        store,
        storeDir: join(config.dataDir, "ledger"),
        anchorer,
        chainHead: () => provider.getBlockNumber(),
      }),
    );
    if (witnesses) registerWitnessMetrics(metrics.registry, witnesses);
    const liveMonitoring = startLiveMonitoring({
      burden,
      store,
      clock,
      settings: liveSettingsFromEnvironment(),
      registry: metrics.registry,
      logger,
    });
    stoppers.unshift(() => liveMonitoring.stop());
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
      departmentReads: (department, owner) => grants.covers(department, owner, unixSeconds(clock)),
      onUnreadable: (message) => logger.error(message),
    });
    // Every administrative act the gateway performs is in the admin audit log, as the CLI's are.
    const audit = gatewayAdminAudit(config.dataDir);
    // What /v1/verify, the console and /v1/trust believe: this gateway's deployment and TRUST_FILE's.
    const trust = mergeTrustAnchors(
      [{ ...ownTrustAnchor(deployment, config.logName), tlogKeys: [signedCheckpoints.verifierKey] }],
      config.trustFile ? readTrustFile(config.trustFile) : [],
    );
    const observe = requestObserver({ logger, metrics, draining: () => draining });
    const clientLimiter = new RateLimiter({
      perSecond: config.rateLimitClientPerSecond,
      burst: config.rateLimitClientBurst,
      maxKeys: config.rateLimitMaxKeys,
    });
    // GET /v1/unit-names serves the operator's DATA_DIR/units.json.
    const unitDirectory = new UnitDirectory(join(config.dataDir, "units.json"), (message) => logger.error(message));
    // Residents' confirmations; their routes alone may also face the Internet on PUBLIC_PORT.
    const confirmationSettings = { ...confirmationSettingsFromEnvironment(), ...options.confirmation };
    const publicServer =
      confirmationSettings.publicPort === undefined
        ? undefined
        : await listenOn(confirmationSettings.publicPort, confirmationSettings.publicHost ?? config.host, stoppers);
    const confirmations: ConfirmationDependencies = {
      store,
      links: new ConfirmationLinks(store),
      access: {
        mayRead: async (token, unitId) => tokens.mayRead(token, unitId),
        mayReadDutyType: async (token, unitId, dutyTypeId) => tokens.mayReadDutyType(token, unitId, dutyTypeId),
        mayAudit: async (token) => tokens.mayAudit(token),
        mayOperate: async (token) => tokens.mayOperate(token),
      },
      catalog: () => catalog.list(),
      clock,
      publicBaseUrl: confirmationSettings.publicBaseUrl ?? publicServer?.url ?? url,
      linkTtlSeconds: confirmationSettings.linkTtlSeconds,
      residentWeight: confirmationSettings.residentWeight,
      deliver: confirmationSettings.hook ? deliveryHook({ ...confirmationSettings.hook, clock }) : undefined,
      unitTitle: (unitId) => unitDirectory.list().find((u) => u.unitId === unitId)?.title,
      onAppended: () => anchorer.poke(),
    };
    listener = createRequestListener({
      store,
      attestations,
      catalog: () => catalog.list(),
      deployment,
      clock,
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
      observe,
      metrics,
      clientLimiter,
      unitNames: () => unitDirectory.list(),
      onAppended: () => anchorer.poke(),
      tlog: { store, checkpoints: signedCheckpoints },
      mayRead: async (token, unitId) => tokens.mayRead(token, unitId),
      mayReadDutyType: async (token, unitId, dutyTypeId) => tokens.mayReadDutyType(token, unitId, dutyTypeId),
      mayAudit: async (token) => tokens.mayAudit(token),
      mayOperate: async (token) => tokens.mayOperate(token),
      departmentOf: async (token) => tokens.departmentOf(token),
      maySeeDemand: async (token, demand) => tokens.maySeeDemand(token, demand),
      erase: {
        store,
        dutyTypeOf: (d) => catalog.get(d)?.document,
        clock,
        logger,
        audit,
        operatorAddress: wallet.address,
        logId: deployment.logId,
      },
      burden: {
        service: burden,
        audit: (action, target, run) => audit(action, target, run),
        live: liveMonitoring.monitor,
      },
      confirmations,
      tips,
      verify: (body) => verifyEvidenceOnChain({ store, rpcUrl, trust }, body),
      ready: () =>
        readiness({
          anchorer,
          chainHead: () => provider.getBlockNumber(),
          draining: () => draining,
          ...(witnesses ? { witnesses: () => witnessReadiness(witnesses) } : {}),
        }),
    });
    if (node) stoppers.push(() => node.stop());
    // The public listener's list of routes: a resident-facing feature adds its public routes here.
    publicServer?.serve(
      publicRequestListener([...confirmationPublicRoutes(confirmations)], {
        observe,
        clock,
        log: (message) => logger.error(message),
        clientLimiter: new RateLimiter({
          perSecond: confirmationSettings.publicRatePerMinute / 60,
          burst: confirmationSettings.publicRatePerMinute,
          maxKeys: config.rateLimitMaxKeys,
        }),
      }),
    );

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
      live: liveMonitoring,
      logger,
      metrics,
      ...(publicServer ? { publicUrl: publicServer.url } : {}),
      close,
    };
  } catch (error) {
    for (const stop of stoppers) await stop().catch(() => {});
    provider.destroy();
    if (node) await node.stop();
    throw error;
  }
}

/** A listener bound now and served later (its URL is needed before its routes are built). */
async function listenOn(port: number, host: string, stoppers: Array<() => Promise<void>>) {
  let listener: RequestListener | null = null;
  const server: Server = await new Promise((resolve, reject) => {
    const s = createServer((req, res) => {
      if (listener) listener(req, res);
      else res.writeHead(503, { "retry-after": "1" }).end();
    }).listen(port, host, () => resolve(s));
    s.once("error", reject);
  });
  stoppers.unshift(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 10_000).unref();
      }),
  );
  const address = server.address();
  const bound = typeof address === "object" && address ? address.port : port;
  return { url: `http://${host}:${bound}`, serve: (l: RequestListener) => void (listener = l) };
}
