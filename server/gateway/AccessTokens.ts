/**
 * Bearer tokens for reading record content. The admin issues them with `dutyproof token issue`;
 * only their SHA-256 is kept (DATA_DIR/tokens.json, owner-only), so the file reveals no token.
 * Scopes: `unit:<unitId>` reads that unit's records; `inspector` and `auditor` read all.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { withLock } from "../fileLock.ts";

export interface TokenEntry {
  hash: string; // hex SHA-256 of the token
  scope: string;
  label: string;
  issuedAt: number; // Unix seconds
}

const hashOf = (token: string) => createHash("sha256").update(token, "utf8").digest("hex");

export function validScope(scope: string): boolean {
  return scope === "inspector" || scope === "auditor" || scope === "operator" || /^unit:0x[0-9a-f]{64}$/.test(scope);
}

/**
 * Issues a token (returned once, never stored) and records its hash. Two commands issuing at
 * once used to share one temporary file and read the same old list, so one failed or one token
 * was lost; the file is now read and replaced under a lock.
 */
export function issueToken(path: string, scope: string, label: string): string {
  if (!validScope(scope)) throw new Error(`scope must be inspector, auditor, operator or unit:<unit id>, got ${scope}`);
  const token = "dp_" + randomBytes(32).toString("base64url");
  withLock(path, () => {
    const entries: TokenEntry[] = existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as TokenEntry[]) : [];
    entries.push({ hash: hashOf(token), scope, label, issuedAt: Math.floor(Date.now() / 1000) });
    writeFileSync(`${path}.tmp`, JSON.stringify(entries, null, 2) + "\n", { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  });
  return token;
}

/** Reads the token file again whenever it changes. */
export class AccessTokens {
  private entries = new Map<string, TokenEntry>();
  private loadedMtime = -1;
  private readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  private checkedAt = 0;

  /** Re-reads the file if it changed; at most once a second unless `force`d (on a miss). */
  private refresh(force = false): void {
    if (!force && Date.now() - this.checkedAt < 1000) return;
    this.checkedAt = Date.now();
    const mtime = existsSync(this.path) ? statSync(this.path).mtimeMs : 0;
    if (mtime === this.loadedMtime) return;
    const list = mtime === 0 ? [] : (JSON.parse(readFileSync(this.path, "utf8")) as TokenEntry[]);
    this.entries = new Map(list.map((e) => [e.hash, e]));
    this.loadedMtime = mtime;
  }

  /** Whether `token` is an auditor's (reads the whole log, in order). */
  mayAudit(token: string | undefined): boolean {
    if (!token) return false;
    this.refresh(true);
    return this.entries.get(hashOf(token))?.scope === "auditor";
  }

  /** Whether `token` is an operator's (changes units' duty lists). */
  mayOperate(token: string | undefined): boolean {
    if (!token) return false;
    this.refresh(true);
    return this.entries.get(hashOf(token))?.scope === "operator";
  }

  /** Whether `token` may read the records of `unitId`. */
  mayRead(token: string | undefined, unitId: string): boolean {
    if (!token) return false;
    this.refresh();
    let entry = this.entries.get(hashOf(token));
    if (!entry) {
      this.refresh(true);
      entry = this.entries.get(hashOf(token));
    }
    if (!entry) return false;
    return entry.scope === "inspector" || entry.scope === "auditor" || entry.scope === `unit:${unitId}`;
  }
}
