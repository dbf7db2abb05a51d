/**
 * The monitor against a running `dutyproof serve` (embedded chain node, real LevelDB, loopback
 * HTTP): with an auditor token it checks each new record's content and key on chain. It reports
 * a store tampered with while the gateway was stopped — two records swapped, at both leaves; a
 * record appended that its unit never signed, at its leaf (with the token) — and a rollback of
 * the chain node behind the gateway's back.
 */
import { expect } from "chai";
import { join } from "node:path";
import { Level } from "level";
import { type MonitorFileState, monitorOnce } from "../../server/audit/monitorLog.ts";
import { issueToken } from "../../server/gateway/AccessTokens.ts";
import { bytesToHex } from "../../server/core/bytes.ts";
import { leafHashOf, recordDigest } from "../../server/core/record.ts";
import { LedgerStore } from "../../server/store/LedgerStore.ts";
import { chainOwnerProvider } from "../helpers/chainOwner.ts";
import { testPort } from "../helpers/ports.ts";
import { Rng } from "../helpers/seededRandom.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { ServeProcess, registerUnit, sleep } from "../faults/support.ts";

describe("dutyproof monitor against a running gateway", function () {
  this.timeout(300_000);
  const dir = tempDir("monitor-gateway");
  const port = testPort("monitor");
  const serve = new ServeProcess(dir.path, port, port + 1 >= 10_000 ? port - 1 : port + 1);
  let unit: Awaited<ReturnType<typeof registerUnit>>;
  let sent = 0;

  const submit = async (count: number) => {
    for (let done = 0; done < count; done += 100) {
      const items = Array.from({ length: Math.min(100, count - done) }, () => unit.sign(sent++));
      const res = await fetch(`${serve.url}/v1/attestations/batch`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ items }),
      });
      expect(res.status).to.equal(200);
    }
  };
  const signedSize = async (size: number) => {
    for (let i = 0; i < 600; i++) {
      const res = await fetch(`${serve.url}/tlog/checkpoint`);
      if (res.status === 200 && (await res.text()).split("\n")[1] === String(size)) return;
      await sleep(100);
    }
    throw new Error(`no signed checkpoint of size ${size}`);
  };
  const kinds = (findings: Array<{ kind: string; leafIndex?: number; checkpointSize?: number }>) =>
    findings.map((f) => `${f.kind}@${f.leafIndex ?? f.checkpointSize}`);

  before(async () => {
    expect(await serve.start()).to.equal("ready");
    unit = await registerUnit(dir.path, serve.url, new Rng(0x6d6f6e));
  });
  after(async () => {
    await serve.stop();
    dir.remove();
  });

  it("checks records with an auditor token; reports swapped records, a forged one and a chain rollback", async () => {
    const token = issueToken(join(dir.path, "tokens.json"), "auditor", "monitor test");
    const target = { gatewayUrl: serve.url, token, rpcUrl: `${serve.url}/v1/rpc`, witnesses: [], quorum: 0 };

    await submit(300);
    await signedSize(300);
    const first = await monitorOnce(target, null);
    expect(kinds(first.findings)).to.deep.equal([]);
    expect(first.checked).to.equal(300);
    const at300: MonitorFileState = first.state;

    await submit(200);
    await signedSize(500);
    const second = await monitorOnce(target, at300);
    expect(kinds(second.findings)).to.deep.equal([]);
    expect(second.state.tree.size).to.equal(500);

    // The gateway stopped; in its store, two leaves of the range the first state has not
    // verified are swapped, and a record its unit never signed is appended; restarted, it
    // anchors and signs checkpoint 501.
    await serve.stop();
    const store = new LedgerStore(join(dir.path, "ledger"));
    await store.open();
    const { envelope } = unit.sign(9_999);
    const forged = "0x" + "5a".repeat(64) + "1b";
    const digest = recordDigest(envelope);
    await store.append({
      recordId: bytesToHex(digest),
      envelope,
      signature: forged,
      signer: "0x" + "00".repeat(20),
      leafHash: leafHashOf(digest, forged),
    });
    await store.close();
    const db = new Level<string, string>(join(dir.path, "ledger"));
    const leaves = db.sublevel<string, string>("leaf", { valueEncoding: "utf8" });
    const key = (n: number) => n.toString().padStart(16, "0");
    const [a, b] = await leaves.getMany([key(350), key(351)]);
    await leaves.batch([
      { type: "put", key: key(350), value: b! },
      { type: "put", key: key(351), value: a! },
    ]);
    await db.close();
    expect(await serve.start()).to.equal("ready");
    await signedSize(501);

    const swapped = await monitorOnce({ ...target, token: undefined, rpcUrl: undefined }, at300);
    expect(kinds(swapped.findings)).to.deep.equal(["entry.reordered@350", "entry.reordered@351"]);
    expect(swapped.state).to.equal(at300);

    // The foreign record is in the tree and its entry is well formed: the token shows it.
    const foreign = await monitorOnce(target, second.state);
    expect(kinds(foreign.findings)).to.have.length(1);
    expect(kinds(foreign.findings)[0]).to.match(/^record\.(bad_signature|key_not_valid)@500$/);

    // The chain node's owner keeps a way back to this point; the log grows to 511 and a
    // monitor (no token) verifies it; then the node is rolled back behind the gateway.
    const owner = chainOwnerProvider(dir.path);
    const snapshot = (await owner.send("evm_snapshot", [])) as string;
    await submit(10);
    await signedSize(511);
    const at511 = await monitorOnce({ ...target, token: undefined }, second.state);
    expect(kinds(at511.findings)).to.deep.equal([]);
    expect(at511.state.tree.size).to.equal(511);
    expect(await owner.send("evm_revert", [snapshot])).to.equal(true);
    owner.destroy();
    const rolledBack = await monitorOnce(target, at511.state);
    expect(kinds(rolledBack.findings)).to.include("chain.checkpoint_lost@511");
    expect(rolledBack.state).to.equal(at511.state);
  });
});
