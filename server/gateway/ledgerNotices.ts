/**
 * What the gateway adds when it answers about a record: later records that correct or withdraw
 * it, and a lawful erasure of its personal content (receipts and bundles carrying these come from
 * evidenceAssembler.ts); and the erasure itself.
 */
import { type Erasure, type RecordNotices, eraseEnvelope, checkErasureOrder } from "../core/amendment.ts";
import { DutyproofError } from "../core/errors.ts";
import type { DutyTypeDocument } from "../core/dutyType.ts";
import type { RecordEnvelope } from "../core/record.ts";
import type { LedgerStore, StoredRecord } from "../store/LedgerStore.ts";

/** Notices about a record: the amendment that follows it (if any) and its erasure (if any). */
export async function noticesOf(store: LedgerStore, record: StoredRecord): Promise<RecordNotices> {
  const amendment = await store.amendmentOf(record.recordId);
  return {
    ...(amendment?.kind === "correction" ? { supersededBy: amendment } : {}),
    ...(amendment?.kind === "withdrawal" ? { withdrawnBy: amendment } : {}),
    ...(record.erasure ? { erasure: record.erasure } : {}),
  };
}

/**
 * Erases a record's personal fields and salt under an order; its digest, signature and leaf are
 * kept, so every proof and every other record still verifies. Throws record.not_found,
 * erasure.invalid_order or erasure.already_erased.
 */
export async function eraseRecord(
  store: LedgerStore,
  dutyTypeOf: (dutyTypeId: string) => DutyTypeDocument | undefined,
  recordId: string,
  order: unknown,
  now: number,
): Promise<{ record: StoredRecord; erasure: Erasure }> {
  const reference = checkErasureOrder(order);
  const record = await store.getRecord(recordId);
  if (!record) throw new DutyproofError("record.not_found", `no record ${recordId}`);
  if (record.erasure) {
    throw new DutyproofError("erasure.already_erased", `record ${recordId} was erased at ${record.erasure.erasedAt}`, {
      erasure: record.erasure,
    });
  }
  const { envelope, fields } = eraseEnvelope(record.envelope as RecordEnvelope, dutyTypeOf(record.envelope.dutyTypeId));
  const erasure: Erasure = { erasedAt: now, order: reference, fields };
  const erased: StoredRecord = { ...record, envelope, erasure };
  await store.replaceErased(erased);
  return { record: erased, erasure };
}
