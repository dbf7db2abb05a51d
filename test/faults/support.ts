/**
 * What the fault-injection suites share: a `dutyproof serve` process in its own process group
 * (so one SIGKILL takes the gateway and its chain node), a registered unit that signs records
 * quickly, and submitters that remember exactly what the gateway acknowledged.
 */
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Contract, Wallet, id } from "ethers";
import { bytesToHex, hexToBytes } from "../../server/core/bytes.ts";
import { eip712Domain, typedDataDigest } from "../../server/core/eip712.ts";
import { type RecordEnvelope, signedMessageOf } from "../../server/core/record.ts";
import { loadDutyLedgerArtifact } from "../../server/chain/dutyLedgerArtifact.ts";
import { LocalChainNode } from "../../server/chain/LocalChainNode.ts";
import { chainOwnerProvider } from "../helpers/chainOwner.ts";
import type { Rng } from "../helpers/seededRandom.ts";
import type { Deployment } from "../../server/chain/deployment.ts";
import { cliPath } from "../helpers/serve.ts";

const native = createRequire(import.meta.url)("secp256k1") as {
  ecdsaSign(message: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recid: number };
};

import { sleep } from "../helpers/gatewayFixture.ts";

export { sleep };

/** A `dutyproof serve` process tree that can be started, killed and restarted on one DATA_DIR. */
export class ServeProcess {
  child: ChildProcess | null = null;
  readonly url: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(dataDir: string, port: number, chainPort: number, env: NodeJS.ProcessEnv = {}) {
    this.url = `http://127.0.0.1:${port}`;
    this.env = {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      CHAIN_PORT: String(chainPort),
      ANCHOR_INTERVAL_MS: "200",
      ...env,
    };
  }

  /**
   * Starts serve (with `faultPoint` armed, if given) and waits for /readyz. Resolves "ready", or
   * "killed" if the process died on its fault point before it became ready.
   */
  async start(faultPoint?: string, timeoutMs = 45_000): Promise<"ready" | "killed"> {
    const env = { ...this.env, ...(faultPoint ? { DUTYPROOF_FAULT_POINT: faultPoint } : {}) };
    const child = spawn(process.execPath, [cliPath, "serve"], {
      stdio: process.env.FAULT_DEBUG ? ["ignore", "inherit", "inherit"] : "ignore",
      env,
      detached: true,
    });
    this.child = child;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        if (child.signalCode === "SIGKILL" && faultPoint) return "killed";
        throw new Error(`dutyproof serve exited (${child.exitCode ?? child.signalCode}) before it was ready`);
      }
      try {
        if ((await fetch(`${this.url}/readyz`)).status === 200) return "ready";
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`dutyproof serve did not become ready within ${timeoutMs} ms`);
  }

  /** Resolves when the gateway process has exited (on its own fault point, or killed). */
  exited(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => child.once("exit", () => resolve()));
  }

  /** SIGKILL to the whole process group: the gateway and its chain node, no cleanup. */
  killAll(): void {
    if (this.child?.pid) {
      try {
        process.kill(-this.child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  /** SIGTERM, a clean stop (the chain is snapshotted on the way out). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) {
      this.killAll();
      return;
    }
    const exited = this.exited();
    process.kill(-child.pid, "SIGTERM");
    await Promise.race([exited, sleep(10_000)]);
    this.killAll();
    await sleep(300);
  }
}

/** A unit registered on the gateway's ledger, signing with the native library (fast). */
export interface TestUnit {
  unitId: string;
  dutyTypeId: string;
  deployment: Deployment;
  sign: (n: number) => { envelope: RecordEnvelope; signature: string };
}

/** Registers a unit with the operator's key and snapshots the chain so the registration survives a kill. */
export async function registerUnit(dataDir: string, gatewayUrl: string, rng: Rng): Promise<TestUnit> {
  const deployment = JSON.parse(readFileSync(join(dataDir, "deployment.json"), "utf8")) as Deployment;
  const provider = chainOwnerProvider(dataDir);
  const operator = new Wallet(readFileSync(join(dataDir, "keys", "operator.key"), "utf8").trim(), provider);
  const ledger = new Contract(deployment.address, loadDutyLedgerArtifact().abi as never, operator);
  const key = new Wallet(rng.hex32().replace(/^(0x)?/, "0x"));
  const unitId = id(`unit:faults-${bytesToHex(rng.bytes(4))}`);
  await (await ledger.getFunction("registerUnit")(unitId, "0x" + "00".repeat(32), 3, key.address)).wait();
  await new LocalChainNode({ stateDir: join(dataDir, "chain") }).snapshot();
  provider.destroy();
  const catalog = (
    (await (await fetch(`${gatewayUrl}/v1/duty-types`)).json()) as { dutyTypes: Array<{ id: string; code: string }> }
  ).dutyTypes;
  const dutyTypeId = catalog.find((d) => d.code === "grid-patrol")!.id;
  const domain = eip712Domain(deployment.chainId, deployment.address);
  const privateKey = hexToBytes(key.privateKey);
  const sign = (n: number) => {
    const envelope: RecordEnvelope = {
      version: 2,
      logId: deployment.logId,
      unitId,
      dutyTypeId,
      performedAt: Math.floor(Date.now() / 1000) - 60,
      fields: { gridCode: `F-${n}`, durationMinutes: 30, issuesFound: n % 4, gridWorker: "网格员" },
      salt: rng.hex32(),
    };
    const { signature, recid } = native.ecdsaSign(typedDataDigest(domain, signedMessageOf(envelope)), privateKey);
    return { envelope, signature: bytesToHex(signature) + (27 + recid).toString(16) };
  };
  return { unitId, dutyTypeId, deployment, sign };
}

/** Every acknowledgment the gateway gave: recordId → leaf index. */
export type Acknowledged = Map<string, number>;

/**
 * Submits records from `singles` single-endpoint clients and `batchers` batch clients (10 a
 * request) until `stop()` returns true. A record counts as acknowledged only when its 200/201
 * answer arrived; a connection cut by a kill acknowledges nothing.
 */
export async function submitUntil(
  url: string,
  unit: TestUnit,
  acknowledged: Acknowledged,
  stop: () => boolean,
  { singles = 3, batchers = 1, counter = { next: 0 } } = {},
): Promise<{ sent: number; acknowledged: number }> {
  let sent = 0;
  let acks = 0;
  const remember = (ack: { recordId: string; leafIndex: number }) => {
    const before = acknowledged.get(ack.recordId);
    if (before !== undefined && before !== ack.leafIndex) {
      throw new Error(`record ${ack.recordId} acknowledged at leaf ${before}, then at ${ack.leafIndex}`);
    }
    acknowledged.set(ack.recordId, ack.leafIndex);
    acks++;
  };
  const post = async (path: string, body: unknown) => {
    try {
      const res = await fetch(url + path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    } catch {
      return null; // the gateway died under us: nothing acknowledged
    }
  };
  const single = async () => {
    while (!stop()) {
      const record = unit.sign(counter.next++);
      sent++;
      const answer = await post("/v1/attestations", record);
      if (answer && (answer.status === 201 || answer.status === 200)) remember(answer.body as never);
      else if (!answer) await sleep(20);
    }
  };
  const batch = async () => {
    while (!stop()) {
      const items = Array.from({ length: 10 }, () => unit.sign(counter.next++));
      sent += items.length;
      const answer = await post("/v1/attestations/batch", { items });
      if (answer?.status === 200) {
        for (const r of answer.body.results as Array<{ status: number; recordId: string; leafIndex: number }>) {
          if (r.status === 201 || r.status === 200) remember(r);
        }
      } else if (!answer) await sleep(20);
    }
  };
  await Promise.all([...Array.from({ length: singles }, single), ...Array.from({ length: batchers }, batch)]);
  return { sent, acknowledged: acks };
}

/** A read-only view of the ledger contract on the embedded node of `dataDir`'s gateway. */
export function ledgerReader(dataDir: string, deployment: Deployment) {
  const provider = chainOwnerProvider(dataDir);
  const ledger = new Contract(deployment.address, loadDutyLedgerArtifact().abi as never, provider);
  return {
    provider,
    async head(): Promise<{ size: number; root: string; count: number }> {
      const [size, checkpoint] = await ledger.getFunction("latestCheckpoint")(deployment.logId);
      const head = await ledger.getFunction("logHead")(deployment.logId);
      return { size: Number(size), root: checkpoint.root as string, count: Number(head.checkpointCount) };
    },
    async rootAt(size: number): Promise<string | null> {
      const [found, checkpoint] = await ledger.getFunction("checkpointAt")(deployment.logId, size);
      return found ? (checkpoint.root as string) : null;
    },
    async anchoredInclusion(receipt: Record<string, any>): Promise<boolean> {
      const [included] = await ledger.getFunction("verifyAnchoredInclusion")(
        receipt.logId,
        receipt.leafHash,
        receipt.leafIndex,
        receipt.treeSize,
        receipt.inclusionProof,
      );
      return included as boolean;
    },
  };
}

/**
 * GET and parse JSON from a gateway that is meant to be up. A connection the client kept alive
 * to the previous (killed) process on the same port fails once with ECONNRESET; that transport
 * error is retried, a gateway that stays unreachable is not.
 */
export async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(url);
      return { status: res.status, body: (await res.json()) as T };
    } catch (error) {
      if (attempt >= 3) throw error;
      await sleep(100);
    }
  }
}
