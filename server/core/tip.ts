/**
 * Anonymous tips about formalism (匿名线索): the tip group's log entries, the scope and message a
 * Semaphore v4 proof binds, and the "DPT1" leaf (docs/protocol.md, "Anonymous tips"). Pure: the
 * proof itself is verified by the caller (an adapter; it is asynchronous), this file checks
 * everything else an auditor can check from the log alone.
 */
import { z } from "zod";
import { bytesToHex, hexToBytes } from "./bytes.ts";
import { LONE_SURROGATE_MESSAGE, canonicalBytes, isWellFormedText } from "./canonical.ts";
import { hashLeaf, type Hash } from "./merkle/hasher.ts";
import { sha256 } from "./sha256.ts";

/** The categories of formalism a tip names. */
export const TIP_CATEGORIES = [
  "app_checkins", // forced check-ins and activity quotas in apps
  "ledgers_demanded", // ledgers (台账) and trace materials demanded
  "repeated_forms", // the same data reported again and again
  "meetings", // meetings beyond what is needed
  "inspections_over_quota", // inspections and evaluations over the quota
  "other",
] as const;
export type TipCategory = (typeof TIP_CATEGORIES)[number];

/**
 * The circuit depth every tip proof uses, whatever the group's size: proofs of one depth do not
 * tell how large the group was, and one pair of artifacts (wasm, zkey) serves every prover.
 * 2^16 members.
 */
export const TIP_PROOF_DEPTH = 16;
/** Most characters of a tip's text or a reply. */
export const TIP_TEXT_MAX = 2000;

/** ASCII "DPT1": the magic and version of the tip group's leaves. */
export const TIP_LEAF_MAGIC = Uint8Array.of(0x44, 0x50, 0x54, 0x31);
/** The type byte after the magic, by entry type. */
export const TIP_ENTRY_TYPES = { member: 1, tip: 2, reply: 3 } as const;
export type TipEntryType = keyof typeof TIP_ENTRY_TYPES;
/** Bytes of a DPT1 leaf: magic (4) ‖ type (1) ‖ body digest (32). */
export const TIP_LEAF_LENGTH = 37;

const decimal = z.string().regex(/^(0|[1-9][0-9]{0,77})$/, "a decimal integer");
const hash32 = z.string().regex(/^0x[0-9a-f]{64}$/, "0x and 64 lowercase hex digits");
const text = (max: number) => z.string().min(1).max(max).refine(isWellFormedText, LONE_SURROGATE_MESSAGE);
const period = z.string().regex(/^[0-9]{4}-(0[1-9]|1[0-2])$/, "a month, YYYY-MM");

/** Whom a tip is about: a department (by its code) or a unit (by its id). */
export const tipTargetSchema = z.object({ kind: z.enum(["department", "unit"]), id: text(100) }).strict();
export type TipTarget = z.infer<typeof tipTargetSchema>;

/**
 * What the sender wrote. `trackingId` is SHA-256 of a random code only the sender holds
 * (docs/protocol.md): it makes the content unguessable, and the code later reads the replies.
 */
export const tipContentSchema = z
  .object({
    category: z.enum(TIP_CATEGORIES),
    period,
    target: tipTargetSchema,
    text: text(TIP_TEXT_MAX),
    trackingId: hash32,
  })
  .strict();
export type TipContent = z.infer<typeof tipContentSchema>;

/** A Semaphore v4 proof as @semaphore-protocol/proof makes it (numbers as decimal strings). */
export const semaphoreProofSchema = z
  .object({
    merkleTreeDepth: z.number().int().min(1).max(32),
    merkleTreeRoot: decimal,
    nullifier: decimal,
    message: decimal,
    scope: decimal,
    points: z.array(decimal).length(8),
  })
  .strict();
export type SemaphoreProof = z.infer<typeof semaphoreProofSchema>;

/** A member joined the group (`add`) or left it (`remove`: its leaf becomes 0). */
export interface TipMemberBody {
  type: "member";
  action: "add" | "remove";
  unitId: string; // the registering unit
  commitment: string; // the Semaphore identity commitment, decimal
  memberIndex: number; // its leaf in the group's tree
  root: string; // the group's root after the change, decimal
  size: number; // leaves in the group's tree after the change (removed ones included)
}

/** A tip: what is logged of it. The text stays beside the log, committed by `contentDigest`. */
export interface TipBody {
  type: "tip";
  category: TipCategory;
  period: string;
  target: TipTarget;
  contentDigest: string; // SHA-256 of the content's canonical bytes, 0x hex (the proof's message)
  proof: SemaphoreProof;
}

/** A department's (or an auditor's) reply to a tip. */
export interface TipReplyBody {
  type: "reply";
  tipId: string;
  responder: string; // the department code, or "auditor"
  text: string;
}

export type TipLogBody = TipMemberBody | TipBody | TipReplyBody;

/** A tip-group log entry as stored: the logged body, and for a tip its content (erasable). */
export interface TipLogValue {
  body: TipLogBody;
  content?: TipContent;
}

/** SHA-256 of a body's canonical bytes: the entry's id and what its leaf commits to. */
export function tipBodyDigest(body: TipLogBody): Hash {
  return sha256(canonicalBytes(body));
}

/** "DPT1" ‖ type ‖ body digest. Precondition: digest is 32 bytes. */
export function tipLeafDataOf(type: TipEntryType, digest: Hash): Uint8Array {
  if (digest.length !== 32) throw new RangeError("a body digest is 32 bytes");
  const data = new Uint8Array(TIP_LEAF_LENGTH);
  data.set(TIP_LEAF_MAGIC, 0);
  data[4] = TIP_ENTRY_TYPES[type];
  data.set(digest, 5);
  return data;
}

export function tipLeafHashOf(type: TipEntryType, digest: Hash): Hash {
  return hashLeaf(tipLeafDataOf(type, digest));
}

/** Whether leaf data is a DPT1 leaf of a known type. */
export function isTipLeaf(data: Uint8Array): boolean {
  return (
    data.length === TIP_LEAF_LENGTH &&
    TIP_LEAF_MAGIC.every((b, i) => data[i] === b) &&
    Object.values(TIP_ENTRY_TYPES).includes(data[4] as 1 | 2 | 3)
  );
}

const asDecimal = (digest: Hash) => BigInt(bytesToHex(digest)).toString();

/**
 * The proof's scope for a category and month in one log: one tip per member per scope, since
 * the nullifier is a hash of the scope and the member's secret.
 */
export function tipScope(logId: string, category: TipCategory, month: string): string {
  return asDecimal(sha256(canonicalBytes({ domain: "dutyproof/tip-scope/v1", logId, category, period: month })));
}

/** SHA-256 of the content's canonical bytes, 0x hex. */
export function tipContentDigest(content: TipContent): string {
  return bytesToHex(sha256(canonicalBytes(content)));
}

/** The proof's message: the content digest as a decimal integer. */
export function tipMessage(content: TipContent): string {
  return BigInt(tipContentDigest(content)).toString();
}

/** The tracking id of a tracking code (0x + 64 hex): SHA-256 of the code's bytes. */
export function trackingIdOf(code: string): string {
  return bytesToHex(sha256(hexToBytes(code)));
}

/** The month (YYYY-MM, UTC) of a time in Unix milliseconds. */
export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/** What is wrong with a tip entry as an auditor sees it, besides the proof. */
export interface TipProblem {
  kind: "tip.altered" | "tip.bad_proof" | "tip.unknown_root" | "tip.nullifier_reused" | "tip.wrong_scope";
  detail: string;
}

/**
 * Follows the tip group through the log, in leaf order: the roots it had, the nullifiers used.
 * An auditor checks every tip against it. Pure; the proof verdict comes from the caller.
 */
export class TipLogChecker {
  private readonly roots = new Set<string>();
  private readonly nullifiers = new Set<string>();
  private readonly logId: string | undefined;
  tips = 0;
  members = 0;
  replies = 0;

  /** `logId`: the log replayed, which every tip's scope names; absent: scopes are not checked. */
  constructor(logId?: string) {
    this.logId = logId;
  }

  /**
   * Checks one entry and returns its leaf hash (rebuilt from the logged id, so that an altered
   * body is reported once, as altered). `proofValid`: the caller's verdict on a tip's proof,
   * undefined when it was not verified.
   */
  check(
    entryId: string,
    value: TipLogValue,
    proofValid: boolean | undefined,
  ): { leafHash: Hash; problems: TipProblem[] } {
    const problems: TipProblem[] = [];
    const body = value.body;
    const digest = tipBodyDigest(body);
    if (bytesToHex(digest) !== entryId) {
      problems.push({ kind: "tip.altered", detail: `the entry hashes to ${bytesToHex(digest)}` });
    }
    const leafHash = tipLeafHashOf(body.type, /^0x[0-9a-f]{64}$/.test(entryId) ? hexToBytes(entryId) : digest);
    if (body.type === "member") {
      this.members++;
      this.roots.add(body.root);
    } else if (body.type === "reply") {
      this.replies++;
    } else {
      this.tips++;
      const proof = body.proof;
      if (value.content !== undefined && tipContentDigest(value.content) !== body.contentDigest) {
        problems.push({ kind: "tip.altered", detail: "the tip's content does not hash to its logged digest" });
      }
      if (proof.message !== BigInt(body.contentDigest).toString()) {
        problems.push({ kind: "tip.altered", detail: "the proof's message is not the content digest" });
      }
      if (this.logId !== undefined && proof.scope !== tipScope(this.logId, body.category, body.period)) {
        problems.push({
          kind: "tip.wrong_scope",
          detail: `the proof's scope is not ${body.category} in ${body.period}`,
        });
      }
      if (!this.roots.has(proof.merkleTreeRoot)) {
        problems.push({ kind: "tip.unknown_root", detail: "the proof's group root is no root the log's group had" });
      }
      if (this.nullifiers.has(proof.nullifier)) {
        problems.push({ kind: "tip.nullifier_reused", detail: "a second tip with the same nullifier" });
      }
      this.nullifiers.add(proof.nullifier);
      if (proofValid === false)
        problems.push({ kind: "tip.bad_proof", detail: "the membership proof does not verify" });
    }
    return { leafHash, problems };
  }
}

/** A tip-group entry as the audit feed serves it; `proofValid` is set by the auditor's adapter. */
export interface AuditTipEntry {
  kind: "tip";
  leafIndex: number;
  claimedIndex?: number;
  entryId: string;
  body: TipLogBody;
  content?: TipContent;
  proofValid?: boolean;
}

/** Whether an audit feed item is a tip-group entry. */
export function isAuditTipEntry(item: object): item is AuditTipEntry {
  return (item as { kind?: unknown }).kind === "tip";
}
