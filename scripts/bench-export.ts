#!/usr/bin/env node
/**
 * Export cost at the gateway: a LevelDB store holding one unit of N records (default 10,000;
 * `--records N`) among as many records of other units, one anchored checkpoint over them, and
 * the gateway's request listener on loopback HTTP. Then `--parallel P` (default 4) clients
 * export the whole unit at once, reading and discarding the body, and the script prints:
 *
 *   - rss_growth_mb: the gateway process's peak resident memory during the exports, sampled
 *     every 10 ms, minus its resident memory just before them (after a GC when --expose-gc);
 *   - event_loop_max_delay_ms: the longest the event loop was held, from node:perf_hooks
 *     monitorEventLoopDelay (resolution 1 ms) enabled only while the exports run;
 *   - idle_event_loop_max_delay_ms: the same monitor over 3 s with nothing to do, and the load
 *     average: on a shared, loaded machine the process waits for a core, which the monitor
 *     cannot tell from work;
 *   - seconds for all exports, and the bytes each received.
 *
 * `--baseline` serves /v1/export the way the gateway did before exports streamed (scan the
 * whole log, build the bundle in memory, send it with res.json) so the two can be compared on
 * the same machine; it exists only here, to measure against. The clients run in this process
 * too; they only count bytes, so what they add is small next to the gateway's work.
 *
 *   npm run bench:export -- [--records N] [--parallel P] [--baseline]
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import express from "express";
import { bytesToHex } from "../server/core/bytes.ts";
import type { RecordEnvelope } from "../server/core/record.ts";
import type { Deployment } from "../server/chain/deployment.ts";
import { bundleItem, bundleLog } from "../server/gateway/evidenceAssembler.ts";
import { createRequestListener } from "../server/http/app.ts";
import { systemClock } from "../server/clock.ts";
import { LedgerStore, type StoredRecord } from "../server/store/LedgerStore.ts";

const { values } = parseArgs({
  options: {
    records: { type: "string", default: "10000" },
    parallel: { type: "string", default: "4" },
    baseline: { type: "boolean", default: false },
  },
});
const records = Number(values.records);
const parallel = Number(values.parallel);
const unitId = "0x" + "11".repeat(32);
const deployment: Deployment = {
  chainId: 31337,
  address: "0x" + "ab".repeat(20),
  deployBlock: 1,
  logId: "0x" + "22".repeat(32),
};

const dir = mkdtempSync(join(tmpdir(), "dutyproof-bench-export-"));
const store = new LedgerStore(join(dir, "ledger"));
await store.open();
const fields = {
  householdName: "测试户主",
  address: "某镇某村某组十七号",
  visitPurpose: "routine",
  followUpRequired: false,
  visitors: "走访员甲、走访员乙",
};
for (let done = 0; done < 2 * records;) {
  const batch = [];
  for (let i = 0; i < 1000 && done < 2 * records; i++, done++) {
    const envelope: RecordEnvelope = {
      version: 1,
      unitId: done % 2 === 0 ? unitId : bytesToHex(randomBytes(32)),
      dutyTypeId: "0x" + "33".repeat(32),
      performedAt: 1_800_000_000 + done,
      fields,
      salt: bytesToHex(randomBytes(32)),
    };
    batch.push(
      store.append({
        recordId: bytesToHex(randomBytes(32)),
        envelope,
        signature: bytesToHex(randomBytes(65)),
        signer: "0x" + "44".repeat(20),
        leafHash: randomBytes(32),
      }),
    );
  }
  await Promise.all(batch);
}
await store.putCheckpoint({
  size: store.treeSize,
  root: bytesToHex(await store.rootAt(store.treeSize)),
  previousSize: 0,
  status: "anchored",
  createdAt: Date.now(),
  txHash: "0x" + "55".repeat(32),
  blockNumber: 2,
  anchoredAt: 1_800_000_000,
});

const options = {
  store,
  attestations: undefined as never, // no ingest here
  catalog: () => [],
  deployment,
  rpcUrl: "http://127.0.0.1:1",
  ready: async () => ({ ready: true, checks: {} }),
  mayRead: async () => true,
  clock: systemClock,
};
const listener = values.baseline ? baselineApp() : createRequestListener(options);
const server = createServer(listener);
server.listen(0, "127.0.0.1");
await once(server, "listening");
const { port } = server.address() as { port: number };
const url = `http://127.0.0.1:${port}/v1/export?unitId=${unitId}`;

// One export first, so both modes start warm (the index built, the tiles cached).
await exportOnce();
(globalThis as { gc?: () => void }).gc?.();
await new Promise((r) => setTimeout(r, 200));
// The machine's own noise: the same monitor over 3 s of doing nothing (a loaded machine
// deschedules the process, which shows as event-loop delay too).
const idle = monitorEventLoopDelay({ resolution: 1 });
idle.enable();
await new Promise((r) => setTimeout(r, 3000));
idle.disable();
const rssBefore = process.memoryUsage.rss();
let rssPeak = rssBefore;
const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 10);
const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
const started = performance.now();
const received = await Promise.all(Array.from({ length: parallel }, exportOnce));
const seconds = (performance.now() - started) / 1000;
delay.disable();
clearInterval(sampler);
rssPeak = Math.max(rssPeak, process.memoryUsage.rss());

console.log(
  JSON.stringify(
    {
      mode: values.baseline ? "baseline (scan, build in memory)" : "streamed from the index",
      records_of_unit: records,
      log_size: store.treeSize,
      parallel_exports: parallel,
      rss_before_mb: Math.round(rssBefore / 2 ** 20),
      rss_growth_mb: Math.round((rssPeak - rssBefore) / 2 ** 20),
      event_loop_max_delay_ms: Math.round(delay.max / 1e6),
      event_loop_p99_delay_ms: Math.round(delay.percentile(99) / 1e6),
      idle_event_loop_max_delay_ms: Math.round(idle.max / 1e6),
      load_average_1min: Number(loadavg()[0]!.toFixed(1)),
      seconds: Number(seconds.toFixed(2)),
      bytes_per_export: received,
    },
    null,
    2,
  ),
);
server.close();
await store.close();
rmSync(dir, { recursive: true, force: true });

async function exportOnce(): Promise<number> {
  const res = await fetch(url, { headers: { authorization: "Bearer bench" } });
  if (res.status !== 200) throw new Error(`export answered ${res.status}`);
  let bytes = 0;
  for await (const chunk of res.body!) bytes += (chunk as Uint8Array).length;
  return bytes;
}

/** The export as served before it streamed: a scan of the log, the bundle built in memory. */
function baselineApp() {
  const app = express();
  app.get("/v1/export", async (_req, res) => {
    const matched: StoredRecord[] = [];
    for (let from = 0; from < store.treeSize; from += 2000) {
      for (const { record } of await store.recordsFrom(from, 2000)) {
        if (record.envelope.unitId === unitId) matched.push(record);
      }
    }
    const items = [];
    let pending = 0;
    for (const record of matched) {
      const item = await bundleItem({ store, deployment }, record);
      if (item) items.push(item);
      else pending++;
    }
    const query = { unitId };
    const createdAt = Math.floor(Date.now() / 1000);
    res.json({ format: "dutyproof/bundle/v1", createdAt, query, items, pending, log: bundleLog(deployment) });
  });
  return app;
}
