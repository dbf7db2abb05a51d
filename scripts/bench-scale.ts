#!/usr/bin/env node
/**
 * The scale plan's figures: N logs (default 100, one county each) anchoring into one embedded
 * anvil node, one checkpoint per log per simulated minute (time compressed: a round of N
 * anchors is sent as fast as the node takes them). Measured: gas per checkpoint, anchoring
 * latency (sent to mined), the node's anchors per second, bytes per anchor (transaction and
 * event); derived: gas per day, chain state and history growth per year, the checkpoints per
 * second a witness of every log must cosign — for N logs and extrapolated to 2,800.
 *
 *   npm run bench:scale -- [--logs N] [--rounds R] [--records-per-minute K]
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Contract, Wallet, id } from "ethers";
import { bytesToHex } from "../server/core/bytes.ts";
import { UniformTree, hashLeaf } from "../server/core/merkle/index.ts";
import { IpcJsonRpcProvider } from "../server/chain/IpcJsonRpc.ts";
import { LocalChainNode } from "../server/chain/LocalChainNode.ts";
import { deployDutyLedger } from "../server/chain/deployment.ts";
import { loadDutyLedgerArtifact } from "../server/chain/dutyLedgerArtifact.ts";
import { tempDir } from "./tempDir.ts";
import {
  NOTE_COSIGNATURE_V1,
  NOTE_ED25519,
  cosign,
  formatCheckpoint,
  noteSigner,
  openCheckpoint,
  signNote,
} from "../server/core/note.ts";
import { verifyConsistency } from "../server/core/merkle/index.ts";

/**
 * A witness's CPU per checkpoint: open the log's note, verify a consistency proof of a year's
 * log growing by a minute, cosign. Milliseconds, the mean of `count`.
 */
function witnessMsPerCheckpoint(tree: UniformTree, from: number, step: number, count: number): number {
  const origin = "dutyproof/31337/0x" + "12".repeat(20) + "/0x" + "34".repeat(32);
  const log = noteSigner(origin, NOTE_ED25519, new Uint8Array(randomBytes(32)));
  const witness = noteSigner("audit.example/witness", NOTE_COSIGNATURE_V1, new Uint8Array(randomBytes(32)));
  const notes = Array.from({ length: count }, (_, i) => {
    const size = from + (i + 1) * step;
    return { size, note: signNote(formatCheckpoint({ origin, size, rootHash: tree.root(size), extensions: [] }), log) };
  });
  const proofs = notes.map(({ size }) => tree.consistencyProof(size - step, size));
  const started = performance.now();
  for (const [i, { size, note }] of notes.entries()) {
    const { text } = openCheckpoint(note, log, origin);
    verifyConsistency(size - step, size, tree.root(size - step), tree.root(size), proofs[i]!);
    cosign(text, witness, 1_790_000_000 + i);
  }
  return (performance.now() - started) / count;
}

const { values } = parseArgs({
  options: { logs: { type: "string" }, rounds: { type: "string" }, "records-per-minute": { type: "string" } },
  strict: true,
});
const logs = Number(values.logs ?? 100);
const rounds = Number(values.rounds ?? 5);
const perMinute = Number(values["records-per-minute"] ?? 10);
if (![logs, rounds, perMinute].every((n) => Number.isSafeInteger(n) && n > 0)) {
  console.error("bench-scale: --logs, --rounds and --records-per-minute are positive whole numbers");
  process.exit(2);
}

/** Checkpoint slots each anchor adds: root, and (anchoredAt, blockNumber, previousSize) packed. */
const SLOTS_PER_CHECKPOINT = 2;
const MINUTES_PER_YEAR = 525_600;

const dir = tempDir("bench-scale");
const node = new LocalChainNode({ stateDir: join(dir.path, "chain") });
await node.start();
const provider = new IpcJsonRpcProvider(node.ipcPath);
try {
  const wallet = Wallet.createRandom().connect(provider);
  await provider.send("anvil_setBalance", [wallet.address, "0x" + (10n ** 24n).toString(16)]);
  const deployment = await deployDutyLedger(wallet as unknown as Wallet, { logName: "scale-0", catalog: [] });
  const ledger = new Contract(deployment.address, loadDutyLedgerArtifact().abi as never, wallet);
  const tree = new UniformTree(hashLeaf(new TextEncoder().encode("dutyproof scale leaf")));
  // A year of a county at this rate, so proofs have the length a real log's would.
  const start = perMinute * MINUTES_PER_YEAR;
  const logIds = Array.from({ length: logs }, () => id(`log:scale:${bytesToHex(randomBytes(8))}`));
  let nonce = await provider.getTransactionCount(wallet.address);
  for (const logId of logIds) await ledger.getFunction("createLog")(logId, wallet.address, { nonce: nonce++ });
  const sizes = new Map(logIds.map((l) => [l, 0]));

  const gas: number[] = [];
  const latencies: number[] = [];
  let txBytes = 0;
  let measuredAnchors = 0;
  let measuredSeconds = 0;
  for (let round = 0; round <= rounds; round++) {
    // Round 0 brings every log to a year's size (its first checkpoint has no proof): not measured.
    const sent: Array<Promise<void>> = [];
    const begun = performance.now();
    for (const logId of logIds) {
      const from = sizes.get(logId)!;
      const to = round === 0 ? start : from + perMinute;
      const proof = from === 0 ? [] : tree.consistencyProof(from, to).map(bytesToHex);
      sizes.set(logId, to);
      const at = performance.now();
      const response = await ledger.getFunction("anchor")(logId, to, bytesToHex(tree.root(to)), proof, {
        nonce: nonce++,
        gasLimit: 500_000,
      });
      sent.push(
        (async () => {
          const receipt = await response.wait();
          if (receipt.status !== 1) throw new Error("an anchor reverted");
          if (round === 0) return;
          latencies.push(performance.now() - at);
          gas.push(Number(receipt.gasUsed));
          // Calldata, plus about 110 bytes of an EIP-1559 envelope (nonce, fees, gas, to, signature).
          txBytes += (response.data.length - 2) / 2 + 110;
        })(),
      );
    }
    await Promise.all(sent);
    if (round > 0) {
      measuredAnchors += logs;
      measuredSeconds += (performance.now() - begun) / 1000;
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  latencies.sort((a, b) => a - b);
  const gasPerCheckpoint = Math.round(mean(gas));
  const bytesPerTx = Math.round(txBytes / gas.length);
  // CheckpointAnchored: two topics (signature, logId) and three words of data, plus the
  // receipt's address and framing (about 50 bytes).
  const eventBytes = 2 * 32 + 3 * 32 + 20 + 50;
  const perYear = (n: number) => n * MINUTES_PER_YEAR;
  const figures = (n: number) => ({
    logs: n,
    checkpoints_per_s: +(n / 60).toFixed(2),
    gas_per_day: gasPerCheckpoint * n * 1440,
    gas_per_s: Math.round((gasPerCheckpoint * n) / 60),
    state_growth_gb_per_year: +((perYear(n) * SLOTS_PER_CHECKPOINT * 32) / 1e9).toFixed(2),
    history_growth_gb_per_year: +((perYear(n) * (bytesPerTx + eventBytes)) / 1e9).toFixed(1),
    witness_cosignatures_per_s: +(n / 60).toFixed(2),
    witness_cpu_share_of_one_core: +((n / 60) * (witnessMs / 1000)).toFixed(3),
  });
  const witnessMs = witnessMsPerCheckpoint(tree, start, perMinute, 500);
  const result = {
    measured: {
      witness_cpu_ms_per_checkpoint: +witnessMs.toFixed(2),
      logs,
      rounds,
      records_per_log_per_minute: perMinute,
      gas_per_checkpoint: gasPerCheckpoint,
      bytes_per_anchor_transaction: bytesPerTx,
      anchoring_latency_ms_p50: Math.round(latencies[Math.floor(latencies.length / 2)]!),
      anchoring_latency_ms_p95: Math.round(latencies[Math.floor(latencies.length * 0.95)]!),
      node_anchors_per_s: +(measuredAnchors / measuredSeconds).toFixed(1),
    },
    at_n: figures(logs),
    at_2800: figures(2800),
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  provider.destroy();
  await node.stop();
  dir.remove();
}
