/**
 * Disk full: the gateway's DATA_DIR on a small tmpfs, filled to the last byte while records
 * arrive. Writes then fail with ENOSPC inside LevelDB (a real write error, not a simulated
 * one). Every submission must get either an acknowledgment or a `store.unavailable` problem
 * (503, application/problem+json), nothing half-written may be left in the store, and once the
 * space is back the gateway accepts and anchors again without a restart.
 *
 * Mounting a tmpfs needs CAP_SYS_ADMIN (root on this project's machines and CI); a tmpfs is
 * used rather than read-only files because root ignores file modes, and a loop device would
 * need a block device as well.
 */
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { hexToBytes } from "../../server/core/bytes.ts";
import { LedgerStore } from "../../server/store/LedgerStore.ts";
import { MemoryTree } from "../../server/core/merkle/index.ts";
import { testPort } from "../helpers/ports.ts";
import { Rng, testSeed } from "../helpers/seededRandom.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { ServeProcess, getJson, ledgerReader, registerUnit, sleep } from "./support.ts";

describe("fault injection: disk full under the gateway's LevelDB", function () {
  const rng = new Rng(testSeed("FAULT_SEED"));
  this.timeout(180_000);
  const outer = tempDir("faults-disk");
  const mount = join(outer.path, "data");
  const port = testPort("faults");
  const chainPort = port + 1 >= 14_000 ? port - 1 : port + 1;
  let serve: ServeProcess;
  let mounted = false;

  before(() => {
    mkdirSync(mount);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=48m,mode=0700", "tmpfs", mount]);
    mounted = true;
    serve = new ServeProcess(mount, port, chainPort);
  });

  after(async () => {
    await serve?.stop();
    if (mounted) execFileSync("umount", [mount]);
    rmdirSync(mount);
    outer.remove();
  });

  it("answers 503 store.unavailable while the disk is full, keeps nothing half-written, recovers when space returns", async () => {
    expect(await serve.start()).to.equal("ready");
    const unit = await registerUnit(mount, serve.url, rng);
    const submit = async (record: unknown) => {
      const res = await fetch(`${serve.url}/v1/attestations`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(record),
      });
      return { status: res.status, type: res.headers.get("content-type") ?? "", body: (await res.json()) as any };
    };
    const acknowledged = new Map<string, number>();
    let n = 0;
    for (let i = 0; i < 20; i++) {
      const answer = await submit(unit.sign(n++));
      expect(answer.status).to.equal(201);
      acknowledged.set(answer.body.recordId, answer.body.leafIndex);
    }

    // Fill the file system: dd stops at ENOSPC.
    const filler = join(mount, "filler");
    try {
      execFileSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=64k"], { stdio: "ignore" });
    } catch {
      // dd exits non-zero when the disk is full: that is the point
    }
    const refused: Array<{ envelope: unknown; signature: string }> = [];
    for (let i = 0; i < 200 && refused.length < 5; i++) {
      const record = unit.sign(n++);
      const answer = await submit(record);
      if (answer.status === 201) {
        acknowledged.set(answer.body.recordId, answer.body.leafIndex); // fitted into a page already held
        continue;
      }
      expect(answer.status, JSON.stringify(answer.body)).to.equal(503);
      expect(answer.type).to.match(/^application\/problem\+json/);
      expect(answer.body.code).to.equal("store.unavailable");
      expect(answer.body.title).to.equal("The record store cannot be written");
      refused.push(record);
    }
    expect(refused.length, "submissions refused while the disk is full").to.equal(5);
    // The gateway stays up and keeps answering reads.
    expect((await getJson(`${serve.url}/livez`)).status).to.equal(200);
    const sizeWhileFull = (await getJson<{ treeSize: number }>(`${serve.url}/v1/info`)).body.treeSize;

    // Space returns: the same records are accepted now, as new leaves (none was kept before).
    rmSync(filler);
    for (const record of refused) {
      const answer = await submit(record);
      expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
      expect(answer.body.leafIndex).to.be.at.least(sizeWhileFull);
      acknowledged.set(answer.body.recordId, answer.body.leafIndex);
    }
    // Anchoring catches up (the chain snapshot also failed while the disk was full).
    const chain = ledgerReader(mount, unit.deployment);
    const treeSize = (await getJson<{ treeSize: number }>(`${serve.url}/v1/info`)).body.treeSize;
    const deadline = Date.now() + 30_000;
    while ((await chain.head()).size < treeSize && Date.now() < deadline) await sleep(200);
    const head = await chain.head();
    chain.provider.destroy();
    expect(head.size).to.equal(treeSize);
    await serve.stop();

    // Nothing half-written: every leaf has its record, its hash index and its nodes; the root
    // rebuilt from the leaves is the store's and the chain's.
    const store = new LedgerStore(join(mount, "ledger"));
    await store.open();
    try {
      expect(store.treeSize).to.equal(treeSize);
      const tree = new MemoryTree();
      for (const { position, record } of await store.recordsFrom(0, store.treeSize)) {
        expect(record.leafIndex).to.equal(position);
        expect(await store.leafIndexOf(record.leafHash)).to.equal(position);
        tree.appendLeafHash(hexToBytes(record.leafHash));
      }
      expect(tree.size).to.equal(store.treeSize);
      expect(store.currentRoot()).to.deep.equal(tree.root(tree.size));
      expect(store.currentRoot()).to.deep.equal(hexToBytes(head.root));
      for (const [recordId, leafIndex] of acknowledged) expect(await store.recordIdAt(leafIndex)).to.equal(recordId);
    } finally {
      await store.close();
    }
  });
});
