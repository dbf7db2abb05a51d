/**
 * Units by name. A unit's id is keccak256("unit:" + name), a one-way hash, so neither the chain
 * nor the log can say which unit an id is; the operator's unit directory can. Every entry is
 * checked against its id: a directory may lack a unit, but never calls one unit by another's name.
 */
import { z } from "zod";
import { bytesToHex } from "./bytes.ts";
import { keccak256 } from "./keccak256.ts";

const unitIdPattern = /^0x[0-9a-f]{64}$/;

/** A unit's id: keccak256("unit:" + name), or the id itself when given as 0x + 64 hex. */
export function unitIdOf(nameOrId: string): string {
  const value = nameOrId.trim();
  return unitIdPattern.test(value) ? value : bytesToHex(keccak256(new TextEncoder().encode(`unit:${value}`)));
}

const title = z.object({ "zh-CN": z.string().min(1).max(200), en: z.string().min(1).max(200) }).strict();

/** One unit in the operator's directory (DATA_DIR/units.json). */
export const unitDirectoryEntrySchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(100)
      .refine((name) => name === name.trim() && !unitIdPattern.test(name), "must be a unit's name, not an id")
      .describe('the name its id was derived from: unitId = keccak256("unit:" + name)'),
    title: title.optional().describe("the unit as people call it, in zh-CN and English"),
  })
  .strict();

/** The operator's unit directory as a file holds it. */
export const unitDirectoryFileSchema = z.object({ units: z.array(unitDirectoryEntrySchema).max(100_000) }).strict();

/** A unit as GET /v1/unit-names lists it. */
export const unitNameSchema = unitDirectoryEntrySchema.extend({
  unitId: z.string().regex(unitIdPattern).describe('keccak256("unit:" + name)'),
});

export type UnitDirectoryEntry = z.infer<typeof unitDirectoryEntrySchema>;
export type UnitName = z.infer<typeof unitNameSchema>;

/** The answer of GET /v1/unit-names. */
export const unitNamesResponseSchema = z.object({ units: z.array(unitNameSchema) });
export type UnitNamesResponse = z.infer<typeof unitNamesResponseSchema>;

/** The directory's entries with their ids (a name given twice counts once). */
export function unitNamesOf(entries: readonly UnitDirectoryEntry[]): UnitName[] {
  const byId = new Map<string, UnitName>();
  for (const entry of entries) byId.set(unitIdOf(entry.name), { unitId: unitIdOf(entry.name), ...entry });
  return [...byId.values()];
}

/**
 * The names a gateway's answer gives, keeping only entries whose name hashes to their id: the
 * browser does not take a gateway's word for which unit an id is.
 */
export function checkedUnitNames(answer: unknown): Map<string, UnitName> {
  const parsed = unitNamesResponseSchema.safeParse(answer);
  const names = new Map<string, UnitName>();
  for (const unit of parsed.success ? parsed.data.units : []) {
    if (unitIdOf(unit.name) === unit.unitId) names.set(unit.unitId, unit);
  }
  return names;
}
