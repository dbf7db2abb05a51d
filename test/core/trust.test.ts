/** Trust anchors and the dutyproof/trust/v1 file format, pure. */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { NOTE_COSIGNATURE_V1, NOTE_ED25519, formatVerifierKey, noteSigner } from "../../server/core/note.ts";
import {
  TRUST_FILE_FORMAT,
  mergeTrustAnchors,
  trustFileOf,
  trustFileSchema,
  trustedDeploymentOf,
} from "../../server/core/trust.ts";

const ledger = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const logA = "0x" + "aa".repeat(32);
const logB = "0x" + "bb".repeat(32);

describe("trust anchors", () => {
  const anchors = [
    { name: "county", chainId: 20260, contract: ledger, logIds: [logA] },
    { name: "every log of the audit ledger", chainId: 20260, contract: "0x" + "12".repeat(20) },
  ];

  it("trusts a deployment only for its chain, its contract (any case) and its logs", () => {
    expect(trustedDeploymentOf(anchors, 20260, ledger.toLowerCase(), logA)?.name).to.equal("county");
    expect(trustedDeploymentOf(anchors, 20260, ledger.toUpperCase().replace("0X", "0x"), logA)?.name).to.equal(
      "county",
    );
    expect(trustedDeploymentOf(anchors, 20260, ledger, logB)).to.equal(undefined);
    expect(trustedDeploymentOf(anchors, 1, ledger, logA)).to.equal(undefined);
    expect(trustedDeploymentOf(anchors, 20260, "0x" + "34".repeat(20), logA)).to.equal(undefined);
    expect(trustedDeploymentOf([], 20260, ledger, logA)).to.equal(undefined);
  });

  it("trusts every log of a contract whose anchor lists none", () => {
    expect(trustedDeploymentOf(anchors, 20260, "0x" + "12".repeat(20), logB)?.name).to.equal(
      "every log of the audit ledger",
    );
  });

  it("reads its own export back, and refuses unknown fields, versions and malformed values", () => {
    const file = trustFileOf(anchors);
    expect(trustFileSchema.parse(JSON.parse(JSON.stringify(file)))).to.deep.equal(file);
    expect(file.format).to.equal(TRUST_FILE_FORMAT);
    const refused = [
      { ...file, format: "dutyproof/trust/v2" },
      { ...file, extra: 1 },
      { ...file, deployments: [{ ...anchors[0], witnessKeys: ["k"] }] },
      { ...file, deployments: [{ ...anchors[0], contract: "0x12" }] },
      { ...file, deployments: [{ ...anchors[0], logIds: ["0x" + "AA".repeat(32)] }] },
      { ...file, deployments: [{ ...anchors[0], logIds: [] }] },
      { ...file, deployments: [{ ...anchors[0], chainId: 0 }] },
    ];
    for (const bad of refused) expect(trustFileSchema.safeParse(bad).success, JSON.stringify(bad)).to.equal(false);
  });

  it("merges sources without repeating a deployment", () => {
    expect(mergeTrustAnchors(anchors, [{ ...anchors[0]!, name: "again" }], [])).to.deep.equal(anchors);
  });

  it("reads a witness policy (witnesses, witnessQuorum) and refuses one that cannot be met", () => {
    const keys = ["a", "b"].map((n) =>
      formatVerifierKey(noteSigner(`witness.${n}.example`, NOTE_COSIGNATURE_V1, randomBytes(32))),
    );
    const logKey = formatVerifierKey(noteSigner("log.example", NOTE_ED25519, randomBytes(32)));
    const file = trustFileOf([{ ...anchors[0]!, witnesses: keys, witnessQuorum: 2 }]);
    expect(trustFileSchema.parse(JSON.parse(JSON.stringify(file)))).to.deep.equal(file);
    expect(trustFileSchema.safeParse(trustFileOf([{ ...anchors[0]!, witnesses: keys }])).success).to.equal(true);
    const refused = [
      { ...anchors[0], witnesses: keys, witnessQuorum: 3 },
      { ...anchors[0], witnessQuorum: 1 },
      { ...anchors[0], witnesses: keys, witnessQuorum: 0 },
      { ...anchors[0], witnesses: [] },
      { ...anchors[0], witnesses: [logKey] },
      { ...anchors[0], witnesses: ["witness.a.example+00000000+AAAA"] },
    ];
    for (const bad of refused)
      expect(trustFileSchema.safeParse(trustFileOf([bad as never])).success, JSON.stringify(bad)).to.equal(false);
  });

  it("keeps a deployment given again with a witness policy", () => {
    const key = formatVerifierKey(noteSigner("witness.a.example", NOTE_COSIGNATURE_V1, randomBytes(32)));
    const withPolicy = { ...anchors[0]!, witnesses: [key] };
    expect(mergeTrustAnchors(anchors, [withPolicy])).to.deep.equal([...anchors, withPolicy]);
  });
});
