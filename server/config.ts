/** Gateway settings from the environment (flags override them in the CLI). */
import { resolve } from "node:path";
import { type WitnessEndpoint, parseWitnessList } from "./core/witness.ts";

export interface GatewayConfig {
  dataDir: string;
  host: string;
  port: number;
  chainPort: number;
  /** An external chain; when absent the gateway runs its own node on chainPort. */
  rpcUrl?: string;
  operatorKey?: string;
  operatorKeyFile?: string;
  expectedChainId?: number;
  confirmations: number;
  anchorIntervalMs: number;
  anchorMaxLeaves: number;
  logName: string;
  /** Requests a second per client address (0: no limit), bucket size, and most addresses tracked. */
  rateLimitClientPerSecond: number;
  rateLimitClientBurst: number;
  /** Records a second per unit (0: no limit) and bucket size; counts only records the unit signed. */
  rateLimitUnitPerSecond: number;
  rateLimitUnitBurst: number;
  /** Most clients or units whose rate-limit state is kept (bounds its memory). */
  rateLimitMaxKeys: number;
  /** Gas price in wei for every transaction (legacy type); unset: decided from the network. */
  gasPrice?: bigint;
  /** Hardhat Ignition's deployment directory (external chain); default ignition/deployments/chain-<id>. */
  ignitionDir?: string;
  /** On SIGTERM/SIGINT, how long /readyz answers 503 before the listener closes. */
  shutdownDrainMs: number;
  /** A trust file (docs/protocol.md, "Trust files") of deployments trusted besides the gateway's own. */
  trustFile?: string;
  /**
   * Whether new records and demands may still use envelope version 1, which does not bind the
   * log (a transition setting, off by default; docs/operations.md).
   */
  acceptEnvelopeV1: boolean;
  /** Witnesses asked to cosign each signed checkpoint (WITNESSES: `VERIFIER_KEY@URL`, comma-separated). */
  witnesses: WitnessEndpoint[];
  /** Cosignatures a checkpoint needs (WITNESS_QUORUM; default: every witness listed). */
  witnessQuorum: number;
  /** How long the latest checkpoint may lack quorum before /readyz says not ready (WITNESS_MAX_WAIT_MS). */
  witnessMaxWaitMs: number;
}

function integer(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min)
    throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  return n;
}

function flag(name: string, value: string | undefined): boolean {
  if (value === undefined || value === "" || value === "0" || value === "false") return false;
  if (value === "1" || value === "true") return true;
  throw new Error(`${name} must be 1, true, 0 or false, got ${JSON.stringify(value)}`);
}

export function configFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<GatewayConfig> = {},
): GatewayConfig {
  return {
    dataDir: resolve(env.DATA_DIR ?? "./data"),
    host: env.HOST ?? "127.0.0.1",
    port: integer("PORT", env.PORT, 8080),
    chainPort: integer("CHAIN_PORT", env.CHAIN_PORT, 8545, 1),
    rpcUrl: env.RPC_URL || undefined,
    operatorKey: env.OPERATOR_KEY || undefined,
    operatorKeyFile: env.OPERATOR_KEY_FILE || undefined,
    expectedChainId: env.CHAIN_ID ? integer("CHAIN_ID", env.CHAIN_ID, 0, 1) : undefined,
    confirmations: integer("CONFIRMATIONS", env.CONFIRMATIONS, 1, 1),
    anchorIntervalMs: integer("ANCHOR_INTERVAL_MS", env.ANCHOR_INTERVAL_MS, 5_000, 10),
    anchorMaxLeaves: integer("ANCHOR_MAX_LEAVES", env.ANCHOR_MAX_LEAVES, 10_000, 1),
    logName: env.LOG_NAME ?? "embedded-gateway",
    rateLimitClientPerSecond: integer("RATE_LIMIT_CLIENT_PER_S", env.RATE_LIMIT_CLIENT_PER_S, 500),
    rateLimitClientBurst: integer("RATE_LIMIT_CLIENT_BURST", env.RATE_LIMIT_CLIENT_BURST, 1_000, 1),
    rateLimitUnitPerSecond: integer("RATE_LIMIT_UNIT_PER_S", env.RATE_LIMIT_UNIT_PER_S, 100),
    rateLimitUnitBurst: integer("RATE_LIMIT_UNIT_BURST", env.RATE_LIMIT_UNIT_BURST, 5_000, 1),
    rateLimitMaxKeys: integer("RATE_LIMIT_MAX_KEYS", env.RATE_LIMIT_MAX_KEYS, 10_000, 1),
    gasPrice: env.GAS_PRICE ? BigInt(integer("GAS_PRICE", env.GAS_PRICE, 0, 0)) : undefined,
    ignitionDir: env.IGNITION_DEPLOYMENT_DIR ? resolve(env.IGNITION_DEPLOYMENT_DIR) : undefined,
    shutdownDrainMs: integer("SHUTDOWN_DRAIN_MS", env.SHUTDOWN_DRAIN_MS, 1_000),
    trustFile: env.TRUST_FILE ? resolve(env.TRUST_FILE) : undefined,
    acceptEnvelopeV1: flag("ACCEPT_ENVELOPE_V1", env.ACCEPT_ENVELOPE_V1),
    ...witnessSettings(env),
    ...overrides,
  };
}

function witnessSettings(
  env: NodeJS.ProcessEnv,
): Pick<GatewayConfig, "witnesses" | "witnessQuorum" | "witnessMaxWaitMs"> {
  const witnesses = parseWitnessList(env.WITNESSES ?? "");
  const witnessQuorum = integer("WITNESS_QUORUM", env.WITNESS_QUORUM, witnesses.length, witnesses.length ? 1 : 0);
  if (witnessQuorum > witnesses.length) {
    throw new Error(`WITNESS_QUORUM is ${witnessQuorum} but WITNESSES lists ${witnesses.length} witnesses`);
  }
  return {
    witnesses,
    witnessQuorum,
    witnessMaxWaitMs: integer("WITNESS_MAX_WAIT_MS", env.WITNESS_MAX_WAIT_MS, 600_000),
  };
}
