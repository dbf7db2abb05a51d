/**
 * Composition: wires the chain, the store, the services and the HTTP API into one gateway.
 * `npm start` / `dutyproof serve` call startGateway with settings from the environment.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { Contract, JsonRpcProvider, Wallet } from "ethers";
import { eip712Domain } from "./core/eip712.ts";
import { Catalog } from "./catalog/loadCatalog.ts";
import { LocalChainNode } from "./chain/LocalChainNode.ts";
import { type Deployment, deployDutyLedger } from "./chain/deployment.ts";
import { loadDutyLedgerArtifact } from "./chain/dutyLedgerArtifact.ts";
import type { GatewayConfig } from "./config.ts";
import { recoverSigner } from "./crypto/recoverSigner.ts";
import { VerifyPool } from "./crypto/VerifyPool.ts";
import { Anchorer } from "./gateway/Anchorer.ts";
import { AccessTokens } from "./gateway/AccessTokens.ts";
import { AttestationService, fieldErrors } from "./gateway/AttestationService.ts";
import { DutyproofError } from "./core/errors.ts";
import { evidenceSchema, verifyEvidence } from "./core/verifier.ts";
import { fetchChainFacts } from "./chain/chainFacts.ts";
import { RegistryCache } from "./gateway/RegistryCache.ts";
import { createApp } from "./http/app.ts";
import { LedgerStore } from "./store/LedgerStore.ts";
import { BurdenService, chainBurdenRegistry } from "./burden/BurdenService.ts";
import { burdenSettingsFromEnvironment } from "./burden/burdenSettings.ts";

export interface RunningGateway {
  url: string;
  rpcUrl: string;
  deployment: Deployment;
  wallet: Wallet;
  ledger: Contract;
  store: LedgerStore;
  anchorer: Anchorer;
  catalog: Catalog;
  burden: BurdenService;
  close: () => Promise<void>;
}

/** Reads the operator key (env, file, or DATA_DIR/keys/operator.key, generated on first run). */
export function loadOperatorKey(config: GatewayConfig): string {
  if (config.operatorKey) return config.operatorKey;
  if (config.operatorKeyFile) return readFileSync(config.operatorKeyFile, "utf8").trim();
  const keyPath = join(config.dataDir, "keys", "operator.key");
  if (!existsSync(keyPath)) {
    if (config.rpcUrl) throw new Error("an external chain needs OPERATOR_KEY or OPERATOR_KEY_FILE");
    mkdirSync(join(config.dataDir, "keys"), { recursive: true, mode: 0o700 });
    writeFileSync(keyPath, Wallet.createRandom().privateKey + "\n", { mode: 0o600, flag: "wx" });
  }
  return readFileSync(keyPath, "utf8").trim();
}

export async function startGateway(
  config: GatewayConfig,
  log: (message: string) => void = console.log,
  /** `now`: the gateway's clock in Unix seconds, for a simulation that replays a past year. */
  hooks: { now?: () => number } = {},
): Promise<RunningGateway> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const embedded = config.rpcUrl === undefined;
  const node = embedded
    ? new LocalChainNode({ stateDir: join(config.dataDir, "chain"), port: config.chainPort })
    : null;
  if (node) await node.start();
  const rpcUrl = config.rpcUrl ?? node!.rpcUrl;
  // cacheTimeout -1: ethers otherwise answers a repeated call (a nonce!) from a 250 ms cache.
  const provider = new JsonRpcProvider(rpcUrl, undefined, {
    staticNetwork: true,
    pollingInterval: 200,
    cacheTimeout: -1,
  });
  const stoppers: Array<() => Promise<void>> = [];
  try {
    const chainId = Number((await provider.getNetwork()).chainId);
    if (config.expectedChainId !== undefined && config.expectedChainId !== chainId) {
      throw new Error(`the RPC endpoint serves chain ${chainId}, but CHAIN_ID is ${config.expectedChainId}`);
    }
    const wallet = new Wallet(loadOperatorKey(config), provider);
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
    } else {
      if (!embedded) throw new Error("no deployment.json in DATA_DIR; deploy DutyLedger first (docs/operations.md)");
      await node!.rpc("anvil_setBalance", [wallet.address, "0x" + (10n ** 24n).toString(16)]);
      log("first run: deploying DutyLedger and registering the starter duty catalog");
      deployment = await deployDutyLedger(wallet, {
        logName: config.logName,
        catalog: catalog.list().map((e) => e.document),
        afterEachTransaction: () => node!.snapshot(),
      });
      writeFileSync(deploymentPath, JSON.stringify(deployment, null, 2) + "\n", { mode: 0o600 });
    }
    const ledger = new Contract(deployment.address, loadDutyLedgerArtifact().abi as never, wallet);

    const store = new LedgerStore(join(config.dataDir, "ledger"));
    await store.open();
    stoppers.push(() => store.close());
    const registry = new RegistryCache(ledger);
    const pool = new VerifyPool();
    stoppers.push(() => pool.close());
    const attestations = new AttestationService({
      store,
      registry,
      catalog,
      domain: eip712Domain(deployment.chainId, deployment.address),
      deriveMany: (domain, items) => pool.derive(domain, items),
      now: hooks.now ?? (() => Math.floor(Date.now() / 1000)),
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
      log,
    });
    anchorer.start();
    stoppers.unshift(() => anchorer.stop());

    const burden = new BurdenService({
      store,
      registry: chainBurdenRegistry(ledger),
      catalog,
      deployment,
      domain: eip712Domain(deployment.chainId, deployment.address),
      settings: burdenSettingsFromEnvironment(),
      now: hooks.now ?? (() => Math.floor(Date.now() / 1000)),
      onAppended: () => anchorer.poke(),
    });

    // Set on shutdown: /readyz answers 503 so a load balancer stops sending, while requests in
    // flight finish.
    let draining = false;
    const tokens = new AccessTokens(join(config.dataDir, "tokens.json"));
    const app = createApp({
      store,
      attestations,
      catalog: () => catalog.list(),
      deployment,
      rpcUrl,
      log,
      onAppended: () => anchorer.poke(),
      mayRead: async (token, unitId) => tokens.mayRead(token, unitId),
      mayAudit: async (token) => tokens.mayAudit(token),
      burden: {
        service: burden,
        mayRead: async (token, unitId) => tokens.mayRead(token, unitId),
        mayOperate: async (token) => tokens.mayOperate(token),
      },
      // The verdict comes from the chain the receipt names, read through this gateway's RPC
      // endpoint; the gateway's own store plays no part in it.
      verify: async (body) => {
        const parsed = evidenceSchema.safeParse(body);
        if (!parsed.success) {
          const errors = fieldErrors(parsed.error);
          throw new DutyproofError("request.invalid", "not a receipt, or a record with its receipt", { errors });
        }
        return verifyEvidence(parsed.data, await fetchChainFacts(rpcUrl, parsed.data.receipt), recoverSigner);
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
        return { ready: checks.chain === "ok", checks };
      },
    });
    const server: Server = await new Promise((resolve, reject) => {
      const s = app.listen(config.port, config.host, () => resolve(s));
      s.once("error", reject);
    });
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    const url = `http://${config.host}:${port}`;
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
    if (node) stoppers.push(() => node.stop());

    let closing: Promise<void> | null = null;
    const close = () =>
      (closing ??= (async () => {
        draining = true;
        for (const stop of stoppers) await stop().catch((e: unknown) => log(`shutdown: ${String(e)}`));
        provider.destroy();
      })());
    return { url, rpcUrl, deployment, wallet, ledger, store, anchorer, catalog, burden, close };
  } catch (error) {
    for (const stop of stoppers) await stop().catch(() => {});
    provider.destroy();
    if (node) await node.stop();
    throw error;
  }
}
