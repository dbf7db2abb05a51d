/**
 * The verifier's witness policy (server/core/witnessQuorum.ts): K valid cosignatures of the named
 * witnesses on a checkpoint that contains the receipt's tree; a forked view fails.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { bytesToHex } from "../../server/core/bytes.ts";
import { NOTE_COSIGNATURE_V1, cosign, formatNote, noteSigner, parseNote } from "../../server/core/note.ts";
import { type QuorumSubject, checkWitnessQuorum } from "../../server/core/witnessQuorum.ts";
import { SimulatedLog } from "./witnessSupport.ts";

const witnesses = ["a", "b", "c"].map((n) => noteSigner(`witness.${n}.example`, NOTE_COSIGNATURE_V1, randomBytes(32)));

/** The log's note of `size` with cosignatures of the given witnesses. */
function cosigned(log: SimulatedLog, size: number, by: typeof witnesses): string {
  const text = log.text(size);
  return formatNote({
    text,
    signatures: [...parseNote(log.note(size)).signatures, ...by.map((w) => cosign(text, w, 1_767_000_000))],
  });
}

describe("verify --witness --quorum (core)", function () {
  const log = new SimulatedLog();
  log.grow(10);
  const subject = (size: number, tree = log): QuorumSubject => ({
    chainId: 31337,
    contract: "0x" + "ab".repeat(20),
    logId: "0x" + "cd".repeat(32),
    treeSize: size,
    root: bytesToHex(tree.tree.root(size)),
  });
  const policy = { witnesses, quorum: 2 };

  it("accepts K cosignatures on the receipt's own checkpoint", function () {
    expect(checkWitnessQuorum(subject(10), cosigned(log, 10, witnesses.slice(0, 2)), policy)).to.deep.equal({
      ok: true,
      cosigners: ["witness.a.example", "witness.b.example"],
      checkpointSize: 10,
    });
  });

  it("accepts a later cosigned checkpoint with a consistency proof from the receipt's size, and refuses a wrong proof", function () {
    const proof = log.tree.consistencyProof(6, 10);
    expect(checkWitnessQuorum(subject(6), cosigned(log, 10, witnesses), policy, proof).ok).to.equal(true);
    const wrong = checkWitnessQuorum(subject(6), cosigned(log, 10, witnesses), policy, proof.slice(1));
    expect(wrong).to.include({ ok: false, reason: "checkpoint.note_mismatch" });
  });

  it("refuses fewer than K cosignatures, unknown witnesses' lines not counted", function () {
    const stranger = noteSigner("witness.z.example", NOTE_COSIGNATURE_V1, randomBytes(32));
    const verdict = checkWitnessQuorum(subject(10), cosigned(log, 10, [witnesses[0]!, stranger]), policy);
    expect(verdict).to.include({ ok: false, reason: "checkpoint.not_cosigned" });
  });

  it("refuses a receipt of a forked view: the fork's one cosignature is below quorum, and the honest note does not contain it", function () {
    const fork = log.fork(7);
    fork.grow(3, "DPLX");
    const forkNote = cosigned(fork, 10, [witnesses[2]!]);
    expect(checkWitnessQuorum(subject(10, fork), forkNote, policy)).to.include({
      ok: false,
      reason: "checkpoint.not_cosigned",
    });
    expect(checkWitnessQuorum(subject(10, fork), cosigned(log, 10, witnesses), policy)).to.include({
      ok: false,
      reason: "checkpoint.note_mismatch",
    });
  });

  it("refuses a note whose named witness's cosignature does not verify, a note of another log and an older note", function () {
    const note = cosigned(log, 10, witnesses);
    const parsed = parseNote(note);
    parsed.signatures[1]!.signature[20]! ^= 1;
    expect(checkWitnessQuorum(subject(10), formatNote(parsed), policy)).to.include({
      reason: "checkpoint.note_invalid",
    });
    expect(checkWitnessQuorum({ ...subject(10), chainId: 1 }, note, policy)).to.include({
      reason: "checkpoint.note_mismatch",
    });
    expect(checkWitnessQuorum(subject(10), cosigned(log, 8, witnesses), policy)).to.include({
      reason: "checkpoint.not_cosigned",
    });
  });
});
