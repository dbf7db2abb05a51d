/**
 * The anchoring pipeline against a real anvil node: a dropped transaction, a node that restarts
 * without its last blocks, and an RPC endpoint that is down for a while. Every checkpoint must
 * end up anchored exactly once, with no nonce stall.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { Contract, type JsonRpcProvider, Wallet } from "ethers";
import { bytesToHex } from "../../server/core/bytes.ts";
import { ManualClock } from "../../server/core/clock.ts";
import { hashLeaf } from "../../server/core/merkle/index.ts";
import type { RecordEnvelope } from "../../server/core/record.ts";
import { LocalChainNode } from "../../server/chain/LocalChainNode.ts";
import { IpcJsonRpcProvider } from "../../server/chain/IpcJsonRpc.ts";
import { deployDutyLedger } from "../../server/chain/deployment.ts";
import { Anchorer } from "../../server/gateway/Anchorer.ts";
import { SignedCheckpoints, checkpointNoteAt } from "../../server/gateway/SignedCheckpoints.ts";
import { NOTE_ED25519, noteSigner } from "../../server/core/note.ts";
import { LedgerStore } from "../../server/store/LedgerStore.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";

// anvil's first development account (its well-known test key); the embedded node has no funded
// accounts, so the test funds it as the gateway funds its own wallet.
const DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

describe("gateway/Anchorer against a real chain node", function () {
  this.timeout(120_000);
  const dir = tempDir("anchorer");
  const port = testPort("anchorer");
  const node = new LocalChainNode({ stateDir: join(dir.path, "chain"), port });
  let provider: JsonRpcProvider;
  let wallet: Wallet;
  let ledger: Contract;
  let logId: string;
  let store: LedgerStore;
  let anchorer: Anchorer;
  let appended = 0;

  const append = async (count: number) => {
    for (let i = 0; i < count; i++, appended++) {
      const leafHash = hashLeaf(new TextEncoder().encode(`anchorer leaf ${appended}`));
      await store.append({
        recordId: bytesToHex(leafHash),
        envelope: {} as RecordEnvelope,
        signature: "0x",
        signer: "0x",
        leafHash,
      });
    }
  };
  const chainHead = async () => {
    const head = await ledger.getFunction("logHead")(logId);
    return { size: Number(head.size), count: Number(head.checkpointCount) };
  };
  /** Waits until the checkpoint of `size` is stored as sent and its transaction is in the node's pool. */
  const sentAndPooled = async (size: number): Promise<string> => {
    for (let i = 0; i < 200; i++) {
      const [latest] = await store.listCheckpoints({ reverse: true, limit: 1 });
      if (latest?.status === "sent" && latest.size === size && (await provider.getTransaction(latest.txHash!))) {
        return latest.txHash!;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`the checkpoint of ${size} was never sent to the pool`);
  };
  const anchoredLocally = async () => (await store.listCheckpoints()).filter((c) => c.status === "anchored");

  before(async () => {
    await node.start();
    provider = new IpcJsonRpcProvider(node.ipcPath, { pollingInterval: 100 });
    wallet = new Wallet(DEV_KEY, provider);
    await node.rpc("anvil_setBalance", [wallet.address, "0x" + (10n ** 24n).toString(16)]);
    const deployment = await deployDutyLedger(wallet, { logName: "anchorer-test", catalog: [] });
    logId = deployment.logId;
    const { loadDutyLedgerArtifact } = await import("../../server/chain/dutyLedgerArtifact.ts");
    ledger = new Contract(deployment.address, loadDutyLedgerArtifact().abi as never, wallet);
    await node.snapshot();
    store = new LedgerStore(join(dir.path, "ledger"));
    await store.open();
    anchorer = new Anchorer({
      store,
      ledger,
      wallet,
      provider,
      logId,
      intervalMs: 0,
      maxLeaves: 1,
      receiptTimeoutMs: 1000,
      persistChain: () => node.snapshot(),
    });
  });

  after(async () => {
    await anchorer.stop();
    await store.close();
    provider.destroy();
    await node.stop();
    dir.remove();
  });

  it("anchors, then extends with a consistency proof the contract accepts", async () => {
    await append(5);
    await anchorer.tick();
    await append(8);
    await anchorer.tick();
    expect(anchorer.lastError).to.equal(null);
    expect(await chainHead()).to.deep.equal({ size: 13, count: 2 });
    expect((await anchoredLocally()).map((c) => [c.size, c.previousSize])).to.deep.equal([
      [5, 0],
      [13, 5],
    ]);
  });

  it("re-sends a transaction the node dropped, once", async () => {
    await node.rpc("evm_setAutomine", [false]);
    await append(3);
    const sending = anchorer.tick();
    // Wait until the signed transaction is stored and in the node's pool, then drop it.
    const txHash = await sentAndPooled(16);
    await node.rpc("anvil_dropAllTransactions", []);
    expect(await provider.getTransaction(txHash)).to.equal(null);
    await node.rpc("evm_setAutomine", [true]);
    // The tick in flight either sees the transaction gone and re-sends it, or times out
    // waiting for it and leaves it to the next tick, which re-sends it.
    await sending;
    for (let i = 0; i < 5 && (await chainHead()).size !== 16; i++) await anchorer.tick();
    expect(await chainHead()).to.deep.equal({ size: 16, count: 3 });
    expect((await anchoredLocally()).map((c) => c.size)).to.deep.equal([5, 13, 16]);
  });

  it("re-anchors after the node restarts without its last blocks", async () => {
    await node.snapshot();
    await node.rpc("evm_setAutomine", [false]);
    await append(4);
    const sending = anchorer.tick();
    await sentAndPooled(20);
    // The node dies before mining; it comes back from the last snapshot (without the transaction).
    await (node as unknown as { child: { kill: (s: string) => void } }).child.kill("SIGKILL");
    await sending;
    await node.start();
    expect((await chainHead()).size).to.equal(16);
    for (let i = 0; i < 5 && (await chainHead()).size !== 20; i++) await anchorer.tick();
    expect(await chainHead()).to.deep.equal({ size: 20, count: 4 });
    expect((await anchoredLocally()).map((c) => c.size)).to.deep.equal([5, 13, 16, 20]);
  });

  it("survives an unreachable endpoint and catches up when it returns, with no nonce stall", async () => {
    await node.stop();
    await append(2);
    await anchorer.tick();
    expect(anchorer.lastError).to.be.a("string");
    expect((await store.listCheckpoints({ reverse: true, limit: 1 }))[0]!.size).to.equal(20);
    await node.start();
    await anchorer.tick();
    expect(anchorer.lastError).to.equal(null);
    await append(1);
    await anchorer.tick();
    expect(await chainHead()).to.deep.equal({ size: 23, count: 6 });
    const local = await anchoredLocally();
    expect(local.map((c) => c.size)).to.deep.equal([5, 13, 16, 20, 22, 23]);
    // Exactly once: every local checkpoint is the chain's, and the chain has no other.
    for (const c of local) {
      const [found, onChain] = await ledger.getFunction("checkpointAt")(logId, c.size);
      expect([found, onChain.root]).to.deep.equal([true, c.root]);
    }
  });

  it("anchors when its clock says the interval is due, not before: the test sets the time", async () => {
    const start = 1_800_000_000_000;
    const clock = new ManualClock(start);
    const timed = new Anchorer({
      store,
      ledger,
      wallet,
      provider,
      logId,
      intervalMs: 60_000,
      maxLeaves: 1000,
      receiptTimeoutMs: 1000,
      persistChain: () => node.snapshot(),
      clock,
    });
    try {
      await append(1);
      await timed.tick();
      expect(await chainHead()).to.deep.equal({ size: 24, count: 7 });
      await append(2);
      await timed.tick();
      clock.advance(59_999);
      await timed.tick();
      expect(await chainHead(), "one millisecond before the interval is due").to.deep.equal({ size: 24, count: 7 });
      clock.advance(1);
      await timed.tick();
      expect(timed.lastError).to.equal(null);
      expect(await chainHead()).to.deep.equal({ size: 26, count: 8 });
      const [latest] = await store.listCheckpoints({ reverse: true, limit: 1 });
      expect(latest!.createdAt, "created at the clock's time").to.equal(start + 60_000);
    } finally {
      await timed.stop();
    }
  });

  it("has a checkpoint's note signed before it stores the checkpoint anchored; a failed signing leaves it sent", async () => {
    const checkpoints = new SignedCheckpoints({
      store,
      signer: noteSigner("dutyproof.example/anchorer-test", NOTE_ED25519, new Uint8Array(randomBytes(32))),
    });
    await checkpoints.signAnchored();
    let failSigning = true;
    /** What a reader of the store saw when each checkpoint was marked anchored: was its note there? */
    const noteWhenMarked = new Map<number, boolean>();
    const putCheckpoint = store.putCheckpoint.bind(store);
    store.putCheckpoint = async (c) => {
      if (c.status === "anchored") noteWhenMarked.set(c.size, (await checkpointNoteAt(store, c.size)) !== undefined);
      return putCheckpoint(c);
    };
    const signing = new Anchorer({
      store,
      ledger,
      wallet,
      provider,
      logId,
      intervalMs: 0,
      maxLeaves: 1,
      receiptTimeoutMs: 1000,
      persistChain: () => node.snapshot(),
      onConfirmed: async (c) => {
        if (failSigning) throw new Error("the signing key is unavailable");
        await checkpoints.signConfirmed(c);
      },
    });
    try {
      await append(1);
      const size = appended;
      await signing.tick();
      expect((await chainHead()).size, "on chain").to.equal(size);
      expect(signing.lastError).to.match(/signing key is unavailable/);
      const [stuck] = await store.listCheckpoints({ reverse: true, limit: 1 });
      expect([stuck!.size, stuck!.status], "not anchored without its note").to.deep.equal([size, "sent"]);
      failSigning = false;
      await signing.tick();
      const [marked] = await store.listCheckpoints({ reverse: true, limit: 1 });
      expect([marked!.size, marked!.status]).to.deep.equal([size, "anchored"]);
      expect(noteWhenMarked.get(size), "the note was stored before the checkpoint was marked").to.equal(true);
      expect(checkpoints.signedSize).to.equal(size);
    } finally {
      store.putCheckpoint = putCheckpoint;
      await signing.stop();
    }
  });
});
