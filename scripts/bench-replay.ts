#!/usr/bin/env node
/**
 * Replay speed: builds N signed records of one unit (default 1,000,000; `--records N`) and the
 * checkpoints a gateway would have anchored for them (one per 10,000 leaves), then replays them
 * as an auditor does: every record's digest and signature derived again on worker threads
 * (server/audit/replayOnWorkers.ts, one worker per core), the tree rebuilt and every checkpoint root, key
 * and acceptance time checked by the replay core. Building is not timed; the replay is.
 *
 *   npm run bench:replay -- [--records N]
 */
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { bytesToHex } from "../server/core/bytes.ts";
import { installNativeHashes } from "../server/crypto/nativeHashes.ts";
import { eip712Domain, typedDataDigest } from "../server/core/eip712.ts";
import { MemoryTree } from "../server/core/merkle/index.ts";
import { type RecordEnvelope, leafHashOf, recordDigest, signedMessageOf } from "../server/core/record.ts";
import type { AnchoredCheckpoint, AuditRecord } from "../server/core/replay.ts";
import { replayOnWorkers } from "../server/audit/replayOnWorkers.ts";
import { recoverSigner } from "../server/crypto/recoverSigner.ts";
import { VerifyPool } from "../server/crypto/VerifyPool.ts";
import { keccak_256 } from "@noble/hashes/sha3.js";
import {
  SUITE_EIP712,
  SUITE_SM2,
  type SuiteName,
  smGenerateKey,
  smSign,
  smSigningBytes,
} from "../server/core/smSuite.ts";

interface NativeSecp256k1 {
  ecdsaSign(message: Uint8Array, secretKey: Uint8Array): { signature: Uint8Array; recid: number };
  publicKeyCreate(secretKey: Uint8Array, compressed: boolean): Uint8Array;
}
const secp256k1 = createRequire(import.meta.url)("secp256k1") as NativeSecp256k1;

const CHECKPOINT_EVERY = 10_000;

/** The log the benchmark's records are signed for. */
const LOG_ID = "0x" + "33".repeat(32);

/** N signed records of one unit and the checkpoints over them, in either suite; untimed. */
function buildLog(records: number, suite: SuiteName) {
  const domain = eip712Domain(31337, "0x5fbdb2315678afecb367f032d93f642f64180aa3");
  const secret = randomBytes(32);
  const smKey = suite === SUITE_SM2 ? smGenerateKey() : undefined;
  const signer =
    smKey?.keyId ?? bytesToHex(keccak_256(secp256k1.publicKeyCreate(secret, false).subarray(1)).subarray(12));
  const unitId = "0x" + "11".repeat(32);
  const t0 = 1_790_000_000;
  const tree = new MemoryTree();
  const log: Array<AuditRecord & { envelope: RecordEnvelope }> = [];
  const checkpoints: AnchoredCheckpoint[] = [];
  for (let i = 0; i < records; i++) {
    const envelope: RecordEnvelope = {
      version: 2,
      logId: LOG_ID,
      unitId,
      dutyTypeId: "0x" + "22".repeat(32),
      performedAt: t0 + i,
      fields: { gridCode: `QS-${i}`, durationMinutes: 30, issuesFound: i % 4, gridWorker: "网格员" },
      salt: bytesToHex(randomBytes(32)),
      ...(smKey ? { suite: SUITE_SM2 } : {}),
    };
    const digest = recordDigest(envelope);
    let sig: string;
    if (smKey) {
      const binding = { ...envelope, logId: LOG_ID, chainId: domain.chainId, contract: domain.verifyingContract };
      sig = smSign(smSigningBytes(binding, digest), smKey.privateKey);
    } else {
      const { signature, recid } = secp256k1.ecdsaSign(typedDataDigest(domain, signedMessageOf(envelope)), secret);
      sig = bytesToHex(signature) + (27 + recid).toString(16);
    }
    tree.appendLeafHash(leafHashOf(digest, sig));
    log.push({ leafIndex: i, recordId: bytesToHex(digest), envelope, signature: sig, acceptedAt: t0 + 60 + i });
    if (tree.size % CHECKPOINT_EVERY === 0 || tree.size === records) {
      const previousSize = checkpoints.at(-1)?.size ?? 0;
      checkpoints.push({
        size: tree.size,
        root: bytesToHex(tree.root()),
        previousSize,
        blockNumber: checkpoints.length + 1,
        anchoredAt: t0 + 120 + i,
      });
    }
  }
  const history = {
    keys: [{ signer, validFrom: t0, validUntil: 0 }],
    statuses: [{ status: "active" as const, since: t0 }],
  };
  return { domain, log, checkpoints, history };
}

/** Replays `records` freshly built records with every signature checked; times the replay only. */
export async function measureReplay(
  records: number,
  suite: SuiteName = SUITE_EIP712,
): Promise<{ records: number; seconds: number; recordsPerSecond: number }> {
  installNativeHashes(); // as `dutyproof replay` does
  const { domain, log, checkpoints, history } = buildLog(records, suite);
  const pool = new VerifyPool(availableParallelism());
  try {
    await pool.ready; // worker start-up is not replay time
    const cpuBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    const report = await replayOnWorkers(
      { domain, logId: LOG_ID, checkpoints, records: log, unitHistory: () => history, recover: recoverSigner },
      pool,
    );
    const finished = process.hrtime.bigint();
    const seconds = Number(finished - started) / 1e9;
    const cpu = process.cpuUsage(cpuBefore);
    if (process.env.BENCH_VERBOSE)
      console.error(
        `  CPU time of the replay, all threads: ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s (${((cpu.user + cpu.system) / records).toFixed(0)} µs a record)`,
      );
    if (!report.clean || report.records !== records)
      throw new Error(`the benchmark's own log did not replay clean: ${JSON.stringify(report.counts)}`);
    return { records, seconds, recordsPerSecond: Math.round(records / seconds) };
  } finally {
    await pool.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { records: { type: "string" } }, strict: true });
  const records = Number(values.records ?? 1_000_000);
  if (!Number.isSafeInteger(records) || records < 1) {
    console.error("bench-replay: --records must be a positive integer");
    process.exit(2);
  }
  const result = await measureReplay(records);
  console.log(
    `replay: ${result.records.toLocaleString("en")} records, every signature checked, in ${result.seconds.toFixed(1)} s (${Math.round(result.recordsPerSecond).toLocaleString("en")} records/s)`,
  );
  console.log(JSON.stringify({ replay_records: result.records, replay_s: Number(result.seconds.toFixed(2)) }));
}
