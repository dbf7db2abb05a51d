/**
 * What a caller may do, asked of its bearer token (gateway/AccessTokens.ts answers in the
 * gateway). Every question answers "no" for a token it does not know, and for no token.
 */
import { DutyproofError } from "../core/errors.ts";

export interface Access {
  /** Whether a token reads all of a unit's records ("*": every unit's). */
  mayRead?: (token: string | undefined, unitId: string) => Promise<boolean>;
  /** Whether a token reads a unit's records of one duty type (a department's own). */
  mayReadDutyType?: (token: string | undefined, unitId: string, dutyTypeId: string) => Promise<boolean>;
  /** Whether a token reads every record (auditor scope). */
  mayAudit?: (token: string | undefined) => Promise<boolean>;
  /** Whether a token is an operator's. */
  mayOperate?: (token: string | undefined) => Promise<boolean>;
  /** The department (code) a token is scoped to, if it is an inspector's. */
  departmentOf?: (token: string | undefined) => Promise<string | undefined>;
  /** Whether a token sees a demand in full: the unit's, the demanding department's, an auditor's, the operator's. */
  maySeeDemand?: (token: string | undefined, demand: { unitId: string; department: string }) => Promise<boolean>;
}

/**
 * The duty types of `unitId` a token may read: undefined for all of them (the unit's own token,
 * an auditor's), else the set a department's token may read (one, when `dutyTypeId` is given).
 * Throws request.forbidden when the token reads none of them.
 */
export async function readableDutyTypes(
  access: Access,
  dutyTypeIds: () => string[],
  token: string,
  unitId: string,
  dutyTypeId?: string,
): Promise<ReadonlySet<string> | undefined> {
  if (await (access.mayRead?.(token, unitId) ?? false)) return undefined;
  const readable = new Set<string>();
  for (const id of dutyTypeId ? [dutyTypeId] : dutyTypeIds()) {
    if (await (access.mayReadDutyType?.(token, unitId, id) ?? false)) readable.add(id);
  }
  if (readable.size === 0) throw new DutyproofError("request.forbidden", "this token cannot read that unit's records");
  return readable;
}

/** Throws request.forbidden unless the token reads all of `unitId`'s records; `what` names them. */
export async function requireUnitReader(access: Access, token: string, unitId: string, what: string): Promise<void> {
  if (!(await (access.mayRead?.(token, unitId) ?? false))) {
    throw new DutyproofError("request.forbidden", `this token cannot read ${what}`);
  }
}
