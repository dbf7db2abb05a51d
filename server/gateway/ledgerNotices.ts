/**
 * What the gateway adds when it answers about a record: later records that correct or withdraw
 * it, and a lawful erasure of its personal content; and the export bundle's items, with every
 * exported record's amendment line complete so that the bundle alone shows what superseded what.
 */
import { bytesToHex } from "../core/bytes.ts";
import { type AmendmentNotice, type Erasure, eraseEnvelope, checkErasureOrder } from "../core/amendment.ts";
import { DutyproofError } from "../core/errors.ts";
import type { DutyTypeDocument } from "../core/dutyType.ts";
import type { RecordEnvelope } from "../core/record.ts";
import type { Deployment } from "../chain/deployment.ts";
import type { LedgerStore, StoredRecord } from "../store/LedgerStore.ts";
import { anchoredReceipt } from "./receipts.ts";

export interface RecordNotices {
  supersededBy?: AmendmentNotice;
  withdrawnBy?: AmendmentNotice;
  erasure?: Erasure;
}

/** Notices about a record: the amendment that follows it (if any) and its erasure (if any). */
export async function noticesOf(store: LedgerStore, record: StoredRecord): Promise<RecordNotices> {
  const amendment = await store.amendmentOf(record.recordId);
  return {
    ...(amendment?.kind === "correction" ? { supersededBy: amendment } : {}),
    ...(amendment?.kind === "withdrawal" ? { withdrawnBy: amendment } : {}),
    ...(record.erasure ? { erasure: record.erasure } : {}),
  };
}

/** One item of an export bundle; undefined while the record is not anchored. */
export async function bundleItem(store: LedgerStore, record: StoredRecord, deployment: Deployment) {
  const checkpoint = await store.anchoredCheckpointCovering(record.leafIndex);
  if (!checkpoint) return undefined;
  const proof = (await store.inclusionProof(record.leafIndex, checkpoint.size)).map(bytesToHex);
  const receipt = anchoredReceipt(record, checkpoint, proof, deployment);
  // An erased record travels as its receipt and erasure notice: its remaining content can no
  // longer be checked against the digest, so it is not offered as if it could.
  return record.erasure
    ? { receipt, erasure: record.erasure }
    : { envelope: record.envelope as RecordEnvelope, receipt };
}

/**
 * The records an export must add so that each exported record's line of versions is whole:
 * the records it amends (back to the original) and those amending it (up to the latest).
 */
export async function amendmentLines(store: LedgerStore, records: StoredRecord[]): Promise<StoredRecord[]> {
  const have = new Set(records.map((r) => r.recordId));
  const added: StoredRecord[] = [];
  const visit = async (recordId: string | undefined) => {
    if (recordId === undefined || have.has(recordId)) return;
    const record = await store.getRecord(recordId);
    if (!record) return;
    have.add(recordId);
    added.push(record);
    await visit(record.envelope.amends?.recordId);
    await visit((await store.amendmentOf(recordId))?.recordId);
  };
  for (const r of records) {
    await visit(r.envelope.amends?.recordId);
    await visit((await store.amendmentOf(r.recordId))?.recordId);
  }
  return added;
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
