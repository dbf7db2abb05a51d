/**
 * Grants to supervising bodies (纪检监察, 审计): a department reads, and demands evidence of, the
 * duty types another department owns only by a grant. The admin writes one with `dutyproof
 * grant add` (recorded in the admin audit log); the gateway reads DATA_DIR/grants.json again
 * whenever it changes. A file that cannot be read grants nothing (fails closed).
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import type { Clock } from "../core/clock.ts";
import { systemClock } from "../clock.ts";
import { withLock } from "../fileLock.ts";
import { departmentIdOf } from "../chain/deployment.ts";
import { departmentCodePattern } from "./AccessTokens.ts";

/** One grant: `grantee` reads the duty types of the departments in `over` ("*": every one). */
export interface Grant {
  id: string; // "g_" + 12 random hex digits
  grantee: string; // department code of the supervising body
  over: string[]; // department codes, or ["*"]
  reason: string; // the decision or order behind it
  grantedAt: number; // Unix seconds
  until?: number; // Unix seconds; none: until revoked
  revokedAt?: number; // Unix seconds
}

/** Whether `grant` lets `department` read what `owner` owns at `now` (Unix seconds). Pure. */
export function grantCovers(grant: Grant, department: string, owner: string, now: number): boolean {
  if (grant.grantee !== department || grant.revokedAt !== undefined) return false;
  if (grant.grantedAt > now || (grant.until !== undefined && now >= grant.until)) return false;
  return grant.over.includes("*") || grant.over.includes(owner);
}

function readGrants(path: string): Grant[] {
  if (!existsSync(path)) return [];
  const list = JSON.parse(readFileSync(path, "utf8")) as unknown;
  if (!Array.isArray(list)) throw new Error("not a JSON array of grants");
  return list as Grant[];
}

function writeGrants(path: string, grants: Grant[]): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(grants, null, 2) + "\n", { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/** Adds a grant. Preconditions: department codes, a reason, `until` after now when given. */
export function addGrant(
  path: string,
  grant: { grantee: string; over: string[]; reason: string; until?: number },
  now: number,
): Grant {
  const codes = [grant.grantee, ...grant.over.filter((o) => o !== "*")];
  const bad = codes.find((c) => !departmentCodePattern.test(c));
  if (bad !== undefined) throw new Error(`${JSON.stringify(bad)} is not a department code`);
  if (grant.over.length === 0) throw new Error("a grant names the departments it reads over, or *");
  if (grant.reason.trim() === "") throw new Error("a grant needs the decision or order behind it");
  if (grant.until !== undefined && grant.until <= now) throw new Error("the grant would end before it starts");
  const added: Grant = {
    id: "g_" + randomBytes(6).toString("hex"),
    grantee: grant.grantee,
    over: [...new Set(grant.over)].sort(),
    reason: grant.reason,
    grantedAt: now,
    ...(grant.until === undefined ? {} : { until: grant.until }),
  };
  withLock(path, () => writeGrants(path, [...readGrants(path), added]));
  return added;
}

/** Revokes a grant by id; throws when there is no such grant in force. */
export function revokeGrant(path: string, id: string, now: number): Grant {
  return withLock(path, () => {
    const grants = readGrants(path);
    const found = grants.find((g) => g.id === id && g.revokedAt === undefined);
    if (!found) throw new Error(`no grant ${id} in force`);
    found.revokedAt = now;
    writeGrants(path, grants);
    return found;
  });
}

/** Every grant in the file, revoked ones included. */
export function listGrants(path: string): Grant[] {
  return readGrants(path);
}

/** The grants file as the gateway reads it: again whenever it changes, nothing when unreadable. */
export class Grants {
  private grants: Grant[] = [];
  private loadedMtime = -1;
  private readonly path: string;
  private readonly onUnreadable: (message: string) => void;

  private readonly clock: Clock;

  /** `clock` decides which grants are in force now (the system clock when absent). */
  constructor(path: string, onUnreadable: (message: string) => void = () => {}, clock: Clock = systemClock) {
    this.path = path;
    this.onUnreadable = onUnreadable;
    this.clock = clock;
  }

  // A stat per question: grants are asked about per demand and per department read, and a grant
  // just added or revoked must apply at once.
  private refresh(): void {
    const mtime = existsSync(this.path) ? statSync(this.path).mtimeMs : 0;
    if (mtime === this.loadedMtime) return;
    this.loadedMtime = mtime;
    try {
      this.grants = readGrants(this.path);
    } catch (error) {
      this.grants = [];
      this.onUnreadable(
        `${this.path} cannot be read (${(error as Error).message.split("\n")[0]}); no grant applies until it is mended`,
      );
    }
  }

  /** As `covers`, with the owner named by the registry's department id (departmentIdOf). */
  coversDepartmentId(department: string, ownerId: string, now: number = this.nowSeconds()): boolean {
    this.refresh();
    return this.grants.some(
      (g) =>
        grantCovers(g, department, "*", now) ||
        g.over.some((o) => departmentIdOf(o) === ownerId && grantCovers(g, department, o, now)),
    );
  }

  /** Whether `department` reads what `owner` owns by a grant in force at `now` (Unix seconds). */
  covers(department: string, owner: string, now: number = this.nowSeconds()): boolean {
    this.refresh();
    return this.grants.some((g) => grantCovers(g, department, owner, now));
  }

  private nowSeconds(): number {
    return Math.floor(this.clock.now() / 1000);
  }
}
