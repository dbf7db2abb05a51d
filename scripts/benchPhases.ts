/**
 * The benchmark's phases beyond ingest (scripts/bench.ts runs them in order): the one
 * transaction per record baseline, gas per record by checkpoint size, the proof service at a
 * large log, and the gateway's memory as the log grows. Each returns figures for
 * bench/results.json.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Contract, ContractFactory, type JsonRpcProvider, Transaction, type Wallet, id } from "ethers";
import { bytesToHex, hexToBytes } from "../server/core/bytes.ts";
import { UniformTree, hashLeaf, verifyInclusion } from "../server/core/merkle/index.ts";
import { loadDutyLedgerArtifact } from "../server/chain/dutyLedgerArtifact.ts";
import { LedgerStore } from "../server/store/LedgerStore.ts";
import type { RecordEnvelope } from "../server/core/record.ts";
import { tempDir } from "./tempDir.ts";
import { cpuSecondsOf, httpCall } from "./benchHttp.ts";

/** One line of bench/results.json. `value` null means the step that measures it has not run. */
export interface Figure {
  name: string;
  value: number | null;
  unit: string;
  baseline: number | null;
  target: string | null;
  /** Extrapolated from smaller runs (under --quick, or past what was built); see `note`. */
  estimated?: boolean;
  note?: string;
}

export const figure = (
  name: string,
  value: number | null,
  unit: string,
  extra: Partial<Pick<Figure, "baseline" | "target" | "estimated" | "note">> = {},
): Figure => ({ name, value, unit, baseline: extra.baseline ?? null, target: extra.target ?? null, ...extra });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

function loadArtifact(path: string): { abi: unknown[]; bytecode: string } {
  const file = join(import.meta.dirname, "..", "artifacts", "contracts", ...path.split("/"));
  return JSON.parse(readFileSync(file, "utf8")) as { abi: unknown[]; bytecode: string };
}

async function receiptOf(provider: JsonRpcProvider, hash: string) {
  for (;;) {
    const receipt = await provider.getTransactionReceipt(hash);
    if (receipt) return receipt;
    await sleep(5);
  }
}

/**
 * Baseline: the same records anchored one transaction per record, each its leaf hash stored
 * and logged by contracts/test/RecordPerTransaction.sol (a plain hash registry), sent from
 * `clients` concurrent clients to the same chain node; a record counts once its transaction is
 * mined. Transactions are signed before the clock starts, as records are.
 */
export async function measureTransactionPerRecord(
  wallet: Wallet,
  provider: JsonRpcProvider,
  leafHashes: string[],
  clients: number,
): Promise<{ recordsPerSecond: number; p50Ms: number; p99Ms: number; gasPerRecord: number }> {
  const artifact = loadArtifact("test/RecordPerTransaction.sol/RecordPerTransaction.json");
  const factory = new ContractFactory(artifact.abi as never, artifact.bytecode, wallet);
  const registry = await factory.deploy();
  await receiptOf(provider, registry.deploymentTransaction()!.hash);
  const target = await registry.getAddress();
  const contract = new Contract(target, artifact.abi as never, wallet);
  const nonce = await provider.getTransactionCount(wallet.address, "pending");
  const { chainId } = await provider.getNetwork();
  const feeData = await provider.getFeeData();
  const signed: string[] = [];
  for (const [i, leafHash] of leafHashes.entries()) {
    const request = await contract.getFunction("anchorRecord").populateTransaction(leafHash);
    const tx = Transaction.from({
      ...request,
      nonce: nonce + i,
      chainId,
      gasLimit: 80_000n,
      maxFeePerGas: feeData.maxFeePerGas! * 2n,
      maxPriorityFeePerGas: feeData.maxPriorityFeePerGas ?? 1n,
      type: 2,
    });
    signed.push(await wallet.signTransaction(tx));
  }
  const latencies: number[] = [];
  let gas = 0n;
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < signed.length) {
        const raw = signed[next++]!;
        const sentAt = performance.now();
        const hash = Transaction.from(raw).hash!;
        await provider.broadcastTransaction(raw);
        const receipt = await receiptOf(provider, hash);
        if (receipt.status !== 1) throw new Error("a baseline transaction reverted");
        gas += receipt.gasUsed;
        latencies.push(performance.now() - sentAt);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    recordsPerSecond: Math.round(leafHashes.length / seconds),
    p50Ms: +percentile(latencies, 50).toFixed(1),
    p99Ms: +percentile(latencies, 99).toFixed(1),
    gasPerRecord: Math.round(Number(gas) / leafHashes.length),
  };
}

/**
 * Gas per record of DutyLedger's anchor transaction (receipt gasUsed, the on-chain consistency
 * check included) when a checkpoint covers `records` records on a log of about 2^20 leaves, the
 * method of scripts/gas-report.ts on the benchmark's chain node. Each size runs on a fresh log
 * whose first checkpoint is not measured, so the measured anchor updates an existing log head.
 */
export async function measureGasPerRecord(
  wallet: Wallet,
  provider: JsonRpcProvider,
  ledgerAddress: string,
  recordsPerCheckpoint: number[],
): Promise<Map<number, number>> {
  const ledger = new Contract(ledgerAddress, loadDutyLedgerArtifact().abi as never, wallet);
  const tree = new UniformTree(hashLeaf(new TextEncoder().encode("dutyproof bench gas leaf")));
  const from = 2 ** 20 + 12_345;
  const out = new Map<number, number>();
  const send = async (call: Promise<{ hash: string }>) => {
    const receipt = await receiptOf(provider, (await call).hash);
    if (receipt.status !== 1) throw new Error("an anchor transaction reverted");
    return receipt;
  };
  for (const records of recordsPerCheckpoint) {
    const logId = id(`log:bench-gas:${records}:${Date.now()}`);
    await send(ledger.getFunction("createLog")(logId, wallet.address));
    await send(ledger.getFunction("anchor")(logId, from, bytesToHex(tree.root(from)), []));
    const to = from + records;
    const proof = tree.consistencyProof(from, to).map(bytesToHex);
    const receipt = await send(ledger.getFunction("anchor")(logId, to, bytesToHex(tree.root(to)), proof));
    out.set(records, Number(receipt.gasUsed) / records);
  }
  return out;
}

/** The grid-patrol fields of the benchmark's `i`-th record. */
export const benchFields = (i: number) => ({
  gridCode: `B-${i}`,
  durationMinutes: 45,
  issuesFound: i % 3,
  gridWorker: "网格员",
});

/**
 * CPU (every thread of this process, LevelDB's own included) per record appended to a fresh
 * LedgerStore in groups of `group`, as the gateway's batch endpoint appends them: the store's
 * share of a record's cost, without HTTP, signatures or anything else of the gateway's.
 */
export async function measureStoreAppend(
  count: number,
  group: number,
): Promise<{ records: number; cpuUsPerRecord: number }> {
  const dir = tempDir("bench-store");
  const store = new LedgerStore(join(dir.path, "ledger"));
  try {
    await store.open();
    const requests = Array.from({ length: count }, (_, i) => {
      const envelope: RecordEnvelope = {
        version: 2,
        logId: "0x" + "ef".repeat(32),
        unitId: "0x" + "ab".repeat(32),
        dutyTypeId: "0x" + "cd".repeat(32),
        performedAt: 1_795_000_000,
        fields: benchFields(i),
        salt: bytesToHex(randomBytes(32)),
      };
      return {
        recordId: bytesToHex(randomBytes(32)),
        envelope,
        signature: bytesToHex(randomBytes(65)),
        signer: "0x" + "12".repeat(20),
        leafHash: new Uint8Array(randomBytes(32)),
      };
    });
    const before = cpuSecondsOf(process.pid);
    for (let at = 0; at < count; at += group) {
      await Promise.all(requests.slice(at, at + group).map((request) => store.append(request)));
    }
    // Compaction the appends set off counts too: LevelDB's background thread gets 2 s to run it.
    await sleep(2_000);
    const cpu = cpuSecondsOf(process.pid) - before;
    return { records: count, cpuUsPerRecord: Math.round((cpu * 1e6) / count) };
  } finally {
    await store.close();
    dir.remove();
  }
}

/** Appends `count` records straight to a (closed) gateway's store: the fast way to a large log. */
export async function growStore(dataDir: string, count: number, tag: string): Promise<number> {
  const store = new LedgerStore(join(dataDir, "ledger"));
  await store.open();
  try {
    const chunk = 5_000;
    const encoder = new TextEncoder();
    for (let base = 0; base < count; base += chunk) {
      const n = Math.min(chunk, count - base);
      await Promise.all(
        Array.from({ length: n }, (_, i) => {
          const leafHash = hashLeaf(encoder.encode(`bench ${tag} ${base + i}`));
          return store.append({
            recordId: bytesToHex(leafHash),
            envelope: {} as never,
            signature: "0x",
            signer: "0x",
            leafHash,
          });
        }),
      );
    }
    return store.treeSize;
  } finally {
    await store.close();
  }
}

/**
 * A process's resident set size in MiB, from /proc: all of it (VmRSS), or only its anonymous
 * memory (RssAnon: heaps and stacks, without the file pages it maps, such as LevelDB's tables).
 */
export function rssMiB(pid: number, part: "VmRSS" | "RssAnon" = "VmRSS"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = Number(new RegExp(`${part}:\\s+(\\d+)\\s+kB`).exec(status)?.[1] ?? NaN);
  return +(kib / 1024).toFixed(1);
}

/** Leaf hashes at random positions of the log, for proof requests. */
export async function sampleLeafHashes(dataDir: string, count: number): Promise<string[]> {
  const store = new LedgerStore(join(dataDir, "ledger"));
  await store.open();
  try {
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const index = Math.floor(Math.random() * store.treeSize);
      const record = await store.getRecord((await store.recordIdAt(index))!);
      out.push(record!.leafHash);
    }
    return out;
  } finally {
    await store.close();
  }
}

/**
 * The proof service under load: GET /v1/proofs/inclusion for random leaves. `closedLoop`: as
 * many requests as `clients` clients can make in `seconds` (requests/s). `offered`: requests
 * started at a fixed rate whatever the answers do (open loop), latency from each request's
 * start, so a slow answer cannot hold the next request back and hide itself.
 */
export async function measureProofService(
  url: string,
  leafHashes: string[],
  treeSize: number,
  { seconds, clients, offeredPerSecond }: { seconds: number; clients: number; offeredPerSecond: number },
): Promise<{
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  offeredP99Ms: number;
  /** Upper bound of the gateway's own duration histogram holding 99% of the open-loop requests. */
  serverP99BoundMs: number | null;
  proof: string[];
}> {
  const path = (i: number) =>
    `${url}/v1/proofs/inclusion?leafHash=${leafHashes[i % leafHashes.length]}&treeSize=${treeSize}`;
  const get = async (i: number) => {
    const res = await httpCall(path(i), "GET");
    const body = JSON.parse(res.text) as { proof: string[] };
    if (res.status !== 200) throw new Error(`proof request answered ${res.status}`);
    return body;
  };
  const { proof } = await get(0);
  let count = 0;
  const closedDeadline = performance.now() + seconds * 1000;
  const closedStart = performance.now();
  const closedLatencies: number[] = [];
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < closedDeadline) {
        const t = performance.now();
        await get(count++);
        closedLatencies.push(performance.now() - t);
      }
    }),
  );
  const requestsPerSecond = Math.round(count / ((performance.now() - closedStart) / 1000));
  closedLatencies.sort((a, b) => a - b);

  const total = Math.round(offeredPerSecond * seconds);
  const offered: number[] = [];
  const inFlight: Array<Promise<void>> = [];
  const before = await serverDurations(url);
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / offeredPerSecond;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    // Bodies were checked in the closed loop; here the load generator does as little as it can.
    inFlight.push(
      httpCall(path(i), "GET").then((res) => {
        if (res.status !== 200) throw new Error(`proof request answered ${res.status}`);
        offered.push(performance.now() - due);
      }),
    );
  }
  await Promise.all(inFlight);
  offered.sort((a, b) => a - b);
  const after = await serverDurations(url);
  const served = after.map(([le, n], i) => [le, n - (before[i]?.[1] ?? 0)] as const);
  const all = served.at(-1)?.[1] ?? 0;
  const bound = served.find(([, n]) => all > 0 && n >= 0.99 * all)?.[0];
  return {
    requestsPerSecond,
    p50Ms: +percentile(closedLatencies, 50).toFixed(2),
    p99Ms: +percentile(closedLatencies, 99).toFixed(2),
    offeredP99Ms: +percentile(offered, 99).toFixed(2),
    serverP99BoundMs: bound === undefined || !Number.isFinite(bound) ? null : bound * 1000,
    proof,
  };
}

/**
 * The gateway's own histogram of GET /v1/proofs/inclusion durations (from reading the request
 * to the end of the answer), cumulative, as [upper bound in seconds, count] from /metrics.
 */
async function serverDurations(url: string): Promise<Array<[number, number]>> {
  const text = (await httpCall(`${url}/metrics`, "GET")).text;
  const out: Array<[number, number]> = [];
  for (const line of text.split("\n")) {
    const match =
      /^dutyproof_http_request_duration_seconds_bucket\{le="([^"]+)",method="GET",route="\/v1\/proofs\/inclusion"\} (\d+)/.exec(
        line,
      );
    if (match) out.push([match[1] === "+Inf" ? Infinity : Number(match[1]), Number(match[2])]);
  }
  return out;
}

/** Microseconds per TypeScript inclusion verification (server/core/merkle), over `runs` runs. */
export function measureTypeScriptVerify(leafHash: string, index: number, size: number, proof: string[], root: string) {
  const leaf = hexToBytes(leafHash);
  const hashes = proof.map(hexToBytes);
  const expected = hexToBytes(root);
  const runs = 20_000;
  const start = performance.now();
  for (let i = 0; i < runs; i++) verifyInclusion(leaf, index, size, hashes, expected);
  return +(((performance.now() - start) * 1000) / runs).toFixed(2);
}

/** Execution gas of DutyLedger.verifyInclusion for one proof, measured inside the EVM (GasProbe). */
export async function measureOnChainVerifyGas(
  wallet: Wallet,
  provider: JsonRpcProvider,
  ledgerAddress: string,
  args: { leafHash: string; index: number; size: number; proof: string[]; root: string },
): Promise<number> {
  const artifact = loadArtifact("test/GasProbe.sol/GasProbe.json");
  const probe = await new ContractFactory(artifact.abi as never, artifact.bytecode, wallet).deploy();
  await receiptOf(provider, probe.deploymentTransaction()!.hash);
  const [gasUsed, valid] = await new Contract(await probe.getAddress(), artifact.abi as never, provider).getFunction(
    "measureVerifyInclusion",
  )(ledgerAddress, args.leafHash, args.index, args.size, args.proof, args.root);
  if (!valid) throw new Error("the proof did not verify on chain");
  return Number(gasUsed);
}

/** Least-squares line through (x, y) points, evaluated at `at`. */
export function extrapolate(points: Array<[number, number]>, at: number): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const slope = sxx === 0 ? 0 : points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / sxx;
  return my + slope * (at - mx);
}
