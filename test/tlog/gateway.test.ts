/**
 * The log's key and signed checkpoints in the real `dutyproof serve`: receipts carry the signed
 * checkpoint they were proved against and the verifier checks it; the key and the notes survive
 * a restart; a SIGKILL between the anchoring's confirmation and the signature leaves no anchored
 * checkpoint unsigned.
 */
import { expect } from "chai";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { bytesToHex } from "../../server/core/bytes.ts";
import {
  NOTE_ED25519,
  formatCheckpoint,
  noteSigner,
  openCheckpoint,
  parseVerifierKey,
  signNote,
} from "../../server/core/note.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { ServeProcess, registerUnit, sleep } from "../faults/support.ts";

describe("tlog: the log's key, signed checkpoints and receipts in a running gateway", function () {
  this.timeout(240_000);
  const dir = tempDir("tlog-gateway");
  const port = testPort("tlog");
  const serve = new ServeProcess(dir.path, port, port + 1 >= 19_000 ? port - 1 : port + 1);
  let unit: Awaited<ReturnType<typeof registerUnit>>;
  let info: { tlog: { origin: string; verifierKey: string } };
  const recordIds: string[] = [];

  const submit = async (count: number) => {
    const items = Array.from({ length: count }, (_, i) => unit.sign(recordIds.length + i));
    const res = await fetch(`${serve.url}/v1/attestations/batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ items }),
    });
    const { results } = (await res.json()) as { results: Array<{ status: number; recordId: string }> };
    for (const r of results) {
      expect(r.status).to.equal(201);
      recordIds.push(r.recordId);
    }
  };
  const signedSize = async () => {
    const res = await fetch(`${serve.url}/tlog/checkpoint`);
    return res.status === 200 ? Number((await res.text()).split("\n")[1]) : 0;
  };
  const waitForSigned = async (size: number) => {
    for (let i = 0; i < 300 && (await signedSize()) !== size; i++) await sleep(100);
    expect(await signedSize()).to.equal(size);
  };
  const receiptOf = async (recordId: string) => {
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${serve.url}/v1/receipts/${recordId}`);
      if (res.status === 200) return (await res.json()) as Record<string, any>;
      await sleep(100);
    }
    throw new Error(`no receipt for ${recordId}`);
  };
  const verify = async (receipt: unknown) => {
    const res = await fetch(`${serve.url}/v1/verify`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(receipt),
    });
    expect(res.status).to.equal(200);
    return (await res.json()) as { valid: boolean; reason?: string; checks: Array<{ name: string; ok: boolean }> };
  };

  before(async () => {
    expect(await serve.start()).to.equal("ready");
    unit = await registerUnit(dir.path, serve.url);
    info = (await (await fetch(`${serve.url}/v1/info`)).json()) as typeof info;
  });

  after(async () => {
    await serve.stop();
    dir.remove();
  });

  it("keeps the log key owner-only in DATA_DIR/keys, in the signed-note private key form", () => {
    const path = join(dir.path, "keys", "tlog.key");
    expect(statSync(path).mode & 0o777).to.equal(0o600);
    expect(statSync(join(dir.path, "keys")).mode & 0o777).to.equal(0o700);
    const text = readFileSync(path, "utf8");
    expect(text).to.match(/^PRIVATE\+KEY\+dutyproof\/31337\/0x[0-9a-f]{40}\/0x[0-9a-f]{64}\+[0-9a-f]{8}\+\S+\n$/);
    expect(text.split("+")[2]).to.equal(info.tlog.origin);
  });

  it("issues receipts that carry the signed checkpoint they were proved against, checked by the verifier", async () => {
    await submit(5);
    await waitForSigned(5);
    const receipt = await receiptOf(recordIds[2]!);
    expect(receipt.checkpointNote).to.be.a("string");
    const key = parseVerifierKey(info.tlog.verifierKey);
    const { checkpoint } = openCheckpoint(receipt.checkpointNote, key, info.tlog.origin);
    expect(checkpoint.size).to.equal(receipt.treeSize);
    expect(bytesToHex(checkpoint.rootHash)).to.equal(receipt.root);

    const verdict = await verify(receipt);
    expect(verdict.valid, JSON.stringify(verdict)).to.equal(true);
    expect(verdict.checks.find((c) => c.name === "note")).to.deep.equal({ name: "note", ok: true });

    // A receipt from before logs signed checkpoints (no note) is still judged by the chain.
    const older = { ...receipt };
    delete older.checkpointNote;
    const olderVerdict = await verify(older);
    expect(olderVerdict.valid).to.equal(true);
    expect(olderVerdict.checks.some((c) => c.name === "note")).to.equal(false);

    // The same checkpoint signed by another key under the log's name, and a note of another tree.
    const forger = noteSigner(info.tlog.origin, NOTE_ED25519, new Uint8Array(32).fill(3));
    const forged = signNote(receipt.checkpointNote.slice(0, receipt.checkpointNote.indexOf("\n\n") + 1), forger);
    expect((await verify({ ...receipt, checkpointNote: forged })).reason).to.equal("note.bad_signature");
    await submit(3);
    await waitForSigned(8);
    const later = await receiptOf(recordIds[6]!);
    expect(later.treeSize).to.equal(8);
    const mismatch = await verify({ ...receipt, checkpointNote: later.checkpointNote });
    expect(mismatch.valid).to.equal(false);
    expect(mismatch.reason).to.equal("note.other_checkpoint");
    // A note whose text is not a checkpoint of this log is refused as well.
    const text = formatCheckpoint({
      origin: "another/log",
      size: receipt.treeSize,
      rootHash: Buffer.from(receipt.root.slice(2), "hex"),
      extensions: [],
    });
    expect(
      (
        await verify({
          ...receipt,
          checkpointNote: signNote(text, noteSigner("another/log", NOTE_ED25519, new Uint8Array(32))),
        })
      ).reason,
    ).to.equal("note.bad_signature");
  });

  it("signs at start an anchored checkpoint whose signature a SIGKILL prevented, with the same key", async () => {
    const before = await (await fetch(`${serve.url}/tlog/checkpoint`)).text();
    await serve.stop();
    // Killed right after the checkpoint of 12 is stored as anchored, before it is signed.
    expect(await serve.start("anchor.marked:1")).to.equal("ready");
    await submit(4);
    await serve.exited();
    serve.killAll();
    await sleep(300);
    expect(await serve.start()).to.equal("ready");
    // Nothing new to anchor: only the start-up catch-up can have signed size 12.
    expect(await signedSize()).to.equal(12);
    const again = (await (await fetch(`${serve.url}/v1/info`)).json()) as typeof info;
    expect(again.tlog).to.deep.equal(info.tlog);
    const key = parseVerifierKey(info.tlog.verifierKey);
    const note = await (await fetch(`${serve.url}/tlog/checkpoint`)).text();
    expect(openCheckpoint(note, key, info.tlog.origin).checkpoint.size).to.equal(12);
    // The notes signed before the restart are kept: the first receipt still carries size 5's.
    const receipt = await receiptOf(recordIds[0]!);
    expect(openCheckpoint(receipt.checkpointNote, key, info.tlog.origin).checkpoint.size).to.equal(5);
    expect(before.split("\n")[1]).to.equal("8");
  });
});
