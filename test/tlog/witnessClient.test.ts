/**
 * The gateway's witness client against three real witnesses over loopback: a real LedgerStore
 * with its signed checkpoints, cosignatures gathered and served by GET /tlog/checkpoint, a
 * witness's size learnt from its 409 after the gateway restarts, and witnesses that lag or
 * refuse reported in the status, the metric and the readiness rule.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Registry } from "prom-client";
import { bytesToHex } from "../../server/core/bytes.ts";
import { ManualClock } from "../../server/core/clock.ts";
import type { RecordEnvelope } from "../../server/core/record.ts";
import { leafDataOf } from "../../server/core/record.ts";
import { hashLeaf } from "../../server/core/merkle/index.ts";
import {
  type NoteSigner,
  NOTE_COSIGNATURE_V1,
  NOTE_ED25519,
  formatVerifierKey,
  noteSigner,
  openCheckpoint,
} from "../../server/core/note.ts";
import { tlogOrigin } from "../../server/core/tlog.ts";
import { parseWitnessList } from "../../server/core/witness.ts";
import { SignedCheckpoints } from "../../server/gateway/SignedCheckpoints.ts";
import { WitnessClient, registerWitnessMetrics, witnessReadiness } from "../../server/gateway/WitnessClient.ts";
import { systemClock } from "../../server/clock.ts";
import { dispatcher } from "../../server/http/dispatch.ts";
import { tlogRoutes } from "../../server/http/tlogRoutes.ts";
import { LedgerStore } from "../../server/store/LedgerStore.ts";
import { WitnessStateDir } from "../../server/witness/WitnessStateDir.ts";
import { createWitnessServer } from "../../server/witness/WitnessServer.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";

const signature = "0x" + "ab".repeat(64) + "1b";
const ORIGIN = tlogOrigin(31337, "0x" + "56".repeat(20), "0x" + "78".repeat(32));

describe("gateway witness client", function () {
  this.timeout(120_000);
  let dir: ReturnType<typeof tempDir>;
  let store: LedgerStore;
  let checkpoints: SignedCheckpoints;
  let gateway: Server;
  let base: string;
  const logSigner = noteSigner(ORIGIN, NOTE_ED25519, new Uint8Array(randomBytes(32)));
  const witnessSigners: NoteSigner[] = ["a", "b", "c"].map((n) =>
    noteSigner(`witness.${n}.example`, NOTE_COSIGNATURE_V1, new Uint8Array(randomBytes(32))),
  );
  const witnessServers = new Map<number, Server>();
  const ports = witnessSigners.map(() => testPort("witness"));
  const clock = new ManualClock(1_767_000_000_000);

  async function startWitness(i: number): Promise<void> {
    const server = createWitnessServer({
      signer: witnessSigners[i]!,
      logs: [logSigner],
      state: new WitnessStateDir(join(dir.path, `witness-${i}`)),
      clock,
    });
    await new Promise<void>((resolve) => server.listen(ports[i], "127.0.0.1", resolve));
    ports[i] = (server.address() as AddressInfo).port;
    witnessServers.set(i, server);
  }
  const stopWitness = (i: number) =>
    new Promise<void>((resolve) => {
      const server = witnessServers.get(i)!;
      witnessServers.delete(i);
      server.close(() => resolve());
      server.closeAllConnections();
    });
  const witnessList = () =>
    parseWitnessList(witnessSigners.map((s, i) => `${formatVerifierKey(s)}@http://127.0.0.1:${ports[i]}`).join(","));
  const newClient = (quorum = 2) =>
    new WitnessClient({
      witnesses: witnessList(),
      quorum,
      checkpoints,
      consistencyProof: (a, b) => store.consistencyProof(a, b),
      clock,
      maxWaitMs: 60_000,
    });

  /** Appends leaves up to `size`, anchors (in the store) and signs the checkpoint. */
  async function grow(size: number): Promise<void> {
    const appends: Array<Promise<unknown>> = [];
    for (let i = store.treeSize; i < size; i++) {
      const digest = new Uint8Array(randomBytes(32));
      appends.push(
        store.append({
          recordId: bytesToHex(digest),
          envelope: { unitId: "0x" + "00".repeat(32) } as RecordEnvelope,
          signature,
          signer: "0x" + "00".repeat(20),
          leafHash: hashLeaf(leafDataOf(digest, signature)),
        }),
      );
    }
    await Promise.all(appends);
    const previous = (await store.listCheckpoints({ reverse: true, limit: 1 }))[0]?.size ?? 0;
    await store.putCheckpoint({
      size,
      root: bytesToHex(await store.rootAt(size)),
      previousSize: previous,
      status: "anchored",
      createdAt: 0,
    });
    await checkpoints.signAnchored();
  }

  const servedNote = async () => (await fetch(`${base}/tlog/checkpoint`)).text();

  beforeEach(async function () {
    dir = tempDir("witness-client");
    store = new LedgerStore(join(dir.path, "ledger"));
    await store.open();
    checkpoints = new SignedCheckpoints({ store, signer: logSigner });
    gateway = createServer(dispatcher(tlogRoutes({ store, checkpoints }), { clock: systemClock }));
    await new Promise<void>((resolve) => gateway.listen(testPort("witness"), "127.0.0.1", () => resolve()));
    base = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
    for (let i = 0; i < 3; i++) await startWitness(i);
  });
  afterEach(async function () {
    await Promise.all([...witnessServers.keys()].map(stopWitness));
    await new Promise((resolve) => gateway.close(resolve));
    await store.close();
    dir.remove();
  });

  it("gathers every witness's cosignature, stores it on the note and serves it at /tlog/checkpoint", async function () {
    const client = newClient();
    await grow(5);
    await client.sendLatest();
    await grow(300);
    await client.sendLatest();
    const opened = openCheckpoint(await servedNote(), logSigner, ORIGIN, witnessSigners);
    expect(opened.checkpoint.size).to.equal(300);
    expect(opened.cosignatures.map((c) => c.verifier.name).sort()).to.deep.equal([
      "witness.a.example",
      "witness.b.example",
      "witness.c.example",
    ]);
    expect(client.status().map((w) => [w.cosignedSize, w.lagLeaves, w.lastError])).to.deep.equal([
      [300, 0, undefined],
      [300, 0, undefined],
      [300, 0, undefined],
    ]);
    // Stored durably: the store reopened still has them.
    await store.close();
    await store.open();
    const reopened = new SignedCheckpoints({ store, signer: logSigner });
    await reopened.signAnchored();
    expect(openCheckpoint(reopened.latest()!.note, logSigner, ORIGIN, witnessSigners).cosignatures).to.have.length(3);
  });

  it("after a gateway restart, learns each witness's size from its 409 and sends the proof from there", async function () {
    await grow(7);
    await newClient().sendLatest();
    await grow(40);
    const restarted = newClient(); // knows nothing: starts from old size 0
    await restarted.sendLatest();
    expect(restarted.status().every((w) => w.cosignedSize === 40 && !w.lastError)).to.equal(true);
    expect(openCheckpoint(await servedNote(), logSigner, ORIGIN, witnessSigners).cosignatures).to.have.length(3);
  });

  it("reports a witness that is down or refuses: status, metric, and /readyz not ready once quorum has lacked too long", async function () {
    const client = newClient(2);
    const registry = new Registry();
    registerWitnessMetrics(registry, client);
    await grow(4);
    await client.sendLatest();
    await stopWitness(1);
    await stopWitness(2);
    await grow(20);
    await client.sendLatest();
    const status = client.status();
    expect(status[0]).to.include({ cosignedSize: 20, lagLeaves: 0 });
    expect(status[1]).to.include({ cosignedSize: 4, lagLeaves: 16 });
    expect(status[1]!.lastError).to.match(/^unreachable/);
    const metrics = await registry.metrics();
    expect(metrics).to.include('dutyproof_witness_lag_leaves{witness="witness.b.example"} 16');
    expect(metrics).to.include('dutyproof_witness_lag_leaves{witness="witness.a.example"} 0');
    // Within WITNESS_MAX_WAIT_MS the gateway stays ready (a witness may be restarting) ...
    expect(witnessReadiness(client)).to.deep.include({ ready: true });
    expect(witnessReadiness(client).check).to.match(/^1 of 2 cosignatures on the latest checkpoint; witness\.b/);
    clock.advance(60_001);
    // ... after it, it is not.
    expect(witnessReadiness(client).ready).to.equal(false);
    expect(metrics).to.include("dutyproof_witness_quorum_ok 1");
    expect(await registry.metrics()).to.include("dutyproof_witness_quorum_ok 0");
    // The witness comes back and catches up from its size 4 with a proof.
    await startWitness(1);
    await client.sendLatest();
    expect(client.status()[1]).to.include({ cosignedSize: 20, lagLeaves: 0 });
    expect(witnessReadiness(client)).to.deep.equal({ ready: true, check: "ok" });
  });

  it("reports a witness that refuses a checkpoint (it holds another root for the size)", async function () {
    await grow(6);
    const client = newClient(3);
    await client.sendLatest();
    // The witness c cosigned size 6; its state is replaced by a fork's (as if shown another view).
    const state = new WitnessStateDir(join(dir.path, "witness-2"));
    const held = state.read(ORIGIN)!;
    state.write({ ...held, rootHash: new Uint8Array(32).fill(9) });
    await grow(10);
    await client.sendLatest();
    expect(client.status()[2]!.lastError).to.match(/^refused with 422: witness\.bad_proof/);
    expect(witnessReadiness(client).check).to.match(/^2 of 3 cosignatures/);
  });

  it("refuses WITNESSES entries that are not VERIFIER_KEY@URL of a witness key", function () {
    expect(() => parseWitnessList("nonsense")).to.throw(/not VERIFIER_KEY@URL/);
    expect(() => parseWitnessList(`${formatVerifierKey(logSigner)}@http://127.0.0.1:1`)).to.throw(/not a witness/);
    expect(() => parseWitnessList(`${formatVerifierKey(witnessSigners[0]!)}@ftp://x`)).to.throw(/not an http/);
    expect(parseWitnessList("")).to.deep.equal([]);
  });
});
