/**
 * The duty-type document format: enum values carry their titles in zh-CN and English, every
 * starter document gives them, and a document written before titles existed stays valid.
 */
import { expect } from "chai";
import { loadCatalog } from "../../server/catalog/loadCatalog.ts";
import {
  type DutyTypeDocument,
  dutyTypeIdOf,
  dutyTypeSchemaDocument,
  valueTitleOf,
} from "../../server/core/dutyType.ts";

const untitled = {
  schema: "dutyproof/duty-type/v1",
  code: "household-visit-untitled",
  title: { "zh-CN": "入户走访", en: "Household visit" },
  department: "civil-affairs",
  fields: [
    {
      name: "visitPurpose",
      title: { "zh-CN": "走访事由", en: "Purpose of the visit" },
      type: "enum",
      required: true,
      personal: false,
      values: ["routine", "elderly-care"],
    },
  ],
} as const;

const withTitles = (valueTitles: unknown, extra: Record<string, unknown> = {}) => ({
  ...untitled,
  fields: [{ ...untitled.fields[0], valueTitles, ...extra }],
});

const issuesOf = (doc: unknown) =>
  (dutyTypeSchemaDocument.safeParse(doc).error?.issues ?? []).map((i) => `${i.path.join(".")}: ${i.message}`);

describe("duty-type documents: titles of enum values", () => {
  it("gives every value of every starter enum field a Chinese and an English title", () => {
    const enums = loadCatalog().flatMap((entry) => entry.document.fields.filter((f) => f.type === "enum"));
    expect(enums.length).to.be.greaterThan(5);
    for (const field of enums) {
      for (const value of field.values!) {
        const title = valueTitleOf(field, value);
        expect(title, `${field.name}.${value}`).to.not.equal(undefined);
        expect(title!["zh-CN"], `${field.name}.${value}`).to.match(/\p{Script=Han}/u);
        expect(title!.en, `${field.name}.${value}`).to.not.equal(value);
      }
    }
    const purpose = loadCatalog()
      .find((e) => e.document.code === "household-visit")!
      .document.fields.find((f) => f.name === "visitPurpose")!;
    expect(valueTitleOf(purpose, "elderly-care")).to.deep.equal({ "zh-CN": "关爱老人", en: "Elderly care" });
  });

  it("keeps a document without value titles valid, showing the values themselves", () => {
    expect(issuesOf(untitled)).to.deep.equal([]);
    const doc = dutyTypeSchemaDocument.parse(untitled) as DutyTypeDocument;
    expect(valueTitleOf(doc.fields[0]!, "routine")).to.equal(undefined);
  });

  it("pins the titles in the duty type's id", () => {
    const titles = {
      routine: { "zh-CN": "日常走访", en: "Routine visit" },
      "elderly-care": { "zh-CN": "关爱老人", en: "Elderly care" },
    };
    const a = dutyTypeSchemaDocument.parse(withTitles(titles)) as DutyTypeDocument;
    const b = dutyTypeSchemaDocument.parse(
      withTitles({ ...titles, routine: { "zh-CN": "例行走访", en: "Routine visit" } }),
    ) as DutyTypeDocument;
    expect(dutyTypeIdOf(a)).to.not.equal(dutyTypeIdOf(b));
    expect(dutyTypeIdOf(a)).to.not.equal(dutyTypeIdOf(dutyTypeSchemaDocument.parse(untitled) as DutyTypeDocument));
  });

  it("refuses titles that do not name exactly the values, or that are not in both languages", () => {
    const one = { "zh-CN": "日常走访", en: "Routine visit" };
    expect(issuesOf(withTitles({ routine: one }))).to.deep.equal([
      "fields.0.valueTitles.elderly-care: a value without a title",
    ]);
    expect(issuesOf(withTitles({ routine: one, "elderly-care": one, elderly: one }))).to.deep.equal([
      "fields.0.valueTitles.elderly: not one of the values",
    ]);
    expect(issuesOf(withTitles({ routine: one, "elderly-care": { "zh-CN": "关爱老人" } }))).to.have.length(1);
    expect(issuesOf(withTitles({ routine: one }, { type: "string", values: undefined })).join("; ")).to.include(
      "only an enum field has valueTitles",
    );
  });

  it("refuses a lone surrogate in any text the id hashes, naming the field, instead of failing to make the id", () => {
    const lone = "\ud800";
    const one = { "zh-CN": "日常走访", en: "Routine visit" };
    const cases: Array<[unknown, string]> = [
      [{ ...untitled, title: { ...untitled.title, "zh-CN": `入户${lone}走访` } }, "title.zh-CN"],
      [{ ...untitled, department: `civil${lone}` }, "department"],
      [withTitles(undefined, { values: ["routine", `elderly${lone}`] }), "fields.0.values.1"],
      [
        withTitles({ routine: one, "elderly-care": { ...one, en: `Care${lone}` } }),
        "fields.0.valueTitles.elderly-care.en",
      ],
      [
        { ...untitled, fields: [{ ...untitled.fields[0], title: { ...one, en: `Purpose${lone}` } }] },
        "fields.0.title.en",
      ],
    ];
    for (const [doc, path] of cases) {
      const issues = issuesOf(doc);
      expect(issues, path).to.have.length.greaterThan(0);
      expect(issues.join("; "), path).to.include(`${path}: contains a lone UTF-16 surrogate`);
    }
  });
});
