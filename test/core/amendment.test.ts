/** The amendment rules and erasure in the pure core, and replay following `amends` links. */
import { expect } from "chai";
import { Wallet, id } from "ethers";
import { bundleNotices, checkAmendment, eraseEnvelope, servedNotices } from "../../server/core/amendment.ts";
import { bytesToHex } from "../../server/core/bytes.ts";
import { eip712Domain, typedDataDigest } from "../../server/core/eip712.ts";
import { DutyproofError } from "../../server/core/errors.ts";
import { MemoryTree } from "../../server/core/merkle/index.ts";
import { type RecordEnvelope, leafHashOf, recordDigest, signedMessageOf } from "../../server/core/record.ts";
import { type AuditRecord, replay } from "../../server/core/replay.ts";
import { loadCatalog } from "../../server/catalog/loadCatalog.ts";
import { recoverSigner } from "../../server/crypto/recoverSigner.ts";
import { newEnvelope } from "../helpers/unitClient.ts";

const codeOf = (f: () => void) => {
  try {
    f();
    return "accepted";
  } catch (error) {
    return (error as DutyproofError).code;
  }
};

describe("amendments and erasure (core)", () => {
  const unit = id("unit:a");
  const other = id("unit:b");
  const duty = "0x" + "22".repeat(32);
  const target = { recordId: "0x" + "01".repeat(32), unitId: unit, dutyTypeId: duty };
  const amending = (kind: "correction" | "withdrawal", fields: RecordEnvelope["fields"] = { n: 1 }) => ({
    ...newEnvelope(null, unit, duty, fields),
    amends: { recordId: target.recordId, kind, reason: "r" },
  });

  it("applies each rule, first broken rule first", () => {
    expect(codeOf(() => checkAmendment(amending("correction"), target))).to.equal("accepted");
    expect(codeOf(() => checkAmendment(amending("withdrawal", {}), target))).to.equal("accepted");
    expect(codeOf(() => checkAmendment(amending("correction"), undefined))).to.equal("amendment.target_not_found");
    expect(codeOf(() => checkAmendment(amending("correction"), { ...target, unitId: other }))).to.equal(
      "amendment.other_unit",
    );
    expect(
      codeOf(() => checkAmendment(amending("correction"), { ...target, dutyTypeId: "0x" + "33".repeat(32) })),
    ).to.equal("amendment.duty_type_mismatch");
    expect(codeOf(() => checkAmendment(amending("withdrawal"), target))).to.equal("amendment.withdrawal_has_fields");
    const superseded = { ...target, amendedBy: { recordId: "0x" + "02".repeat(32), kind: "correction" as const } };
    expect(codeOf(() => checkAmendment(amending("correction"), superseded))).to.equal("amendment.target_not_current");
    expect(codeOf(() => checkAmendment(amending("correction"), { ...target, amendsKind: "withdrawal" }))).to.equal(
      "amendment.target_not_current",
    );
    expect(codeOf(() => checkAmendment(newEnvelope(null, unit, duty, {}), undefined))).to.equal("accepted");
  });

  it("reports a bundle's amendments only from records that verified and that the rules accept", () => {
    const original = { recordId: target.recordId, valid: true, envelope: { unitId: unit, dutyTypeId: duty } };
    const link = (kind: "correction" | "withdrawal") => ({ recordId: target.recordId, kind, reason: "r" });
    const correction = {
      recordId: "0x" + "02".repeat(32),
      valid: true,
      envelope: { unitId: unit, dutyTypeId: duty, amends: link("correction") },
    };
    expect(bundleNotices([original, correction])).to.deep.equal([
      { supersededBy: { kind: "correction", recordId: correction.recordId, reason: "r" } },
      {},
    ]);
    const withdrawal = { ...correction, envelope: { ...correction.envelope, amends: link("withdrawal") } };
    expect(bundleNotices([original, withdrawal])[0]).to.deep.equal({
      withdrawnBy: { kind: "withdrawal", recordId: correction.recordId, reason: "r" },
    });
    // An amending record that failed verification, or one another unit signed, says nothing.
    expect(bundleNotices([original, { ...correction, valid: false }])[0]).to.deep.equal({});
    const foreign = { ...correction, envelope: { ...correction.envelope, unitId: other } };
    expect(bundleNotices([original, foreign])[0]).to.deep.equal({});
    const otherType = { ...correction, envelope: { ...correction.envelope, dutyTypeId: "0x" + "33".repeat(32) } };
    expect(bundleNotices([original, otherType])[0]).to.deep.equal({});
    const erasure = { erasedAt: 1_800_000_000, order: "PIPL-1", fields: ["name"] };
    expect(bundleNotices([{ recordId: target.recordId, valid: true, erasure }])).to.deep.equal([{ erasure }]);
  });

  it("keeps the well-formed notices a gateway served beside a receipt, and drops the rest", () => {
    const notice = { kind: "correction", recordId: "0x" + "02".repeat(32), reason: "typo" };
    const erasure = { erasedAt: 1_800_000_000, order: "PIPL-1", fields: [] };
    expect(servedNotices({ supersededBy: notice, erasure, other: 1 })).to.deep.equal({ supersededBy: notice, erasure });
    expect(servedNotices({ supersededBy: { ...notice, kind: "withdrawal" } })).to.deep.equal({});
    expect(servedNotices({ withdrawnBy: { ...notice, kind: "withdrawal", recordId: "0x12" } })).to.deep.equal({});
    expect(servedNotices({ erasure: { ...erasure, erasedAt: "soon" } })).to.deep.equal({});
    expect(servedNotices(null)).to.deep.equal({});
  });

  it("erases the fields a duty type marks personal, unknown fields, and the salt", () => {
    const visit = loadCatalog().find((e) => e.document.code === "household-visit")!;
    const envelope = newEnvelope(null, unit, visit.id, {
      householdName: "某",
      address: "某地",
      visitPurpose: "routine",
      followUpRequired: false,
      visitors: "甲",
      stray: "x",
    });
    const { envelope: erased, fields } = eraseEnvelope(envelope, visit.document);
    expect(fields).to.deep.equal(["address", "householdName", "stray"]);
    expect(erased.fields).to.deep.equal({ visitPurpose: "routine", followUpRequired: false, visitors: "甲" });
    expect("salt" in erased).to.equal(false);
    expect(erased).to.include({ unitId: unit, dutyTypeId: visit.id, performedAt: envelope.performedAt });
  });

  it("replay reports a link to another unit's record and one to a record not in the log", () => {
    const keys = [Wallet.createRandom(), Wallet.createRandom()];
    const domain = eip712Domain(31337, "0x" + "12".repeat(20));
    const t0 = 1_800_000_000;
    const tree = new MemoryTree();
    const records: AuditRecord[] = [];
    const add = (key: Wallet | ReturnType<typeof Wallet.createRandom>, envelope: RecordEnvelope) => {
      const digest = recordDigest(envelope);
      const signature = key.signingKey.sign(typedDataDigest(domain, signedMessageOf(envelope))).serialized;
      tree.appendLeafHash(leafHashOf(digest, signature));
      records.push({
        leafIndex: records.length,
        recordId: bytesToHex(digest),
        envelope,
        signature,
        acceptedAt: t0 + 50,
      });
      return bytesToHex(digest);
    };
    const first = add(keys[0]!, newEnvelope(null, unit, duty, { n: 1 }, t0));
    add(keys[1]!, {
      ...newEnvelope(null, other, duty, { n: 2 }, t0),
      amends: { recordId: first, kind: "correction", reason: "r" },
    });
    add(keys[0]!, {
      ...newEnvelope(null, unit, duty, {}, t0),
      amends: { recordId: "0x" + "ee".repeat(32), kind: "withdrawal", reason: "r" },
    });
    const history = (k: number) => ({
      keys: [{ signer: keys[k]!.address, validFrom: t0, validUntil: 0 }],
      statuses: [{ status: "active" as const, since: t0 }],
    });
    const report = replay({
      domain,
      checkpoints: [{ size: 3, root: bytesToHex(tree.root()), previousSize: 0, blockNumber: 1, anchoredAt: t0 + 100 }],
      records,
      unitHistory: (u) => history(u === unit ? 0 : 1),
      recover: recoverSigner,
    });
    expect(report.findings.map((f) => [f.kind, f.leafIndex])).to.deep.equal([
      ["amendment.other_unit", 1],
      ["amendment.target_not_found", 2],
    ]);
    expect(report).to.include({ corrections: 1, withdrawals: 1, clean: false });
  });
});
