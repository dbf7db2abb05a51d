/**
 * Residents confirm and rate the service a record states (群众评价, docs/protocol.md §8): the
 * unit asks for a one-time link, which the delivery hook carries to the resident; the resident
 * answers it once on the public page; the answer is logged ("DPC1") and anchored like any
 * record. "Did not happen" answers are findings for the inspectors of the department owning the
 * duty type; evaluation reports weigh residents' satisfaction against paperwork; a unit may
 * appeal a rating, and the appeal is logged beside it (nothing is deleted).
 */
import { randomBytes } from "node:crypto";
import type { CatalogEntry } from "../catalog/loadCatalog.ts";
import type { Clock } from "../core/clock.ts";
import { bytesToHex, hexToBytes } from "../core/bytes.ts";
import {
  type AnswerEntry,
  type AppealEntry,
  type ConfirmationEntry,
  type ResidentAnswer,
  confirmationDigest,
  confirmationLeafHashOf,
  evaluate,
} from "../core/confirmation.ts";
import { DutyproofError } from "../core/errors.ts";
import type { Title } from "../core/dutyType.ts";
import { type ConfirmationLink, ConfirmationLinks } from "../confirm/ConfirmationLinks.ts";
import type { DeliveryMessage } from "../confirm/deliveryHook.ts";
import type { LedgerStore, StoredConfirmation, StoredRecord } from "../store/LedgerStore.ts";
import { type Access, readableDutyTypes } from "./access.ts";
import { unixSeconds } from "./clockTime.ts";

export interface ConfirmationDependencies {
  store: LedgerStore;
  links: ConfirmationLinks;
  access: Access;
  catalog: () => CatalogEntry[];
  clock: Clock;
  /** Where residents open links: `<publicBaseUrl>/confirm/<token>`. */
  publicBaseUrl: string;
  /** How long a link stays open, in seconds. */
  linkTtlSeconds: number;
  /** The residents' weight in evaluation scores, in [0.6, 1]. */
  residentWeight: number;
  /** Sends a link to a resident's contact (confirm/deliveryHook.ts); absent: no contact is taken. */
  deliver?: ((message: DeliveryMessage) => Promise<void>) | undefined;
  /** A unit's name as people know it (the operator's unit directory), for the resident's page. */
  unitTitle?: ((unitId: string) => Title | undefined) | undefined;
  /** Called after an entry was appended (to wake the anchorer). */
  onAppended?: (() => void) | undefined;
}

const dutyTypeOf = (deps: ConfirmationDependencies, id: string) => deps.catalog().find((e) => e.id === id)?.document;

/** Whether the token is the unit's own (reads all its records, and is no auditor's or operator's). */
async function isUnitToken(access: Access, token: string, unitId: string): Promise<boolean> {
  if (!(await (access.mayRead?.(token, unitId) ?? false))) return false;
  const other = (await (access.mayAudit?.(token) ?? false)) || (await (access.mayOperate?.(token) ?? false));
  return !other;
}

/**
 * A unit asks the resident it served to confirm a record. With `contact`, the link goes out
 * through the delivery hook and the contact is dropped; without, the link and code are returned
 * to the caller (the embedded demo shows them as a QR code). Either way one link per record, ever.
 */
export async function requestConfirmation(
  deps: ConfirmationDependencies,
  token: string,
  body: { recordId: string; contact?: string | undefined },
) {
  const record = await deps.store.getRecord(body.recordId);
  if (!record || !(await isUnitToken(deps.access, token, record.envelope.unitId)))
    throw new DutyproofError("request.forbidden", "no record with this id is the unit's of this token");
  const dutyType = dutyTypeOf(deps, record.envelope.dutyTypeId);
  if (dutyType?.confirmation !== true)
    throw new DutyproofError(
      "confirmation.not_confirmable",
      `duty type ${dutyType?.code ?? record.envelope.dutyTypeId} does not ask residents to confirm`,
    );
  if (await deps.links.ofRecord(record.recordId))
    throw new DutyproofError("confirmation.already_requested", "this record's confirmation link was issued before");
  if (body.contact !== undefined && !deps.deliver)
    throw new DutyproofError("confirmation.no_delivery", "this gateway has no delivery hook (CONFIRMATION_HOOK_URL)");
  const now = unixSeconds(deps.clock);
  const secrets = ConfirmationLinks.newSecrets();
  const link: ConfirmationLink = {
    linkId: ConfirmationLinks.newLinkId(),
    recordId: record.recordId,
    unitId: record.envelope.unitId,
    dutyTypeId: record.envelope.dutyTypeId,
    issuedAt: now,
    expiresAt: now + deps.linkTtlSeconds,
    delivery: body.contact !== undefined ? "hook" : "shown",
  };
  const url = `${deps.publicBaseUrl}/confirm/${secrets.token}`;
  // Delivered before it is stored: a failed delivery leaves no link, and the unit may ask again.
  if (body.contact !== undefined)
    await deps.deliver!({
      contact: body.contact,
      link: url,
      code: secrets.code,
      expiresAt: link.expiresAt,
      service: dutyType.title,
    });
  await deps.links.save(link, secrets);
  return {
    recordId: link.recordId,
    expiresAt: link.expiresAt,
    delivery: link.delivery,
    ...(link.delivery === "shown" ? { link: url, code: secrets.code } : {}),
  };
}

/** The open link behind a secret, or the problem a resident is shown. */
async function openLink(deps: ConfirmationDependencies, secret: string): Promise<ConfirmationLink> {
  const link = await deps.links.bySecret(secret);
  if (!link) throw new DutyproofError("confirmation.link_unknown", "no confirmation link has this token or code");
  if (link.answerId !== undefined)
    throw new DutyproofError("confirmation.link_used", "this link was answered already; each link takes one answer");
  if (unixSeconds(deps.clock) >= link.expiresAt)
    throw new DutyproofError("confirmation.link_expired", "this link has expired");
  return link;
}

/** What the resident's page shows before the answer: the service and the unit, nothing personal. */
export async function confirmationView(deps: ConfirmationDependencies, secret: string) {
  const link = await openLink(deps, secret);
  const record = await deps.store.getRecord(link.recordId);
  const dutyType = dutyTypeOf(deps, link.dutyTypeId);
  return {
    service: dutyType?.title ?? null,
    unit: deps.unitTitle?.(link.unitId) ?? null,
    performedAt: record?.envelope.performedAt ?? null,
    expiresAt: link.expiresAt,
  };
}

/** Appends a confirmation entry to the log. */
async function logEntry(deps: ConfirmationDependencies, entry: ConfirmationEntry) {
  const digest = confirmationDigest(entry);
  const entryId = bytesToHex(digest);
  const { entry: stored } = await deps.store.appendEntry({
    kind: "confirmation",
    entryId,
    value: entry,
    leafHash: confirmationLeafHashOf(hexToBytes(entry.recordId), digest),
  });
  deps.onAppended?.();
  return { entryId, leafIndex: stored.leafIndex };
}

/** The resident's one answer to a link. */
export async function answerConfirmation(deps: ConfirmationDependencies, secret: string, answer: ResidentAnswer) {
  const link = await openLink(deps, secret);
  const now = unixSeconds(deps.clock);
  const entry: AnswerEntry = {
    schema: "dutyproof/confirmation/v1",
    type: "answer",
    recordId: link.recordId,
    unitId: link.unitId,
    dutyTypeId: link.dutyTypeId,
    happened: answer.happened,
    satisfaction: answer.satisfaction ?? null,
    comment: answer.comment?.trim() ? answer.comment.trim() : null,
    answeredAt: now,
    salt: bytesToHex(randomBytes(32)),
  };
  const answerId = bytesToHex(confirmationDigest(entry));
  const result = await deps.links.answerOnce(link.linkId, answerId, now, () => logEntry(deps, entry));
  if (!result.done)
    throw new DutyproofError("confirmation.link_used", "this link was answered already; each link takes one answer");
  return { answerId: result.value.entryId, leafIndex: result.value.leafIndex };
}

/** Every confirmation entry and record of the log, read a page at a time. */
async function scanLog(store: LedgerStore) {
  const entries: StoredConfirmation[] = [];
  const records: StoredRecord[] = [];
  for (let from = 0; from < store.treeSize; from += 2000) {
    for (const leaf of await store.entriesFrom(from, 2000)) {
      if (leaf.kind === "confirmation") entries.push(leaf.entry);
      else if (leaf.kind === "record") records.push(leaf.record);
    }
  }
  return { entries, records };
}

/** A unit appeals against a resident's answer it holds malicious: logged beside it, never instead. */
export async function appealAnswer(
  deps: ConfirmationDependencies,
  token: string,
  answerId: string,
  body: { reason: string },
) {
  const stored = await deps.store.getAnyEntry(answerId);
  const answer = stored?.kind === "confirmation" && stored.value.type === "answer" ? stored.value : undefined;
  if (!answer || !(await isUnitToken(deps.access, token, answer.unitId)))
    throw new DutyproofError("confirmation.not_found", "no answer with this id is one to this token's unit");
  const appeal: AppealEntry = {
    schema: "dutyproof/confirmation/v1",
    type: "appeal",
    recordId: answer.recordId,
    unitId: answer.unitId,
    answerId,
    reason: body.reason.trim(),
    appealedAt: unixSeconds(deps.clock),
    salt: bytesToHex(randomBytes(32)),
  };
  const logged = await logEntry(deps, appeal);
  return { appealId: logged.entryId, leafIndex: logged.leafIndex, answerId };
}

/** A period of Unix seconds, `to` exclusive; either end open when absent. */
export interface Period {
  from?: number | undefined;
  to?: number | undefined;
}
const within = (t: number, p: Period) => (p.from === undefined || t >= p.from) && (p.to === undefined || t < p.to);

/**
 * "Did not happen" answers (with their appeals) that the token may read: a department's
 * inspectors see those about the duty types their department owns or was granted, the unit its
 * own, an auditor all. `unitId` narrows to one unit; the period is the answer's time.
 */
export async function confirmationFindings(
  deps: ConfirmationDependencies,
  token: string,
  query: Period & { unitId?: string | undefined },
) {
  const { entries } = await scanLog(deps.store);
  const appeals = entries.flatMap((e) => (e.value.type === "appeal" ? [e] : []));
  const findings = [];
  for (const stored of entries) {
    const answer = stored.value;
    if (answer.type !== "answer" || answer.happened) continue;
    if (query.unitId !== undefined && answer.unitId !== query.unitId) continue;
    if (!within(answer.answeredAt, query)) continue;
    if (!(await (deps.access.mayReadDutyType?.(token, answer.unitId, answer.dutyTypeId) ?? false))) continue;
    findings.push({
      answerId: stored.entryId,
      leafIndex: stored.leafIndex,
      recordId: answer.recordId,
      unitId: answer.unitId,
      dutyTypeId: answer.dutyTypeId,
      answeredAt: answer.answeredAt,
      satisfaction: answer.satisfaction,
      comment: answer.comment,
      appeals: appeals
        .filter((a) => a.value.type === "appeal" && a.value.answerId === stored.entryId)
        .map((a) => ({ appealId: a.entryId, leafIndex: a.leafIndex, ...(a.value as AppealEntry) })),
    });
  }
  return { findings };
}

/**
 * A unit's evaluation over a period of performedAt (docs/protocol.md §8): of its records of the
 * duty types the token reads. The follow-up sample is drawn with the root of the anchored
 * checkpoint of size `seedSize` (the latest anchored one when absent), which the report names.
 */
export async function unitEvaluation(
  deps: ConfirmationDependencies,
  token: string,
  unitId: string,
  query: Period & { sample: number; seedSize?: number | undefined },
) {
  const readable = await readableDutyTypes(deps.access, () => deps.catalog().map((e) => e.id), token, unitId);
  const reads = (dutyTypeId: string) => readable === undefined || readable.has(dutyTypeId);
  const confirmable = new Set(deps.catalog().flatMap((e) => (e.document.confirmation === true ? [e.id] : [])));
  const { entries, records } = await scanLog(deps.store);
  const anchored = (await deps.store.listCheckpoints({ reverse: true })).filter((c) => c.status === "anchored");
  const anchoredSize = anchored[0]?.size ?? 0;
  const withdrawn = new Set(
    records.flatMap((r) => (r.envelope.amends?.kind === "withdrawal" ? [r.envelope.amends.recordId] : [])),
  );
  const mine = records.filter(
    (r) =>
      r.envelope.unitId === unitId &&
      reads(r.envelope.dutyTypeId) &&
      r.envelope.amends?.kind !== "withdrawal" &&
      within(r.envelope.performedAt, query),
  );
  const ids = new Set(mine.map((r) => r.recordId));
  const confirmableRecords = mine.filter((r) => confirmable.has(r.envelope.dutyTypeId));
  const values = entries.map((e) => e.value).filter((v) => ids.has(v.recordId));
  let requested = 0;
  const viaHook = new Set<string>();
  for (const link of await deps.links.all()) {
    if (!ids.has(link.recordId)) continue;
    requested++;
    if (link.delivery === "hook") viaHook.add(link.recordId);
  }
  const seedCheckpoint = query.seedSize === undefined ? anchored[0] : anchored.find((c) => c.size === query.seedSize);
  if (query.seedSize !== undefined && !seedCheckpoint)
    throw new DutyproofError("proof.not_available", `no anchored checkpoint of size ${query.seedSize}`);
  const answers = values.flatMap((v) => (v.type === "answer" ? [v] : []));
  const evaluation = evaluate({
    confirmable: confirmableRecords.map((r) => ({ recordId: r.recordId, anchored: r.leafIndex < anchoredSize })),
    records: mine.map((r) => ({ anchored: r.leafIndex < anchoredSize, withdrawn: withdrawn.has(r.recordId) })),
    answers,
    appeals: values.flatMap((v) => (v.type === "appeal" ? [v] : [])),
    requested,
    residentWeight: deps.residentWeight,
    sampleSize: query.sample,
    seed: seedCheckpoint ? { size: seedCheckpoint.size, root: seedCheckpoint.root } : undefined,
  });
  return {
    unitId,
    period: { from: query.from ?? null, to: query.to ?? null },
    ...evaluation,
    // Answers to links the unit's own caller was shown (no hook): weaker evidence (docs/security.md).
    answeredViaHook: answers.filter((a) => viaHook.has(a.recordId)).length,
  };
}
