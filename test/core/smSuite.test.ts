import { expect } from "chai";
import { createPrivateKey, createPublicKey, hash, sign as nodeSign, verify as nodeVerify } from "node:crypto";
import { sm2 } from "sm-crypto-v2";
import { bytesToHex, hexToBytes } from "../../server/core/bytes.ts";
import { eip712Domain, typedDataDigest } from "../../server/core/eip712.ts";
import { leafDataOf, recordDigest, signedMessageOf } from "../../server/core/record.ts";
import type { RecordEnvelope } from "../../server/core/record.ts";
import { recordSignerOf } from "../../server/core/recordSigner.ts";
import { recordEnvelopeSchema } from "../../server/core/recordSchema.ts";
import { sha256 } from "../../server/core/sha256.ts";
import { sm3, useSm3 } from "../../server/core/sm3.ts";
import {
  SM_LEAF_BYTES,
  smKeyId,
  smPublicKeyOf,
  smSign,
  smSignerOf,
  smSigningBytes,
} from "../../server/core/smSuite.ts";
import { nativeSm3 } from "../../server/crypto/nativeHashes.ts";
import { recoverSigner } from "../../server/crypto/recoverSigner.ts";
import { Wallet } from "ethers";

const utf8 = (text: string) => new TextEncoder().encode(text);
const strip = (hex: string) => hex.slice(2);

/**
 * GM/T 0003.5-2012 (GB/T 32918.5) Annex: the signature example on the recommended curve, with
 * the default user ID "1234567812345678" and message "message digest".
 */
const GMT0003 = {
  privateKey: "0x3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8",
  publicKey:
    "0x09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020" +
    "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13",
  k: "0x59276e27d506861a16680f3ad9c02dccef3cc1fa3cdbe4ce6d54b80deac1bc21",
  message: "message digest",
  r: "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3",
  s: "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa",
};

/** DER SubjectPublicKeyInfo of an SM2 key (id-ecPublicKey, curve 1.2.156.10197.1.301) from X ‖ Y. */
function spkiOf(publicKey: string): Buffer {
  return Buffer.concat([
    Buffer.from("3059301306072a8648ce3d020106082a811ccf5501822d03420004", "hex"),
    Buffer.from(strip(publicKey), "hex"),
  ]);
}

/** SEC1 DER of an SM2 private key with its public key. */
function sec1Of(privateKey: string, publicKey: string): Buffer {
  return Buffer.concat([
    Buffer.from("30770201010420", "hex"),
    Buffer.from(strip(privateKey), "hex"),
    Buffer.from("a00a06082a811ccf5501822da144034200" + "04", "hex"),
    Buffer.from(strip(publicKey), "hex"),
  ]);
}

const chainId = 31337;
const contract = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
const logId = `0x${"11".repeat(32)}`;
const domain = eip712Domain(chainId, contract);

function smEnvelope(overrides: Partial<RecordEnvelope> = {}): RecordEnvelope {
  return recordEnvelopeSchema.parse({
    version: 2,
    logId,
    suite: "sm2-sm3",
    unitId: `0x${"aa".repeat(32)}`,
    dutyTypeId: `0x${"bb".repeat(32)}`,
    performedAt: 1_780_000_000,
    fields: { 地点: "清水村", count: 3 },
    salt: `0x${"cc".repeat(32)}`,
    ...overrides,
  });
}

type V2 = RecordEnvelope & { logId: string };

/** The same envelope in the EIP-712 suite. */
function withoutSuite(envelope: RecordEnvelope): RecordEnvelope {
  const copy: Record<string, unknown> = { ...envelope };
  delete copy.suite;
  return copy as unknown as RecordEnvelope;
}

function signSm(envelope: RecordEnvelope, privateKey = GMT0003.privateKey): string {
  const bytes = smSigningBytes(
    { ...(envelope as { logId: string } & RecordEnvelope), chainId, contract },
    recordDigest(envelope),
  );
  return smSign(bytes, privateKey);
}

const signerOf = (envelope: RecordEnvelope, signature: string) =>
  recordSignerOf(domain, signedMessageOf(envelope), recordDigest(envelope), signature, recoverSigner, "sm2-sm3");

describe("core/smSuite: the 国密 suite", () => {
  after(() => useSm3(null));

  describe("SM3", () => {
    // GB/T 32905-2016 Annex A, examples 1 and 2.
    const vectors = [
      { input: utf8("abc"), digest: "0x66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0" },
      { input: utf8("abcd".repeat(16)), digest: "0xdebe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732" },
    ];

    it("matches the GB/T 32905 examples, in the core's implementation and in OpenSSL's", () => {
      useSm3(null);
      for (const v of vectors) {
        expect(bytesToHex(sm3(v.input))).to.equal(v.digest);
        expect(bytesToHex(nativeSm3(v.input))).to.equal(v.digest);
        expect(`0x${hash("sm3", v.input)}`).to.equal(v.digest);
      }
    });

    it("computes the same digest in OpenSSL as in sm-crypto-v2 at every length up to 300 bytes", () => {
      useSm3(null);
      for (let length = 0; length <= 300; length++) {
        const data = Uint8Array.from({ length }, (_, i) => (i * 31 + length) & 0xff);
        expect(bytesToHex(nativeSm3(data)), `length ${length}`).to.equal(bytesToHex(sm3(data)));
      }
    });
  });

  describe("SM2", () => {
    it("reproduces the GM/T 0003 example: public key and signature with the default user ID", () => {
      expect(smPublicKeyOf(GMT0003.privateKey)).to.equal(GMT0003.publicKey);
      const value = smSign(utf8(GMT0003.message), GMT0003.privateKey, GMT0003.k);
      expect(value).to.equal(GMT0003.publicKey + GMT0003.r + GMT0003.s);
      expect(smSignerOf(utf8(GMT0003.message), value)).to.equal(smKeyId(hexToBytes(GMT0003.publicKey)));
    });

    it("agrees with OpenSSL both ways where the user ID allows (OpenSSL signs with an empty ID only)", () => {
      const message = utf8("dutyproof cross-check");
      const publicKey = createPublicKey({ key: spkiOf(GMT0003.publicKey), format: "der", type: "spki" });
      const privateKey = createPrivateKey({
        key: sec1Of(GMT0003.privateKey, GMT0003.publicKey),
        format: "der",
        type: "sec1",
      });
      const ours = sm2.doSignature(message, strip(GMT0003.privateKey), { hash: true, der: true, userId: "" });
      expect(nodeVerify("sm3", message, publicKey, Buffer.from(ours, "hex"))).to.equal(true);
      const openssl = nodeSign("sm3", message, privateKey).toString("hex");
      expect(
        sm2.doVerifySignature(message, openssl, `04${strip(GMT0003.publicKey)}`, { hash: true, der: true, userId: "" }),
      ).to.equal(true);
      // The suite's default ID gives another Z, so OpenSSL's empty-ID signature is not the suite's.
      const withDefaultId = sm2.doSignature(message, strip(GMT0003.privateKey), { hash: true, der: true });
      expect(nodeVerify("sm3", message, publicKey, Buffer.from(withDefaultId, "hex"))).to.equal(false);
    });
  });

  describe("records", () => {
    it("digests an SM-suite envelope with SM3 of its canonical bytes, never SHA-256", () => {
      const envelope = smEnvelope();
      const eip712Envelope = withoutSuite(envelope);
      expect(bytesToHex(recordDigest(envelope))).to.not.equal(bytesToHex(sha256(utf8("x"))));
      expect(recordDigest(envelope)).to.deep.equal(
        sm3(new TextEncoder().encode(JSON.stringify(canonicalOrder(envelope)))),
      );
      expect(bytesToHex(recordDigest(eip712Envelope as RecordEnvelope))).to.not.equal(
        bytesToHex(recordDigest(envelope)),
      );
    });

    it("lays out the signed bytes: tag, chain, contract, log, unit, duty type, time, digest (187 bytes)", () => {
      const digest = new Uint8Array(32).fill(0xdd);
      const bytes = smSigningBytes(
        {
          chainId,
          contract,
          logId,
          unitId: `0x${"aa".repeat(32)}`,
          dutyTypeId: `0x${"bb".repeat(32)}`,
          performedAt: 1_780_000_000,
        },
        digest,
      );
      expect(bytes.length).to.equal(187);
      expect(new TextDecoder().decode(bytes.subarray(0, 23))).to.equal("dutyproof/sm2-record/v1");
      expect(bytesToHex(bytes.subarray(23, 31))).to.equal("0x0000000000007a69");
      expect(bytesToHex(bytes.subarray(31, 51))).to.equal(contract);
      expect(bytesToHex(bytes.subarray(51, 83))).to.equal(logId);
      expect(bytesToHex(bytes.subarray(147, 155))).to.equal("0x000000006a18a500");
      expect(bytes.subarray(155)).to.deep.equal(digest);
    });

    it("verifies a unit's SM2 signature and names its key id right160(SM3(X ‖ Y))", () => {
      const envelope = smEnvelope();
      const signature = signSm(envelope);
      expect(signature.length).to.equal(2 + 256);
      const keyId = bytesToHex(sm3(hexToBytes(GMT0003.publicKey)).subarray(12));
      expect(signerOf(envelope, signature)).to.equal(keyId);
      const leaf = leafDataOf(recordDigest(envelope), signature);
      expect(leaf.length).to.equal(SM_LEAF_BYTES);
      expect(new TextDecoder().decode(leaf.subarray(0, 4))).to.equal("DPG1");
      expect(leaf.subarray(36)).to.deep.equal(hexToBytes(signature));
    });

    it("verifies a key's records the same before and after its precomputed table is built", () => {
      const envelopes = [1, 2, 3, 4].map((n) => smEnvelope({ performedAt: 1_780_000_000 + n }));
      const key = "0x" + "5a".repeat(32);
      const keyId = smKeyId(hexToBytes(smPublicKeyOf(key)));
      for (const envelope of envelopes) {
        const signature = signSm(envelope, key);
        expect(signerOf(envelope, signature)).to.equal(keyId);
        // A forged signature is refused whether or not the key has its table yet.
        expect(signerOf(envelope, signature.slice(0, -2) + (signature.endsWith("00") ? "01" : "00"))).to.equal(null);
      }
    });

    describe("rejects every corruption", () => {
      const envelope = smEnvelope();
      const signature = signSm(envelope);
      const flip = (hex: string, byte: number) => {
        const bytes = hexToBytes(hex);
        bytes[byte]! ^= 0x01;
        return bytesToHex(bytes);
      };
      const n = "fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123";
      const cases: Array<[string, () => string | null]> = [
        ["a bit of r", () => signerOf(envelope, flip(signature, 70))],
        ["a bit of s", () => signerOf(envelope, flip(signature, 100))],
        ["a bit of X (off the curve)", () => signerOf(envelope, flip(signature, 5))],
        [
          "another valid key in front",
          () => signerOf(envelope, smPublicKeyOf(`0x${"01".repeat(32)}`) + signature.slice(130)),
        ],
        ["r = 0", () => signerOf(envelope, signature.slice(0, 130) + "00".repeat(32) + signature.slice(194))],
        ["s = n", () => signerOf(envelope, signature.slice(0, 194) + n)],
        ["a truncated value", () => signerOf(envelope, signature.slice(0, -2))],
        ["the unit", () => signerOf(smEnvelope({ unitId: `0x${"ab".repeat(32)}` }), signature)],
        ["the duty type", () => signerOf(smEnvelope({ dutyTypeId: `0x${"bc".repeat(32)}` }), signature)],
        ["the time", () => signerOf(smEnvelope({ performedAt: 1_780_000_001 }), signature)],
        [
          "the log",
          () => signerOf(smEnvelope({ logId: `0x${"12".repeat(32)}` } as Partial<RecordEnvelope>), signature),
        ],
        ["a field", () => signerOf(smEnvelope({ fields: { 地点: "清水村", count: 4 } }), signature)],
        [
          "the chain",
          () =>
            recordSignerOf(
              eip712Domain(1, contract),
              signedMessageOf(envelope),
              recordDigest(envelope),
              signature,
              recoverSigner,
            ),
        ],
        [
          "the contract",
          () =>
            recordSignerOf(
              eip712Domain(chainId, `0x${"99".repeat(20)}`),
              signedMessageOf(envelope),
              recordDigest(envelope),
              signature,
              recoverSigner,
            ),
        ],
        [
          "the user ID (signed with an empty ID)",
          () => {
            const bytes = smSigningBytes({ ...(envelope as V2), chainId, contract }, recordDigest(envelope));
            const raw = sm2.doSignature(bytes, strip(GMT0003.privateKey), { hash: true, userId: "" });
            return signerOf(envelope, GMT0003.publicKey + raw);
          },
        ],
      ];
      for (const [what, signerAfter] of cases) {
        it(`changed ${what}`, () => expect(signerAfter()).to.equal(null));
      }

      it("an EIP-712 signature on an SM-suite envelope, and an SM signature on an EIP-712 one", async () => {
        const wallet = Wallet.createRandom();
        const digest = recordDigest(envelope);
        const eip712 = wallet.signingKey.sign(typedDataDigest(domain, signedMessageOf(envelope, digest))).serialized;
        expect(recoverSigner(typedDataDigest(domain, signedMessageOf(envelope, digest)), eip712)).to.equal(
          wallet.address.toLowerCase(),
        );
        expect(signerOf(envelope, eip712)).to.equal(null);
        const plainEnvelope = withoutSuite(envelope);
        const smOnPlain = smSign(
          smSigningBytes({ ...(plainEnvelope as V2), chainId, contract }, recordDigest(plainEnvelope)),
          GMT0003.privateKey,
        );
        expect(
          recordSignerOf(
            domain,
            signedMessageOf(plainEnvelope),
            recordDigest(plainEnvelope),
            smOnPlain,
            recoverSigner,
            "eip712-secp256k1",
          ),
        ).to.equal(null);
      });

      it("an SM-suite record of envelope version 1 (no log to bind)", () => {
        expect(() => recordEnvelopeSchema.parse({ ...smEnvelope(), version: 1, logId: undefined })).to.throw();
        const message = { unitId: envelope.unitId, dutyTypeId: envelope.dutyTypeId, performedAt: envelope.performedAt };
        expect(recordSignerOf(domain, message, recordDigest(envelope), signature, recoverSigner)).to.equal(null);
      });
    });
  });
});

/** JSON with keys sorted, enough for the ASCII-and-CJK envelope above (RFC 8785 sorts by UTF-16 units). */
function canonicalOrder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalOrder);
  if (value && typeof value === "object")
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonicalOrder((value as Record<string, unknown>)[k])]),
    );
  return value;
}
