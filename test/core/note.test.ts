import { expect } from "chai";
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from "node:crypto";
import { DutyproofError } from "../../server/core/errors.ts";
import {
  NOTE_COSIGNATURE_V1,
  NOTE_ED25519,
  cosign,
  formatCheckpoint,
  formatNote,
  formatSignerKey,
  formatVerifierKey,
  noteKeyId,
  noteSigner,
  openCheckpoint,
  parseCheckpoint,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  verifyNote,
} from "../../server/core/note.ts";
import { createHash } from "node:crypto";

const seed = (byte: number) => new Uint8Array(32).fill(byte);
/** Node's own Ed25519 (OpenSSL), independent of the core's JavaScript one. */
const pkcs8 = (s: Uint8Array) =>
  createPrivateKey({
    key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), s]),
    format: "der",
    type: "pkcs8",
  });

function code(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof DutyproofError) return error.code;
    throw error;
  }
  return "none";
}

describe("signed notes, checkpoints and cosignatures (C2SP)", () => {
  const log = noteSigner("county.example/dutyproof/log", NOTE_ED25519, seed(7));
  const witness = noteSigner("audit.example/witness", NOTE_COSIGNATURE_V1, seed(9));
  const checkpointText = formatCheckpoint({
    origin: "county.example/dutyproof/log",
    size: 20852163,
    rootHash: new Uint8Array(32).fill(0xab),
    extensions: [],
  });

  it("computes key ids as SHA-256(name ‖ 0x0A ‖ type ‖ key)[:4], and the public key OpenSSL derives", () => {
    const nodePublic = createPublicKey(pkcs8(seed(7)))
      .export({ format: "der", type: "spki" })
      .subarray(12);
    expect(Buffer.from(log.publicKey).equals(nodePublic)).to.equal(true);
    const expected = createHash("sha256")
      .update(Buffer.concat([Buffer.from(log.name + "\n"), Buffer.from([1]), nodePublic]))
      .digest()
      .readUInt32BE(0);
    expect(log.keyId).to.equal(expected);
    expect(noteKeyId(log.name, 4, log.publicKey)).to.not.equal(expected);
  });

  it("signs the note text with Ed25519 exactly as OpenSSL does and verifies OpenSSL's signature", () => {
    const note = signNote(checkpointText, log);
    const { text, signatures } = parseNote(note);
    expect(text).to.equal(checkpointText);
    expect(nodeVerify(null, Buffer.from(text), createPublicKey(pkcs8(seed(7))), signatures[0]!.signature)).to.equal(
      true,
    );
    const openssl = nodeSign(null, Buffer.from(checkpointText), pkcs8(seed(7)));
    const rebuilt = formatNote({ text, signatures: [{ ...signatures[0]!, signature: openssl }] });
    expect(rebuilt).to.equal(note); // Ed25519 is deterministic: the same bytes
    expect(verifyNote(rebuilt, [log]).verified).to.have.length(1);
    expect(note).to.match(
      /^county\.example\/dutyproof\/log\n20852163\n[A-Za-z0-9+/]{43}=\n\n\u2014 county\.example\/dutyproof\/log [A-Za-z0-9+/]{91}=\n$/u,
    );
  });

  it("round-trips verifier and signer keys, and refuses a key whose id does not match", () => {
    const vkey = formatVerifierKey(log);
    expect(vkey).to.match(/^county\.example\/dutyproof\/log\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    expect(parseVerifierKey(vkey).keyId).to.equal(log.keyId);
    expect(parseSignerKey(formatSignerKey(witness)).publicKey).to.deep.equal(witness.publicKey);
    const wrongId = vkey.replace(/\+[0-9a-f]{8}\+/, "+00000000+");
    expect(code(() => parseVerifierKey(wrongId))).to.equal("note.malformed");
    expect(code(() => parseVerifierKey("bad name+00000000+AQ=="))).to.equal("note.malformed");
  });

  it("reads keys whose base64 holds '+' (only the first separators split fields)", () => {
    // Seed 0x3e… gives "+" in both the verifier key's and the private key's base64.
    const plus = noteSigner("log.example/x", NOTE_ED25519, seed(62));
    expect(formatVerifierKey(plus).split("+").length).to.be.greaterThan(3);
    expect(formatSignerKey(plus).split("+").length).to.be.greaterThan(5);
    expect(parseVerifierKey(formatVerifierKey(plus)).publicKey).to.deep.equal(plus.publicKey);
    expect(parseSignerKey(formatSignerKey(plus)).seed).to.deep.equal(plus.seed);
  });

  it("adds a witness cosignature that verifies over cosignature/v1, the time and the checkpoint", () => {
    const line = cosign(checkpointText, witness, 1679315147);
    const note = signNote(checkpointText, log, [line]);
    const opened = openCheckpoint(note, log, "county.example/dutyproof/log", [witness]);
    expect(opened.checkpoint.size).to.equal(20852163);
    expect(opened.cosignatures.map((c) => [c.verifier.name, c.timestamp])).to.deep.equal([
      ["audit.example/witness", 1679315147],
    ]);
    // The signed message, checked with OpenSSL.
    const message = Buffer.from(`cosignature/v1\ntime 1679315147\n${checkpointText}`);
    expect(
      nodeVerify(null, message, createPublicKey(pkcs8(seed(9))), Buffer.from(line.signature.subarray(8))),
    ).to.equal(true);
  });

  it("ignores unknown keys, refuses a known key's bad signature, and a note no known key signed", () => {
    const stranger = noteSigner("stranger.example/log", NOTE_ED25519, seed(3));
    const note = signNote(checkpointText, log, [cosign(checkpointText, witness, 5)]);
    expect(verifyNote(note, [log]).verified).to.have.length(1); // the witness line is unknown: ignored
    expect(code(() => verifyNote(note, [stranger]))).to.equal("note.unknown_signer");
    const forged = note.replace("20852163", "20852164");
    expect(code(() => verifyNote(forged, [log]))).to.equal("note.bad_signature");
    // A cosignature moved to another time no longer verifies.
    const parsed = parseNote(note);
    const moved = parsed.signatures[1]!.signature.slice();
    moved[7]! ^= 1;
    const tampered = formatNote({
      text: parsed.text,
      signatures: [parsed.signatures[0]!, { ...parsed.signatures[1]!, signature: moved }],
    });
    expect(code(() => verifyNote(tampered, [log, witness]))).to.equal("note.bad_signature");
  });

  it("refuses malformed notes and checkpoints", () => {
    const note = signNote(checkpointText, log);
    expect(code(() => parseNote(note.replace("\n\n", "\n")))).to.equal("note.malformed");
    expect(code(() => parseNote(note.slice(0, -1)))).to.equal("note.malformed");
    expect(code(() => parseNote(note.replace("20852163", "2085\t2163")))).to.equal("note.malformed");
    expect(code(() => parseCheckpoint("origin\n012\nAAAA\n"))).to.equal("note.malformed");
    expect(code(() => parseCheckpoint("origin\n12\n" + "A".repeat(43) + "=\n\n"))).to.equal("note.malformed");
    expect(code(() => openCheckpoint(note, log, "other.example/log"))).to.equal("note.wrong_origin");
    expect(
      code(() => openCheckpoint(signNote(checkpointText, noteSigner(log.name, NOTE_ED25519, seed(1))), log, log.name)),
    ).to.equal("note.unknown_signer");
  });
});
