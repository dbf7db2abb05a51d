/**
 * What the record's canonical form admits: text with a UTF-8 form (no lone surrogates) and
 * numbers every JCS implementation writes alike (docs/protocol.md §3, "Numbers and text").
 */
import { expect } from "chai";
import {
  LONE_SURROGATE_MESSAGE,
  canonicalJson,
  interoperableNumberFault,
  isWellFormedText,
} from "../../server/core/canonical.ts";
import { validateFields } from "../../server/core/dutyType.ts";
import { recordEnvelopeSchema } from "../../server/core/recordSchema.ts";
import { demandEnvelopeSchema } from "../../server/burden/demand.ts";
import { loadCatalog } from "../../server/catalog/loadCatalog.ts";

const envelope = {
  version: 1,
  unitId: "0x" + "11".repeat(32),
  dutyTypeId: "0x" + "22".repeat(32),
  performedAt: 1795000000,
  fields: { gridCode: "QS-01-03", durationMinutes: 90 },
  salt: "0x" + "33".repeat(32),
};

describe("core/canonical: text and numbers a record may hold", () => {
  it("tells text with a UTF-8 form from text with a lone surrogate; pairs are fine", () => {
    expect(isWellFormedText("网格员 😀")).to.equal(true);
    for (const lone of ["\ud800", "a\udfff", "\ud83d", "x\ude00y", "\udc00\ud800"]) {
      expect(isWellFormedText(lone), JSON.stringify(lone)).to.equal(false);
      // The canonicaliser cannot write it: this is what once surfaced as a 500.
      expect(() => canonicalJson({ a: lone })).to.throw();
    }
  });

  it("refuses a lone surrogate in any text of a record envelope, naming the field", () => {
    const cases: Array<[unknown, string]> = [
      [{ ...envelope, fields: { gridCode: "QS\ud800" } }, "fields.gridCode"],
      [{ ...envelope, fields: { "grid\udc00": 1 } }, "fields.grid\udc00"],
      [
        { ...envelope, amends: { recordId: "0x" + "44".repeat(32), kind: "correction", reason: "\ud800" } },
        "amends.reason",
      ],
    ];
    for (const [value, path] of cases) {
      const result = recordEnvelopeSchema.safeParse(value);
      expect(result.success, path).to.equal(false);
      const issue = result.error!.issues.find((i) => i.path.join(".") === path)!;
      expect(issue, path).to.not.equal(undefined);
      const message = issue.code === "invalid_key" ? issue.issues[0]!.message : issue.message;
      expect(message).to.equal(LONE_SURROGATE_MESSAGE);
    }
    expect(recordEnvelopeSchema.safeParse({ ...envelope, fields: { gridWorker: "赵某 😀" } }).success).to.equal(true);
  });

  it("refuses a lone surrogate in a demand's purpose and emergency reason", () => {
    const demand = {
      version: 1,
      unitId: "0x" + "11".repeat(32),
      dutyTypeIds: ["0x" + "22".repeat(32)],
      from: 1795000000,
      to: 1795086400,
      purpose: "核查\ud800",
      department: "civil-affairs",
      inspector: "0x" + "55".repeat(20),
      onSite: true,
      emergency: { reason: "\udfff" },
      issuedAt: 1795000000,
      salt: "0x" + "33".repeat(32),
    };
    const result = demandEnvelopeSchema.safeParse(demand);
    expect(result.success).to.equal(false);
    expect(result.error!.issues.map((i) => i.path.join("."))).to.have.members(["purpose", "emergency.reason"]);
  });

  it("admits as numbers only integers within ±(2^53 − 1), and never negative zero", () => {
    for (const n of [0, 1, -1, 90, 2 ** 53 - 1, -(2 ** 53 - 1)])
      expect(interoperableNumberFault(n), String(n)).to.equal(null);
    for (const n of [1e-7, 0.5, 1234.5, 2 ** 53, -(2 ** 53), 1e21, -0]) {
      expect(interoperableNumberFault(n), String(n)).to.be.a("string");
    }
    expect(interoperableNumberFault(-0)).to.match(/negative zero/);
  });

  it("applies the number rule to the catalog's fields, with decimals as strings, and keeps the catalog valid", () => {
    const catalog = loadCatalog();
    const patrol = catalog.find((e) => e.document.code === "grid-patrol")!.document;
    const base = { gridCode: "G-1", durationMinutes: 30, issuesFound: 0, gridWorker: "某" };
    expect(validateFields(patrol, base)).to.deep.equal([]);
    expect(validateFields(patrol, { ...base, issuesFound: -0 })).to.deep.equal([
      { path: "fields.issuesFound", message: "must not be negative zero (write 0)" },
    ]);
    expect(validateFields(patrol, { ...base, durationMinutes: 1e-7 }).map((i) => i.path)).to.deep.equal([
      "fields.durationMinutes",
    ]);
    expect(validateFields(patrol, { ...base, durationMinutes: "30" }).map((i) => i.path)).to.deep.equal([
      "fields.durationMinutes",
    ]);

    // The one "number" field of the catalog: monthly income per person, at least 0.
    const allowance = catalog.find((e) => e.document.code === "subsistence-allowance-check")!.document;
    const field = allowance.fields.find((f) => f.type === "number")!;
    expect(field.name).to.equal("monthlyIncomePerPerson");
    const others = Object.fromEntries(
      allowance.fields
        .filter((f) => f.required && f !== field)
        .map((f) => [
          f.name,
          f.type === "enum"
            ? f.values![0]!
            : f.type === "boolean"
              ? true
              : f.type === "date"
                ? "2026-11-01"
                : f.type === "integer"
                  ? 1
                  : "某",
        ]),
    );
    const issuesFor = (value: unknown) => validateFields(allowance, { ...others, [field.name]: value });
    for (const ok of [650, 0, "650.50", "0.5", "1234"]) expect(issuesFor(ok), String(ok)).to.deep.equal([]);
    for (const bad of [650.5, 1e-7, -0, "6.5e2", "1,234.50", "+1", "01.5", "-3.5", ".5", "Infinity"]) {
      expect(
        issuesFor(bad).map((i) => i.path),
        String(bad),
      ).to.deep.equal([`fields.${field.name}`]);
    }
  });
});
