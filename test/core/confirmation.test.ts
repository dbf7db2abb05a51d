/**
 * core/confirmation: the DPC1 leaf, the audit check of a logged answer or appeal, the text rules
 * for residents' comments, the follow-up draw and the evaluation's weights.
 */
import { expect } from "chai";
import { bytesToHex, hexToBytes } from "../../server/core/bytes.ts";
import {
  type AnswerEntry,
  type AuditConfirmationEntry,
  checkConfirmationEntry,
  confirmationDigest,
  confirmationLeafDataOf,
  confirmationLeafHashOf,
  evaluate,
  followUpSample,
  residentAnswerSchema,
  textFault,
} from "../../server/core/confirmation.ts";
import { isLogLeaf } from "../../server/core/monitor.ts";

const h = (byte: string) => "0x" + byte.repeat(32);
const answer: AnswerEntry = {
  schema: "dutyproof/confirmation/v1",
  type: "answer",
  recordId: h("11"),
  unitId: h("22"),
  dutyTypeId: h("33"),
  happened: false,
  satisfaction: 1,
  comment: "没有人来过",
  answeredAt: 1_800_000_000,
  salt: h("44"),
};
const logged = (entry: unknown, entryId = bytesToHex(confirmationDigest(answer))): AuditConfirmationEntry => ({
  kind: "confirmation",
  leafIndex: 3,
  entryId,
  entry: entry as AnswerEntry,
  acceptedAt: 1_800_000_000,
});

describe("core/confirmation", () => {
  it("builds the 68-byte DPC1 leaf from record id and entry id, which the monitor takes as a log leaf", () => {
    const data = confirmationLeafDataOf(hexToBytes(answer.recordId), confirmationDigest(answer));
    expect(data.length).to.equal(68);
    expect(Buffer.from(data.subarray(0, 4)).toString("ascii")).to.equal("DPC1");
    expect(isLogLeaf(data)).to.equal(true);
    const other = data.slice();
    other[3] = 0x32; // "DPC2": no such leaf
    expect(isLogLeaf(other)).to.equal(false);
    expect(isLogLeaf(data.subarray(0, 67))).to.equal(false);
  });

  it("finds nothing in an honest entry and rebuilds its leaf", () => {
    const checked = checkConfirmationEntry(logged(answer));
    expect(checked.problems).to.deep.equal([]);
    expect(bytesToHex(checked.leafHash)).to.equal(
      bytesToHex(confirmationLeafHashOf(hexToBytes(answer.recordId), confirmationDigest(answer))),
    );
  });

  it("reports an altered or malformed entry once, as altered, keeping the logged leaf", () => {
    const honestLeaf = bytesToHex(checkConfirmationEntry(logged(answer)).leafHash);
    for (const altered of [
      { ...answer, happened: true },
      { ...answer, comment: "很好" },
      { ...answer, extra: 1 },
    ]) {
      const checked = checkConfirmationEntry(logged(altered));
      expect(checked.problems.map((p) => p.kind)).to.deep.equal(["confirmation.altered"]);
      expect(bytesToHex(checked.leafHash)).to.equal(honestLeaf);
    }
  });

  it("refuses lone surrogates, control characters and comments over 500 code points", () => {
    expect(textFault("\ud800")).to.match(/lone surrogates/);
    expect(textFault("a\udc00")).to.match(/lone surrogates/);
    expect(textFault("a\u0007b")).to.match(/control/);
    expect(textFault("第一行\n第二行")).to.equal(null);
    expect(textFault("😀".repeat(500))).to.equal(null);
    expect(textFault("😀".repeat(501))).to.match(/at most 500/);
    expect(residentAnswerSchema.safeParse({ happened: true }).success).to.equal(false);
    expect(residentAnswerSchema.safeParse({ happened: false }).success).to.equal(true);
  });

  it("draws the same follow-up sample from the same root, another from another root", () => {
    const ids = Array.from({ length: 50 }, (_, i) => "0x" + i.toString(16).padStart(64, "0"));
    const a = followUpSample(ids, h("aa"), 5);
    expect(a).to.have.length(5);
    expect(followUpSample([...ids].reverse(), h("aa"), 5)).to.deep.equal(a);
    expect(followUpSample(ids, h("ab"), 5)).to.not.deep.equal(a);
  });

  it("weighs residents at least 60%, and a unit that asks nobody scores nothing for them", () => {
    const base = {
      confirmable: [{ recordId: h("11"), anchored: true }],
      records: [{ anchored: true, withdrawn: false }],
      answers: [],
      appeals: [],
      requested: 0,
      sampleSize: 0,
    };
    expect(() => evaluate({ ...base, residentWeight: 0.5 })).to.throw(/0\.6/);
    const silent = evaluate({ ...base, residentWeight: 0.6 });
    expect(silent.score).to.deep.equal({ residentWeight: 0.6, residents: 0, paperwork: 100, total: 40 });
    expect(silent.confirmationRate).to.equal(0);
    const pleased = evaluate({
      ...base,
      requested: 1,
      answers: [{ ...answer, happened: true, satisfaction: 5 }],
      residentWeight: 0.7,
    });
    expect(pleased.score.total).to.equal(100);
    expect(pleased.confirmationRate).to.equal(1);
  });
});
