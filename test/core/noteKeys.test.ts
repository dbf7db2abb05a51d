import { expect } from "chai";
import {
  NOTE_COSIGNATURE_V1,
  NOTE_ED25519,
  formatSignerKey,
  formatVerifierKey,
  noteSigner,
  parseSignerKey,
  parseVerifierKey,
} from "../../server/core/note.ts";

/** The base64 part of a key text (after its last name/id separator). */
const material = (text: string, separators: number) => text.split("+").slice(separators).join("+");

describe("note keys whose base64 holds '+'", function () {
  // Seeds 0..63 filled with one byte: enough that several keys and seeds encode a "+".
  const signers = Array.from({ length: 64 }, (_, i) =>
    noteSigner("dutyproof/1/log", i % 2 ? NOTE_ED25519 : NOTE_COSIGNATURE_V1, new Uint8Array(32).fill(i)),
  );

  it("parses every verifier key it formats, '+' in the key material included", function () {
    const withPlus = signers.filter((s) => material(formatVerifierKey(s), 2).includes("+"));
    expect(withPlus.length).to.be.greaterThan(0);
    for (const s of signers) {
      const parsed = parseVerifierKey(formatVerifierKey(s));
      expect(parsed.keyId).to.equal(s.keyId);
      expect(parsed.publicKey).to.deep.equal(s.publicKey);
    }
  });

  it("parses every signer key it formats, '+' in the seed's base64 included", function () {
    const withPlus = signers.filter((s) => material(formatSignerKey(s), 4).includes("+"));
    expect(withPlus.length).to.be.greaterThan(0);
    for (const s of signers) expect(parseSignerKey(formatSignerKey(s)).seed).to.deep.equal(s.seed);
  });

  it("still refuses a name with '+' and a key id that does not match", function () {
    const vkey = formatVerifierKey(signers[1]!);
    expect(() => parseVerifierKey("a+" + vkey)).to.throw(/id|verifier key/);
    expect(() => parseVerifierKey(vkey.replace(/\+[0-9a-f]{8}\+/, "+00000000+"))).to.throw(/does not match/);
  });
});
