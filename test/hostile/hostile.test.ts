/**
 * Hostile-input campaign against the real `dutyproof serve` process (its anvil chain, LevelDB on
 * disk, HTTP on loopback). HOSTILE_REQUESTS requests (default 1,000 in `npm test`; `npm run
 * test:hostile` sends 100,000) over every kind in campaign.ts, seeded by HOSTILE_SEED. Result:
 * nothing accepted, no 5xx, no crash, the store byte-for-byte unchanged, and (full campaign) the
 * memory the gateway holds after a full garbage collection flat (helpers/inspectMemory.ts).
 */
import { expect } from "chai";
import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Contract, Wallet, id } from "ethers";
import { Level } from "level";
import { bytesToHex } from "../../server/core/bytes.ts";
import { eip712Domain } from "../../server/core/eip712.ts";
import { loadDutyLedgerArtifact } from "../../server/chain/dutyLedgerArtifact.ts";
import { type Deployment, departmentIdOf } from "../../server/chain/deployment.ts";
import { issueToken } from "../../server/gateway/AccessTokens.ts";
import { LedgerStore } from "../../server/store/LedgerStore.ts";
import { servedGatewayEnv, sleep } from "../helpers/gatewayFixture.ts";
import { testPort } from "../helpers/ports.ts";
import { chainOwnerProvider } from "../helpers/chainOwner.ts";
import { startServe } from "../helpers/serve.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { type HeldMemory, heldMemory } from "../helpers/inspectMemory.ts";
import { rssMiB } from "../../scripts/benchPhases.ts";
import { type CampaignContext, Rng, addressOf, kinds, runCampaign, signRecord, testKey } from "./campaign.ts";

const count = Number(process.env.HOSTILE_REQUESTS ?? 1_000);
const seed = Number(process.env.HOSTILE_SEED ?? 20_261_122);
const full = count >= 50_000;

/** SHA-256 over every key and value of the LevelDB, in key order, and the number of entries. */
async function storeDigest(location: string): Promise<{ digest: string; entries: number; treeSize: number }> {
  const db = new Level<Uint8Array, Uint8Array>(location, { keyEncoding: "view", valueEncoding: "view" });
  await db.open();
  const hash = createHash("sha256");
  let entries = 0;
  for await (const [key, value] of db.iterator()) {
    hash.update(`${key.length}:`).update(key).update(`${value.length}:`).update(value);
    entries++;
  }
  await db.close();
  const store = new LedgerStore(location);
  await store.open();
  const treeSize = store.treeSize;
  await store.close();
  return { digest: hash.digest("hex"), entries, treeSize };
}

describe(`hostile input: ${count} requests over ${kinds.length} kinds (seed ${seed})`, function () {
  this.timeout(120_000 + count * 20);
  const dir = tempDir("hostile");
  const port = testPort("hostile");
  const chainPort = port < 12_500 ? port + 400 : port - 400;
  const inspectPort = port < 12_500 ? port + 200 : port - 200;
  const url = `http://127.0.0.1:${port}`;
  const operatorKey = bytesToHex(testKey(seed, "operator"));
  let child: ChildProcess | null = null;
  let output = "";
  let internalErrors = 0;
  let exitedDuringCampaign: string | null = null;

  const start = async () => {
    output = "";
    child = await startServe(
      url,
      servedGatewayEnv(dir.path, port, chainPort, {
        OPERATOR_KEY: operatorKey,
        // The campaign tests the validators, not the limits (all of it comes from one address and
        // replays one unit's record); the limiters still run and keep their state.
        // rateLimit.test.ts tests the limits.
        RATE_LIMIT_CLIENT_PER_S: "1000000",
        RATE_LIMIT_CLIENT_BURST: "1000000",
        RATE_LIMIT_UNIT_PER_S: "1000000",
        RATE_LIMIT_UNIT_BURST: "1000000",
      }),
      // Its own process group, so that a failed test can stop the gateway and its chain node at once.
      // The inspector, on loopback, only for this test: it reads what the gateway holds.
      {
        stdio: ["ignore", "pipe", "pipe"],
        nodeFlags: [`--inspect=127.0.0.1:${inspectPort}`],
        timeoutMs: 60_000,
        detached: true,
      },
    );
    // Internal errors are counted as they arrive, with an overlap so that a line split between
    // chunks is still seen; only the tail of the output is kept.
    const watch = (chunk: Buffer) => {
      const tail = output.slice(-64);
      output = tail + chunk.toString();
      internalErrors += (tail + chunk.toString()).match(/internal error/g)?.length ?? 0;
      internalErrors -= tail.match(/internal error/g)?.length ?? 0;
    };
    child.stdout!.on("data", watch);
    child.stderr!.on("data", watch);
    child.once("exit", (code, signal) => (exitedDuringCampaign = `exit ${code} ${signal}`));
  };
  const stop = async () => {
    if (!child) return;
    const exited = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    const code = await exited;
    child = null;
    return code;
  };

  after(async () => {
    if (child?.pid) {
      process.kill(-child.pid, "SIGKILL");
      await sleep(500);
    }
    dir.remove();
  });

  it("accepts nothing, answers no 5xx, does not crash, leaves the store unchanged and memory flat", async () => {
    await start();
    const deployment = JSON.parse(readFileSync(join(dir.path, "deployment.json"), "utf8")) as Deployment;
    const provider = chainOwnerProvider(dir.path);
    const operator = new Wallet(operatorKey, provider);
    const ledger = new Contract(deployment.address, loadDutyLedgerArtifact().abi as never, operator);
    const send = async (name: string, ...args: unknown[]) => (await ledger.getFunction(name)(...args)).wait();

    const township = id("unit:hostile-township");
    const village = { unitId: id("unit:hostile-village"), key: testKey(seed, "village") };
    const suspended = { unitId: id("unit:hostile-suspended"), key: testKey(seed, "suspended") };
    const rotated = { unitId: id("unit:hostile-rotated"), oldKey: testKey(seed, "rotated-old") };
    await send("registerUnit", township, "0x" + "00".repeat(32), 2, addressOf(testKey(seed, "township")));
    await send("registerUnit", village.unitId, township, 3, addressOf(village.key));
    await send("registerUnit", suspended.unitId, township, 3, addressOf(suspended.key));
    await send("setUnitStatus", suspended.unitId, 2);
    await send("registerUnit", rotated.unitId, township, 3, addressOf(rotated.oldKey));
    await send("rotateUnitKey", rotated.unitId, addressOf(testKey(seed, "rotated-new")));
    const inspector = { key: testKey(seed, "inspector"), department: "emergency-management" };
    await send("registerInspector", addressOf(inspector.key), departmentIdOf(inspector.department));
    provider.destroy();

    const dutyTypes = Object.fromEntries(
      (
        (await (await fetch(`${url}/v1/duty-types`)).json()) as { dutyTypes: Array<{ id: string; code: string }> }
      ).dutyTypes.map((d) => [d.code, d.id]),
    );
    const domain = eip712Domain(deployment.chainId, deployment.address);
    const rng = new Rng(seed);
    const envelope = {
      version: 2 as const,
      logId: deployment.logId,
      unitId: village.unitId,
      dutyTypeId: dutyTypes["grid-patrol"]!,
      performedAt: Math.floor(Date.now() / 1000) - 600,
      fields: { gridCode: "QS-01-03", durationMinutes: 45, issuesFound: 1, gridWorker: "网格员" },
      salt: rng.hex32(),
    };
    const signature = signRecord(village.key, domain, envelope);
    const res = await fetch(`${url}/v1/attestations`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ envelope, signature }),
    });
    expect(res.status).to.equal(201);
    const ack = (await res.json()) as { recordId: string; leafIndex: number; receipt: string };
    let receipt: unknown;
    for (let i = 0; i < 200 && !receipt; i++) {
      const r = await fetch(url + ack.receipt);
      if (r.status === 200) receipt = await r.json();
      else await sleep(100);
    }
    expect(receipt, "the accepted record's receipt").to.not.equal(undefined);
    const tokens = join(dir.path, "tokens.json");
    const ctx: CampaignContext = {
      domain,
      logId: deployment.logId,
      village,
      suspended,
      rotated,
      dutyTypes,
      accepted: { envelope, signature, recordId: ack.recordId, leafIndex: ack.leafIndex, receipt },
      otherUnitToken: issueToken(tokens, `unit:${township}`, "another unit"),
      inspectorToken: issueToken(tokens, "inspector:civil-affairs", "an inspector, not an auditor"),
      inspector,
      stranger: testKey(seed, "stranger"),
    };

    // The store as it is before the campaign, read with the gateway stopped.
    expect(await stop()).to.equal(0);
    const before = await storeDigest(join(dir.path, "ledger"));
    await start();
    exitedDuringCampaign = null;

    const pid = child!.pid!;
    // Resident memory as it is, every 1,000 requests (it rises and falls with V8's collections),
    // and what the gateway holds after full collections at a tenth, at half and at the end.
    const resident: Array<{ done: number; rssMb: number }> = [{ done: 0, rssMb: rssMiB(pid) }];
    const held: Array<{ done: number } & HeldMemory> = [];
    const thousands = (n: number) => Math.max(1_000, Math.round(n / 1_000) * 1_000);
    const heldAt = new Set([thousands(count / 10), thousands(count / 2)].filter((n) => n < count));
    const started = Date.now();
    const { perKind, failures, networkErrors } = await runCampaign({
      url,
      seed,
      count,
      concurrency: 16,
      ctx,
      onProgress: async (done) => {
        if (exitedDuringCampaign !== null) return;
        resident.push({ done, rssMb: rssMiB(pid) });
        if (heldAt.has(done)) held.push({ done, ...(await heldMemory(pid, inspectPort)) });
      },
    });
    const seconds = (Date.now() - started) / 1000;

    // Per-kind report.
    const rows = [...perKind].map(([name, t]) => {
      const statuses = [...t.statuses]
        .sort()
        .map(([s, n]) => `${s}×${n}`)
        .join(" ");
      return `  ${name.padEnd(52)} ${String(t.sent).padStart(6)}  ${statuses}`;
    });
    const accepted = failures.filter((f) => /accepted|replay/.test(f.failure!)).length;
    const fivexx = failures.filter((f) => typeof f.status === "number" && f.status >= 500).length;
    console.log(
      `\n    hostile campaign, seed ${seed}: ${count} requests in ${seconds.toFixed(1)} s\n` +
        `  ${"kind".padEnd(52)} ${"sent".padStart(6)}  answers (status×count)\n${rows.join("\n")}\n` +
        `  accepted ${accepted}, 5xx ${fivexx}, other failures ${failures.length - accepted - fivexx}, ` +
        `network errors ${networkErrors.length}, crashes ${exitedDuringCampaign ? 1 : 0}`,
    );
    for (const f of failures.slice(0, 20)) console.log(`    FAIL ${f.kind} #${f.index} (seed ${seed}): ${f.failure}`);
    for (const f of networkErrors.slice(0, 5)) console.log(`    NETWORK ${f.kind} #${f.index}: ${f.failure}`);

    expect(exitedDuringCampaign, "the gateway process exited during the campaign").to.equal(null);
    held.push({ done: count, ...(await heldMemory(pid, inspectPort)) });
    const mb = (n: number) => n.toFixed(1);
    const describeHeld = (h: HeldMemory & { done: number }) =>
      `${h.done}: RSS ${mb(h.rssMb)}, heap ${mb(h.heapMb)}, workers ${h.workerHeapMb.map(mb).join(" ")}`;
    console.log(
      `    gateway memory, MB: resident ${resident[0]!.rssMb.toFixed(0)} at start, peak ` +
        `${Math.max(...resident.map((r) => r.rssMb)).toFixed(0)}; held after full collections (requests: ` +
        `RSS, main heap, worker heaps) ${held.map(describeHeld).join("; ")}`,
    );
    const step = Math.max(1, Math.floor(resident.length / 10));
    const trend = resident.filter((_, i) => i % step === 0 || i === resident.length - 1);
    console.log(`    resident MB by requests: ${trend.map((r) => `${r.done}: ${r.rssMb.toFixed(0)}`).join(", ")}`);
    // The reading itself: every worker of the pool answered, with a heap of a sensible size.
    const last = held.at(-1)!;
    expect(last.workerHeapMb.length, "verify workers read").to.be.greaterThan(0);
    for (const heap of [last.heapMb, ...last.workerHeapMb]) expect(heap).to.be.within(1, 1024);
    if (full) {
      // Flat: from a tenth of the campaign to its end the gateway holds at most 24 MB more
      // resident memory, 8 MB more main heap and 4 MB more per worker in the workers' heaps; over
      // the second half at most 12 MB more resident memory.
      const [tenth, half] = held;
      expect(last.rssMb - tenth!.rssMb, "resident memory held, growth after a tenth, MB").to.be.below(24);
      expect(last.rssMb - half!.rssMb, "resident memory held, growth over the second half, MB").to.be.below(12);
      expect(last.heapMb - tenth!.heapMb, "main heap held, growth after a tenth, MB").to.be.below(8);
      const sum = (heaps: number[]) => heaps.reduce((a, b) => a + b, 0);
      expect(
        sum(last.workerHeapMb) - sum(tenth!.workerHeapMb),
        `the ${last.workerHeapMb.length} workers' heaps held, growth after a tenth, MB`,
      ).to.be.below(4 * last.workerHeapMb.length);
    }

    expect((await fetch(`${url}/livez`)).status).to.equal(200);
    expect(failures, "failures (see FAIL lines)").to.deep.equal([]);
    expect(networkErrors, "requests the gateway did not answer").to.deep.equal([]);
    for (const kind of kinds) expect(perKind.get(kind.name)!.sent).to.be.greaterThan(0);
    expect(internalErrors, "internal errors in the gateway's log").to.equal(0);

    // The store: every key and value as before, the log the same size.
    expect(await stop()).to.equal(0);
    const after = await storeDigest(join(dir.path, "ledger"));
    console.log(
      `    store: ${before.entries} entries, digest ${before.digest.slice(0, 16)}… before; ${after.entries}, ` +
        `${after.digest.slice(0, 16)}… after; log size ${before.treeSize} → ${after.treeSize}`,
    );
    expect(after).to.deep.equal(before);
  });
});
