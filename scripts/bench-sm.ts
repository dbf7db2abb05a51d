#!/usr/bin/env node
/**
 * The 国密 suite's speed beside secp256k1's: the verification cost of one record (the work that
 * bounds acceptance and replay), ingest through a real `dutyproof serve` (single and batch
 * endpoints, records signed before the clock starts), and replay with every signature checked.
 * `npm run bench` runs it as one of its steps; alone: node scripts/bench-sm.ts [--quick].
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Contract, Wallet, id } from "ethers";
import { bytesToHex } from "../server/core/bytes.ts";
import { eip712Domain, typedDataDigest } from "../server/core/eip712.ts";
import { type RecordEnvelope, recordDigest, signedMessageOf } from "../server/core/record.ts";
import { SUITE_SM2, smGenerateKey, smSign, smSigningBytes } from "../server/core/smSuite.ts";
import { deriveRecord } from "../server/crypto/deriveRecord.ts";
import { installNativeHashes } from "../server/crypto/nativeHashes.ts";
import { loadDutyLedgerArtifact } from "../server/chain/dutyLedgerArtifact.ts";
import { localChainSocket } from "../server/chain/LocalChainNode.ts";
import { IpcJsonRpcProvider } from "../server/chain/IpcJsonRpc.ts";
import type { Deployment } from "../server/chain/deployment.ts";
import { startServe } from "./startServe.ts";
import { tempDir } from "./tempDir.ts";
import { type Figure, benchFields, figure } from "./benchPhases.ts";
import { httpCall } from "./benchHttp.ts";
import { measureReplay } from "./bench-replay.ts";

const CHAIN_ID = 31337;
const CONTRACT = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
const LOG_ID = `0x${"44".repeat(32)}`;

/** A version 2 record of the SM suite, signed by `privateKey` for the given deployment. */
function smRecord(
  i: number,
  key: { privateKey: string },
  at: { chainId: number; contract: string; logId: string; unitId: string; dutyTypeId: string; performedAt: number },
) {
  const envelope: RecordEnvelope = {
    version: 2,
    suite: SUITE_SM2,
    logId: at.logId,
    unitId: at.unitId,
    dutyTypeId: at.dutyTypeId,
    performedAt: at.performedAt,
    fields: benchFields(i),
    salt: bytesToHex(randomBytes(32)),
  };
  const signature = smSign(smSigningBytes({ ...at }, recordDigest(envelope)), key.privateKey);
  return { envelope, signature };
}

/** Microseconds of one thread per record derived (digest, leaf hash, signer), as a verify worker does it. */
function verifyCost(count: number) {
  const domain = eip712Domain(CHAIN_ID, CONTRACT);
  const at = {
    chainId: CHAIN_ID,
    contract: CONTRACT,
    logId: LOG_ID,
    unitId: `0x${"11".repeat(32)}`,
    dutyTypeId: `0x${"22".repeat(32)}`,
    performedAt: 1_790_000_000,
  };
  const time = (items: Array<{ envelope: RecordEnvelope; signature: string }>) => {
    const start = performance.now();
    for (const item of items) if (!deriveRecord(item.envelope, item.signature, domain).signer) throw new Error("bad");
    return +(((performance.now() - start) * 1000) / items.length).toFixed(0);
  };
  const oneKey = smGenerateKey();
  const warm = Array.from({ length: count }, (_, i) => smRecord(i, oneKey, at));
  time(warm.slice(0, 20)); // the key's table is built once, outside the measured run
  const smWarm = time(warm);
  const coldCount = Math.max(10, Math.floor(count / 20));
  const smCold = time(Array.from({ length: coldCount }, (_, i) => smRecord(i, smGenerateKey(), at)));
  const wallet = Wallet.createRandom();
  const secp = Array.from({ length: count }, (_, i) => {
    const envelope: RecordEnvelope = { ...warm[i]!.envelope };
    delete (envelope as { suite?: string }).suite;
    const digest = typedDataDigest(domain, signedMessageOf(envelope));
    return { envelope, signature: wallet.signingKey.sign(digest).serialized };
  });
  return { smWarm, smCold, secp: time(secp) };
}

/** SM records through a real gateway: single records from `clients` connections, then batches of 500. */
async function measureIngest(single: number, batch: number, clients: number) {
  const dir = tempDir("bench-sm");
  const port = 32_000 + Math.floor(Math.random() * 1_000);
  const url = `http://127.0.0.1:${port}`;
  const server: ChildProcess = await startServe(
    url,
    {
      ...process.env,
      DATA_DIR: dir.path,
      PORT: String(port),
      CHAIN_PORT: String(port + 1_000),
      ANCHOR_INTERVAL_MS: "1000",
      RATE_LIMIT_CLIENT_PER_S: "0",
      RATE_LIMIT_UNIT_PER_S: "0",
    },
    { stdio: ["ignore", "ignore", "inherit"], timeoutMs: 60_000 },
  );
  try {
    const deployment = JSON.parse(readFileSync(join(dir.path, "deployment.json"), "utf8")) as Deployment;
    const provider = new IpcJsonRpcProvider(localChainSocket(join(dir.path, "chain")));
    const operator = new Wallet(readFileSync(join(dir.path, "keys", "operator.key"), "utf8").trim(), provider);
    const ledger = new Contract(deployment.address, loadDutyLedgerArtifact().abi as never, operator);
    const key = smGenerateKey();
    const unitId = id("unit:bench-sm-village");
    await (await ledger.getFunction("registerUnit")(unitId, "0x" + "00".repeat(32), 3, key.keyId)).wait();
    provider.destroy();
    const catalog = JSON.parse((await httpCall(`${url}/v1/duty-types`, "GET")).text) as {
      dutyTypes: Array<{ id: string; code: string }>;
    };
    const at = {
      chainId: deployment.chainId,
      contract: deployment.address,
      logId: deployment.logId,
      unitId,
      dutyTypeId: catalog.dutyTypes.find((d) => d.code === "grid-patrol")!.id,
      performedAt: Math.floor(Date.now() / 1000) - 60,
    };
    console.error(`signing ${single + batch} SM records…`);
    const singles = Array.from({ length: single }, (_, i) => JSON.stringify(smRecord(i, key, at)));
    const batches: string[] = [];
    for (let b = 0; b < batch / 500; b++)
      batches.push(
        `{"items":[${Array.from({ length: 500 }, (_, i) => JSON.stringify(smRecord(single + b * 500 + i, key, at))).join(",")}]}`,
      );
    const drive = async (bodies: string[], path: string, connections: number) => {
      let next = 0;
      const start = performance.now();
      await Promise.all(
        Array.from({ length: connections }, async () => {
          while (next < bodies.length) {
            const answer = await httpCall(url + path, "POST", bodies[next++]!);
            if (answer.status !== 201 && answer.status !== 200 && answer.status !== 207)
              throw new Error(`the gateway answered ${answer.status}: ${answer.text.slice(0, 200)}`);
          }
        }),
      );
      return (performance.now() - start) / 1000;
    };
    const singleSeconds = await drive(singles, "/v1/attestations", clients);
    const batchSeconds = await drive(batches, "/v1/attestations/batch", 2);
    return {
      single: Math.round(single / singleSeconds),
      batch: Math.round(batch / batchSeconds),
    };
  } finally {
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.kill("SIGTERM");
    await exited;
    dir.remove();
  }
}

/** The SM suite's figures for bench/results.json; `quick` runs fewer records. */
export async function measureSmFigures(quick: boolean): Promise<Figure[]> {
  installNativeHashes();
  const n = Number(process.env.BENCH_SM_RECORDS ?? (quick ? 2_000 : 20_000));
  console.error(`SM suite: verification cost, ingest and replay of ${n} records…`);
  const cost = verifyCost(Math.min(n, 2_000));
  const ingest = await measureIngest(n, Math.max(500, Math.floor(n / 500) * 500), 64);
  const replay = await measureReplay(n, SUITE_SM2);
  const bound = "SM2 verification (sm-crypto-v2, pure JavaScript) on the verify workers, one per core";
  return [
    figure("sm_verify_us_per_record", cost.smWarm, "µs", {
      note: `one thread, the key's precomputed table cached (a new key: ${cost.smCold} µs); secp256k1 recovery: ${cost.secp} µs`,
    }),
    figure("secp256k1_verify_us_per_record", cost.secp, "µs", { note: "one thread, native libsecp256k1" }),
    figure("ingest_sm_single_records_per_s", ingest.single, "records/s", {
      note: `${n} records, 64 connections; bound: ${bound}`,
    }),
    figure("ingest_sm_batch_records_per_s", ingest.batch, "records/s", { note: `batches of 500; bound: ${bound}` }),
    figure("replay_sm_records_per_s", replay.recordsPerSecond, "records/s", {
      note: `${replay.records} SM records replayed in ${replay.seconds.toFixed(1)} s, every signature checked`,
    }),
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const f of await measureSmFigures(process.argv.includes("--quick")))
    console.log(`${f.name}: ${f.value} ${f.unit}${f.note ? ` (${f.note})` : ""}`);
}
