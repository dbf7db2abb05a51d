/**
 * The operator's unit directory, DATA_DIR/units.json: the names (and titles people use) of the
 * units the gateway serves, so the console can show "青石村" rather than a hash. Read again
 * whenever the file changes; a file that cannot be read keeps the last good directory and says
 * why through `onUnreadable`, since names are a convenience and never decide anything.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { type UnitName, unitDirectoryFileSchema, unitNamesOf } from "../core/unitDirectory.ts";

export class UnitDirectory {
  private names: UnitName[] = [];
  private loadedMtime = -2;
  private readonly path: string;
  private readonly onUnreadable: (message: string) => void;

  constructor(path: string, onUnreadable: (message: string) => void = () => {}) {
    this.path = path;
    this.onUnreadable = onUnreadable;
  }

  /** Every unit of the directory with its id (none when there is no file). */
  list(): UnitName[] {
    const mtime = existsSync(this.path) ? statSync(this.path).mtimeMs : -1;
    if (mtime !== this.loadedMtime) {
      this.loadedMtime = mtime;
      if (mtime === -1) this.names = [];
      else this.names = this.read() ?? this.names;
    }
    return this.names;
  }

  private read(): UnitName[] | null {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(this.path, "utf8"));
    } catch (error) {
      this.onUnreadable(`${this.path}: not readable JSON (${(error as Error).message}); unit names unchanged`);
      return null;
    }
    const parsed = unitDirectoryFileSchema.safeParse(json);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(file)"}: ${i.message}`).join("; ");
      this.onUnreadable(`${this.path}: not a unit directory (${problems}); unit names unchanged`);
      return null;
    }
    return unitNamesOf(parsed.data.units);
  }
}
