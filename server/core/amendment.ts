/**
 * Corrections, withdrawals and erasure: the rules that decide whether a record may amend an
 * earlier one, what verifying an amended or erased record reports, and what erasure keeps.
 * Pure: the gateway, the CLI and replay call these with what they read. docs/protocol.md §3
 * ("Corrections and withdrawals", "Lawful erasure") states the same rules.
 */
import { DutyproofError } from "./errors.ts";
import type { DutyTypeDocument } from "./dutyType.ts";
import type { RecordEnvelope } from "./record.ts";

export type AmendmentKind = "correction" | "withdrawal";

/** What is known of a record that another record points at. */
export interface AmendTarget {
  recordId: string;
  unitId: string;
  dutyTypeId: string;
  /** Set when the target itself amends a record (a withdrawal cannot be amended). */
  amendsKind?: AmendmentKind;
  /** The record that already amends the target, if any. */
  amendedBy?: { recordId: string; kind: AmendmentKind };
}

/**
 * The fields a withdrawal must carry: none. Its duty type is the withdrawn record's, its
 * `performedAt` the time of the withdrawal and its `reason` says why.
 */
export function isWithdrawal(envelope: RecordEnvelope): boolean {
  return envelope.amends?.kind === "withdrawal";
}

/**
 * Checks a record's `amends` link against the record it points at; throws the catalogue error
 * of the first rule broken. The rules: the target is in the log; it is the same unit's; it has
 * the same duty type (a correction replaces the content of a duty, a withdrawal retracts it);
 * a withdrawal has no fields; and the target is current — not already corrected or withdrawn
 * (amend the latest correction instead) and not itself a withdrawal. Versions of a record
 * therefore form one line: original → correction → … → optional withdrawal.
 */
export function checkAmendment(envelope: RecordEnvelope, target: AmendTarget | undefined): void {
  const link = envelope.amends;
  if (!link) return;
  const path = "envelope.amends.recordId";
  if (!target) {
    throw new DutyproofError("amendment.target_not_found", `no record ${link.recordId} in this log`, {
      errors: [{ path, message: "not a record of this log" }],
    });
  }
  if (target.unitId !== envelope.unitId) {
    throw new DutyproofError("amendment.other_unit", `record ${link.recordId} belongs to another unit`, {
      errors: [{ path, message: "another unit's record" }],
    });
  }
  if (target.dutyTypeId !== envelope.dutyTypeId) {
    throw new DutyproofError(
      "amendment.duty_type_mismatch",
      `record ${link.recordId} is of duty type ${target.dutyTypeId}`,
      { errors: [{ path: "envelope.dutyTypeId", message: "must be the amended record's duty type" }] },
    );
  }
  if (link.kind === "withdrawal" && Object.keys(envelope.fields).length > 0) {
    throw new DutyproofError("amendment.withdrawal_has_fields", "a withdrawal's fields must be {}", {
      errors: [{ path: "envelope.fields", message: "must be empty for a withdrawal" }],
    });
  }
  if (target.amendedBy || target.amendsKind === "withdrawal") {
    const detail = target.amendedBy
      ? `record ${link.recordId} was already ${target.amendedBy.kind === "correction" ? "superseded" : "withdrawn"} by ${target.amendedBy.recordId}`
      : `record ${link.recordId} is a withdrawal`;
    throw new DutyproofError("amendment.target_not_current", detail, {
      errors: [{ path, message: "not the current version of the record" }],
      ...(target.amendedBy ? { amendedBy: target.amendedBy.recordId } : {}),
    });
  }
}

/** What verifying a record reports about later records that amend it. */
export interface AmendmentNotice {
  kind: AmendmentKind;
  recordId: string; // the amending record
  reason: string;
}

/** The record of an erasure, kept with the erased record. */
export interface Erasure {
  erasedAt: number; // Unix seconds, gateway clock
  order: string; // reference of the order (PIPL request, court order) that required it
  fields: string[]; // names of the personal fields removed
}

/** An envelope after erasure: personal fields and salt gone; what the signature binds remains. */
export type ErasedEnvelope = Omit<RecordEnvelope, "salt"> & { salt?: undefined };

/**
 * Erases an envelope's personal fields (those marked `personal: true` in the duty type's
 * schema) and its salt. The record digest, signature and leaf are kept by the caller, so every
 * proof still verifies; without the salt the remaining fields cannot be used to confirm a guess
 * of the erased ones against the digest.
 */
export function eraseEnvelope(
  envelope: RecordEnvelope,
  dutyType: DutyTypeDocument | undefined,
): { envelope: ErasedEnvelope; fields: string[] } {
  const personal = new Set(dutyType?.fields.filter((f) => f.personal).map((f) => f.name));
  const kept: RecordEnvelope["fields"] = {};
  const erased: string[] = [];
  for (const [name, value] of Object.entries(envelope.fields)) {
    // A field the schema does not know is treated as personal: erasing too much is the safe side.
    if (personal.has(name) || !dutyType?.fields.some((f) => f.name === name)) erased.push(name);
    else kept[name] = value;
  }
  const rest: Partial<RecordEnvelope> = { ...envelope, fields: kept };
  delete rest.salt;
  return { envelope: rest as ErasedEnvelope, fields: erased.sort() };
}

/** A plausible erasure order reference: printable, 1 to 200 characters. */
export function checkErasureOrder(order: unknown): string {
  if (
    typeof order !== "string" ||
    order.trim() === "" ||
    [...order].length > 200 ||
    [...order].some((c) => c.charCodeAt(0) < 0x20)
  ) {
    throw new DutyproofError("erasure.invalid_order", "give the order's reference, 1 to 200 printable characters", {
      errors: [{ path: "order", message: "1 to 200 printable characters" }],
    });
  }
  return order.trim();
}

/** What a verifier reports about a record besides its verdict: later amendments and an erasure. */
export interface RecordNotices {
  supersededBy?: AmendmentNotice;
  withdrawnBy?: AmendmentNotice;
  erasure?: Erasure;
}

/** A record of a bundle as the notice rule sees it: its id, whether it verified, its content. */
export interface NoticeCandidate {
  recordId: string;
  valid: boolean;
  envelope?: Pick<RecordEnvelope, "amends" | "unitId" | "dutyTypeId">;
  erasure?: Erasure;
}

/**
 * The notices of each record of a bundle, in order. A record is reported superseded or withdrawn
 * only by another record of the bundle that itself verified and that the gateway's amendment
 * rules would have accepted against it (same unit, same duty type; see `checkAmendment`), so a
 * notice is as trustworthy as the amending record's signature and anchoring. An erased record's
 * erasure is reported as the bundle states it.
 */
export function bundleNotices(records: NoticeCandidate[]): RecordNotices[] {
  const byId = new Map(records.map((r) => [r.recordId, r]));
  const amendedBy = new Map<string, AmendmentNotice>();
  for (const r of records) {
    const link = r.envelope?.amends;
    if (!r.valid || !link) continue;
    const target = byId.get(link.recordId);
    // A target without content (erased, or receipt only) cannot be compared: its receipt is.
    if (
      target?.envelope &&
      (target.envelope.unitId !== r.envelope!.unitId || target.envelope.dutyTypeId !== r.envelope!.dutyTypeId)
    )
      continue;
    amendedBy.set(link.recordId, { kind: link.kind, recordId: r.recordId, reason: link.reason });
  }
  return records.map((r) => {
    const notice = amendedBy.get(r.recordId);
    return {
      ...(notice?.kind === "correction" ? { supersededBy: notice } : {}),
      ...(notice?.kind === "withdrawal" ? { withdrawnBy: notice } : {}),
      ...(r.erasure ? { erasure: r.erasure } : {}),
    };
  });
}

const isNotice = (v: unknown, kind: AmendmentKind): v is AmendmentNotice => {
  const n = v as Partial<AmendmentNotice> | null;
  return (
    typeof n === "object" &&
    n !== null &&
    n.kind === kind &&
    typeof n.recordId === "string" &&
    /^0x[0-9a-f]{64}$/.test(n.recordId) &&
    typeof n.reason === "string"
  );
};

const isErasure = (v: unknown): v is Erasure => {
  const e = v as Partial<Erasure> | null;
  return (
    typeof e === "object" &&
    e !== null &&
    Number.isInteger(e.erasedAt) &&
    typeof e.order === "string" &&
    Array.isArray(e.fields) &&
    e.fields.every((f) => typeof f === "string")
  );
};

/**
 * The notices a gateway put beside a receipt it served (`supersededBy`, `withdrawnBy`,
 * `erasure`). They are what the gateway says happened since, not checked on chain; a malformed
 * one is left out rather than shown.
 */
export function servedNotices(served: unknown): RecordNotices {
  if (typeof served !== "object" || served === null) return {};
  const s = served as Record<string, unknown>;
  return {
    ...(isNotice(s.supersededBy, "correction") ? { supersededBy: s.supersededBy } : {}),
    ...(isNotice(s.withdrawnBy, "withdrawal") ? { withdrawnBy: s.withdrawnBy } : {}),
    ...(isErasure(s.erasure) ? { erasure: s.erasure } : {}),
  };
}
