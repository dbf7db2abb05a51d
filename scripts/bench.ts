/**
 * Gateway benchmark: signed records through the single and the batch endpoint, durably
 * acknowledged, and the time from acknowledgment to an anchored receipt. The gateway runs as
 * its own `dutyproof serve` process with its embedded chain; this process only sends load
 * (records are signed before the clock starts: signing is the unit's cost, not the gateway's).
 *
 *   npm run bench            full run (builds a 1M-leaf log)
 *   npm run bench -- --quick under two minutes; figures at 1M leaves are extrapolated and say so
 *
 * Phases: ingest (single, batch, ack → anchored); the baseline of one transaction per record on
 * the same chain node; gas per record by checkpoint size; the proof service, memory and proof
 * verification at a large log (scripts/benchPhases.ts). Writes bench/results.json:
 * {"machine": …, "figures": [{"name","value","unit","baseline","target", "estimated"?, "note"?}]}.
 * Figures from steps that live elsewhere are merged in through `externalSteps` below.
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, platform, release, totalmem } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { Contract, Wallet, id } from "ethers";
import { bytesToHex, hexToBytes } from "../server/core/bytes.ts";
import { eip712Domain, recordMessageDigest, typedDataDigest } from "../server/core/eip712.ts";
import { type RecordEnvelope, recordDigest, signedMessageOf } from "../server/core/record.ts";
import { recoverSigner } from "../server/crypto/recoverSigner.ts";
import { deriveRecord } from "../server/crypto/deriveRecord.ts";
import { installNativeHashes } from "../server/crypto/nativeHashes.ts";
import { loadDutyLedgerArtifact } from "../server/chain/dutyLedgerArtifact.ts";
import { LocalChainNode, localChainSocket } from "../server/chain/LocalChainNode.ts";
import { IpcJsonRpcProvider } from "../server/chain/IpcJsonRpc.ts";
import type { Deployment } from "../server/chain/deployment.ts";
import { startServe } from "./startServe.ts";
import { tempDir } from "./tempDir.ts";
import {
  type Figure,
  benchFields,
  extrapolate,
  figure,
  growStore,
  measureGasPerRecord,
  measureOnChainVerifyGas,
  measureProofService,
  measureStoreAppend,
  measureTransactionPerRecord,
  measureTypeScriptVerify,
  percentile,
  rssMiB,
  sampleLeafHashes,
} from "./benchPhases.ts";
import { UniformTree, hashLeaf } from "../server/core/merkle/index.ts";
import { measureReplay } from "./bench-replay.ts";
import { measureMonitorFigures } from "./bench-monitor.ts";
import { measureSmFigures } from "./bench-sm.ts";
import { RawHttpConnection, cpuSecondsOf, httpCall } from "./benchHttp.ts";

/**
 * Steps whose code lives outside this file, run after the others; each returns figures for
 * results.json. The replay step belongs here: at merge, `measureReplay(records)` from
 * scripts/bench-replay.ts fills `replay_1m_s` (records/s at 1M records, signatures checked).
 */
const externalSteps: Array<() => Promise<Figure[]>> = [
  // The 国密 suite beside secp256k1: verification cost, ingest and replay (scripts/bench-sm.ts).
  () => measureSmFigures(quick),
  async () => {
    // Replay with every signature checked: 1M records, or 100,000 under --quick, scaled.
    const records = quick ? 100_000 : 1_000_000;
    console.error(`replay of ${records} records, every signature checked…`);
    const run = await measureReplay(records);
    const seconds = +((run.seconds * 1_000_000) / records).toFixed(1);
    return [
      figure("replay_1m_s", seconds, "s", {
        target: "<= 60",
        estimated: records < 1_000_000,
        note: `${run.records} records replayed in ${run.seconds.toFixed(1)} s (${run.recordsPerSecond} records/s; scripts/bench-replay.ts)${records < 1_000_000 ? ", scaled linearly to 1M" : ""}`,
      }),
      figure("replay_records_per_s", run.recordsPerSecond, "records/s"),
    ];
  },
  async () => {
    // Monitor catch-up on 10,000 new entries (scripts/bench-monitor.ts); the 1M-leaf log is
    // built only in a full run.
    const measured = await measureMonitorFigures(quick ? [100_000] : [100_000, 1_000_000]);
    const at100k = measured.monitor_catchup_10k_s_at_100k!;
    const at1m = measured.monitor_catchup_10k_s_at_1m;
    return [
      figure("monitor_catchup_10k_s_at_100k", at100k, "s", {
        target: "<= 2",
        note: `${measured.monitor_catchup_10k_cpu_s_at_100k} s of CPU in the process (monitor and the routes serving it)`,
      }),
      figure("monitor_catchup_10k_s_at_1m", at1m ?? null, "s", {
        target: "<= 2, and <= 1.25 × monitor_catchup_10k_s_at_100k",
        note:
          at1m === undefined
            ? "not built under --quick: npm run bench:monitor"
            : `${(at1m / at100k).toFixed(2)} × the figure at 100,000 leaves; ${measured.monitor_catchup_10k_cpu_s_at_1m} s of CPU`,
      }),
    ];
  },
];

const quick = process.argv.includes("--quick");
const singleCount = Number(process.env.BENCH_SINGLE ?? (quick ? 4_000 : 30_000));
/**
 * Single records sent before the single-endpoint clock starts and not counted: a fresh gateway
 * runs its first few thousand requests in V8's baseline tiers (noticeably more CPU per
 * request) before its hot code is optimised.
 */
const warmupCount = Number(process.env.BENCH_WARMUP ?? (quick ? 1_000 : 5_000));
/**
 * Concurrent connections on the single endpoint: many units submitting at once. With 64, the
 * gateway's main thread spends its time waiting on the request pipeline's hand-offs (workers,
 * LevelDB) and the cores are not saturated; figures at other counts: BENCH_CLIENTS.
 */
const singleClients = Number(process.env.BENCH_CLIENTS ?? 256);
/** The one-transaction-per-record baseline's concurrent senders. */
const baselineClients = Number(process.env.BENCH_BASELINE_CLIENTS ?? 64);
const batchCount = Number(process.env.BENCH_BATCH ?? (quick ? 20_000 : 200_000));
const baselineCount = Number(process.env.BENCH_BASELINE ?? (quick ? 400 : 3_000));
/** Log sizes at which the gateway's memory and proof service are measured. */
const logSizes = quick ? [60_000, 120_000] : [500_000, 1_000_000];
const batchSize = 500;
const anchorIntervalMs = Number(process.env.BENCH_ANCHOR_INTERVAL_MS ?? 1_000);

const native = createRequire(import.meta.url)("secp256k1") as {
  ecdsaSign(message: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recid: number };
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  // The per-record stage figures below are measured with the hashes the gateway uses.
  installNativeHashes();
  const dir = tempDir("bench");
  const port = 28_000 + Math.floor(Math.random() * 1_000);
  const chainPort = port + 1_000;
  const url = `http://127.0.0.1:${port}`;
  const serve = () =>
    startServe(
      url,
      {
        ...process.env,
        DATA_DIR: dir.path,
        PORT: String(port),
        CHAIN_PORT: String(chainPort),
        ANCHOR_INTERVAL_MS: String(anchorIntervalMs),
        ANCHOR_MAX_LEAVES: "50000",
        // One load generator stands for many clients and one unit for many units: limits off.
        RATE_LIMIT_CLIENT_PER_S: "0",
        RATE_LIMIT_UNIT_PER_S: "0",
      },
      {
        stdio: ["ignore", "ignore", "inherit"],
        nodeFlags: process.env.BENCH_SERVER_NODE_FLAGS?.split(" ").filter(Boolean) ?? [],
        timeoutMs: 60_000,
      },
    );
  const stop = async (child: ChildProcess) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  };
  let server: ChildProcess = await serve();
  try {
    const deployment = JSON.parse(readFileSync(join(dir.path, "deployment.json"), "utf8")) as Deployment;
    // The operator, as DATA_DIR's owner, reaches the embedded node over its IPC socket.
    const provider = new IpcJsonRpcProvider(localChainSocket(join(dir.path, "chain")));
    const operator = new Wallet(readFileSync(join(dir.path, "keys", "operator.key"), "utf8").trim(), provider);
    const ledger = new Contract(deployment.address, loadDutyLedgerArtifact().abi as never, operator);
    const unit = Wallet.createRandom();
    const unitId = id("unit:bench-village");
    await (await ledger.getFunction("registerUnit")(unitId, "0x" + "00".repeat(32), 3, unit.address)).wait();
    await new LocalChainNode({ stateDir: join(dir.path, "chain") }).snapshot();
    provider.destroy();
    const catalog = (
      JSON.parse((await httpCall(`${url}/v1/duty-types`, "GET")).text) as {
        dutyTypes: Array<{ id: string; code: string }>;
      }
    ).dutyTypes;
    const patrol = catalog.find((d) => d.code === "grid-patrol")!.id;
    const domain = eip712Domain(deployment.chainId, deployment.address);
    const key = hexToBytes(unit.privateKey);
    const now = Math.floor(Date.now() / 1000);
    const sign = (i: number) => {
      const envelope: RecordEnvelope = {
        version: 2,
        logId: deployment.logId,
        unitId,
        dutyTypeId: patrol,
        performedAt: now - 60,
        fields: benchFields(i),
        salt: bytesToHex(randomBytes(32)),
      };
      const { signature, recid } = native.ecdsaSign(typedDataDigest(domain, signedMessageOf(envelope)), key);
      return JSON.stringify({ envelope, signature: bytesToHex(signature) + (27 + recid).toString(16) });
    };
    console.error(`signing ${warmupCount + singleCount + batchCount} records…`);
    const warmup = Array.from({ length: warmupCount }, (_, i) => sign(singleCount + batchCount + i));
    const singles = Array.from({ length: singleCount }, (_, i) => sign(i));
    const batches: string[] = [];
    for (let b = 0; b < batchCount / batchSize; b++) {
      const items = Array.from({ length: batchSize }, (_, i) => sign(singleCount + b * batchSize + i));
      batches.push(`{"items":[${items.join(",")}]}`);
    }

    const latencies: number[] = [];
    const singleLeafHashes: string[] = [];
    // Ack → anchored: a sample of records is followed from its acknowledgment, concurrently
    // with the load. One poller asks for the latest anchored checkpoint every 25 ms; once it
    // covers a followed record's leaf, that record's receipt is fetched, and the delay counts
    // when the receipt is there. (A poll per followed record, as before, loaded the gateway with
    // receipt requests while it was being measured.)
    const anchorDelays: number[] = [];
    const followed = new Map<string, { leafIndex: number; at: number }>();
    let followedCount = 0;
    let loadDone = 0; // when the load ended (performance.now()), 0 while it runs
    const follower = (async () => {
      while (!loadDone || followed.size > 0) {
        if (loadDone && performance.now() - loadDone > 60_000) {
          throw new Error(`${followed.size} acknowledged records were not anchored within 60 s of the load's end`);
        }
        await sleep(25);
        const latest = await httpCall(`${url}/v1/checkpoints/latest`, "GET");
        if (latest.status !== 200) continue;
        const { size } = JSON.parse(latest.text) as { size: number };
        for (const [recordId, { leafIndex, at }] of followed) {
          if (leafIndex >= size) continue;
          const receipt = await httpCall(`${url}/v1/attestations/${recordId}/receipt`, "GET");
          if (receipt.status !== 200) continue;
          anchorDelays.push((Date.now() - at) / 1000);
          followed.delete(recordId);
        }
      }
    })();
    follower.catch(() => {}); // a failure is reported where it is awaited, after the load
    /**
     * Sends every body to `path` from `clients` concurrent keep-alive connections, each with one
     * request in flight; returns the seconds it took and the CPU per record of both sides.
     * Requests are encoded before the clock starts, as records are signed before it.
     */
    const drive = async (
      clients: number,
      bodies: string[],
      path: string,
      records: number,
      check: (status: number, body: string, sentAt: number) => void,
    ) => {
      const requests = bodies.map((body) => RawHttpConnection.post(url + path, body));
      let next = 0;
      const serverCpu = cpuSecondsOf(server.pid!);
      const clientCpu = process.cpuUsage();
      const start = performance.now();
      await Promise.all(
        Array.from({ length: clients }, async () => {
          const connection = new RawHttpConnection(url);
          try {
            while (next < requests.length) {
              const sentAt = performance.now();
              const res = await connection.send(requests[next++]!);
              check(res.status, res.body.toString("utf8"), sentAt);
            }
          } finally {
            connection.close();
          }
        }),
      );
      const seconds = (performance.now() - start) / 1000;
      const client = process.cpuUsage(clientCpu);
      return {
        seconds,
        serverUs: Math.round(((cpuSecondsOf(server.pid!) - serverCpu) * 1e6) / records),
        clientUs: Math.round((client.user + client.system) / records),
      };
    };

    // Warm-up, not timed: the same endpoint and load.
    await drive(singleClients, warmup, "/v1/attestations", warmup.length, (status, body) => {
      if (status !== 201) throw new Error(`single submit answered ${status}: ${body}`);
    });

    // Single endpoint: `singleClients` concurrent connections (BENCH_CLIENTS).
    const singleRun = await drive(
      singleClients,
      singles,
      "/v1/attestations",
      singles.length,
      (status, body, sentAt) => {
        if (status !== 201) throw new Error(`single submit answered ${status}: ${body}`);
        latencies.push(performance.now() - sentAt);
        const { recordId, leafHash, leafIndex } = JSON.parse(body) as {
          recordId: string;
          leafHash: string;
          leafIndex: number;
        };
        if (singleLeafHashes.length < baselineCount) singleLeafHashes.push(leafHash);
        if (followedCount < 50 && Math.random() < 0.01) {
          followedCount++;
          followed.set(recordId, { leafIndex, at: Date.now() });
        }
      },
    );
    latencies.sort((a, b) => a - b);
    loadDone = performance.now();
    await follower;
    anchorDelays.sort((a, b) => a - b);

    // Batch endpoint: 4 concurrent clients, 500 records a request.
    const batchRun = await drive(
      Number(process.env.BENCH_BATCH_CLIENTS ?? 4),
      batches,
      "/v1/attestations/batch",
      batchCount,
      (status, body) => {
        const out = JSON.parse(body) as { results?: Array<{ status: number }> };
        if (status !== 200 || out.results!.some((r) => r.status !== 201)) throw new Error("a batch item was refused");
      },
    );

    // What one record costs the gateway's CPU, stage by stage, on this machine (10,000 each).
    const stage = (f: (i: number) => unknown) => {
      const start = performance.now();
      for (let i = 0; i < 10_000; i++) f(i);
      return +(((performance.now() - start) * 1000) / 10_000).toFixed(1);
    };
    const sample = JSON.parse(singles[0]!) as { envelope: RecordEnvelope; signature: string };
    const sampleDigest = typedDataDigest(domain, signedMessageOf(sample.envelope));
    const sampleRecordDigest = recordDigest(sample.envelope);

    // The signed bodies are not needed again: freed, so that the load generator's collector does
    // not stall it for a large heap while it times the proof service.
    singles.length = 0;
    batches.length = 0;
    const singleRate = Math.round(singleCount / singleRun.seconds);
    const batchRate = Math.round(batchCount / batchRun.seconds);
    await stop(server);

    // The store on its own: what appending costs with no HTTP, no signatures and no gateway.
    console.error("the store on its own…");
    const storeAppend = await measureStoreAppend(quick ? 20_000 : 100_000, batchSize);

    // The chain node on its own (the gateway stopped): the baseline and the gas figures.
    console.error("baseline: one transaction per record; gas per record by checkpoint size…");
    const node = new LocalChainNode({ stateDir: join(dir.path, "chain") });
    await node.start();
    const chainProvider = new IpcJsonRpcProvider(node.ipcPath);
    const chainWallet = operator.connect(chainProvider);
    const baseline = await measureTransactionPerRecord(chainWallet, chainProvider, singleLeafHashes, baselineClients);
    const gas = await measureGasPerRecord(chainWallet, chainProvider, deployment.address, [100, 1_000, 10_000]);
    const gasTree = new UniformTree(hashLeaf(new TextEncoder().encode("dutyproof bench verify leaf")));
    const verifySize = 2 ** 20;
    const verifyIndex = Math.floor(verifySize * 0.37);
    const verifyArgs = {
      leafHash: bytesToHex(gasTree.root(1)),
      index: verifyIndex,
      size: verifySize,
      proof: gasTree.inclusionProof(verifyIndex, verifySize).map(bytesToHex),
      root: bytesToHex(gasTree.root(verifySize)),
    };
    const verifyGas = await measureOnChainVerifyGas(chainWallet, chainProvider, deployment.address, verifyArgs);
    const verifyUs = measureTypeScriptVerify(
      verifyArgs.leafHash,
      verifyArgs.index,
      verifyArgs.size,
      verifyArgs.proof,
      verifyArgs.root,
    );
    chainProvider.destroy();
    await node.stop();

    // The log grown through the store (not through signed submissions) to each size; at each,
    // the gateway restarted, its proof service loaded, its memory read.
    const rssPoints: Array<[number, number]> = [];
    const privatePoints: Array<[number, number]> = [];
    let proofs: Awaited<ReturnType<typeof measureProofService>> | null = null;
    let provedAt = 0;
    for (const target of [0, ...logSizes]) {
      const current = await growStore(dir.path, 0, "");
      const size = await growStore(dir.path, Math.max(0, target - current), `${target}`);
      console.error(`log of ${size} leaves: proof service and memory…`);
      const leafHashes = await sampleLeafHashes(dir.path, 2_000);
      server = await serve();
      proofs = await measureProofService(url, leafHashes, size, {
        seconds: quick ? 3 : 10,
        clients: 16,
        offeredPerSecond: 1_000,
      });
      provedAt = size;
      rssPoints.push([size, rssMiB(server.pid!)]);
      privatePoints.push([size, rssMiB(server.pid!, "RssAnon")]);
      await stop(server);
    }
    const largest = rssPoints[rssPoints.length - 1]![0];
    const rssAt = (n: number, points = rssPoints) => {
      const exact = points.find(([size]) => size >= n);
      return exact ? exact[1] : +extrapolate(points, n).toFixed(1);
    };
    const trendOf = (points: Array<[number, number]>) =>
      `linear fit through ${points.map(([n, mb]) => `${n} leaves: ${mb} MB`).join(", ")}`;
    const trend = trendOf(rssPoints);
    const proofNote =
      provedAt >= 1_000_000
        ? undefined
        : `measured at a ${provedAt}-leaf log (--quick); a 1M-leaf proof has ${Math.ceil(Math.log2(1_000_000))} hashes instead of ${Math.ceil(Math.log2(provedAt))}`;

    const figures: Figure[] = [
      figure("ingest_single_records_per_s", singleRate, "records/s", {
        baseline: baseline.recordsPerSecond,
        target: ">= 3000",
        note: `${singleClients} concurrent keep-alive connections, one request in flight each, after ${warmupCount} untimed requests; baseline: ${singleLeafHashes.length} of the same records, one RecordPerTransaction.anchorRecord transaction each (contracts/test), ${baselineClients} clients, counted when mined on the same anvil node (which does not fsync its state per block)`,
      }),
      figure("ingest_single_gateway_cpu_us_per_record", singleRun.serverUs, "µs", {
        note: "CPU time of the gateway process (all threads) per record, from /proc",
      }),
      figure("ingest_single_load_generator_cpu_us_per_record", singleRun.clientUs, "µs"),
      figure("ingest_batch_gateway_cpu_us_per_record", batchRun.serverUs, "µs"),
      figure("ingest_batch_load_generator_cpu_us_per_record", batchRun.clientUs, "µs"),
      figure("ingest_single_latency_p50_ms", +percentile(latencies, 50).toFixed(1), "ms", {
        baseline: baseline.p50Ms,
      }),
      figure("ingest_single_latency_p99_ms", +percentile(latencies, 99).toFixed(1), "ms", {
        baseline: baseline.p99Ms,
      }),
      figure("ingest_batch_records_per_s", batchRate, "records/s", {
        baseline: baseline.recordsPerSecond,
        target: ">= 10000",
      }),
      ...[100, 1_000, 10_000].map((n) =>
        figure(`gas_per_record_${n}`, +gas.get(n)!.toFixed(1), "gas", {
          baseline: baseline.gasPerRecord,
          target: n === 10_000 ? "<= 10" : null,
          note: `DutyLedger.anchor gasUsed / ${n}, consistency proof checked on chain, log of about 2^20 leaves`,
        }),
      ),
      figure("anchor_latency_p50_s", +percentile(anchorDelays, 50).toFixed(2), "s"),
      figure("anchor_latency_p95_s", +percentile(anchorDelays, 95).toFixed(2), "s", {
        target: `<= ${anchorIntervalMs / 1000 + 2}`,
      }),
      figure("verify_api_requests_per_s", proofs!.requestsPerSecond, "requests/s", {
        estimated: provedAt < 1_000_000,
        note: proofNote,
      }),
      figure("verify_api_p99_ms", proofs!.offeredP99Ms, "ms", {
        target: "<= 10 at 1000 requests/s",
        estimated: provedAt < 1_000_000,
        note: `GET /v1/proofs/inclusion offered at a fixed 1,000 requests/s, timed by the load generator on the same two cores from each request's due time${proofNote ? "; " + proofNote : ""}`,
      }),
      figure("verify_api_server_p99_ms_at_most", proofs!.serverP99BoundMs, "ms", {
        estimated: provedAt < 1_000_000,
        note: "the same requests timed by the gateway itself (from its request-duration histogram: the smallest bucket bound holding 99% of them), without waiting in socket queues or the load generator",
      }),
      figure("verify_typescript_us", verifyUs, "µs", {
        note: "server/core verifyInclusion, 20-hash proof (2^20 leaves)",
      }),
      figure("verify_onchain_gas", verifyGas, "gas", {
        target: "<= 20000",
        note: "DutyLedger.verifyInclusion execution gas via GasProbe, 20-hash proof",
      }),
      figure("rss_mb_1m", rssAt(1_000_000), "MB", {
        baseline: rssPoints[0]![1],
        estimated: largest < 1_000_000,
        note: `gateway process VmRSS after proof load; baseline: the same gateway at ${rssPoints[0]![0]} leaves; ${trend}`,
      }),
      figure("rss_mb_10m", +extrapolate(rssPoints, 10_000_000).toFixed(1), "MB", {
        target: "<= 300",
        estimated: true,
        note: trend,
      }),
      figure("rss_private_mb_1m", rssAt(1_000_000, privatePoints), "MB", {
        baseline: privatePoints[0]![1],
        estimated: largest < 1_000_000,
        note: "RssAnon: the gateway's own memory, without the LevelDB table pages it maps (page cache the kernel can drop)",
      }),
      figure(
        "rss_private_mb_10m",
        // A fit that slopes down says the memory does not grow: the largest measured value stands.
        Math.max(+extrapolate(privatePoints, 10_000_000).toFixed(1), ...privatePoints.map(([, mb]) => mb)),
        "MB",
        { estimated: true, note: `${trendOf(privatePoints)}; never below the largest measured value` },
      ),
      figure(
        "record_signer_recovery_us",
        stage(() => recoverSigner(sampleDigest, sample.signature)),
        "µs",
      ),
      figure(
        "record_eip712_digest_us",
        // As the gateway computes it: the record digest (the next figure) is already known.
        stage(() => recordMessageDigest(domain, sample.envelope, sampleRecordDigest)),
        "µs",
      ),
      figure(
        "record_jcs_sha256_us",
        stage(() => recordDigest(sample.envelope)),
        "µs",
      ),
      figure(
        "record_derive_us",
        stage(() => deriveRecord(sample.envelope, sample.signature, domain)),
        "µs",
        {
          note: "all of a record's signature work as a verify worker does it: the three stages above and the leaf hash",
        },
      ),
      figure("store_append_cpu_us_per_record", storeAppend.cpuUsPerRecord, "µs", {
        note: `LedgerStore.append alone, in this process: ${storeAppend.records} records in groups of ${batchSize} on a fresh store, CPU of every thread (LevelDB's compaction and thread pool included) from /proc`,
      }),
    ];
    for (const step of externalSteps) figures.push(...(await step()));
    const machine = {
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      os: `${platform()} ${release()}`,
      node: process.version,
      load: "the machine's other work is not measured; runs on a shared machine vary (see README)",
    };
    mkdirSync(join(import.meta.dirname, "..", "bench"), { recursive: true });
    writeFileSync(
      join(import.meta.dirname, "..", "bench", "results.json"),
      JSON.stringify({ machine, quick, figures }, null, 2) + "\n",
    );
    console.log(
      `gateway benchmark${quick ? " (--quick)" : ""}: ${singleCount} single, ${batchCount} batched (${batchSize}/request), checkpoint every ${anchorIntervalMs} ms`,
    );
    console.log("| figure | value | baseline | target |\n|---|---:|---:|---|");
    for (const f of figures) {
      const value = f.value === null ? "not measured" : `${f.estimated ? "~" : ""}${f.value} ${f.unit}`;
      console.log(`| ${f.name} | ${value} | ${f.baseline ?? ""} | ${f.target ?? ""} |`);
    }
  } finally {
    await stop(server);
    dir.remove();
  }
}

main().catch((error: unknown) => {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
