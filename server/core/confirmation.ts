/**
 * Residents' confirmations of a service (群众评价): a resident answers a one-time link that the
 * record's unit asked for, saying whether the service happened and how satisfied they were; a
 * unit may appeal a rating it holds malicious. Both are log entries of their own kind ("DPC1"),
 * bound to the record id. The leaf commits to the entry's digest only: the entry (with its
 * comment) stays beside the log, and a per-entry random salt keeps the digest from being
 * guessed from a short comment. Pure: no I/O, no clock.
 */
import { z } from "zod";
import { bytesToHex, hexToBytes } from "./bytes.ts";
import { canonicalBytes } from "./canonical.ts";
import { type Hash, hashLeaf } from "./merkle/hasher.ts";
import { sha256 } from "./sha256.ts";

/** ASCII "DPC1": the confirmation leaf's magic and version. */
export const CONFIRMATION_LEAF_MAGIC = Uint8Array.of(0x44, 0x50, 0x43, 0x31);
/** Length of a confirmation leaf: magic, record id, entry digest. */
export const CONFIRMATION_LEAF_LENGTH = 4 + 32 + 32;
/** The longest comment or appeal reason, in Unicode code points. */
export const MAX_COMMENT_LENGTH = 500;

const hash32 = z.string().regex(/^0x[0-9a-f]{64}$/, "must be 0x and 64 lowercase hex digits");
const unixSeconds = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why a resident's text is refused, or null: lone surrogates (no canonical UTF-8 exists for
 * them), control characters other than line breaks, or more than MAX_COMMENT_LENGTH code points.
 */
export function textFault(text: string): string | null {
  if (loneSurrogate.test(text)) return "must be well-formed Unicode (no lone surrogates)";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(text)) return "must not contain control characters";
  if ([...text].length > MAX_COMMENT_LENGTH) return `must be at most ${MAX_COMMENT_LENGTH} characters`;
  return null;
}

const residentText = z.string().superRefine((text, ctx) => {
  const fault = textFault(text);
  if (fault) ctx.addIssue({ code: "custom", message: fault });
});

/** What a resident sends from the confirmation page. */
export const residentAnswerSchema = z
  .object({
    happened: z.boolean().describe("whether the service the record states took place"),
    satisfaction: z.number().int().min(1).max(5).optional().describe("1 (very dissatisfied) to 5 (very satisfied)"),
    comment: residentText.optional(),
  })
  .strict()
  .superRefine((answer, ctx) => {
    if (answer.happened && answer.satisfaction === undefined)
      ctx.addIssue({ code: "custom", path: ["satisfaction"], message: "required when the service happened" });
  });
export type ResidentAnswer = z.infer<typeof residentAnswerSchema>;

/** A resident's answer as logged. */
export const answerEntrySchema = z
  .object({
    schema: z.literal("dutyproof/confirmation/v1"),
    type: z.literal("answer"),
    recordId: hash32,
    unitId: hash32,
    dutyTypeId: hash32,
    happened: z.boolean(),
    satisfaction: z.number().int().min(1).max(5).nullable(),
    comment: residentText.nullable(),
    answeredAt: unixSeconds,
    salt: hash32,
  })
  .strict();

/** A unit's appeal against a rating, as logged: the rating stays, the appeal sits beside it. */
export const appealEntrySchema = z
  .object({
    schema: z.literal("dutyproof/confirmation/v1"),
    type: z.literal("appeal"),
    recordId: hash32,
    unitId: hash32,
    answerId: hash32.describe("the entry id of the answer appealed against"),
    reason: residentText.refine((s) => s.trim() !== "", "must not be empty"),
    appealedAt: unixSeconds,
    salt: hash32,
  })
  .strict();

export const confirmationEntrySchema = z.discriminatedUnion("type", [answerEntrySchema, appealEntrySchema]);
export type AnswerEntry = z.infer<typeof answerEntrySchema>;
export type AppealEntry = z.infer<typeof appealEntrySchema>;
export type ConfirmationEntry = AnswerEntry | AppealEntry;

/** The entry's id: SHA-256 of its RFC 8785 canonical bytes. */
export function confirmationDigest(entry: ConfirmationEntry): Hash {
  return sha256(canonicalBytes(entry));
}

/** The log leaf: "DPC1" ‖ record id (32) ‖ entry digest (32). Precondition: both 32 bytes. */
export function confirmationLeafDataOf(recordId: Hash, digest: Hash): Uint8Array {
  if (recordId.length !== 32 || digest.length !== 32) throw new RangeError("record id and digest must be 32 bytes");
  const data = new Uint8Array(CONFIRMATION_LEAF_LENGTH);
  data.set(CONFIRMATION_LEAF_MAGIC, 0);
  data.set(recordId, 4);
  data.set(digest, 36);
  return data;
}

export function confirmationLeafHashOf(recordId: Hash, digest: Hash): Hash {
  return hashLeaf(confirmationLeafDataOf(recordId, digest));
}

/** Whether leaf data is a confirmation leaf. */
export function isConfirmationLeaf(data: Uint8Array): boolean {
  return data.length === CONFIRMATION_LEAF_LENGTH && CONFIRMATION_LEAF_MAGIC.every((b, i) => data[i] === b);
}

/** A confirmation entry as the audit feed serves it. */
export interface AuditConfirmationEntry {
  kind: "confirmation";
  leafIndex: number;
  claimedIndex?: number;
  entryId: string; // the digest the gateway logged
  entry: ConfirmationEntry;
  acceptedAt: number; // Unix seconds, gateway clock
}

export interface ConfirmationProblem {
  kind: "confirmation.altered";
  detail: string;
}

/**
 * Checks one confirmation entry of the audit feed: well-formed, hashing to its logged id. The
 * leaf is rebuilt from the logged ids, so an altered entry is reported once, as altered, rather
 * than also breaking every checkpoint root after it.
 */
export function checkConfirmationEntry(item: AuditConfirmationEntry): {
  leafHash: Hash;
  problems: ConfirmationProblem[];
} {
  const problems: ConfirmationProblem[] = [];
  const parsed = confirmationEntrySchema.safeParse(item.entry);
  const isHash = (v: unknown): v is string => typeof v === "string" && /^0x[0-9a-f]{64}$/.test(v);
  if (!parsed.success) problems.push({ kind: "confirmation.altered", detail: "not a well-formed confirmation entry" });
  const digest = parsed.success ? confirmationDigest(parsed.data) : undefined;
  if (digest && bytesToHex(digest) !== item.entryId)
    problems.push({ kind: "confirmation.altered", detail: `the entry hashes to ${bytesToHex(digest)}` });
  const recordId = isHash(item.entry?.recordId) ? hexToBytes(item.entry.recordId) : new Uint8Array(32);
  const logged = isHash(item.entryId) ? hexToBytes(item.entryId) : (digest ?? new Uint8Array(32));
  return { leafHash: confirmationLeafHashOf(recordId, logged), problems };
}

/** The weight of residents' satisfaction in an evaluation score, unless configured: 60%. */
export const DEFAULT_RESIDENT_WEIGHT = 0.6;

/** What an evaluation of a unit over a period is computed from. */
export interface EvaluationInput {
  /** Records of the unit in the period whose duty type may ask for confirmation. */
  confirmable: ReadonlyArray<{ recordId: string; anchored: boolean }>;
  /** Records of the unit in the period of every duty type (the paperwork). */
  records: ReadonlyArray<{ anchored: boolean; withdrawn: boolean }>;
  /** The answers to the unit's confirmable records, and the appeals against them. */
  answers: readonly AnswerEntry[];
  appeals: readonly AppealEntry[];
  /** Links issued for the unit's confirmable records in the period. */
  requested: number;
  /** The residents' weight in [0.6, 1]. */
  residentWeight: number;
  /** How many follow-up visits (回访) to draw, and the anchored root that seeds the draw. */
  sampleSize: number;
  seed?: { size: number; root: string } | undefined;
}

/**
 * The follow-up sample: the `n` records whose SHA-256(seed root ‖ record id) is smallest. Anyone
 * holding the anchored root and the record ids draws the same list, and nobody could choose it
 * before the root was anchored.
 */
export function followUpSample(recordIds: readonly string[], seedRoot: string, n: number): string[] {
  const seed = hexToBytes(seedRoot);
  const keyed = recordIds.map((id) => {
    const bytes = new Uint8Array(64);
    bytes.set(seed, 0);
    bytes.set(hexToBytes(id), 32);
    return { id, key: bytesToHex(sha256(bytes)) };
  });
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.slice(0, Math.max(0, n)).map((k) => k.id);
}

/**
 * The evaluation of a unit over a period: confirmation rate (answered "happened" over
 * confirmable records), mean satisfaction, "did not happen" count, appeals, the follow-up sample
 * and a score out of 100 in which residents' satisfaction weighs `residentWeight` and the
 * paperwork (the share of the unit's records anchored and not withdrawn) the rest. A unit that
 * asks no resident scores 0 on the residents' part: not asking cannot raise a score.
 */
export function evaluate(input: EvaluationInput) {
  if (!(input.residentWeight >= DEFAULT_RESIDENT_WEIGHT && input.residentWeight <= 1))
    throw new RangeError("the residents' weight must be between 0.6 and 1");
  const answered = input.answers.length;
  const happened = input.answers.filter((a) => a.happened);
  const ratings = input.answers.flatMap((a) => (a.satisfaction === null ? [] : [a.satisfaction]));
  const meanSatisfaction = ratings.length ? ratings.reduce((s, r) => s + r, 0) / ratings.length : null;
  const confirmable = input.confirmable.length;
  const paperwork = input.records.length
    ? input.records.filter((r) => r.anchored && !r.withdrawn).length / input.records.length
    : 0;
  const residents = meanSatisfaction === null ? 0 : (meanSatisfaction - 1) / 4;
  const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
  return {
    confirmable,
    requested: input.requested,
    answered,
    confirmed: happened.length,
    didNotHappen: answered - happened.length,
    confirmationRate: confirmable ? round(happened.length / confirmable, 4) : null,
    meanSatisfaction: meanSatisfaction === null ? null : round(meanSatisfaction, 2),
    appeals: input.appeals.length,
    followUp: input.seed
      ? {
          seed: input.seed,
          recordIds: followUpSample(
            input.confirmable.filter((r) => r.anchored).map((r) => r.recordId),
            input.seed.root,
            input.sampleSize,
          ),
        }
      : null,
    score: {
      residentWeight: input.residentWeight,
      residents: round(residents * 100, 1),
      paperwork: round(paperwork * 100, 1),
      total: round((input.residentWeight * residents + (1 - input.residentWeight) * paperwork) * 100, 1),
    },
  };
}
export type Evaluation = ReturnType<typeof evaluate>;
