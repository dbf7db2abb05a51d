import { expect } from "chai";
import { createHash } from "node:crypto";
import { keccak_256 as pureKeccak256 } from "@noble/hashes/sha3.js";
import { TypedDataEncoder, Wallet, verifyTypedData } from "ethers";
import { bytesToHex, hexToBytes } from "../../server/core/bytes.ts";
import { canonicalJson } from "../../server/core/canonical.ts";
import { dutyTypeIdOf, validateFields } from "../../server/core/dutyType.ts";
import { eip712Domain, eip712Types, eip712TypesV2, parseSignature, typedDataDigest } from "../../server/core/eip712.ts";
import { useKeccak256 } from "../../server/core/keccak256.ts";
import { useSha256 } from "../../server/core/sha256.ts";
import {
  type RecordEnvelope,
  leafDataOf,
  leafHashOf,
  recordDigest,
  signedMessageOf,
} from "../../server/core/record.ts";
import { recordEnvelopeSchema } from "../../server/core/recordSchema.ts";
import { loadCatalog } from "../../server/catalog/loadCatalog.ts";
import { installNativeHashes, nativeKeccak256 } from "../../server/crypto/nativeHashes.ts";
import { recoverSigner } from "../../server/crypto/recoverSigner.ts";

// The worked example of docs/protocol.md §3. The key is 0x0101…01, a test key nobody may use.
const vector = {
  envelope: {
    version: 1,
    unitId: "0x" + "11".repeat(32),
    dutyTypeId: "0x" + "22".repeat(32),
    performedAt: 1795000000,
    fields: { gridCode: "QS-01-03", durationMinutes: 90, issuesFound: 2, gridWorker: "赵某" },
    salt: "0x" + "33".repeat(32),
  } satisfies RecordEnvelope,
  chainId: 31337,
  verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  jcs: '{"dutyTypeId":"0x2222222222222222222222222222222222222222222222222222222222222222","fields":{"durationMinutes":90,"gridCode":"QS-01-03","gridWorker":"赵某","issuesFound":2},"performedAt":1795000000,"salt":"0x3333333333333333333333333333333333333333333333333333333333333333","unitId":"0x1111111111111111111111111111111111111111111111111111111111111111","version":1}',
  recordDigest: "0x659ae5b2609cf1c2ef09480c908c7115a1c3b636118506f2f97445a8c7b87fc5",
  eip712Digest: "0x936e010c4191e8e5e215295758059ebf2a626f2fd43c10307c2e556dc716a91b",
  signer: "0x1a642f0E3c3aF545E7AcBD38b07251B3990914F1",
  signature:
    "0xab93ae7a47745b40ede9727c4376374cc354467d004edc3c475fd53385ad3a44052369b8cfd3b3f3e3e882ba3b694b9122ce5125bece1ec80f54e40b7bff5eca1c",
  leafHash: "0xa6ed021f4c482102c91bd8e9a7203c2bf2193c3a7d40542be0e2e92428510109",
};

describe("core/record", () => {
  after(() => {
    useSha256(null);
    useKeccak256(null);
  });

  it("canonicalises the envelope by RFC 8785 and digests it with SHA-256", () => {
    expect(canonicalJson(vector.envelope)).to.equal(vector.jcs);
    // Independently: sha256 of the UTF-8 bytes (printf '%s' "$jcs" | sha256sum).
    expect("0x" + createHash("sha256").update(vector.jcs, "utf8").digest("hex")).to.equal(vector.recordDigest);
    expect(bytesToHex(recordDigest(vector.envelope))).to.equal(vector.recordDigest);
  });

  for (const keccak of ["pure", "native"] as const) {
    it(`produces the EIP-712 digest any EIP-712 library signs, and the signature recovers to the unit (${keccak} Keccak-256)`, () => {
      if (keccak === "native") {
        installNativeHashes();
        expect(useKeccak256(nativeKeccak256), "the native Keccak-256 is not the one installed").to.equal(
          nativeKeccak256,
        );
      } else useKeccak256(null);
      const domain = eip712Domain(vector.chainId, vector.verifyingContract);
      const message = signedMessageOf(vector.envelope);
      expect(bytesToHex(typedDataDigest(domain, message))).to.equal(vector.eip712Digest);
      // The hand-written encoding equals ethers' generic EIP-712 encoder, here and on random messages.
      const types = { DutyRecord: [...eip712Types.DutyRecord] };
      expect(TypedDataEncoder.hash(domain, types, message)).to.equal(vector.eip712Digest);
      for (let i = 0; i < 200; i++) {
        const random = {
          unitId: bytesToHex(Uint8Array.from({ length: 32 }, () => Math.floor(Math.random() * 256))),
          dutyTypeId: bytesToHex(Uint8Array.from({ length: 32 }, () => Math.floor(Math.random() * 256))),
          performedAt: Math.floor(Math.random() * 2 ** 40),
          recordDigest: bytesToHex(Uint8Array.from({ length: 32 }, () => Math.floor(Math.random() * 256))),
        };
        const otherDomain = eip712Domain(1 + Math.floor(Math.random() * 1e9), Wallet.createRandom().address);
        expect(bytesToHex(typedDataDigest(otherDomain, random))).to.equal(
          TypedDataEncoder.hash(otherDomain, types, random),
        );
      }
      expect(verifyTypedData(domain, { DutyRecord: [...eip712Types.DutyRecord] }, message, vector.signature)).to.equal(
        vector.signer,
      );
      expect(recoverSigner(hexToBytes(vector.eip712Digest), vector.signature)).to.equal(vector.signer.toLowerCase());
      expect(new Wallet("0x" + "01".repeat(32)).address).to.equal(vector.signer);
    });
  }

  it("hashes every EIP-712 digest and recovered key through the core's Keccak-256 seam", () => {
    const lengths: number[] = [];
    useKeccak256((data) => {
      lengths.push(data.length);
      return pureKeccak256(data);
    });
    try {
      const domain = eip712Domain(vector.chainId, vector.verifyingContract);
      expect(bytesToHex(typedDataDigest(domain, signedMessageOf(vector.envelope)))).to.equal(vector.eip712Digest);
      expect(lengths, "struct hash (160 bytes), then 0x1901 ‖ separator ‖ struct hash (66)").to.deep.equal([160, 66]);
      lengths.length = 0;
      // A key this process has never seen, so the address is not a cached one.
      const wallet = Wallet.createRandom();
      const signature = wallet.signingKey.sign(hexToBytes(vector.eip712Digest)).serialized;
      expect(recoverSigner(hexToBytes(vector.eip712Digest), signature)).to.equal(wallet.address.toLowerCase());
      expect(lengths, "the uncompressed public key without its 0x04 prefix").to.deep.equal([64]);
    } finally {
      useKeccak256(null);
    }
  });

  it("builds the leaf as 'DPL1' ‖ digest ‖ signature under the 0x00 prefix", () => {
    const data = leafDataOf(hexToBytes(vector.recordDigest), vector.signature);
    expect(bytesToHex(data)).to.equal("0x44504c31" + vector.recordDigest.slice(2) + vector.signature.slice(2));
    const independent =
      "0x" +
      createHash("sha256")
        .update(Buffer.concat([Buffer.of(0), Buffer.from(data)]))
        .digest("hex");
    expect(independent).to.equal(vector.leafHash);
    expect(bytesToHex(leafHashOf(hexToBytes(vector.recordDigest), vector.signature))).to.equal(vector.leafHash);
    // The signature as bytes gives the same leaf (the verify workers pass it so).
    const asBytes = leafHashOf(hexToBytes(vector.recordDigest), hexToBytes(vector.signature));
    expect(bytesToHex(asBytes)).to.equal(vector.leafHash);
  });

  it("refuses high-s, malformed and wrong-v signatures before recovery", () => {
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const s = BigInt("0x" + vector.signature.slice(66, 130));
    const highS = vector.signature.slice(0, 66) + (n - s).toString(16).padStart(64, "0") + "1b";
    expect(parseSignature(highS)).to.equal(null);
    expect(recoverSigner(hexToBytes(vector.eip712Digest), highS)).to.equal(null);
    expect(parseSignature(vector.signature.slice(0, -2) + "1d")).to.equal(null);
    expect(parseSignature(vector.signature.slice(0, 130))).to.equal(null);
    expect(parseSignature("0x" + "00".repeat(65))).to.equal(null);
  });

  it("rejects envelopes with extra keys, wrong types or a non-hex salt, naming each path", () => {
    const result = recordEnvelopeSchema.safeParse({ ...vector.envelope, salt: "0x33", performedAt: 1.5, extra: 1 });
    expect(result.success).to.equal(false);
    const paths = result.error!.issues.map((i) => i.path.join(".") || "(root)");
    expect(paths).to.include.members(["salt", "performedAt", "(root)"]);
  });

  it("puts the optional links inside the digest and refuses unknown link kinds", () => {
    const amends = { recordId: vector.recordDigest, kind: "correction" as const, reason: "走访时长填错" };
    const linked = recordEnvelopeSchema.parse({ ...vector.envelope, amends, demandId: "0x" + "44".repeat(32) });
    expect(bytesToHex(recordDigest(linked))).to.not.equal(vector.recordDigest);
    const otherReason = { ...linked, amends: { ...amends, reason: "走访时长填写有误" } };
    expect(bytesToHex(recordDigest(otherReason))).to.not.equal(bytesToHex(recordDigest(linked)));
    const bad = recordEnvelopeSchema.safeParse({ ...vector.envelope, amends: { ...amends, kind: "erase" } });
    expect(bad.success).to.equal(false);
    expect(bad.error!.issues.map((i) => i.path.join("."))).to.deep.equal(["amends.kind"]);
  });
});

describe("core/dutyType and the starter catalog", () => {
  const catalog = loadCatalog();

  it("ships the eight starter duty types with distinct ids equal to the SHA-256 of their JCS form", () => {
    expect(catalog.map((e) => e.document.code).sort()).to.deep.equal([
      "dispute-mediation",
      "grid-patrol",
      "household-visit",
      "meeting-held",
      "petition-reception",
      "policy-outreach",
      "safety-hazard-check",
      "subsistence-allowance-check",
    ]);
    for (const entry of catalog) {
      const independent = "0x" + createHash("sha256").update(canonicalJson(entry.document), "utf8").digest("hex");
      expect(entry.id).to.equal(independent);
      expect(dutyTypeIdOf(entry.document)).to.equal(independent);
    }
    expect(new Set(catalog.map((e) => e.id)).size).to.equal(8);
  });

  it("marks the personal fields of household visits and allowance checks", () => {
    const personal = (code: string) =>
      catalog
        .find((e) => e.document.code === code)!
        .document.fields.filter((f) => f.personal)
        .map((f) => f.name);
    expect(personal("household-visit")).to.deep.equal(["householdName", "address"]);
    expect(personal("subsistence-allowance-check")).to.include("idNumber");
  });

  it("validates fields: every problem listed, unknown fields refused, enums and ranges enforced", () => {
    const patrol = catalog.find((e) => e.document.code === "grid-patrol")!.document;
    expect(
      validateFields(patrol, { gridCode: "G-1", durationMinutes: 30, issuesFound: 0, gridWorker: "某" }),
    ).to.deep.equal([]);
    const issues = validateFields(patrol, { gridCode: 5, durationMinutes: 0, issuesFound: 1.5, extra: true });
    expect(issues.map((i) => i.path)).to.deep.equal([
      "fields.extra",
      "fields.gridCode",
      "fields.durationMinutes",
      "fields.issuesFound",
      "fields.gridWorker",
    ]);
  });
});

// The version 2 worked example of docs/protocol.md §3: the version 1 envelope bound to the log
// "embedded-gateway" (logId = keccak256("log:embedded-gateway")). Every value below was computed
// with node's SHA-256 and ethers' EIP-712 encoder and signer, not with the code under test.
const vectorV2 = {
  envelope: {
    ...vector.envelope,
    version: 2,
    logId: "0xb6bacb676c16ea8ad9e7c7deb0f3fdadbbfa5628d883a571eacea9a7718ebda6",
  } satisfies RecordEnvelope,
  jcs: '{"dutyTypeId":"0x2222222222222222222222222222222222222222222222222222222222222222","fields":{"durationMinutes":90,"gridCode":"QS-01-03","gridWorker":"赵某","issuesFound":2},"logId":"0xb6bacb676c16ea8ad9e7c7deb0f3fdadbbfa5628d883a571eacea9a7718ebda6","performedAt":1795000000,"salt":"0x3333333333333333333333333333333333333333333333333333333333333333","unitId":"0x1111111111111111111111111111111111111111111111111111111111111111","version":2}',
  recordDigest: "0x82af6649030d406d724f0bf17d86723463f1f34108d5dd3fa403c0773c4d0a81",
  eip712Digest: "0x8950ab3e4a3540158ad29b0619d32f7f069184469acbbd4941995ae0def2deb2",
  signature:
    "0x5a6d93fc68e800fd4fe00cc44bfcee5955243b6eeb90d2a878098d7f5934557a24c2bd97f2c1afb52fce82289701af727bd700c1ebdd1c44dbc8cfba7894929a1b",
  leafHash: "0xa2f3c09e437a3c1d8849d0a0208395decdd03509fce09daa7ff42c3f234c0a1d",
};

describe("core/record, envelope version 2 (bound to a log)", () => {
  const domain = eip712Domain(vector.chainId, vector.verifyingContract);
  const types = { DutyRecord: [...eip712TypesV2.DutyRecord] };

  it("gives the worked example: JCS, record digest, EIP-712 digest, signature and DPL1 leaf", () => {
    expect(canonicalJson(vectorV2.envelope)).to.equal(vectorV2.jcs);
    expect(bytesToHex(recordDigest(vectorV2.envelope))).to.equal(vectorV2.recordDigest);
    const message = signedMessageOf(vectorV2.envelope);
    expect(message.logId).to.equal(vectorV2.envelope.logId);
    expect(bytesToHex(typedDataDigest(domain, message))).to.equal(vectorV2.eip712Digest);
    expect(verifyTypedData(domain, types, message, vectorV2.signature)).to.equal(vector.signer);
    expect(recoverSigner(hexToBytes(vectorV2.eip712Digest), vectorV2.signature)).to.equal(vector.signer.toLowerCase());
    expect(bytesToHex(leafHashOf(hexToBytes(vectorV2.recordDigest), vectorV2.signature))).to.equal(vectorV2.leafHash);
  });

  it("encodes the version 2 message as ethers' generic encoder does, on random messages", () => {
    const random = () => bytesToHex(Uint8Array.from({ length: 32 }, () => Math.floor(Math.random() * 256)));
    for (let i = 0; i < 100; i++) {
      const message = {
        logId: random(),
        unitId: random(),
        dutyTypeId: random(),
        performedAt: Math.floor(Math.random() * 2 ** 40),
        recordDigest: random(),
      };
      expect(bytesToHex(typedDataDigest(domain, message))).to.equal(TypedDataEncoder.hash(domain, types, message));
    }
  });

  it("gives another digest for another log, and never the version 1 digest", () => {
    const message = signedMessageOf(vectorV2.envelope);
    const otherLog = { ...message, logId: "0x" + "ee".repeat(32) };
    expect(bytesToHex(typedDataDigest(domain, otherLog))).to.not.equal(vectorV2.eip712Digest);
    const asVersion1 = { ...message, logId: undefined };
    expect(bytesToHex(typedDataDigest(domain, asVersion1))).to.not.equal(vectorV2.eip712Digest);
    expect(recoverSigner(typedDataDigest(domain, otherLog), vectorV2.signature)).to.not.equal(
      vector.signer.toLowerCase(),
    );
  });

  it("requires logId in version 2 and refuses it in version 1", () => {
    const withoutLog = { ...vectorV2.envelope, logId: undefined };
    expect(recordEnvelopeSchema.safeParse(withoutLog).success).to.equal(false);
    expect(recordEnvelopeSchema.safeParse({ ...vector.envelope, logId: vectorV2.envelope.logId }).success).to.equal(
      false,
    );
    expect(recordEnvelopeSchema.safeParse({ ...vectorV2.envelope, version: 3 }).success).to.equal(false);
    expect(recordEnvelopeSchema.parse(vectorV2.envelope)).to.deep.equal(vectorV2.envelope);
    expect(recordEnvelopeSchema.parse(vector.envelope)).to.deep.equal(vector.envelope);
  });
});
