/**
 * Gateway benchmark: signed records through the single and the batch endpoint, durably
 * acknowledged, and the time from acknowledgment to an anchored receipt. The gateway runs as
 * its own `dutyproof serve` process with its embedded chain; this process only sends load
 * (records are signed before the clock starts: signing is the unit's cost, not the gateway's).
 *
 *   npm run bench            full run
 *   npm run bench -- --quick about a minute
 *
 * Writes bench/results.json: {"machine": …, "figures": [{"name","value","unit","baseline","target"}]}.
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { Contract, JsonRpcProvider, Wallet, id } from "ethers";
import { bytesToHex, hexToBytes } from "../server/core/bytes.ts";
import { eip712Domain, typedDataDigest } from "../server/core/eip712.ts";
import { type RecordEnvelope, recordDigest, signedMessageOf } from "../server/core/record.ts";
import { recoverSigner } from "../server/crypto/recoverSigner.ts";
import { loadDutyLedgerArtifact } from "../server/chain/dutyLedgerArtifact.ts";
import { LocalChainNode } from "../server/chain/LocalChainNode.ts";
import type { Deployment } from "../server/chain/deployment.ts";
import { startServe } from "../test/helpers/serve.ts";
import { tempDir } from "../test/helpers/tempDir.ts";

const quick = process.argv.includes("--quick");
const singleCount = Number(process.env.BENCH_SINGLE ?? (quick ? 6_000 : 30_000));
const batchCount = Number(process.env.BENCH_BATCH ?? (quick ? 30_000 : 200_000));
const batchSize = 500;
const anchorIntervalMs = Number(process.env.BENCH_ANCHOR_INTERVAL_MS ?? 1_000);

const native = createRequire(import.meta.url)("secp256k1") as {
  ecdsaSign(message: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recid: number };
};

/**
 * The load generator's HTTP client: node:http with keep-alive. Node's fetch costs about 550 µs
 * of CPU per request here against 160 µs for this, and the load generator shares the machine's
 * two cores with the gateway it measures.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
function httpCall(url: string, method: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(body);
    }
    const req = request(url, { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** CPU seconds (user + system, every thread) a process has used, from /proc. */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function main(): Promise<void> {
  const dir = tempDir("bench");
  const port = 28_000 + Math.floor(Math.random() * 1_000);
  const chainPort = port + 1_000;
  const url = `http://127.0.0.1:${port}`;
  const server: ChildProcess = await startServe(
    url,
    {
      ...process.env,
      DATA_DIR: dir.path,
      PORT: String(port),
      CHAIN_PORT: String(chainPort),
      ANCHOR_INTERVAL_MS: String(anchorIntervalMs),
      ANCHOR_MAX_LEAVES: "50000",
      // One load generator stands for many clients and one unit for many units: rate limits off.
      RATE_LIMIT_CLIENT_PER_S: "0",
      RATE_LIMIT_UNIT_PER_S: "0",
    },
    {
      stdio: ["ignore", "ignore", "inherit"],
      nodeFlags: process.env.BENCH_SERVER_NODE_FLAGS?.split(" ").filter(Boolean) ?? [],
      timeoutMs: 60_000,
    },
  );
  try {
    const deployment = JSON.parse(readFileSync(join(dir.path, "deployment.json"), "utf8")) as Deployment;
    const provider = new JsonRpcProvider(`http://127.0.0.1:${chainPort}`, undefined, {
      staticNetwork: true,
      cacheTimeout: -1,
    });
    const operator = new Wallet(readFileSync(join(dir.path, "keys", "operator.key"), "utf8").trim(), provider);
    const ledger = new Contract(deployment.address, loadDutyLedgerArtifact().abi as never, operator);
    const unit = Wallet.createRandom();
    const unitId = id("unit:bench-village");
    await (await ledger.getFunction("registerUnit")(unitId, "0x" + "00".repeat(32), 3, unit.address)).wait();
    await new LocalChainNode({ stateDir: join(dir.path, "chain"), port: chainPort }).snapshot();
    provider.destroy();
    const catalog = (
      (await (await fetch(`${url}/v1/duty-types`)).json()) as { dutyTypes: Array<{ id: string; code: string }> }
    ).dutyTypes;
    const patrol = catalog.find((d) => d.code === "grid-patrol")!.id;
    const domain = eip712Domain(deployment.chainId, deployment.address);
    const key = hexToBytes(unit.privateKey);
    const now = Math.floor(Date.now() / 1000);
    const sign = (i: number) => {
      const envelope: RecordEnvelope = {
        version: 1,
        unitId,
        dutyTypeId: patrol,
        performedAt: now - 60,
        fields: { gridCode: `B-${i}`, durationMinutes: 45, issuesFound: i % 3, gridWorker: "网格员" },
        salt: bytesToHex(randomBytes(32)),
      };
      const { signature, recid } = native.ecdsaSign(typedDataDigest(domain, signedMessageOf(envelope)), key);
      return JSON.stringify({ envelope, signature: bytesToHex(signature) + (27 + recid).toString(16) });
    };
    console.error(`signing ${singleCount + batchCount} records…`);
    const singles = Array.from({ length: singleCount }, (_, i) => sign(i));
    const batches: string[] = [];
    for (let b = 0; b < batchCount / batchSize; b++) {
      const items = Array.from({ length: batchSize }, (_, i) => sign(singleCount + b * batchSize + i));
      batches.push(`{"items":[${items.join(",")}]}`);
    }

    // Single endpoint: 64 concurrent clients.
    const latencies: number[] = [];
    // Ack → anchored: a sample of records is followed from its acknowledgment, concurrently
    // with the load, by polling its receipt every 50 ms (few enough polls not to load the gateway).
    const anchorDelays: number[] = [];
    const following: Array<Promise<void>> = [];
    const follow = (recordId: string, at: number) =>
      following.push(
        (async () => {
          for (;;) {
            const res = await httpCall(`${url}/v1/attestations/${recordId}/receipt`, "GET");
            if (res.status === 200) {
              anchorDelays.push((Date.now() - at) / 1000);
              return;
            }
            await sleep(50);
          }
        })(),
      );
    const cpuPerRecord: Array<{ path: string; serverUs: number; clientUs: number }> = [];
    const records = (bodies: string[]) => (bodies === batches ? batchCount : bodies.length);
    /** Sends every body to `path` from `clients` concurrent clients; returns the seconds it took. */
    const drive = async (
      clients: number,
      bodies: string[],
      path: string,
      check: (status: number, body: string, sentAt: number) => void,
    ) => {
      let next = 0;
      const serverCpu = cpuSecondsOf(server.pid!);
      const clientCpu = process.cpuUsage();
      const start = performance.now();
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (next < bodies.length) {
            const sentAt = performance.now();
            const res = await httpCall(url + path, "POST", bodies[next++]!);
            check(res.status, res.text, sentAt);
          }
        }),
      );
      const seconds = (performance.now() - start) / 1000;
      const client = process.cpuUsage(clientCpu);
      cpuPerRecord.push({
        path,
        serverUs: Math.round(((cpuSecondsOf(server.pid!) - serverCpu) * 1e6) / records(bodies)),
        clientUs: Math.round((client.user + client.system) / records(bodies)),
      });
      return seconds;
    };

    // Single endpoint: 64 concurrent clients (BENCH_CLIENTS).
    const singleSeconds = await drive(
      Number(process.env.BENCH_CLIENTS ?? 64),
      singles,
      "/v1/attestations",
      (status, body, sentAt) => {
        if (status !== 201) throw new Error(`single submit answered ${status}: ${body}`);
        latencies.push(performance.now() - sentAt);
        const { recordId } = JSON.parse(body) as { recordId: string };
        if (following.length < 50 && Math.random() < 0.01) follow(recordId, Date.now());
      },
    );
    latencies.sort((a, b) => a - b);
    await Promise.all(following);
    anchorDelays.sort((a, b) => a - b);

    // Batch endpoint: 4 concurrent clients, 500 records a request.
    const batchSeconds = await drive(4, batches, "/v1/attestations/batch", (status, body) => {
      const out = JSON.parse(body) as { results?: Array<{ status: number }> };
      if (status !== 200 || out.results!.some((r) => r.status !== 201)) throw new Error("a batch item was refused");
    });

    // What one record costs the gateway's CPU, stage by stage, on this machine (10,000 each).
    const stage = (f: (i: number) => unknown) => {
      const start = performance.now();
      for (let i = 0; i < 10_000; i++) f(i);
      return +(((performance.now() - start) * 1000) / 10_000).toFixed(1);
    };
    const sample = JSON.parse(singles[0]!) as { envelope: RecordEnvelope; signature: string };
    const sampleDigest = typedDataDigest(domain, signedMessageOf(sample.envelope));

    const figure = (name: string, value: number, unit: string, target: string | null = null) => ({
      name,
      value,
      unit,
      baseline: null,
      target,
    });
    const [singleCpu, batchCpu] = cpuPerRecord;
    const figures = [
      figure("ingest_single_records_per_s", Math.round(singleCount / singleSeconds), "records/s", ">= 3000"),
      figure("ingest_single_gateway_cpu_us_per_record", singleCpu!.serverUs, "µs"),
      figure("ingest_single_load_generator_cpu_us_per_record", singleCpu!.clientUs, "µs"),
      figure("ingest_single_latency_p50_ms", +percentile(latencies, 50).toFixed(1), "ms"),
      figure("ingest_single_latency_p99_ms", +percentile(latencies, 99).toFixed(1), "ms"),
      figure("ingest_batch_records_per_s", Math.round(batchCount / batchSeconds), "records/s", ">= 10000"),
      figure("ingest_batch_gateway_cpu_us_per_record", batchCpu!.serverUs, "µs"),
      figure("anchor_latency_p50_s", +percentile(anchorDelays, 50).toFixed(2), "s"),
      figure(
        "anchor_latency_p95_s",
        +percentile(anchorDelays, 95).toFixed(2),
        "s",
        `<= ${anchorIntervalMs / 1000 + 2}`,
      ),
      figure(
        "record_signer_recovery_us",
        stage(() => recoverSigner(sampleDigest, sample.signature)),
        "µs",
      ),
      figure(
        "record_eip712_digest_us",
        stage(() => typedDataDigest(domain, signedMessageOf(sample.envelope))),
        "µs",
      ),
      figure(
        "record_jcs_sha256_us",
        stage(() => recordDigest(sample.envelope)),
        "µs",
      ),
    ];
    const machine = {
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    };
    mkdirSync(join(import.meta.dirname, "..", "bench"), { recursive: true });
    writeFileSync(
      join(import.meta.dirname, "..", "bench", "results.json"),
      JSON.stringify({ machine, quick, figures }, null, 2) + "\n",
    );
    console.log(
      `gateway benchmark${quick ? " (--quick)" : ""}: ${singleCount} single, ${batchCount} batched (${batchSize}/request), checkpoint every ${anchorIntervalMs} ms`,
    );
    console.log("| figure | value | target |\n|---|---:|---|");
    for (const f of figures) console.log(`| ${f.name} | ${f.value} ${f.unit} | ${f.target ?? ""} |`);
  } finally {
    server.kill("SIGTERM");
    await new Promise((resolve) => server.once("exit", resolve));
    dir.remove();
  }
}

main().catch((error: unknown) => {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
