/** Loads and validates duty-type schema documents (the starter catalog ships in ./duty-types). */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
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

/**
 * The gateway's catalog: the starter duty types plus every schema document an operator added
 * to `extraDir` (DATA_DIR/duty-types, written by `dutyproof duty-type register`). The directory
 * is read again whenever it changes.
 */
export class Catalog {
  private entries = new Map<string, CatalogEntry>();
  private loadedMtime = -2;
  private readonly starter: CatalogEntry[];
  private readonly extraDir: string;

  constructor(extraDir: string, starterDir: string = starterCatalogDir) {
    this.starter = loadCatalog(starterDir);
    this.extraDir = extraDir;
    this.refresh();
  }

  private checkedAt = 0;

  /** Re-reads the directory if it changed; at most once a second unless `force`d (on a miss). */
  private refresh(force = false): void {
    // Paced by elapsed time, not by the gateway's clock: a simulated clock may stand still.
    const now = performance.now();
    if (!force && now - this.checkedAt < 1000) return;
    this.checkedAt = now;
    const mtime = existsSync(this.extraDir) ? statSync(this.extraDir).mtimeMs : -1;
    if (mtime === this.loadedMtime) return;
    const extra = mtime === -1 ? [] : loadCatalog(this.extraDir);
    this.entries = new Map([...this.starter, ...extra].map((e) => [e.id, e]));
    this.loadedMtime = mtime;
  }

  get(dutyTypeId: string): CatalogEntry | undefined {
    this.refresh();
    const entry = this.entries.get(dutyTypeId);
    if (entry) return entry;
    this.refresh(true);
    return this.entries.get(dutyTypeId);
  }

  list(): CatalogEntry[] {
    this.refresh(true);
    return [...this.entries.values()];
  }
}
