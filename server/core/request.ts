/**
 * Burden requests of the kinds beside evidence (docs/protocol.md §4, "Burden requests"): an
 * on-site inspection, an evaluation (考核), a meeting, a data request (form, 报表) and a
 * secondment (借调). An inspector or officer signs the envelope (EIP-712, primary type
 * BurdenRequest, in the same domain as records and demands); the gateway's gate decides it
 * (server/burden/requestRules.ts) and logs envelope, signature and outcome as one "DPR1" leaf.
 * Evidence demands keep their own envelope, type and "DPD1" leaf (./demand.ts). Pure.
 */
import { z } from "zod";
import { bytesToHex, hexToBytes } from "./bytes.ts";
import { LONE_SURROGATE_MESSAGE, canonicalBytes, isWellFormedText } from "./canonical.ts";
import { type Eip712Domain, concat, domainSeparator, uintWord, word } from "./eip712.ts";
import { keccak256 } from "./keccak256.ts";
import { type Hash, hashLeaf } from "./merkle/hasher.ts";
import { sha256 } from "./sha256.ts";

const bytes32 = z
  .string()
  .regex(/^0x[0-9a-f]{64}$/, "must be 0x followed by 64 lower-case hex digits")
  .describe("32 bytes as 0x-prefixed lower-case hex");
const text = (max: number) => z.string().refine(isWellFormedText, LONE_SURROGATE_MESSAGE).min(1).max(max);
const code = z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, "must be a lower-case code (a-z, 0-9, -)");
const unixSeconds = z
  .number()
  .int()
  .min(946684800, "must be Unix seconds after 2000-01-01")
  .max(4102444800, "must be Unix seconds before 2100-01-01");
const emergency = z
  .object({ reason: text(500).describe("the stated emergency") })
  .strict()
  .describe("outside the quota, with its reason (recorded and reported)");
const approvalRef = text(200).describe("reference of the recorded approval (批准文号)");

/** The kinds a BurdenRequest envelope carries; `evidence` is the demand envelope (./demand.ts). */
export const REQUEST_KINDS = ["inspection", "evaluation", "meeting", "data", "secondment"] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

/** Every kind of burden a department places on a unit, evidence demands included. */
export const BURDEN_KINDS = ["evidence", ...REQUEST_KINDS] as const;
export type BurdenKind = (typeof BURDEN_KINDS)[number];

/** A data item asked: a field of a duty type (on the unit's data list when the duty type is on its duty list) or a data catalogue item. */
export const dataItemSchema = z.union([
  z
    .object({
      dutyTypeId: bytes32.describe("the duty type whose field is asked"),
      field: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, "must be a field name"),
      value: text(200).optional().describe("a value or definition the department prescribes for the item"),
    })
    .strict(),
  z
    .object({
      catalogItem: z
        .string()
        .regex(/^[a-z][a-z0-9.-]{0,127}$/, "must be a data catalogue code")
        .describe("an item of the county's data catalogue (数据清单)"),
      value: text(200).optional().describe("a value or definition the department prescribes for the item"),
    })
    .strict(),
]);
export type DataItem = z.infer<typeof dataItemSchema>;

/** The stable key of a data item: `<dutyTypeId>.<field>` or `catalog:<code>`. */
export const dataItemKey = (item: DataItem): string =>
  "catalogItem" in item ? `catalog:${item.catalogItem}` : `${item.dutyTypeId}.${item.field}`;

/** The keys every request kind shares. */
const common = {
  version: z.literal(1).describe("envelope version"),
  logId: bytes32.describe("the id of the log the request is meant for (its gateway's /v1/info logId)"),
  unitId: bytes32.describe("the unit asked"),
  department: code.describe("the signer's department code, as registered on the ledger"),
  inspector: z
    .string()
    .regex(/^0x[0-9a-f]{40}$/, "must be a lower-case 0x address")
    .describe("the signer's address (a registered inspector or officer)"),
  issuedAt: unixSeconds.describe("when the request was signed, Unix seconds"),
  salt: bytes32.describe("32 random bytes"),
};

const window = {
  from: unixSeconds.describe("start (inclusive), Unix seconds"),
  to: unixSeconds.describe("end (exclusive), Unix seconds"),
};

export const inspectionRequestSchema = z
  .object({
    ...common,
    kind: z.literal("inspection"),
    domain: code.describe("the domain inspected (its lead department inspects it)"),
    dutyTypeIds: z.array(bytes32).min(1).max(16).describe("duty types inspected, sorted ascending, no repeats"),
    ...window,
    emergency: emergency.optional(),
  })
  .strict();

export const evaluationRequestSchema = z
  .object({
    ...common,
    kind: z.literal("evaluation"),
    domain: code.describe("the domain evaluated (its lead department evaluates it)"),
    title: text(200).describe("what is evaluated"),
    ...window,
    emergency: emergency.optional(),
  })
  .strict();

export const meetingRequestSchema = z
  .object({
    ...common,
    kind: z.literal("meeting"),
    topic: text(200).describe("the meeting's topic"),
    agenda: z.array(text(200)).max(32).describe("agenda items (a meeting without any is refused)"),
    decisionsSought: z.array(text(200)).max(32).describe("decisions sought (a meeting without any is refused)"),
    start: unixSeconds.describe("when it starts, Unix seconds"),
    durationMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60),
    roles: z.array(code).min(1).max(16).describe("the roles that must attend (nobody else is asked)"),
  })
  .strict();

export const dataRequestSchema = z
  .object({
    ...common,
    kind: z.literal("data"),
    items: z.array(dataItemSchema).min(1).max(64).describe("data items asked, no repeats"),
    ...window,
    deadline: unixSeconds.describe("when the data is due, Unix seconds"),
    approvalRef: approvalRef.optional().describe("approval of items outside the data list (数据清单)"),
  })
  .strict();

export const secondmentRequestSchema = z
  .object({
    ...common,
    kind: z.literal("secondment"),
    role: code.describe("the seconded person's role (never a name)"),
    from: unixSeconds.describe("first day, Unix seconds"),
    days: z.number().int().min(1).max(3660).describe("length in days"),
    extends: bytes32.optional().describe("the secondment (request id) this one extends"),
    approvalRef: approvalRef.optional().describe("approval of a secondment beyond the limits"),
  })
  .strict();

type Checked = { kind: RequestKind; from?: number; to?: number; dutyTypeIds?: string[]; items?: DataItem[] };

function checkRequest(r: Checked, ctx: z.RefinementCtx): void {
  if (r.to !== undefined && r.from !== undefined && r.to <= r.from) {
    ctx.addIssue({ code: "custom", path: ["to"], message: "must be after from" });
  }
  const ids = r.dutyTypeIds ?? [];
  for (let i = 1; i < ids.length; i++) {
    if (ids[i]! <= ids[i - 1]!) {
      ctx.addIssue({ code: "custom", path: ["dutyTypeIds", i], message: "must be sorted ascending without repeats" });
    }
  }
  const seen = new Set<string>();
  (r.items ?? []).forEach((item, i) => {
    const key = dataItemKey(item);
    if (seen.has(key)) ctx.addIssue({ code: "custom", path: ["items", i], message: "repeats an item" });
    seen.add(key);
  });
}

/** A burden request envelope (version 1), told apart by `kind`. */
export const requestEnvelopeSchema = z
  .discriminatedUnion("kind", [
    inspectionRequestSchema,
    evaluationRequestSchema,
    meetingRequestSchema,
    dataRequestSchema,
    secondmentRequestSchema,
  ])
  .superRefine(checkRequest);

export type RequestEnvelope = z.infer<typeof requestEnvelopeSchema>;

export const requestSubmissionSchema = z
  .object({
    request: requestEnvelopeSchema,
    signature: z
      .string()
      .regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte signature r ‖ s ‖ v as 0x hex")
      .describe("EIP-712 BurdenRequest signature by the request's inspector"),
  })
  .strict();

export type RequestSubmission = z.infer<typeof requestSubmissionSchema>;

/** SHA-256 of the request's RFC 8785 canonical bytes. Its hex form is the request id. */
export function requestDigest(request: RequestEnvelope): Hash {
  return sha256(canonicalBytes(request));
}

export const REQUEST_PRIMARY_TYPE = "BurdenRequest";

/** The message types of a burden request. */
export const requestEip712Types = {
  BurdenRequest: [
    { name: "logId", type: "bytes32" },
    { name: "unitId", type: "bytes32" },
    { name: "inspector", type: "address" },
    { name: "issuedAt", type: "uint64" },
    { name: "kind", type: "string" },
    { name: "requestDigest", type: "bytes32" },
  ],
} as const;

export interface BurdenRequestMessage {
  logId: string;
  unitId: string;
  inspector: string;
  issuedAt: number;
  kind: RequestKind;
  requestDigest: string;
}

export function requestMessageOf(request: RequestEnvelope): BurdenRequestMessage {
  return {
    logId: request.logId,
    unitId: request.unitId,
    inspector: request.inspector,
    issuedAt: request.issuedAt,
    kind: request.kind,
    requestDigest: bytesToHex(requestDigest(request)),
  };
}

const utf8 = (value: string) => new TextEncoder().encode(value);

/** keccak256("BurdenRequest(bytes32 logId,bytes32 unitId,address inspector,uint64 issuedAt,string kind,bytes32 requestDigest)") */
const BURDEN_REQUEST_TYPEHASH = keccak256(
  utf8(
    "BurdenRequest(bytes32 logId,bytes32 unitId,address inspector,uint64 issuedAt,string kind,bytes32 requestDigest)",
  ),
);

/** The 32-byte EIP-712 digest a request's signer signs (checked against ethers in tests). */
export function requestTypedDataDigest(domain: Eip712Domain, message: BurdenRequestMessage): Uint8Array {
  const structHash = keccak256(
    concat([
      BURDEN_REQUEST_TYPEHASH,
      word(hexToBytes(message.logId)),
      word(hexToBytes(message.unitId)),
      word(hexToBytes(message.inspector)),
      uintWord(message.issuedAt),
      keccak256(utf8(message.kind)),
      word(hexToBytes(message.requestDigest)),
    ]),
  );
  return keccak256(concat([Uint8Array.of(0x19, 0x01), domainSeparator(domain), structHash]));
}

/** The definition a signer's client signs requests with, in the shape EIP-712 libraries take. */
export function requestEip712Definition(domain: Eip712Domain, logId: string) {
  return { domain, types: requestEip712Types, primaryType: REQUEST_PRIMARY_TYPE, logId };
}

/** What the gate decided for a request. */
export const REQUEST_DECISIONS = [
  "refused",
  "duplicate_absorbed",
  "answered_from_ledger",
  "merged",
  "task_created",
  "admitted",
  "admitted_emergency",
] as const;
export type RequestDecision = (typeof REQUEST_DECISIONS)[number];

/**
 * The reason codes of the gate, one per rule (docs/protocol.md §4, "Order of the rules"); a
 * refusal carries one of the `refused.*` codes, every other decision its own.
 */
export const REQUEST_REASONS = [
  "refused.off_list",
  "refused.meeting_without_agenda",
  "refused.meeting_without_decisions",
  "refused.not_lead_department",
  "refused.secondment_over_limit",
  "refused.extension_over_limit",
  "refused.evaluation_cap",
  "refused.on_site_quota",
  "refused.on_site_fair_share",
  "absorbed.duplicate",
  "answered.ledger",
  "merged.joint_visit",
  "merged.combined_meeting",
  "task.data_missing",
  "task.data_partly_answered",
  "admitted",
  "admitted.emergency",
] as const;
export type RequestReason = (typeof REQUEST_REASONS)[number];

/** A data item or duty type off the unit's lists, and why. */
export interface RequestOffListItem {
  item: string; // a data item key or a duty type id
  reason: "not_in_catalog" | "inactive" | "level_not_applicable" | "removed_from_unit_list" | "not_on_data_list";
}

/** Two requests that contradict: the same unit and item, incompatible deadlines or values. */
export interface RequestConflict {
  requestId: string; // the earlier request
  department: string; // its department
  item: string;
  on: "deadline" | "value";
}

/** The gate's outcome of a request; committed to by the request's leaf. */
export interface RequestOutcome {
  decision: RequestDecision;
  reasonCode: RequestReason;
  reason: string; // one sentence for people
  decidedAt: number; // Unix seconds, gateway clock
  duplicateOf?: string;
  mergedWith?: string; // the request whose visit or meeting this one joins
  leadDepartment?: string; // a non-lead refusal names the lead, whose results to read
  offList?: RequestOffListItem[];
  answered?: Array<{ item: string; records: number }>; // data items answered from the ledger
  missing?: string[]; // data items the unit must still provide
  conflicts?: RequestConflict[];
  quota?: { year: number; used: number; limit: number; departmentUsed?: number; departmentShare?: number };
}

export const requestOutcomeSchema = z
  .object({
    decision: z.enum(REQUEST_DECISIONS),
    reasonCode: z.enum(REQUEST_REASONS),
    reason: z.string(),
    decidedAt: z.number().int(),
    duplicateOf: bytes32.optional(),
    mergedWith: bytes32.optional(),
    leadDepartment: z.string().optional(),
    offList: z
      .array(
        z
          .object({
            item: z.string(),
            reason: z.enum([
              "not_in_catalog",
              "inactive",
              "level_not_applicable",
              "removed_from_unit_list",
              "not_on_data_list",
            ]),
          })
          .strict(),
      )
      .optional(),
    answered: z.array(z.object({ item: z.string(), records: z.number().int().min(1) }).strict()).optional(),
    missing: z.array(z.string()).optional(),
    conflicts: z
      .array(
        z
          .object({ requestId: bytes32, department: z.string(), item: z.string(), on: z.enum(["deadline", "value"]) })
          .strict(),
      )
      .optional(),
    quota: z
      .object({
        year: z.number().int(),
        used: z.number().int(),
        limit: z.number().int(),
        departmentUsed: z.number().int().optional(),
        departmentShare: z.number().int().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** SHA-256 of the outcome's canonical bytes. */
export function requestOutcomeDigest(outcome: RequestOutcome): Hash {
  return sha256(canonicalBytes(outcome));
}

/** ASCII "DPR1": the burden request leaf's magic and version. */
export const REQUEST_LEAF_MAGIC = Uint8Array.of(0x44, 0x50, 0x52, 0x31);

/**
 * The log leaf of a request and its outcome: "DPR1" ‖ request digest (32) ‖ the signature (65) ‖
 * outcome digest (32), 133 bytes like a demand's. Precondition: the sizes stated.
 */
export function requestLeafDataOf(requestId: Hash, signature: string, outcome: Hash): Uint8Array {
  const sig = hexToBytes(signature);
  if (requestId.length !== 32 || sig.length !== 65 || outcome.length !== 32) {
    throw new RangeError("digests must be 32 bytes and the signature 65");
  }
  const data = new Uint8Array(4 + 32 + 65 + 32);
  data.set(REQUEST_LEAF_MAGIC, 0);
  data.set(requestId, 4);
  data.set(sig, 36);
  data.set(outcome, 101);
  return data;
}

export function requestLeafHashOf(requestId: Hash, signature: string, outcome: Hash): Hash {
  return hashLeaf(requestLeafDataOf(requestId, signature, outcome));
}

/** A request log entry as stored and as served to auditors. */
export interface RequestEntry {
  requestId: string;
  request: RequestEnvelope;
  signature: string;
  outcome: RequestOutcome;
  outcomeDigest: string;
}
