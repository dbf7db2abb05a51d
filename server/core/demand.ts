/**
 * The evidence demand: what an inspector signs (EIP-712, primary type EvidenceDemand, in the
 * same domain as records), the outcome the gateway decides, and the log entry both become.
 * docs/protocol.md §4 defines each. Pure: no I/O, no clock.
 */
import { z } from "zod";
import { bytesToHex, hexToBytes } from "./bytes.ts";
import { LONE_SURROGATE_MESSAGE, canonicalBytes, isWellFormedText } from "./canonical.ts";
import { keccak256 } from "./keccak256.ts";
import { sha256 } from "./sha256.ts";
import { type Eip712Domain, concat, domainSeparator, uintWord, word } from "./eip712.ts";
import { type Hash, hashLeaf } from "./merkle/hasher.ts";

const bytes32 = z
  .string()
  .regex(/^0x[0-9a-f]{64}$/, "must be 0x followed by 64 lower-case hex digits")
  .describe("32 bytes as 0x-prefixed lower-case hex");
/** Text with a canonical (UTF-8) form: a lone surrogate is refused, naming its field. */
const demandText = () => z.string().refine(isWellFormedText, LONE_SURROGATE_MESSAGE);
const unixSeconds = z
  .number()
  .int()
  .min(946684800, "must be Unix seconds after 2000-01-01")
  .max(4102444800, "must be Unix seconds before 2100-01-01");

/** The keys both demand envelope versions share. */
const demandShape = {
  unitId: bytes32.describe("the unit asked"),
  dutyTypeIds: z.array(bytes32).min(1).max(16).describe("duty types asked for, sorted ascending, no repeats"),
  from: unixSeconds.describe("period start (inclusive), Unix seconds"),
  to: unixSeconds.describe("period end (exclusive), Unix seconds"),
  purpose: demandText().min(1).max(500).describe("why the evidence is needed"),
  department: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,63}$/, "must be a department code")
    .describe("the inspector's department code, as registered on the ledger"),
  inspector: z
    .string()
    .regex(/^0x[0-9a-f]{40}$/, "must be a lower-case 0x address")
    .describe("the inspector's address (the key that signs)"),
  onSite: z.boolean().describe("true for an on-site inspection (counts against the unit's yearly quota)"),
  emergency: z
    .object({ reason: demandText().min(1).max(500).describe("the stated emergency") })
    .strict()
    .optional()
    .describe("an on-site inspection outside the quota, with its reason (recorded and reported)"),
  issuedAt: unixSeconds.describe("when the inspector signed, Unix seconds"),
  salt: bytes32.describe("32 random bytes"),
};

type DemandShape = { dutyTypeIds: string[]; from: number; to: number; onSite: boolean; emergency?: unknown };

function checkDemandShape(d: DemandShape, ctx: z.RefinementCtx): void {
  if (d.to <= d.from) ctx.addIssue({ code: "custom", path: ["to"], message: "must be after from" });
  for (let i = 1; i < d.dutyTypeIds.length; i++) {
    if (d.dutyTypeIds[i]! <= d.dutyTypeIds[i - 1]!) {
      ctx.addIssue({ code: "custom", path: ["dutyTypeIds", i], message: "must be sorted ascending without repeats" });
    }
  }
  if (d.emergency && !d.onSite) {
    ctx.addIssue({ code: "custom", path: ["emergency"], message: "only an on-site demand can be an emergency" });
  }
}

/**
 * The demand envelope, version 1: no longer accepted for new demands unless the operator allows
 * it for a transition, still verified wherever a log holds it. `dutyTypeIds` is sorted and free
 * of repeats, so one demand has one digest; the period is [from, to) in Unix seconds over the
 * records' `performedAt`.
 */
export const demandEnvelopeV1Schema = z
  .object({ version: z.literal(1).describe("envelope version"), ...demandShape })
  .strict()
  .superRefine(checkDemandShape);

/**
 * The demand envelope, version 2: version 1's keys and `logId`, the log the demand is meant for,
 * which the inspector's signature covers (docs/protocol.md §4): a demand read from one gateway's
 * public API cannot be replayed to another gateway of the same ledger.
 */
export const demandEnvelopeV2Schema = z
  .object({
    version: z.literal(2).describe("envelope version"),
    logId: bytes32.describe("the id of the log the demand is meant for (its gateway's /v1/info logId)"),
    ...demandShape,
  })
  .strict()
  .superRefine(checkDemandShape);

/** A demand envelope of either version, told apart by `version`. */
export const demandEnvelopeSchema = z.discriminatedUnion("version", [demandEnvelopeV1Schema, demandEnvelopeV2Schema]);

export type DemandEnvelope = z.infer<typeof demandEnvelopeSchema>;

export const demandSubmissionSchema = z
  .object({
    demand: demandEnvelopeSchema,
    signature: z
      .string()
      .regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte signature r ‖ s ‖ v as 0x hex")
      .describe("EIP-712 EvidenceDemand signature by the inspector's key"),
  })
  .strict();

export type DemandSubmission = z.infer<typeof demandSubmissionSchema>;

/** SHA-256 of the demand's RFC 8785 canonical bytes. Its hex form is the demand id. */
export function demandDigest(demand: DemandEnvelope): Hash {
  return sha256(canonicalBytes(demand));
}

export const DEMAND_PRIMARY_TYPE = "EvidenceDemand";

/** The message types of demand envelope version 1 (no log binding; still verified, no longer signed). */
export const demandEip712TypesV1 = {
  EvidenceDemand: [
    { name: "unitId", type: "bytes32" },
    { name: "inspector", type: "address" },
    { name: "issuedAt", type: "uint64" },
    { name: "demandDigest", type: "bytes32" },
  ],
} as const;

/** The message types of demand envelope version 2: version 1's members after the log's id. */
export const demandEip712Types = {
  EvidenceDemand: [
    { name: "logId", type: "bytes32" },
    { name: "unitId", type: "bytes32" },
    { name: "inspector", type: "address" },
    { name: "issuedAt", type: "uint64" },
    { name: "demandDigest", type: "bytes32" },
  ],
} as const;

export interface EvidenceDemandMessage {
  /** The log the demand is meant for; set for envelope version 2, absent for version 1. */
  logId?: string;
  unitId: string;
  inspector: string;
  issuedAt: number;
  demandDigest: string;
}

/** The message an inspector signs for a demand: version 2 envelopes carry their log's id into it. */
export function demandMessageOf(demand: DemandEnvelope): EvidenceDemandMessage {
  return {
    ...(demand.version === 2 ? { logId: demand.logId } : {}),
    unitId: demand.unitId,
    inspector: demand.inspector,
    issuedAt: demand.issuedAt,
    demandDigest: bytesToHex(demandDigest(demand)),
  };
}

const utf8 = (text: string) => new TextEncoder().encode(text);

/** keccak256("EvidenceDemand(bytes32 unitId,address inspector,uint64 issuedAt,bytes32 demandDigest)") */
const EVIDENCE_DEMAND_TYPEHASH = keccak256(
  utf8("EvidenceDemand(bytes32 unitId,address inspector,uint64 issuedAt,bytes32 demandDigest)"),
);
/** keccak256("EvidenceDemand(bytes32 logId,bytes32 unitId,address inspector,uint64 issuedAt,bytes32 demandDigest)") */
const EVIDENCE_DEMAND_V2_TYPEHASH = keccak256(
  utf8("EvidenceDemand(bytes32 logId,bytes32 unitId,address inspector,uint64 issuedAt,bytes32 demandDigest)"),
);

/**
 * The 32-byte EIP-712 digest an inspector signs for a demand (checked against ethers in tests):
 * the version 2 message when `message.logId` is set, the version 1 message otherwise.
 */
export function demandTypedDataDigest(domain: Eip712Domain, message: EvidenceDemandMessage): Uint8Array {
  const structHash = keccak256(
    concat([
      ...(message.logId !== undefined
        ? [EVIDENCE_DEMAND_V2_TYPEHASH, word(hexToBytes(message.logId))]
        : [EVIDENCE_DEMAND_TYPEHASH]),
      word(hexToBytes(message.unitId)),
      word(hexToBytes(message.inspector)),
      uintWord(message.issuedAt),
      word(hexToBytes(message.demandDigest)),
    ]),
  );
  return keccak256(concat([Uint8Array.of(0x19, 0x01), domainSeparator(domain), structHash]));
}

/**
 * The definition an inspector's client signs with, in the shape EIP-712 libraries take, and the
 * log id its version 2 messages (and envelopes) must name.
 */
export function demandEip712Definition(domain: Eip712Domain, logId: string) {
  return { domain, types: demandEip712Types, primaryType: DEMAND_PRIMARY_TYPE, logId };
}

/** What the gateway decided for a demand. */
export const DECISIONS = [
  "answered_from_ledger",
  "duplicate_absorbed",
  "task_created",
  "on_site_admitted",
  "on_site_emergency",
  "refused_off_list",
  "refused_over_quota",
] as const;
export type Decision = (typeof DECISIONS)[number];

/** A duty type asked for that is not on the unit's duty list, and why. */
export interface OffListItem {
  dutyTypeId: string;
  reason: "not_in_catalog" | "inactive" | "level_not_applicable" | "removed_from_unit_list";
}

/** The gateway's outcome of a demand; committed to by the demand's leaf. */
export interface DemandOutcome {
  decision: Decision;
  reason: string; // one sentence for people
  decidedAt: number; // Unix seconds, gateway clock
  matched: number; // records of the unit matching the demand when it was decided
  duplicateOf?: string; // the earlier demand whose package answers this one
  offList?: OffListItem[];
  quota?: { year: number; used: number; limit: number }; // on-site inspections of that calendar year, after this one
}

export const demandOutcomeSchema = z
  .object({
    decision: z.enum(DECISIONS),
    reason: z.string(),
    decidedAt: z.number().int(),
    matched: z.number().int().min(0),
    duplicateOf: bytes32.optional(),
    offList: z
      .array(
        z.object({
          dutyTypeId: bytes32,
          reason: z.enum(["not_in_catalog", "inactive", "level_not_applicable", "removed_from_unit_list"]),
        }),
      )
      .optional(),
    quota: z.object({ year: z.number().int(), used: z.number().int(), limit: z.number().int() }).optional(),
  })
  .strict();

/** SHA-256 of the outcome's canonical bytes. */
export function outcomeDigest(outcome: DemandOutcome): Hash {
  return sha256(canonicalBytes(outcome));
}

/** ASCII "DPD1": the demand leaf's magic and version. */
export const DEMAND_LEAF_MAGIC = Uint8Array.of(0x44, 0x50, 0x44, 0x31);

/**
 * The log leaf of a demand and its outcome: "DPD1" ‖ demand digest (32) ‖ the inspector's
 * signature (65) ‖ outcome digest (32). Precondition: the sizes stated.
 */
export function demandLeafDataOf(demandId: Hash, signature: string, outcome: Hash): Uint8Array {
  const sig = hexToBytes(signature);
  if (demandId.length !== 32 || sig.length !== 65 || outcome.length !== 32) {
    throw new RangeError("digests must be 32 bytes and the signature 65");
  }
  const data = new Uint8Array(4 + 32 + 65 + 32);
  data.set(DEMAND_LEAF_MAGIC, 0);
  data.set(demandId, 4);
  data.set(sig, 36);
  data.set(outcome, 101);
  return data;
}

export function demandLeafHashOf(demandId: Hash, signature: string, outcome: Hash): Hash {
  return hashLeaf(demandLeafDataOf(demandId, signature, outcome));
}

/** A demand log entry as stored and as served to auditors. */
export interface DemandEntry {
  demandId: string;
  demand: DemandEnvelope;
  signature: string;
  outcome: DemandOutcome;
  outcomeDigest: string;
}
