/** Loads and validates duty-type schema documents (the starter catalog ships in ./duty-types). */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { type DutyTypeDocument, dutyTypeIdOf, dutyTypeSchemaDocument } from "../core/dutyType.ts";

export interface CatalogEntry {
  id: string;
  document: DutyTypeDocument;
}

export const starterCatalogDir = join(import.meta.dirname, "duty-types");

/** Reads one schema document file; throws with the file name and every problem on failure. */
export function loadDutyTypeFile(path: string): CatalogEntry {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`${path}: not readable JSON (${(error as Error).message})`, { cause: error });
  }
  const parsed = dutyTypeSchemaDocument.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(document)"}: ${i.message}`).join("; ");
    throw new Error(`${path}: not a duty-type schema document: ${problems}`);
  }
  return { id: dutyTypeIdOf(parsed.data), document: parsed.data };
}

export function loadCatalog(dir: string = starterCatalogDir): CatalogEntry[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => loadDutyTypeFile(join(dir, f)));
}
