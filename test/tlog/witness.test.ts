/**
 * The witness (tlog-witness) over real HTTP on loopback with a real state directory: the
 * statuses the spec gives each case, cosignatures that verify, state that survives a restart,
 * and the split-view attack — two roots of one size — refused by every witness that saw the
 * first, so that a forked checkpoint never reaches a majority quorum.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ManualClock } from "../../server/core/clock.ts";
import { NOTE_COSIGNATURE_V1, formatNote, noteSigner, openCheckpoint, parseNote } from "../../server/core/note.ts";
import { readCosignatures } from "../../server/core/witness.ts";
import { WitnessStateDir } from "../../server/witness/WitnessStateDir.ts";
import { MAX_REQUEST_BYTES, createWitnessServer } from "../../server/witness/WitnessServer.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { SimulatedLog, addCheckpoint } from "./witnessSupport.ts";

interface RunningWitness {
  url: string;
  server: Server;
  signer: ReturnType<typeof noteSigner>;
  state: WitnessStateDir;
}

async function startWitness(
  name: string,
  stateDir: string,
  log: SimulatedLog,
  seed: Uint8Array = randomBytes(32),
): Promise<RunningWitness> {
  const signer = noteSigner(name, NOTE_COSIGNATURE_V1, seed);
  const state = new WitnessStateDir(stateDir);
  const server = createWitnessServer({ signer, logs: [log.signer], state, clock: new ManualClock(1_767_000_000_000) });
  await new Promise<void>((resolve) => server.listen(testPort("witness"), "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, signer, state };
}

const stop = (w: RunningWitness) => new Promise<void>((resolve) => w.server.close(() => resolve()));

describe("witness: add-checkpoint", function () {
  let dir: ReturnType<typeof tempDir>;
  let log: SimulatedLog;
  let witness: RunningWitness;

  beforeEach(async function () {
    dir = tempDir("witness");
    log = new SimulatedLog();
    witness = await startWitness("witness.audit.example", `${dir.path}/state`, log);
  });
  afterEach(async function () {
    await stop(witness);
    dir.remove();
  });

  it("cosigns a first checkpoint with a cosignature/v1 line that verifies on the checkpoint", async function () {
    log.grow(5);
    const answer = await addCheckpoint(witness.url, log.request(0));
    expect(answer.status).to.equal(200);
    expect(answer.body).to.match(/^\u2014 witness\.audit\.example \S+\n$/u);
    const lines = readCosignatures(log.text(), answer.body, witness.signer);
    expect(lines).to.have.length(1);
    const cosigned = formatNote({ text: log.text(), signatures: [...parseNote(log.note()).signatures, ...lines] });
    const opened = openCheckpoint(cosigned, log.signer, log.origin, [witness.signer]);
    expect(opened.cosignatures[0]!.timestamp).to.equal(1_767_000_000);
    expect(witness.state.read(log.origin)!.size).to.equal(5);
  });

  it("cosigns a consistent extension and remembers the new size", async function () {
    log.grow(5);
    expect((await addCheckpoint(witness.url, log.request(0))).status).to.equal(200);
    log.grow(12);
    expect((await addCheckpoint(witness.url, log.request(5))).status).to.equal(200);
    expect(witness.state.read(log.origin)!.size).to.equal(17);
  });

  it("answers a wrong old size with 409 and the size it last cosigned as text/x.tlog.size", async function () {
    log.grow(5);
    await addCheckpoint(witness.url, log.request(0));
    log.grow(3);
    const answer = await addCheckpoint(witness.url, log.request(0));
    expect(answer).to.deep.equal({ status: 409, contentType: "text/x.tlog.size", body: "5\n" });
    const ahead = await addCheckpoint(witness.url, log.request(6));
    expect(ahead).to.deep.equal({ status: 409, contentType: "text/x.tlog.size", body: "5\n" });
  });

  it("answers a consistency proof that does not verify with 422 and keeps its state", async function () {
    log.grow(5);
    await addCheckpoint(witness.url, log.request(0));
    log.grow(6);
    const body = log.request(5).split("\n");
    // Flip one bit of the first proof hash.
    const hash = Buffer.from(body[1]!, "base64");
    hash[0]! ^= 0x08;
    body[1] = hash.toString("base64");
    const answer = await addCheckpoint(witness.url, body.join("\n"));
    expect(answer.status).to.equal(422);
    expect(answer.body).to.match(/^witness\.bad_proof/);
    const truncated = log.request(5).split("\n");
    truncated.splice(1, 1);
    expect((await addCheckpoint(witness.url, truncated.join("\n"))).status).to.equal(422);
    expect(witness.state.read(log.origin)!.size).to.equal(5);
  });

  it("refuses an unknown origin (404), a checkpoint not signed by the log's key (403) and malformed bodies (400)", async function () {
    log.grow(3);
    const stranger = new SimulatedLog("dutyproof/1/0x" + "11".repeat(20) + "/0x" + "22".repeat(32));
    stranger.grow(3);
    expect((await addCheckpoint(witness.url, stranger.request(0))).status).to.equal(404);
    const impostor = new SimulatedLog(log.origin); // same origin, another key
    impostor.grow(3);
    expect((await addCheckpoint(witness.url, impostor.request(0))).status).to.equal(403);
    // A note whose signature line names the log's key but does not verify.
    const forged = log.note().replace(log.text(), log.text().replace(/\n3\n/, "\n4\n"));
    expect((await addCheckpoint(witness.url, `old 0\n\n${forged}`)).status).to.equal(403);
    for (const body of ["", "old 0\n", "old 01\n\n" + log.note(), "old 0\nnot-base64\n\n" + log.note(), "old x\n\n"]) {
      expect((await addCheckpoint(witness.url, body)).status, JSON.stringify(body)).to.equal(400);
    }
    // An old size above the checkpoint's size.
    expect((await addCheckpoint(witness.url, `old 9\n\n${log.note()}`)).status).to.equal(400);
    expect((await addCheckpoint(witness.url, "x".repeat(MAX_REQUEST_BYTES + 1))).status).to.equal(413);
    expect(witness.state.read(log.origin)).to.equal(undefined);
  });

  it("re-cosigns the checkpoint it already holds (old size = size, same root)", async function () {
    log.grow(4);
    await addCheckpoint(witness.url, log.request(0));
    const again = await addCheckpoint(witness.url, log.request(4));
    expect(again.status).to.equal(200);
    expect(readCosignatures(log.text(), again.body, witness.signer)).to.have.length(1);
  });

  it("keeps its state across a restart", async function () {
    log.grow(4);
    await addCheckpoint(witness.url, log.request(0));
    await stop(witness);
    witness = await startWitness("witness.audit.example", `${dir.path}/state`, log, witness.signer.seed);
    log.grow(1);
    expect(await addCheckpoint(witness.url, log.request(0))).to.include({ status: 409, body: "4\n" });
    expect((await addCheckpoint(witness.url, log.request(4))).status).to.equal(200);
  });

  it("runs one request per log at a time: of two racing extensions from one size, one wins and the other gets 409", async function () {
    log.grow(4);
    await addCheckpoint(witness.url, log.request(0));
    const fork = log.fork(4);
    log.grow(4);
    fork.grow(6);
    const answers = await Promise.all([
      addCheckpoint(witness.url, log.request(4)),
      addCheckpoint(witness.url, fork.request(4)),
    ]);
    expect(answers.map((a) => a.status).sort()).to.deep.equal([200, 409]);
  });
});

describe("witness: split view", function () {
  let dir: ReturnType<typeof tempDir>;
  const witnesses: RunningWitness[] = [];

  beforeEach(() => (dir = tempDir("witness-split")));
  afterEach(async function () {
    await Promise.all(witnesses.splice(0).map(stop));
    dir.remove();
  });

  it("refuses a second root of a size it cosigned (409) and any later checkpoint of that fork (422)", async function () {
    const log = new SimulatedLog();
    const w = await startWitness("witness.a.example", `${dir.path}/a`, log);
    witnesses.push(w);
    log.grow(8);
    expect((await addCheckpoint(w.url, log.request(0))).status).to.equal(200);
    log.grow(4);
    expect((await addCheckpoint(w.url, log.request(8))).status).to.equal(200);
    // The fork rewrites leaf 10 onwards: same size 12, another root.
    const fork = log.fork(10);
    fork.grow(2, "DPLX");
    const conflict = await addCheckpoint(w.url, fork.request(12));
    expect(conflict.status).to.equal(409);
    expect(conflict.body).to.match(/^witness\.root_conflict/);
    fork.grow(5);
    const later = await addCheckpoint(w.url, fork.request(12));
    expect(later.status).to.equal(422);
    expect(w.state.read(log.origin)!.rootHash).to.deep.equal(log.tree.root(12));
  });

  it("lets a fork shown to the witnesses after the honest view gather at most one of three cosignatures", async function () {
    const log = new SimulatedLog();
    for (const name of ["a", "b", "c"])
      witnesses.push(await startWitness(`witness.${name}.example`, `${dir.path}/${name}`, log));
    const [a, b, c] = witnesses as [RunningWitness, RunningWitness, RunningWitness];
    log.grow(6);
    for (const w of witnesses) expect((await addCheckpoint(w.url, log.request(0))).status).to.equal(200);
    // The log shows the honest size-10 checkpoint to a and b, and a fork of size 10 to c.
    const fork = log.fork(6);
    log.grow(4);
    fork.grow(4, "DPLX");
    for (const w of [a, b]) expect((await addCheckpoint(w.url, log.request(6))).status).to.equal(200);
    const forkLines = [];
    const toC = await addCheckpoint(c.url, fork.request(6));
    expect(toC.status).to.equal(200);
    forkLines.push(...readCosignatures(fork.text(), toC.body, c.signer));
    // Then it tries to complete the fork's quorum at a and b: both refuse.
    for (const w of [a, b]) {
      const answer = await addCheckpoint(w.url, fork.request(10));
      expect(answer.status).to.equal(409);
    }
    // And c refuses the honest view once it holds the fork.
    expect((await addCheckpoint(c.url, log.request(10))).status).to.equal(409);
    const forked = formatNote({ text: fork.text(), signatures: [...parseNote(fork.note()).signatures, ...forkLines] });
    const opened = openCheckpoint(
      forked,
      log.signer,
      log.origin,
      witnesses.map((w) => w.signer),
    );
    expect(opened.cosignatures).to.have.length(1);
  });

  it("never cosigns two roots for one size, whatever order the views arrive in (exhaustive over small forks)", async function () {
    const log = new SimulatedLog();
    const w = await startWitness("witness.x.example", `${dir.path}/x`, log);
    witnesses.push(w);
    log.grow(3);
    await addCheckpoint(w.url, log.request(0));
    const cosignedRoots = new Map<number, string>();
    cosignedRoots.set(3, Buffer.from(log.tree.root(3)).toString("hex"));
    for (let at = 0; at <= 3; at++) {
      const fork = log.fork(at);
      fork.grow(3 - at + 2, "DPLX");
      for (let oldSize = 0; oldSize <= fork.tree.size; oldSize++) {
        for (let size = Math.max(oldSize, 1); size <= fork.tree.size; size++) {
          const answer = await addCheckpoint(w.url, fork.request(oldSize, size));
          if (answer.status !== 200) continue;
          const root = Buffer.from(fork.tree.root(size)).toString("hex");
          expect(cosignedRoots.get(size) ?? root, `size ${size}`).to.equal(root);
          cosignedRoots.set(size, root);
        }
      }
    }
    // The unforked log (at = 3) extended it: some fork was accepted, and every size kept one root.
    expect(cosignedRoots.size).to.be.greaterThan(1);
  });
});
