#!/usr/bin/env node
/**
 * Monitor catch-up: how long `dutyproof monitor` takes to check 10,000 new entries of a log
 * that already holds 100,000 leaves, and of one that holds 1,000,000. The cost should follow
 * the new entries, not the history: the second figure within 1.25× the first.
 *
 * Each log is a real LevelDB store filled directly (the gateway's ingest path would take many
 * minutes for 1M records), its checkpoints signed by the gateway's SignedCheckpoints and served
 * by the gateway's own /tlog routes on loopback HTTP. The monitor starts from the state a
 * previous pass would have saved at the old size (its right edge, read from the store); the
 * timed pass reads the new checkpoint, the new entry bundles, recomputes the root and saves its
 * state. Building is not timed. The pass checks the log's side only: no chain, no token.
 *
 *   npm run bench:monitor -- [--new N] [--sizes 100000,1000000]
 */
import { randomBytes } from "node:crypto";
import { type Server, createServer } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { bytesToHex } from "../server/core/bytes.ts";
import { hashLeaf, rangeNodes } from "../server/core/merkle/index.ts";
import { monitorStateToJson } from "../server/core/monitor.ts";
import { NOTE_ED25519, noteSigner } from "../server/core/note.ts";
import { leafDataOf } from "../server/core/record.ts";
import { tlogOrigin } from "../server/core/tlog.ts";
import { installNativeHashes } from "../server/crypto/nativeHashes.ts";
import { SignedCheckpoints } from "../server/gateway/SignedCheckpoints.ts";
import { systemClock } from "../server/clock.ts";
import { dispatcher } from "../server/http/dispatch.ts";
import { route } from "../server/http/route.ts";
import { tlogRoutes } from "../server/http/tlogRoutes.ts";
import { LedgerStore } from "../server/store/LedgerStore.ts";
import { type MonitorFileState, monitorOnce } from "../server/audit/monitorLog.ts";
import { writeFileAtomically } from "./monitorCommand.ts";
import { tempDir } from "./tempDir.ts";

const CHAIN_ID = 31337;
const CONTRACT = "0x" + "12".repeat(20);
const LOG_ID = "0x" + "34".repeat(32);
const SIGNATURE = "0x" + "ab".repeat(64) + "1b";

/** Appends `count` records with real leaf data to the store, in groups that share a commit. */
async function grow(store: LedgerStore, count: number): Promise<void> {
  const group = 5_000;
  for (let done = 0; done < count; done += group) {
    const n = Math.min(group, count - done);
    await Promise.all(
      Array.from({ length: n }, () => {
        const digest = new Uint8Array(randomBytes(32));
        return store.append({
          recordId: bytesToHex(digest),
          envelope: {} as never,
          signature: SIGNATURE,
          signer: "0x" + "00".repeat(20),
          leafHash: hashLeaf(leafDataOf(digest, SIGNATURE)),
        });
      }),
    );
  }
}

async function anchorAndSign(store: LedgerStore, checkpoints: SignedCheckpoints, previousSize: number) {
  const size = store.treeSize;
  await store.putCheckpoint({
    size,
    root: bytesToHex(await store.rootAt(size)),
    previousSize,
    status: "anchored",
    createdAt: 0,
  });
  await checkpoints.signAnchored();
}

/** Builds a log of `base` leaves, adds `fresh`, and times one monitor pass over the new ones. */
export async function measureMonitorCatchup(
  base: number,
  fresh: number,
  port = 0,
): Promise<{ base: number; fresh: number; seconds: number; cpuSeconds: number }> {
  installNativeHashes(); // as the CLI does
  const dir = tempDir("bench-monitor");
  const store = new LedgerStore(join(dir.path, "ledger"));
  let server: Server | undefined;
  try {
    await store.open();
    const origin = tlogOrigin(CHAIN_ID, CONTRACT, LOG_ID);
    const signer = noteSigner(origin, NOTE_ED25519, new Uint8Array(randomBytes(32)));
    const checkpoints = new SignedCheckpoints({ store, signer });
    await grow(store, base);
    await anchorAndSign(store, checkpoints, 0);
    // The state a monitor saved at `base`: the right edge of the tree, nothing else.
    const edge = base === 0 ? [] : await store.readNodes(rangeNodes(0, base));
    const saved: MonitorFileState = {
      version: 1,
      origin,
      logKey: checkpoints.verifierKey,
      chainId: CHAIN_ID,
      contract: CONTRACT,
      logId: LOG_ID,
      tree: monitorStateToJson({ origin, size: base, root: await store.rootAt(base), edge }),
      checkpoint: null,
      chainBlock: 0,
    };
    await grow(store, fresh);
    await anchorAndSign(store, checkpoints, base);

    // What a monitor reads of a gateway: /v1/info and the /tlog routes, on the gateway's dispatcher.
    const info = route({
      method: "GET",
      path: "/v1/info",
      summary: "the log's deployment and C2SP key",
      auth: { kind: "public" },
      responses: { 200: { description: "info" } },
      handle: () => ({
        json: {
          chainId: CHAIN_ID,
          contracts: { DutyLedger: CONTRACT },
          logId: LOG_ID,
          deployBlock: 1,
          tlog: { origin, verifierKey: checkpoints.verifierKey },
        },
      }),
    });
    const listening = createServer(
      dispatcher([info, ...tlogRoutes({ store, checkpoints })], { clock: systemClock }),
    ).listen(port, "127.0.0.1");
    server = listening;
    await new Promise<void>((resolve) => listening.once("listening", () => resolve()));
    const address = listening.address() as { port: number };
    const statePath = join(dir.path, "monitor-state.json");
    // Not the pass's cost: loading the HTTP client on first use, the building's garbage, and
    // LevelDB compacting what the building wrote.
    await (await fetch(`http://127.0.0.1:${address.port}/v1/info`)).arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    (globalThis as { gc?: () => void }).gc?.();

    const cpuBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    const pass = await monitorOnce({ gatewayUrl: `http://127.0.0.1:${address.port}`, witnesses: [], quorum: 0 }, saved);
    writeFileAtomically(statePath, JSON.stringify(pass.state, null, 2) + "\n");
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    // The CPU this process spent (monitor and the gateway's routes serving it): wall time on a
    // shared machine also counts the time other processes held the cores.
    const cpu = process.cpuUsage(cpuBefore);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    if (pass.findings.length > 0 || pass.checked !== fresh)
      throw new Error(`the benchmark's own log did not check clean: ${JSON.stringify(pass.findings.slice(0, 3))}`);
    return { base, fresh, seconds, cpuSeconds };
  } finally {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await store.close();
    dir.remove();
  }
}

/** Both figures the issue asks for, named as results.json names them. */
export async function measureMonitorFigures(
  sizes: readonly number[] = [100_000, 1_000_000],
  fresh = 10_000,
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const base of sizes) {
    console.error(`monitor catch-up: building a ${base.toLocaleString("en")}-leaf log, then ${fresh} new entries…`);
    const run = await measureMonitorCatchup(base, fresh);
    const label = base >= 1_000_000 ? `${base / 1_000_000}m` : `${base / 1000}k`;
    out[`monitor_catchup_${fresh / 1000}k_s_at_${label}`] = +run.seconds.toFixed(3);
    out[`monitor_catchup_${fresh / 1000}k_cpu_s_at_${label}`] = +run.cpuSeconds.toFixed(3);
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { new: { type: "string" }, sizes: { type: "string" } }, strict: true });
  const fresh = Number(values.new ?? 10_000);
  const sizes = (values.sizes ?? "100000,1000000").split(",").map(Number);
  if (!Number.isSafeInteger(fresh) || fresh < 1 || sizes.some((s) => !Number.isSafeInteger(s) || s < 0)) {
    console.error("bench-monitor: --new and --sizes are whole numbers");
    process.exit(2);
  }
  const figures = await measureMonitorFigures(sizes, fresh);
  for (const [name, value] of Object.entries(figures)) console.log(`${name}: ${value} s`);
  console.log(JSON.stringify(figures));
}
