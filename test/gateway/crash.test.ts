/**
 * Crash test: the real `dutyproof serve` process (gateway + its anvil node) under concurrent
 * submissions, killed with SIGKILL at random moments, restarted each time. Every acknowledged
 * record must be present exactly once, anchored, with a receipt that verifies on chain; receipts
 * seen before a kill must be unchanged after it. CRASH_ROUNDS sets the number of kills (default 3
 * in `npm test`; `npm run test:crash` runs 20).
 */
import { expect } from "chai";
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Contract, Wallet, id } from "ethers";
import { loadDutyLedgerArtifact } from "../../server/chain/dutyLedgerArtifact.ts";
import { LocalChainNode } from "../../server/chain/LocalChainNode.ts";
import { chainOwnerProvider } from "../helpers/chainOwner.ts";
import type { Deployment } from "../../server/chain/deployment.ts";
import { LedgerStore } from "../../server/store/LedgerStore.ts";
import { servedGatewayEnv, sleep } from "../helpers/gatewayFixture.ts";
import { testPort } from "../helpers/ports.ts";
import { startServe } from "../helpers/serve.ts";
import { Rng, testSeed } from "../helpers/seededRandom.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { type Eip712Info, newEnvelope, signEnvelope } from "../helpers/unitClient.ts";

const rounds = Number(process.env.CRASH_ROUNDS ?? 3);

describe(`crash recovery: SIGKILL of gateway and chain, ${rounds} times`, function () {
  this.timeout(60_000 + rounds * 30_000);
  // When to kill is drawn from a seeded generator: CRASH_SEED=… replays a failing run's kill times.
  const rng = new Rng(testSeed("CRASH_SEED"));
  const dir = tempDir("crash");
  const port = testPort("crash");
  const chainPort = port + 10_000;
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;

  const start = async () => {
    child = await startServe(
      url,
      servedGatewayEnv(dir.path, port, chainPort),
      { detached: true }, // its own process group, so one kill takes the gateway and its chain node
    );
  };
  const killAll = () => {
    if (child?.pid) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    child = null;
  };

  after(async () => {
    if (child?.pid) {
      process.kill(-child.pid, "SIGTERM");
      await sleep(1500);
    }
    killAll();
    dir.remove();
  });

  it("loses no acknowledged record, duplicates no leaf, and keeps every receipt valid", async () => {
    await start();
    const info = (await (await fetch(`${url}/v1/info`)).json()) as {
      eip712: Eip712Info;
      logId: string;
      contracts: { DutyLedger: string };
    };
    const deployment = JSON.parse(readFileSync(join(dir.path, "deployment.json"), "utf8")) as Deployment;
    const provider = chainOwnerProvider(dir.path);
    const operator = new Wallet(readFileSync(join(dir.path, "keys", "operator.key"), "utf8").trim(), provider);
    const unitKey = Wallet.createRandom();
    const unitId = id("unit:crash-village");
    let ledger = new Contract(deployment.address, loadDutyLedgerArtifact().abi as never, operator);
    await (await ledger.getFunction("registerUnit")(unitId, "0x" + "00".repeat(32), 3, unitKey.address)).wait();
    await new LocalChainNode({ stateDir: join(dir.path, "chain") }).snapshot();
    const catalog = (
      (await (await fetch(`${url}/v1/duty-types`)).json()) as { dutyTypes: Array<{ id: string; code: string }> }
    ).dutyTypes;
    const patrol = catalog.find((d) => d.code === "grid-patrol")!.id;

    const acknowledged = new Map<string, number>(); // recordId → leafIndex
    const receiptsSeen = new Map<string, string>();
    let sequence = 0;
    for (let round = 0; round <= rounds; round++) {
      if (round > 0) await start();
      // Receipts fetched before earlier kills must not have changed.
      for (const [recordId, before] of receiptsSeen) {
        const res = await fetch(`${url}/v1/attestations/${recordId}/receipt`);
        expect(res.status, `receipt of ${recordId} after restart ${round}`).to.equal(200);
        expect(await res.text()).to.equal(before);
      }
      if (round === rounds) break;
      let stop = false;
      const worker = async () => {
        while (!stop) {
          const envelope = newEnvelope(info.logId, unitId, patrol, {
            gridCode: `G-${sequence++}`,
            durationMinutes: 30,
            issuesFound: 0,
            gridWorker: "网格员",
          });
          const signature = await signEnvelope(unitKey, info.eip712, envelope);
          try {
            const res = await fetch(`${url}/v1/attestations`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ envelope, signature }),
            });
            if (res.status === 201 || res.status === 200) {
              const ack = (await res.json()) as { recordId: string; leafIndex: number };
              acknowledged.set(ack.recordId, ack.leafIndex);
            }
          } catch {
            // the gateway died under us: this record was not acknowledged
          }
        }
      };
      const workers = Array.from({ length: 4 }, worker);
      await sleep(rng.between(300, 1500));
      killAll();
      stop = true;
      await Promise.all(workers);
      // Remember a few receipts that were anchored before the kill, to compare after restart.
      await start();
      for (const recordId of [...acknowledged.keys()].slice(-3)) {
        const res = await fetch(`${url}/v1/attestations/${recordId}/receipt`);
        if (res.status === 200) receiptsSeen.set(recordId, await res.text());
      }
      killAll();
    }

    // Every acknowledged record ends up anchored, at the leaf it was acknowledged with.
    ledger = new Contract(deployment.address, loadDutyLedgerArtifact().abi as never, provider);
    expect(acknowledged.size).to.be.greaterThan(rounds * 5);
    for (const [recordId, leafIndex] of acknowledged) {
      let receipt: Record<string, any> | undefined;
      const deadline = Date.now() + 20_000;
      while (!receipt && Date.now() < deadline) {
        const res = await fetch(`${url}/v1/attestations/${recordId}/receipt`);
        expect(res.status, `record ${recordId}`).to.be.oneOf([200, 202]);
        if (res.status === 200) receipt = (await res.json()) as Record<string, any>;
        else await sleep(200);
      }
      expect(receipt, `receipt of ${recordId}`).to.not.equal(undefined);
      expect(receipt!.leafIndex).to.equal(leafIndex);
      const [included] = await ledger.getFunction("verifyAnchoredInclusion")(
        receipt!.logId,
        receipt!.leafHash,
        receipt!.leafIndex,
        receipt!.treeSize,
        receipt!.inclusionProof,
      );
      expect(included, `inclusion of ${recordId}`).to.equal(true);
    }
    provider.destroy();

    // No leaf twice: stop cleanly and read the store.
    process.kill(-child!.pid!, "SIGTERM");
    await new Promise<void>((resolve) => child!.once("exit", () => resolve()));
    child = null;
    await sleep(500);
    const store = new LedgerStore(join(dir.path, "ledger"));
    await store.open();
    const ids = new Set<string>();
    for (let i = 0; i < store.treeSize; i++) ids.add((await store.recordIdAt(i))!);
    expect(ids.size).to.equal(store.treeSize);
    for (const recordId of acknowledged.keys()) expect(ids.has(recordId)).to.equal(true);
    await store.close();
  });
});
