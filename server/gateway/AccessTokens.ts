/**
 * Bearer tokens for reading record content. The admin issues them with `dutyproof token issue`;
 * only their SHA-256 is kept (DATA_DIR/tokens.json, owner-only), so the file reveals no token.
 * Scopes: `unit:<unitId>` reads that unit's records; `inspector:<department>` reads the records
 * of the duty types that department owns, plus those a grant (DATA_DIR/grants.json) extends it
 * to; `auditor` reads all; `operator` changes duty lists. A bare `inspector` token (issued before
 * tokens were scoped to a department) grants nothing.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { withLock } from "../fileLock.ts";
import type { Clock } from "../core/clock.ts";
import { systemClock } from "../clock.ts";

export interface TokenEntry {
  hash: string; // hex SHA-256 of the token
  scope: string;
  label: string;
  issuedAt: number; // Unix seconds
}

/** What a token is allowed, parsed from its scope. */
export type TokenScope =
  | { kind: "unit"; unitId: string }
  | { kind: "inspector"; department: string }
  | { kind: "auditor" }
  | { kind: "operator" };

/** A department code as the catalog and the ledger's registry name it. */
export const departmentCodePattern = /^[a-z][a-z0-9-]{0,63}$/;

const hashOf = (token: string) => createHash("sha256").update(token, "utf8").digest("hex");

/** The scope a scope string grants, or undefined for one that grants nothing (a bare `inspector`). */
export function scopeOf(scope: string): TokenScope | undefined {
  if (scope === "auditor" || scope === "operator") return { kind: scope };
  if (/^unit:0x[0-9a-f]{64}$/.test(scope)) return { kind: "unit", unitId: scope.slice(5) };
  if (scope.startsWith("inspector:") && departmentCodePattern.test(scope.slice(10)))
    return { kind: "inspector", department: scope.slice(10) };
  return undefined;
}

export function validScope(scope: string): boolean {
  return scopeOf(scope) !== undefined;
}

/**
 * Issues a token (returned once, never stored) and records its hash. Two commands issuing at
 * once used to share one temporary file and read the same old list, so one failed or one token
 * was lost; the file is now read and replaced under a lock.
 */
export function issueToken(path: string, scope: string, label: string, clock: Clock = systemClock): string {
  if (!validScope(scope))
    throw new Error(`scope must be inspector:<department>, auditor, operator or unit:<unit id>, got ${scope}`);
  const token = "dp_" + randomBytes(32).toString("base64url");
  withLock(path, () => {
    const entries: TokenEntry[] = existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as TokenEntry[]) : [];
    entries.push({ hash: hashOf(token), scope, label, issuedAt: Math.floor(clock.now() / 1000) });
    writeFileSync(`${path}.tmp`, JSON.stringify(entries, null, 2) + "\n", { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  });
  return token;
}

/** Whether a department (by code) may read a duty type owned by `owner` (a code). */
export type DepartmentReads = (department: string, owner: string) => boolean;

export interface AccessTokensOptions {
  /** The owning department (code) of a duty type, or undefined when the catalog has none. */
  ownerOf?: (dutyTypeId: string) => string | undefined;
  /** Whether a department reads another's duty types by grant; its own only when absent. */
  departmentReads?: DepartmentReads;
  /** Told once per unreadable version of the file (it then refuses every token). */
  onUnreadable?: (message: string) => void;
}

/** Reads the token file again whenever it changes. */
export class AccessTokens {
  private entries = new Map<string, TokenEntry>();
  private loadedMtime = -1;
  private readonly path: string;
  private readonly options: AccessTokensOptions;

  constructor(path: string, options: AccessTokensOptions = {}) {
    this.path = path;
    this.options = options;
  }

  private checkedAt = -Infinity;

  /**
   * Re-reads the file if it changed; at most once a second unless `force`d (on a miss). A file
   * that is not a list of entries (a hand edit gone wrong) fails closed: every token is refused
   * until it is mended, and the error names the file.
   */
  private refresh(force = false): void {
    // Paced by elapsed time, not by the gateway's clock: a simulated clock may stand still.
    const now = performance.now();
    if (!force && now - this.checkedAt < 1000) return;
    this.checkedAt = now;
    const mtime = existsSync(this.path) ? statSync(this.path).mtimeMs : 0;
    if (mtime === this.loadedMtime) return;
    this.loadedMtime = mtime;
    try {
      const list = mtime === 0 ? [] : (JSON.parse(readFileSync(this.path, "utf8")) as unknown);
      if (!Array.isArray(list)) throw new Error("not a JSON array of token entries");
      this.entries = new Map((list as TokenEntry[]).filter((e) => typeof e?.hash === "string").map((e) => [e.hash, e]));
    } catch (error) {
      this.entries = new Map();
      this.options.onUnreadable?.(
        `${this.path} cannot be read (${(error as Error).message.split("\n")[0]}); every token is refused until it is mended`,
      );
    }
  }

  /** The scope of `token`, or undefined for an unknown token or one that grants nothing. */
  scope(token: string | undefined): TokenScope | undefined {
    if (!token) return undefined;
    this.refresh();
    let entry = this.entries.get(hashOf(token));
    if (!entry) {
      this.refresh(true);
      entry = this.entries.get(hashOf(token));
    }
    return entry ? scopeOf(entry.scope) : undefined;
  }

  /** Whether `token` is an auditor's (reads the whole log, in order). */
  mayAudit(token: string | undefined): boolean {
    return this.scope(token)?.kind === "auditor";
  }

  /** Whether `token` is an operator's (changes units' duty lists). */
  mayOperate(token: string | undefined): boolean {
    return this.scope(token)?.kind === "operator";
  }

  /** Whether `token` may read everything of `unitId` (its own token, or an auditor's). */
  mayRead(token: string | undefined, unitId: string): boolean {
    const scope = this.scope(token);
    return scope?.kind === "auditor" || (scope?.kind === "unit" && scope.unitId === unitId);
  }

  /** Whether a department may read records of `dutyTypeId`: its own duty type, or one granted. */
  departmentReadsDutyType(department: string, dutyTypeId: string): boolean {
    const owner = this.options.ownerOf?.(dutyTypeId);
    if (owner === undefined) return false;
    return owner === department || (this.options.departmentReads?.(department, owner) ?? false);
  }

  /**
   * Whether `token` may read `unitId`'s records of `dutyTypeId`: the unit's own token and an
   * auditor's read every duty type; a department's token those its department may read.
   */
  mayReadDutyType(token: string | undefined, unitId: string, dutyTypeId: string): boolean {
    const scope = this.scope(token);
    if (scope?.kind === "auditor" || (scope?.kind === "unit" && scope.unitId === unitId)) return true;
    return scope?.kind === "inspector" && this.departmentReadsDutyType(scope.department, dutyTypeId);
  }

  /** The department (code) of an inspector token; undefined for any other token. */
  departmentOf(token: string | undefined): string | undefined {
    const scope = this.scope(token);
    return scope?.kind === "inspector" ? scope.department : undefined;
  }

  /**
   * Whether `token` sees a demand in full (who asked, why, any emergency reason, the records
   * answering it): the unit asked, the demanding department, an auditor, the operator.
   */
  maySeeDemand(token: string | undefined, demand: { unitId: string; department: string }): boolean {
    const scope = this.scope(token);
    if (scope?.kind === "auditor" || scope?.kind === "operator") return true;
    if (scope?.kind === "unit") return scope.unitId === demand.unitId;
    return scope?.kind === "inspector" && scope.department === demand.department;
  }
}
