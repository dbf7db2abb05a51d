/**
 * Duty types are data: a schema document per type (its fields, which of them are personal
 * data, titles in zh-CN and English, and the titles of an enum field's values). A duty type's id
 * is the SHA-256 of its document's RFC 8785 canonical bytes, so the id registered on chain pins
 * the exact schema, titles included.
 */
import { sha256 } from "./sha256.ts";
import { z } from "zod";
import { bytesToHex } from "./bytes.ts";
import { LONE_SURROGATE_MESSAGE, canonicalBytes, interoperableNumberFault, isWellFormedText } from "./canonical.ts";

/**
 * Text in the document, which its id hashes: a lone surrogate has no UTF-8, so no canonical
 * bytes and no id; it is refused here, naming the field, instead of failing when the id is made.
 */
const documentText = () => z.string().refine(isWellFormedText, LONE_SURROGATE_MESSAGE);
const title = z.object({ "zh-CN": documentText().min(1).max(200), en: documentText().min(1).max(200) }).strict();
/** A number in the document, which its id hashes: one every JCS writes alike (docs/protocol.md, "Conventions"). */
const documentInteger = z
  .number()
  .refine((n) => interoperableNumberFault(n) === null, "must be an integer within ±(2^53 − 1), not -0");

/** A title in the two languages the console and the CLI speak. */
export type Title = z.infer<typeof title>;

export const fieldDefinitionSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-zA-Z0-9]{0,63}$/, "must be a camelCase identifier"),
    title,
    type: z.enum(["string", "text", "integer", "number", "boolean", "date", "enum"]),
    required: z.boolean(),
    personal: z.boolean().describe("true if the value identifies or describes a person; never shown publicly"),
    maxLength: z.number().int().min(1).max(4000).optional(),
    minimum: documentInteger.optional(),
    maximum: documentInteger.optional(),
    values: z.array(documentText().min(1)).min(1).optional().describe("allowed values of an enum field"),
    valueTitles: z
      .record(documentText().min(1), title)
      .optional()
      .describe("an enum field's values as people read them: a title in zh-CN and English for every value"),
  })
  .strict();

export const dutyTypeSchemaDocument = z
  .object({
    schema: z.literal("dutyproof/duty-type/v1"),
    code: z.string().regex(/^[a-z][a-z0-9-]{1,63}$/),
    title,
    department: documentText().min(1).max(64).describe("code of the owning department"),
    levels: z.array(z.number().int().min(0).max(255)).optional().describe("unit levels it applies to; all if absent"),
    confirmation: z
      .boolean()
      .optional()
      .describe("true if a record of this type is a service to a resident, who may be asked to confirm and rate it"),
    fields: z.array(fieldDefinitionSchema).min(1).max(64),
  })
  .strict()
  .superRefine((doc, ctx) => {
    const seen = new Set<string>();
    doc.fields.forEach((field, i) => {
      if (seen.has(field.name))
        ctx.addIssue({ code: "custom", path: ["fields", i, "name"], message: "duplicate field name" });
      seen.add(field.name);
      if (field.type === "enum" && !field.values) {
        ctx.addIssue({ code: "custom", path: ["fields", i, "values"], message: "an enum field needs values" });
      }
      if (field.valueTitles) {
        // Titles name exactly the values: a form must never mix titled values with bare ones.
        const values = field.type === "enum" ? (field.values ?? []) : [];
        const titled = Object.keys(field.valueTitles);
        if (field.type !== "enum")
          ctx.addIssue({
            code: "custom",
            path: ["fields", i, "valueTitles"],
            message: "only an enum field has valueTitles",
          });
        for (const value of titled.filter((v) => !values.includes(v)))
          ctx.addIssue({ code: "custom", path: ["fields", i, "valueTitles", value], message: "not one of the values" });
        for (const value of values.filter((v) => !Object.hasOwn(field.valueTitles!, v)))
          ctx.addIssue({
            code: "custom",
            path: ["fields", i, "valueTitles", value],
            message: "a value without a title",
          });
      }
    });
  });

export type DutyTypeDocument = z.infer<typeof dutyTypeSchemaDocument>;
export type FieldDefinition = z.infer<typeof fieldDefinitionSchema>;

/** The duty type's id: SHA-256 of the document's canonical bytes, as 0x hex. */
export function dutyTypeIdOf(doc: DutyTypeDocument): string {
  return bytesToHex(sha256(canonicalBytes(doc)));
}

/**
 * The title of one value of an enum field, or undefined when the document gives none (documents
 * written before valueTitles existed): callers then show the value itself.
 */
export function valueTitleOf(field: FieldDefinition, value: string): Title | undefined {
  return field.valueTitles && Object.hasOwn(field.valueTitles, value) ? field.valueTitles[value] : undefined;
}

/** A duty type as GET /v1/duty-types lists it: its schema document and the id derived from it. */
export type DutyTypeEntry = DutyTypeDocument & { id: string };

/** The bit mask DutyLedger stores for the document's levels (0: every level). */
export function levelMaskOf(doc: DutyTypeDocument): bigint {
  return (doc.levels ?? []).reduce((mask, level) => mask | (1n << BigInt(level)), 0n);
}

/** One problem with a record's fields, named by its path. */
export interface FieldIssue {
  path: string;
  message: string;
}

const datePattern = /^\d{4}-\d{2}-\d{2}$/;
/** A decimal as a "number" field takes it in a string: no exponent, no sign but "-", no leading zeros. */
const decimalPattern = /^-?(0|[1-9][0-9]{0,14})(\.[0-9]{1,9})?$/;

/** Checks a record's fields against the duty type; returns every issue (empty when valid). */
export function validateFields(doc: DutyTypeDocument, fields: Record<string, unknown>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const defined = new Map(doc.fields.map((f) => [f.name, f]));
  for (const name of Object.keys(fields)) {
    if (!defined.has(name)) issues.push({ path: `fields.${name}`, message: `not a field of duty type ${doc.code}` });
  }
  for (const field of doc.fields) {
    const path = `fields.${field.name}`;
    const value = fields[field.name];
    if (value === undefined) {
      if (field.required) issues.push({ path, message: "required" });
      continue;
    }
    const problem = checkValue(field, value);
    if (problem) issues.push({ path, message: problem });
  }
  return issues;
}

function checkValue(field: FieldDefinition, value: unknown): string | null {
  switch (field.type) {
    case "string":
    case "text": {
      if (typeof value !== "string") return "must be a string";
      const max = field.maxLength ?? (field.type === "string" ? 200 : 4000);
      if ([...value].length > max) return `must be at most ${max} characters`;
      if (field.required && value.trim() === "") return "must not be empty";
      return null;
    }
    case "integer":
    case "number": {
      // JSON numbers only where every JCS implementation writes them alike (integers within
      // ±(2^53 − 1), never -0); a "number" field takes a decimal as a string, which they do.
      const decimal = field.type === "number" && typeof value === "string" && decimalPattern.test(value);
      if (typeof value !== "number" && !decimal) {
        return field.type === "number"
          ? 'must be an integer or a decimal string such as "1234.50"'
          : "must be an integer";
      }
      const fault = typeof value === "number" ? interoperableNumberFault(value) : null;
      if (fault) return fault;
      const number = Number(value);
      if (field.minimum !== undefined && number < field.minimum) return `must be at least ${field.minimum}`;
      if (field.maximum !== undefined && number > field.maximum) return `must be at most ${field.maximum}`;
      return null;
    }
    case "boolean":
      return typeof value === "boolean" ? null : "must be true or false";
    case "date":
      return typeof value === "string" && datePattern.test(value) && !Number.isNaN(Date.parse(value))
        ? null
        : "must be a date YYYY-MM-DD";
    case "enum":
      return typeof value === "string" && field.values!.includes(value)
        ? null
        : `must be one of ${field.values!.join(", ")}`;
  }
}
