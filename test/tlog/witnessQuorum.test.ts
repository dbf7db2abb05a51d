/**
 * The verifier's witness policy (server/core/witnessQuorum.ts): K valid cosignatures of the named
 * witnesses on a checkpoint that contains the receipt's tree; a forked view fails.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { bytesToHex } from "../../server/core/bytes.ts";
import {
  NOTE_COSIGNATURE_V1,
  cosign,
  formatNote,
  formatVerifierKey,
  noteSigner,
  parseNote,
} from "../../server/core/note.ts";
import {
  type CheckpointSource,
  type QuorumSubject,
  checkWitnessQuorum,
  receiptWitnessCheck,
  trustedWitnessPolicy,
  witnessPolicyOf,
} from "../../server/core/witnessQuorum.ts";
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
      quorum: 2,
      witnesses: [
        { name: "witness.a.example", key: formatVerifierKey(witnesses[0]!), status: "cosigned" },
        { name: "witness.b.example", key: formatVerifierKey(witnesses[1]!), status: "cosigned" },
        { name: "witness.c.example", key: formatVerifierKey(witnesses[2]!), status: "missing" },
      ],
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

  it("says of each witness of the policy whether it cosigned, is missing or signed badly", function () {
    const parsed = parseNote(cosigned(log, 10, witnesses.slice(0, 2)));
    parsed.signatures[2]!.signature[30]! ^= 1; // b's cosignature, after the log's and a's
    const verdict = checkWitnessQuorum(subject(10), formatNote(parsed), policy);
    expect(verdict).to.include({ ok: false, reason: "checkpoint.note_invalid" });
    expect(verdict.witnesses.map((w) => w.status)).to.deep.equal(["cosigned", "bad_signature", "missing"]);
    expect(verdict.cosigners).to.deep.equal(["witness.a.example"]);
  });

  it("makes a policy of witness keys and a quorum, and says what is wrong with a bad one", function () {
    const keys = witnesses.map((w) => formatVerifierKey(w));
    const made = witnessPolicyOf(keys, 2);
    expect(made.ok && made.policy?.quorum).to.equal(2);
    const all = witnessPolicyOf([...keys, keys[0]!]);
    expect(all.ok && all.policy?.witnesses.length, "a key named twice counts once").to.equal(3);
    expect(all.ok && all.policy?.quorum).to.equal(3);
    expect(witnessPolicyOf([])).to.deep.equal({ ok: true, policy: undefined });
    expect(witnessPolicyOf([], 1)).to.deep.equal({ ok: false, problem: "quorum_without_witnesses" });
    expect(witnessPolicyOf(keys, 4)).to.deep.equal({ ok: false, problem: "quorum_out_of_range", witnesses: 3 });
    expect(witnessPolicyOf(keys, 0)).to.include({ ok: false, problem: "quorum_out_of_range" });
    expect(witnessPolicyOf([log.verifierKey])).to.deep.equal({
      ok: false,
      problem: "not_witness_key",
      key: log.verifierKey,
    });
    expect(witnessPolicyOf(["not a key"])).to.include({ ok: false, problem: "key_malformed", key: "not a key" });
  });

  it("takes a trust anchor's witnesses and quorum for the logs it covers", function () {
    const keys = witnesses.map((w) => formatVerifierKey(w));
    const s = subject(10);
    const base = { name: "county", chainId: s.chainId, contract: s.contract.toUpperCase().replace("0X", "0x") };
    expect(trustedWitnessPolicy([base], s)).to.equal(undefined);
    const anchored = trustedWitnessPolicy([base, { ...base, witnesses: keys, witnessQuorum: 2 }], s);
    expect(anchored?.quorum).to.equal(2);
    expect(anchored?.witnesses.map((w) => w.name)).to.deep.equal(witnesses.map((w) => w.name));
    expect(trustedWitnessPolicy([{ ...base, logIds: ["0x" + "ee".repeat(32)], witnesses: keys }], s)).to.equal(
      undefined,
    );
  });

  it("falls back to the gateway's later cosigned checkpoint when the receipt's own note lacks quorum", async function () {
    const source = (note: string | undefined, proofOk = true): CheckpointSource => ({
      latestNote: async () => note,
      consistency: async (from, to) => (proofOk ? log.tree.consistencyProof(from, to) : undefined),
    });
    const early = cosigned(log, 6, witnesses.slice(0, 1));
    const later = cosigned(log, 10, witnesses.slice(0, 2));
    expect(await receiptWitnessCheck(policy, subject(6), early, source(later))).to.include({
      ok: true,
      checkpointSize: 10,
    });
    expect(await receiptWitnessCheck(policy, subject(6), undefined, source(later))).to.include({ ok: true });
    // Without a proof the later checkpoint says nothing of the receipt's tree.
    expect(await receiptWitnessCheck(policy, subject(6), early, source(later, false))).to.include({
      ok: false,
      reason: "checkpoint.note_mismatch",
    });
    // The gateway has nothing better: the receipt's own verdict stands, each witness named.
    const alone = await receiptWitnessCheck(policy, subject(6), early, source(early));
    expect(alone).to.include({ ok: false, reason: "checkpoint.not_cosigned" });
    expect(alone.witnesses.map((w) => w.status)).to.deep.equal(["cosigned", "missing", "missing"]);
    const unreachable: CheckpointSource = {
      latestNote: async () => {
        throw new Error("down");
      },
      consistency: async () => undefined,
    };
    expect(await receiptWitnessCheck(policy, subject(6), early, unreachable)).to.include({
      reason: "checkpoint.not_cosigned",
    });
    let thrown: unknown;
    await receiptWitnessCheck(policy, subject(6), undefined, unreachable).catch((e: unknown) => (thrown = e));
    expect((thrown as Error)?.message).to.equal("down");
    expect(await receiptWitnessCheck(policy, subject(6), undefined, source(undefined))).to.include({
      reason: "checkpoint.not_cosigned",
    });
    // A carried note that is a finding is never replaced by a better one.
    const parsed = parseNote(cosigned(log, 6, witnesses));
    parsed.signatures[1]!.signature[20]! ^= 1;
    expect(await receiptWitnessCheck(policy, subject(6), formatNote(parsed), source(later))).to.include({
      reason: "checkpoint.note_invalid",
    });
  });
});
