/**
 * The attest use case: one signed record, or a batch of them, checked and appended to the log
 * (AttestationService), and the anchorer woken when anything was appended.
 */
import { DutyproofError } from "../core/errors.ts";
import type { AttestationService } from "../gateway/AttestationService.ts";
import type { StoredRecord } from "../store/LedgerStore.ts";

export interface AttestDependencies {
  attestations: AttestationService;
  /** Called after records were appended (to wake the anchorer). */
  onAppended?: (() => void) | undefined;
}

/** What a successful submission is answered with. */
export function acknowledgement(record: StoredRecord, created: boolean) {
  return {
    recordId: record.recordId,
    leafIndex: record.leafIndex,
    leafHash: record.leafHash,
    duplicate: !created,
    receipt: `/v1/attestations/${record.recordId}/receipt`,
  };
}

/** Takes one submission (unknown JSON); `created` is false for a record already in the log. */
export async function attestOne(deps: AttestDependencies, body: unknown) {
  const { created, record } = await deps.attestations.submit(body);
  if (created) deps.onAppended?.();
  return { created, acknowledgement: acknowledgement(record, created) };
}

/** Takes a batch: one result per item, in order, each with the status a single submission gets. */
export async function attestBatch(deps: AttestDependencies, items: unknown[]) {
  const settled = await deps.attestations.submitMany(items);
  let anyCreated = false;
  const results = settled.map((outcome, index) => {
    if (outcome.status === "fulfilled") {
      anyCreated ||= outcome.value.created;
      return {
        index,
        status: outcome.value.created ? 201 : 200,
        ...acknowledgement(outcome.value.record, outcome.value.created),
      };
    }
    const error = outcome.reason instanceof DutyproofError ? outcome.reason : new DutyproofError("internal", "failed");
    const { errors, retryAfter } = error.details;
    return { index, status: error.status, code: error.code, detail: error.message, errors, retryAfter };
  });
  if (anyCreated) deps.onAppended?.();
  return { results };
}
