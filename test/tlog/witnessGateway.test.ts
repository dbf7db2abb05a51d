/**
 * A real `dutyproof serve` with WITNESSES and WITNESS_QUORUM, three witnesses on loopback: an
 * anchored checkpoint is cosigned and served, /readyz and /metrics report the witnesses, and
 * `dutyproof verify --witness … --quorum 2` accepts the receipt on the cosigned checkpoint but
 * refuses it with a checkpoint of a forked view that only a witness shown the fork cosigned.
 */
import { expect } from "chai";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { ManualClock } from "../../server/core/clock.ts";
import {
  type NoteVerifier,
  NOTE_COSIGNATURE_V1,
  formatCheckpoint,
  formatNote,
  formatVerifierKey,
  noteSigner,
  openCheckpoint,
  parseCheckpoint,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
} from "../../server/core/note.ts";
import { formatAddCheckpointRequest } from "../../server/core/witness.ts";
import { WitnessStateDir } from "../../server/witness/WitnessStateDir.ts";
import { createWitnessServer } from "../../server/witness/WitnessServer.ts";
import { runCli } from "../helpers/externalChain.ts";
import { testPort } from "../helpers/ports.ts";
import { startServe } from "../helpers/serve.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { addCheckpoint } from "./witnessSupport.ts";
import { sleep } from "../helpers/gatewayFixture.ts";

describe("gateway with witnesses, and verify --quorum", function () {
  this.timeout(240_000);
  const dir = tempDir("witness-gateway");
  const port = testPort("witness");
  const witnesses = ["a", "b", "c", "d"].map((n) =>
    noteSigner(`witness.${n}.example`, NOTE_COSIGNATURE_V1, new Uint8Array(randomBytes(32))),
  );
  const witnessPorts = witnesses.map(() => testPort("witness"));
  /** The logs the witnesses follow: the gateway's key is added once it has made it. */
  const followed: NoteVerifier[] = [];
  const servers: Server[] = [];
  const env = {
    ...process.env,
    DATA_DIR: join(dir.path, "data"),
    PORT: String(port),
    CHAIN_PORT: String(testPort("witness")),
    ANCHOR_INTERVAL_MS: "200",
    DUTYPROOF_PASSWORD: "correct horse battery staple",
    GATEWAY_URL: `http://127.0.0.1:${port}`,
    // d is not listed: it stands for a witness the log shows a forked view to.
    WITNESSES: witnesses
      .slice(0, 3)
      .map((w, i) => `${formatVerifierKey(w)}@http://127.0.0.1:${witnessPorts[i]}`)
      .join(","),
    WITNESS_QUORUM: "2",
  };
  let gateway: ChildProcess;
  const cli = async (...args: string[]) => runCli(args, env, 60_000);
  const witnessArgs = witnesses.flatMap((w) => ["--witness", formatVerifierKey(w)]);

  before(async function () {
    for (const [i, signer] of witnesses.entries()) {
      const server = createWitnessServer({
        signer,
        logs: followed,
        state: new WitnessStateDir(join(dir.path, `witness-${i}`)),
        clock: new ManualClock(1_767_000_000_000),
      });
      await new Promise<void>((resolve) => server.listen(witnessPorts[i], "127.0.0.1", resolve));
      servers.push(server);
    }
    gateway = await startServe(env.GATEWAY_URL, env, { timeoutMs: 90_000 });
    const info = (await (await fetch(`${env.GATEWAY_URL}/v1/info`)).json()) as { tlog: { verifierKey: string } };
    followed.push(parseVerifierKey(info.tlog.verifierKey));
  });
  after(async function () {
    if (gateway) {
      gateway.kill("SIGTERM");
      await new Promise((resolve) => gateway.once("exit", resolve));
    }
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    dir.remove();
  });

  it("gets an anchored checkpoint cosigned, serves it, and verify --quorum accepts the receipt only on it", async function () {
    const keystore = join(dir.path, "village.json");
    expect((await cli("unit", "keygen", "--out", keystore)).status).to.equal(0);
    const registered = await cli("unit", "register", "witness-village", "--level", "3", "--keystore", keystore);
    expect(registered.status, registered.stderr).to.equal(0);
    const fields = '{"policy":"防汛知识","channel":"loudspeaker","audience":30,"staff":"宣传员"}';
    const submit = await cli(
      ...["submit", "--keystore", keystore, "--unit", "witness-village", "--duty-type", "policy-outreach"],
      ...["--fields", fields],
    );
    expect(submit.status, submit.stderr).to.equal(0);
    const { recordId } = JSON.parse(submit.stdout) as { recordId: string };
    let receipt: { status: string; treeSize: number } | undefined;
    for (let i = 0; i < 200 && receipt?.status !== "anchored"; i++) {
      await sleep(100);
      receipt = JSON.parse((await cli("receipt", recordId)).stdout);
    }
    expect(receipt?.status).to.equal("anchored");

    // The gateway sends the signed checkpoint to the three listed witnesses; all cosign.
    const log = followed[0]!;
    let cosigners = 0;
    let note = "";
    for (let i = 0; i < 100 && cosigners < 3; i++) {
      await sleep(100);
      note = await (await fetch(`${env.GATEWAY_URL}/tlog/checkpoint`)).text();
      cosigners = openCheckpoint(note, log, log.name, witnesses).cosignatures.length;
    }
    expect(cosigners).to.equal(3);
    const ready = (await (await fetch(`${env.GATEWAY_URL}/readyz`)).json()) as { checks: Record<string, string> };
    expect(ready.checks.witnesses).to.equal("ok");
    expect(await (await fetch(`${env.GATEWAY_URL}/metrics`)).text()).to.include(
      'dutyproof_witness_lag_leaves{witness="witness.c.example"} 0',
    );

    const file = join(dir.path, "receipt.json");
    writeFileSync(file, JSON.stringify(receipt));
    const valid = await cli("verify", file, ...witnessArgs, "--quorum", "2", "--lang", "en");
    expect([valid.status, valid.stdout.split("\n")[0]], valid.stderr).to.deep.equal([0, `VALID: record ${recordId}`]);

    // The operator, holding the log's key, signs another root of the same size and shows it
    // only to witness d, which has seen nothing else and cosigns it.
    const logKey = parseSignerKey(readFileSync(join(env.DATA_DIR, "keys", "tlog.key"), "utf8"));
    const honest = parseCheckpoint(parseNote(note).text);
    const forkText = formatCheckpoint({ ...honest, rootHash: new Uint8Array(randomBytes(32)) });
    const forkNote = signNote(forkText, logKey);
    const toD = await addCheckpoint(
      `http://127.0.0.1:${witnessPorts[3]}`,
      formatAddCheckpointRequest({ oldSize: 0, proof: [], note: forkNote }),
    );
    expect(toD.status).to.equal(200);
    // The listed witnesses that cosigned the honest view refuse the fork.
    const toA = await addCheckpoint(
      `http://127.0.0.1:${witnessPorts[0]}`,
      formatAddCheckpointRequest({ oldSize: honest.size, proof: [], note: forkNote }),
    );
    expect(toA.status).to.equal(409);
    const forked = formatNote({
      text: forkText,
      signatures: [...parseNote(forkNote).signatures, ...parseNote(forkText + "\n" + toD.body).signatures],
    });
    writeFileSync(file, JSON.stringify({ ...receipt, checkpointNote: forked }));
    const refused = await cli("verify", file, ...witnessArgs, "--quorum", "2", "--lang", "en");
    // Refused before the witnesses are counted: the trusted log key opens the forked note, which
    // names another root than the one the receipt was anchored with.
    expect([refused.status, refused.stdout.split("\n")[0]]).to.deep.equal([
      1,
      "INVALID: the receipt's signed checkpoint names another tree (size or root) than the receipt's anchored checkpoint",
    ]);
    // And a quorum beyond the cosignatures there are fails on the honest checkpoint too.
    writeFileSync(file, JSON.stringify(receipt));
    const four = await cli("verify", file, ...witnessArgs, "--quorum", "4", "--lang", "en");
    expect(four.status).to.equal(1);
    const usage = await cli("verify", file, "--quorum", "2");
    expect([usage.status, usage.stderr]).to.deep.equal([
      2,
      "dutyproof: --quorum needs at least one --witness VERIFIER_KEY\n",
    ]);
  });
});
