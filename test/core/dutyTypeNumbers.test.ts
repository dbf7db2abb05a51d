/**
 * A duty-type document's id is the SHA-256 of its canonical bytes, so its numbers follow the
 * number rule of docs/protocol.md ("Conventions"): a bound of 0.5, 1e21 or -0 would be written
 * differently by another language's JCS, and a third party would compute another duty type id
 * than the one registered on chain.
 */
import { expect } from "chai";
import { dutyTypeSchemaDocument } from "../../server/core/dutyType.ts";
import { loadCatalog } from "../../server/catalog/loadCatalog.ts";

const documentWith = (bounds: { minimum?: number; maximum?: number }) => ({
  schema: "dutyproof/duty-type/v1",
  code: "street-cleaning",
  title: { "zh-CN": "街道保洁", en: "Street cleaning" },
  department: "urban-management",
  fields: [
    {
      name: "cost",
      title: { "zh-CN": "费用", en: "Cost" },
      type: "number",
      required: true,
      personal: false,
      ...bounds,
    },
  ],
});

describe("duty-type documents: numbers every JCS writes alike", () => {
  it("takes integer bounds within ±(2^53 − 1)", () => {
    expect(dutyTypeSchemaDocument.safeParse(documentWith({ minimum: -5, maximum: 2 ** 53 - 1 })).success).to.equal(
      true,
    );
  });

  for (const [name, bounds] of [
    ["a fractional minimum", { minimum: 0.5 }],
    ["an exponent-sized maximum", { maximum: 1e21 }],
    ["a minimum of negative zero", { minimum: -0 }],
    ["a maximum beyond 2^53 − 1", { maximum: 2 ** 53 }],
  ] as const) {
    it(`refuses ${name}, naming the field`, () => {
      const parsed = dutyTypeSchemaDocument.safeParse(documentWith(bounds));
      expect(parsed.success).to.equal(false);
      expect(parsed.error!.issues.map((issue) => issue.path.join("."))).to.deep.equal([
        `fields.0.${Object.keys(bounds)[0]}`,
      ]);
    });
  }

  it("still loads every starter duty type", () => {
    expect(loadCatalog().length).to.be.greaterThan(0);
  });
});
