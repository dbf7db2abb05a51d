/**
 * Kill campaign: the real `dutyproof serve` under single and batch submissions, killed with
 * SIGKILL inside chosen phases (DUTYPROOF_FAULT_POINT: accepting a record, deriving a batch,
 * before and after the store's group commit, at each step of anchoring) at a random hit count,
 * and now and then at a random wall-clock moment; its chain node goes down with it. After each
 * kill the gateway must open cleanly, and its checkpoints must agree with the chain's. At the
 * end: every acknowledged record present once at its acknowledged leaf, no leaf twice, all of
 * it anchored, sampled receipts verified on chain.
 *
 * FAULT_ROUNDS sets the number of kills: 10 inside `npm test`, 200 in `npm run test:faults`;
 * FAULT_DEBUG=1 shows the gateway's output and each round's fault point.
 */
import { expect } from "chai";
import { join } from "node:path";
import { hexToBytes } from "../../server/core/bytes.ts";
import { verifyConsistency } from "../../server/core/merkle/index.ts";
import { LedgerStore } from "../../server/store/LedgerStore.ts";
import { testPort } from "../helpers/ports.ts";
import { Rng, testSeed } from "../helpers/seededRandom.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { type Acknowledged, ServeProcess, getJson, ledgerReader, registerUnit, sleep, submitUntil } from "./support.ts";

const rounds = Number(process.env.FAULT_ROUNDS ?? 10);

/** Named fault points (server/faultPoint.ts) and the range of hit counts to draw from. */
const points: Array<{ name: string; phase: "accept" | "batch" | "anchor"; maxHit: number }> = [
  { name: "accept.checked", phase: "accept", maxHit: 60 },
  { name: "store.commit.before", phase: "accept", maxHit: 40 },
  { name: "store.commit.after", phase: "accept", maxHit: 40 },
  { name: "batch.derived", phase: "batch", maxHit: 6 },
  { name: "anchor.stored", phase: "anchor", maxHit: 4 },
  { name: "anchor.sent", phase: "anchor", maxHit: 4 },
  { name: "anchor.confirmed", phase: "anchor", maxHit: 4 },
  { name: "anchor.marked", phase: "anchor", maxHit: 4 },
];

describe(`fault injection: SIGKILL at ${rounds} points across accept, batch and anchor`, function () {
  this.timeout(120_000 + rounds * 20_000);
  // Hit counts, kill times, the unit and the sample of receipts come from one seeded generator:
  // FAULT_SEED=… replays a failing run's draws (the gateway's own timing still varies).
  const rng = new Rng(testSeed("FAULT_SEED"));
  const dir = tempDir("faults-kill");
  const port = testPort("faults");
  const chainPort = port + 1 >= 14_000 ? port - 1 : port + 1;
  const serve = new ServeProcess(dir.path, port, chainPort);

  after(async () => {
    await serve.stop();
    dir.remove();
  });

  it("loses no acknowledged record, duplicates no leaf, reopens cleanly and keeps the chain consistent", async () => {
    await campaign();
  });
  const campaign = async () => {
    expect(await serve.start()).to.equal("ready");
    const unit = await registerUnit(dir.path, serve.url, rng);
    serve.killAll(); // the campaign's first kill: right after set-up, nothing in flight
    await serve.exited();
    const acknowledged: Acknowledged = new Map();
    const counter = { next: 0 };
    const kills: Record<string, number> = {};
    let cleanRestarts = 0;
    let previousHead: { size: number; root: string } | null = null;

    /** The chain's head and the gateway's checkpoints agree; the head extends the last one seen. */
    const checkConsistency = async (when: string) => {
      const chain = ledgerReader(dir.path, unit.deployment);
      try {
        const head = await chain.head();
        const { body: listed } = await getJson<{ checkpoints: Array<{ size: number; root: string; status: string }> }>(
          `${serve.url}/v1/checkpoints?limit=50`,
        );
        for (const c of listed.checkpoints.filter((c) => c.status === "anchored")) {
          expect(await chain.rootAt(c.size), `${when}: anchored checkpoint ${c.size} on chain`).to.equal(c.root);
        }
        if (head.size > 0) {
          // The chain's head is a checkpoint the gateway stored (before sending it), same root.
          const local = listed.checkpoints.find((c) => c.size === head.size);
          if (local) expect(local.root, `${when}: chain head ${head.size}`).to.equal(head.root);
        }
        if (previousHead && previousHead.size > 0 && head.size > previousHead.size) {
          const { body } = await getJson<{ proof: string[] }>(
            `${serve.url}/v1/proofs/consistency?from=${previousHead.size}&to=${head.size}`,
          );
          const { proof } = body;
          verifyConsistency(
            previousHead.size,
            head.size,
            hexToBytes(previousHead.root),
            hexToBytes(head.root),
            proof.map(hexToBytes),
          );
        }
        expect(head.size, `${when}: chain head never shrinks`).to.be.at.least(previousHead?.size ?? 0);
        previousHead = head;
      } finally {
        chain.provider.destroy();
      }
    };

    for (let round = 0; round < rounds; round++) {
      const wallClock = round % 10 === 9; // one kill in ten at a random moment instead
      const point = points[round % points.length]!;
      const armed = wallClock ? undefined : `${point.name}:${1 + rng.int(point.maxHit)}`;
      // Each (re)start must open cleanly; the armed point may fire during recovery, before ready.
      const started = await serve.start(armed);
      if (process.env.FAULT_DEBUG) console.error(`round ${round}: ${armed ?? "wall-clock"} → ${started}`);
      let dead = started === "killed";
      let killedByUs = false;
      const exited = serve.exited().then(() => (dead = true));
      if (!dead) {
        cleanRestarts++;
        try {
          await checkConsistency(`after kill ${round}`);
        } catch (error) {
          await Promise.race([exited, sleep(2_000)]);
          if (!dead) throw error; // a kill point fired while we were reading: not a finding
        }
      }
      if (!dead) {
        const loadDeadline = Date.now() + 6_000;
        const load = submitUntil(serve.url, unit, acknowledged, () => dead || Date.now() > loadDeadline, {
          counter,
        });
        if (wallClock) await sleep(rng.between(200, 1700));
        else await Promise.race([exited, sleep(6_000)]);
        if (!dead) {
          killedByUs = true; // wall-clock kill, or the point was not reached in time
          serve.killAll();
        }
        await load;
      }
      await exited;
      const label = started === "killed" ? `${point.name} (while recovering)` : killedByUs ? "wall-clock" : point.name;
      kills[label] = (kills[label] ?? 0) + 1;
      serve.killAll(); // the chain node goes down too
      await sleep(100);
    }

    // Let everything anchor, then compare the whole log with the chain and the acknowledgments.
    expect(await serve.start()).to.equal("ready");
    const info = async () => (await getJson<{ treeSize: number }>(`${serve.url}/v1/info`)).body;
    const chain = ledgerReader(dir.path, unit.deployment);
    const deadline = Date.now() + 60_000;
    while ((await chain.head()).size !== (await info()).treeSize && Date.now() < deadline) await sleep(200);
    const head = await chain.head();
    expect(head.size, "everything anchored").to.equal((await info()).treeSize);
    await checkConsistency("at the end");
    // A sample of receipts, verified by the contract itself.
    const ids = [...acknowledged.keys()];
    for (let i = 0; i < Math.min(50, ids.length); i++) {
      const recordId = rng.pick(ids);
      const receipt = await getJson<Record<string, any>>(`${serve.url}/v1/attestations/${recordId}/receipt`);
      expect(receipt.status, `receipt of ${recordId}`).to.equal(200);
      expect(await chain.anchoredInclusion(receipt.body)).to.equal(true);
    }
    chain.provider.destroy();
    await serve.stop();

    // Read the store itself: every acknowledged record at its leaf, no record at two leaves.
    const store = new LedgerStore(join(dir.path, "ledger"));
    await store.open();
    let lost = 0;
    let duplicates = 0;
    try {
      expect(store.currentRoot()).to.deep.equal(hexToBytes(head.root));
      const seen = new Set<string>();
      for (const { record, position } of await store.recordsFrom(0, store.treeSize)) {
        if (seen.has(record.recordId) || record.leafIndex !== position) duplicates++;
        seen.add(record.recordId);
      }
      for (const [recordId, leafIndex] of acknowledged) {
        if ((await store.recordIdAt(leafIndex)) !== recordId) lost++;
      }
      const summary = {
        killPoints: rounds,
        kills,
        cleanRestarts,
        recordsAcknowledged: acknowledged.size,
        leaves: store.treeSize,
        checkpointsOnChain: head.count,
        lost,
        duplicates,
      };
      console.log(`      fault campaign: ${JSON.stringify(summary)}`);
      expect(seen.size).to.equal(store.treeSize);
    } finally {
      await store.close();
    }
    expect(acknowledged.size).to.be.greaterThan(rounds);
    expect(lost, "acknowledged records lost").to.equal(0);
    expect(duplicates, "duplicate or misplaced leaves").to.equal(0);
  };
});
