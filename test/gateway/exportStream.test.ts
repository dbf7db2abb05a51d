/**
 * The export streamed from the index by unit and time, against a real LevelDB store and real
 * HTTP: for many records (pages of the index, ties in time across page edges, amendment lines
 * reaching outside the period, records not anchored yet) it holds exactly what a scan of the
 * whole log selects, each receipt's proof leads to the anchored root, and a client that goes
 * away mid-export leaves no writer behind.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { type Server, createServer, request } from "node:http";
import { once } from "node:events";
import { id } from "ethers";
import { bytesToHex, hexToBytes } from "../../server/core/bytes.ts";
import { isValidInclusion } from "../../server/core/merkle/verify.ts";
import type { RecordEnvelope } from "../../server/core/record.ts";
import { bundleSchema } from "../../server/core/verifier.ts";
import type { Deployment } from "../../server/chain/deployment.ts";
import { bundleItem } from "../../server/gateway/evidenceAssembler.ts";
import { createRequestListener } from "../../server/http/app.ts";
import { systemClock } from "../../server/clock.ts";
import { abandonedJsonStreams, openJsonStreams } from "../../server/http/streamJson.ts";
import { LedgerStore, type StoredRecord } from "../../server/store/LedgerStore.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";

const units = [id("unit:stream-a"), id("unit:stream-b"), id("unit:stream-c")];
const dutyTypes = [id("duty:stream-1"), id("duty:stream-2"), id("duty:stream-3")];
const BASE = 1_800_000_000;
const deployment: Deployment = {
  chainId: 31337,
  address: "0x" + "ab".repeat(20),
  deployBlock: 7,
  logId: id("log:stream"),
};

describe("streamed export (real LevelDB, real HTTP)", function () {
  this.timeout(300_000);
  const dir = tempDir("export-stream");
  let store: LedgerStore;
  let server: Server;
  let url: string;
  const pendingTail = 40;

  const append = async (unitId: string, dutyTypeId: string, performedAt: number, amends?: RecordEnvelope["amends"]) => {
    const envelope: RecordEnvelope = {
      version: 1,
      unitId,
      dutyTypeId,
      performedAt,
      // Large enough that a whole unit's export (over 10 MB) outgrows what loopback sockets
      // buffer, so a client that stops reading holds the writer back.
      fields: { note: "x".repeat(4_000), detail: "y".repeat(4_000) },
      salt: bytesToHex(randomBytes(32)),
      ...(amends ? { amends } : {}),
    };
    const recordId = bytesToHex(randomBytes(32));
    await store.append({
      recordId,
      envelope,
      signature: "0x" + "11".repeat(65),
      signer: "0x" + "22".repeat(20),
      leafHash: randomBytes(32),
    });
    return recordId;
  };

  before(async () => {
    store = new LedgerStore(`${dir.path}/ledger`);
    await store.open();
    // Unit a: 1,500 records, 12 to a second of time, so ties cross the index's pages of 256.
    const appends: Array<Promise<string>> = [];
    for (let i = 0; i < 1500; i++) appends.push(append(units[0]!, dutyTypes[i % 3]!, BASE + Math.floor(i / 12) * 60));
    for (let i = 0; i < 300; i++) appends.push(append(units[1]!, dutyTypes[i % 2]!, BASE + i * 30));
    const ids = await Promise.all(appends);
    // Amendment lines of unit a: a record in the early period corrected by one months later,
    // itself withdrawn later still; and a late record correcting an early one.
    const early = ids[10]!;
    const fix = await append(units[0]!, dutyTypes[1]!, BASE + 90 * 86_400, {
      recordId: early,
      kind: "correction",
      reason: "录入有误",
    });
    await append(units[0]!, dutyTypes[1]!, BASE + 120 * 86_400, { recordId: fix, kind: "withdrawal", reason: "重复" });
    await append(units[0]!, dutyTypes[2]!, BASE + 200 * 86_400, {
      recordId: ids[700]!,
      kind: "correction",
      reason: "补正",
    });
    for (let i = 0; i < pendingTail; i++) await append(units[0]!, dutyTypes[0]!, BASE + 5 * 60);
    const size = store.treeSize - pendingTail;
    await store.putCheckpoint({
      size,
      root: bytesToHex(await store.rootAt(size)),
      previousSize: 0,
      status: "anchored",
      createdAt: Date.now(),
      txHash: id("tx"),
      blockNumber: 9,
      anchoredAt: BASE,
    });
    const listener = createRequestListener({
      store,
      attestations: undefined as never, // no ingest in this file
      catalog: () => [],
      deployment,
      rpcUrl: "http://127.0.0.1:1",
      ready: async () => ({ ready: true, checks: {} }),
      mayRead: async (token) => token === "reader",
      clock: systemClock,
    });
    server = createServer(listener);
    const port = testPort("evidence");
    server.listen(port, "127.0.0.1");
    await once(server, "listening");
    url = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    server?.close();
    await store?.close();
    dir.remove();
  });

  /** What an export must hold, found the slow way: a scan of the whole log, then amendment lines. */
  async function scanned(query: { unitId: string; dutyTypeId?: string; from?: number; to?: number }) {
    const matched: StoredRecord[] = [];
    for (let from = 0; from < store.treeSize; from += 1000) {
      for (const { record } of await store.recordsFrom(from, 1000)) {
        const e = record.envelope;
        if (e.unitId !== query.unitId || (query.dutyTypeId && e.dutyTypeId !== query.dutyTypeId)) continue;
        if (
          (query.from !== undefined && e.performedAt < query.from) ||
          (query.to !== undefined && e.performedAt >= query.to)
        )
          continue;
        matched.push(record);
      }
    }
    const have = new Set(matched.map((r) => r.recordId));
    const all = [...matched];
    const visit = async (recordId: string | undefined): Promise<void> => {
      if (recordId === undefined || have.has(recordId)) return;
      const record = (await store.getRecord(recordId))!;
      have.add(recordId);
      all.push(record);
      await visit(record.envelope.amends?.recordId);
      await visit((await store.amendmentOf(recordId))?.recordId);
    };
    for (const r of matched) {
      await visit(r.envelope.amends?.recordId);
      await visit((await store.amendmentOf(r.recordId))?.recordId);
    }
    const items = [];
    let pending = 0;
    for (const record of all) {
      const item = await bundleItem({ store, deployment }, record);
      if (item) items.push(item);
      else pending++;
    }
    return { items, pending, matched: matched.length };
  }

  const exportOf = async (query: Record<string, string | number>) => {
    const params = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
    const res = await fetch(`${url}/v1/export?${params}`, { headers: { authorization: "Bearer reader" } });
    expect(res.status).to.equal(200);
    expect(res.headers.get("content-type")).to.match(/^application\/json/);
    return JSON.parse(await res.text()) as Record<string, unknown>;
  };

  for (const [name, query] of [
    ["a whole unit (pages of the index, ties across their edges, pending records)", { unitId: units[0]! }],
    ["one duty type", { unitId: units[0]!, dutyTypeId: dutyTypes[1]! }],
    [
      "a period whose edges fall inside runs of equal times",
      { unitId: units[0]!, from: BASE + 3 * 60, to: BASE + 61 * 60 },
    ],
    ["a period with amendment lines reaching months past it", { unitId: units[0]!, from: BASE, to: BASE + 3_600 }],
    ["another unit, and one with no records", { unitId: units[1]!, from: BASE + 600 }],
    ["a unit with no records", { unitId: units[2]! }],
  ] as const) {
    it(`holds what a scan of the log selects: ${name}`, async () => {
      const bundle = await exportOf(query);
      const parsed = bundleSchema.parse(bundle);
      const want = await scanned(query);
      const byId = (items: Array<{ receipt: { recordId: string } }>) =>
        [...items].sort((x, y) => (x.receipt.recordId < y.receipt.recordId ? -1 : 1));
      expect(parsed.items.length).to.equal(want.items.length);
      expect(byId(bundle.items as never)).to.deep.equal(byId(want.items));
      expect(parsed.pending).to.equal(want.pending);
      expect(parsed.query).to.deep.equal(query);
      expect(parsed.log).to.deep.equal({
        chainId: deployment.chainId,
        contract: deployment.address,
        logId: deployment.logId,
        deployBlock: deployment.deployBlock,
      });
      // Each item once, and each proof leads to the anchored root.
      expect(new Set(parsed.items.map((i) => i.receipt.recordId)).size).to.equal(parsed.items.length);
      for (const { receipt } of parsed.items) {
        const ok = isValidInclusion(
          hexToBytes(receipt.leafHash),
          receipt.leafIndex,
          receipt.treeSize,
          receipt.inclusionProof.map(hexToBytes),
          hexToBytes(receipt.root),
        );
        expect(ok, receipt.recordId).to.equal(true);
      }
      if (name.startsWith("a period with amendment"))
        expect(want.items.length + want.pending).to.equal(want.matched + 3);
      if (name.startsWith("a whole unit")) expect(parsed.pending).to.equal(pendingTail);
    });
  }

  it("stops writing when the client disconnects mid-export, and serves the next export whole", async () => {
    expect(openJsonStreams()).to.equal(0);
    const abandonedBefore = abandonedJsonStreams();
    const { received, openWhileBlocked } = await new Promise<{ received: number; openWhileBlocked: number }>(
      (resolve, reject) => {
        const req = request(`${url}/v1/export?unitId=${units[0]}`, { headers: { authorization: "Bearer reader" } });
        req.on("response", (res) => {
          // Read one chunk, then stop reading: the gateway fills the socket and waits on it.
          res.once("data", (chunk: Buffer) => {
            res.pause();
            setTimeout(() => {
              const open = openJsonStreams();
              req.destroy();
              resolve({ received: chunk.length, openWhileBlocked: open });
            }, 500);
          });
        });
        req.on("error", () => {});
        req.end();
        setTimeout(() => reject(new Error("no response")), 30_000);
      },
    );
    expect(received).to.be.greaterThan(0);
    expect(openWhileBlocked, "the writer should be held back by the paused client").to.equal(1);
    for (let i = 0; i < 100 && openJsonStreams() > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(openJsonStreams(), "a writer is still waiting on a client that left").to.equal(0);
    // It stopped at its next write, rather than reading and writing the rest for nobody.
    expect(abandonedJsonStreams()).to.equal(abandonedBefore + 1);
    const bundle = bundleSchema.parse(await exportOf({ unitId: units[0]! }));
    expect(bundle.items.length + bundle.pending).to.equal(
      (await scanned({ unitId: units[0]! })).items.length + pendingTail,
    );
  });

  it("answers a refused export with a problem, not a stream", async () => {
    const res = await fetch(`${url}/v1/export?unitId=${units[0]}`, { headers: { authorization: "Bearer other" } });
    expect([res.status, res.headers.get("content-type")]).to.deep.equal([
      403,
      "application/problem+json; charset=utf-8",
    ]);
  });
});
