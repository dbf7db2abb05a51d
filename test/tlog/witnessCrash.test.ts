/**
 * A witness killed with SIGKILL between receiving a checkpoint and answering (the fault points
 * `witness.checked`, before its state is written, and `witness.persisted`, after): restarted on
 * the same state directory and sent the checkpoint again, it loses no cosignature and never
 * gives one for a different root of a size it already holds.
 */
import { expect } from "chai";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { NOTE_COSIGNATURE_V1, formatSignerKey, noteSigner } from "../../server/core/note.ts";
import { readCosignatures } from "../../server/core/witness.ts";
import { WitnessStateDir } from "../../server/witness/WitnessStateDir.ts";
import { cliPath } from "../helpers/serve.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { SimulatedLog, addCheckpoint } from "./witnessSupport.ts";

interface WitnessProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `dutyproof witness serve` as its own process; resolves once it listens. */
async function spawnWitness(keyFile: string, stateDir: string, log: SimulatedLog, faultPoint?: string) {
  const port = testPort("witness");
  const args = [cliPath, "witness", "serve", "--key", keyFile, "--state", stateDir, "--port", String(port)];
  const env = { ...process.env, ...(faultPoint ? { DUTYPROOF_FAULT_POINT: faultPoint } : {}) };
  const child = spawn(process.execPath, [...args, "--log", log.verifierKey], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  await new Promise<void>((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('"event":"listening"')) resolve();
    });
    child.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString()));
    void exited.then(() => reject(new Error(`the witness exited before listening: ${err}`)));
  });
  return { child, url: `http://127.0.0.1:${port}`, exited } satisfies WitnessProcess;
}

async function stopWitness(w: WitnessProcess): Promise<void> {
  if (w.child.exitCode === null && w.child.signalCode === null) {
    w.child.kill("SIGTERM");
    await w.exited;
  }
}

describe("witness: kill -9 between receiving and answering", function () {
  this.timeout(60_000);
  let dir: ReturnType<typeof tempDir>;
  let keyFile: string;
  let signer: ReturnType<typeof noteSigner>;
  let running: WitnessProcess | undefined;

  beforeEach(function () {
    dir = tempDir("witness-crash");
    signer = noteSigner("witness.crash.example", NOTE_COSIGNATURE_V1, randomBytes(32));
    keyFile = join(dir.path, "witness.key");
    writeFileSync(keyFile, formatSignerKey(signer) + "\n", { mode: 0o600 });
  });
  afterEach(async function () {
    if (running) await stopWitness(running);
    running = undefined;
    dir.remove();
  });

  for (const point of ["witness.checked", "witness.persisted"] as const) {
    it(`at ${point}: the resent checkpoint is cosigned once, for its one root`, async function () {
      const state = join(dir.path, "state");
      const log = new SimulatedLog();
      log.grow(4);
      running = await spawnWitness(keyFile, state, log, `${point}:2`);
      expect((await addCheckpoint(running.url, log.request(0))).status).to.equal(200);
      const fork = log.fork(4);
      log.grow(5);
      fork.grow(5, "DPLX");
      // The second request kills the witness at the fault point: no answer comes back.
      const lost = await addCheckpoint(running.url, log.request(4)).then(
        (a) => a.status,
        () => "no answer",
      );
      expect(lost).to.equal("no answer");
      expect(await running.exited).to.deep.equal({ code: null, signal: "SIGKILL" });

      running = await spawnWitness(keyFile, state, log);
      const remembered = new WitnessStateDir(state).read(log.origin)!;
      expect(remembered.size).to.equal(point === "witness.checked" ? 4 : 9);
      // The log's client resends with the size it believes; a 409 tells it the witness's size.
      let answer = await addCheckpoint(running.url, log.request(4));
      if (point === "witness.persisted") {
        expect(answer).to.include({ status: 409, body: "9\n" });
        answer = await addCheckpoint(running.url, log.request(9));
      }
      expect(answer.status).to.equal(200);
      expect(readCosignatures(log.text(), answer.body, signer)).to.have.length(1);
      // The other root of size 9 is refused, whichever way it is offered.
      expect((await addCheckpoint(running.url, fork.request(9))).status).to.equal(409);
      expect((await addCheckpoint(running.url, fork.request(4))).status).to.equal(409);
    });
  }

  it("refuses a second witness process on the same state directory", async function () {
    const log = new SimulatedLog();
    running = await spawnWitness(keyFile, join(dir.path, "state"), log);
    const second = await spawnWitness(keyFile, join(dir.path, "state"), log).then(
      () => "listening",
      (error: Error) => error.message,
    );
    expect(second).to.match(/another witness \(pid \d+\) serves the state directory/);
  });
});
