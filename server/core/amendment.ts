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

/**
 * Amendment notices among a set of records (a bundle): for every record that another record of
 * the set amends, that record's link. Only links carried by records that themselves verified
 * should be passed in, so a notice is as trustworthy as the amending record's signature.
 */
export function amendmentNotices(
  records: Array<{ recordId: string; envelope?: Pick<RecordEnvelope, "amends"> }>,
): Map<string, AmendmentNotice> {
  const notices = new Map<string, AmendmentNotice>();
  for (const r of records) {
    const link = r.envelope?.amends;
    if (link) notices.set(link.recordId, { kind: link.kind, recordId: r.recordId, reason: link.reason });
  }
  return notices;
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
