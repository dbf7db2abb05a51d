/**
 * The evidence verifier: given a receipt (and, if the inspector has it, the record itself) and
 * the facts the chain states about it, decides whether the record existed, unchanged, signed by
 * the unit's valid key, in a checkpoint the ledger anchored — and when. Pure: the chain facts
 * are fetched by an adapter (server/chain/chainFacts.ts), so the same function serves the CLI,
 * the gateway and the web console, and is tested with crafted facts and forged receipts.
 */
import { z } from "zod";
import { bytesToHex, hexToBytes } from "./bytes.ts";
import { eip712Domain } from "./eip712.ts";
import { isValidInclusion } from "./merkle/verify.ts";
import { type RecordEnvelope, leafHashOf, recordDigest } from "./record.ts";
import { recordEnvelopeSchema } from "./recordSchema.ts";
import { type TrustAnchors, trustedDeploymentOf } from "./trust.ts";
import { type NoteVerifier, openCheckpoint, parseVerifierKey } from "./note.ts";
import { tlogOrigin } from "./tlog.ts";
import { recordSignerOf } from "./recordSigner.ts";
import { SUITE_EIP712, suiteOfEnvelope, suiteOfSignature } from "./smSuite.ts";

const hash32 = z.string().regex(/^0x[0-9a-f]{64}$/);
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/);

export const receiptSchema = z.object({
  status: z.literal("anchored"),
  // The receipt's version is its record envelope's: a version 2 record was signed for `logId`.
  version: z.union([z.literal(1), z.literal(2)]),
  recordId: hash32,
  unitId: hash32,
  dutyTypeId: hash32,
  performedAt: z.number().int(),
  /** The record's suite (docs/protocol.md §3, "The 国密 (SM) suite"); receipts without it are of the EIP-712 suite. */
  suite: z.enum(["eip712-secp256k1", "sm2-sm3"]).optional(),
  /** An address, or for the SM suite the key id of the SM2 key (core/smSuite.ts). */
  signer: address,
  /** EIP-712: r ‖ s ‖ v (65 bytes); SM suite: the public key and signature X ‖ Y ‖ r ‖ s (128 bytes). */
  signature: z.string().regex(/^0x(?:[0-9a-fA-F]{130}|[0-9a-fA-F]{256})$/),
  leafHash: hash32,
  leafIndex: z.number().int().min(0),
  treeSize: z.number().int().min(1),
  root: hash32,
  inclusionProof: z.array(hash32).max(64),
  logId: hash32,
  /** A version 2 record signed for a sealed log whose successor `logId` anchored it. */
  signedLogId: hash32.optional(),
  chainId: z.number().int().min(1),
  contract: address,
  transactionHash: hash32.optional(),
  blockNumber: z.number().int().optional(),
  anchoredAt: z.number().int(),
  acceptedAt: z.number().int(),
  /** The signed note (c2sp.org/tlog-checkpoint) of the checkpoint `treeSize`/`root`, with cosignatures. */
  checkpointNote: z.string().max(65_536).optional(),
});

export type Receipt = z.infer<typeof receiptSchema>;

/** What a verifier file may hold: a receipt, or a record with its receipt (`submit` output plus receipt). */
export const evidenceSchema = z.union([
  z.object({ receipt: receiptSchema, envelope: recordEnvelopeSchema.optional(), signature: z.string().optional() }),
  receiptSchema.transform((receipt) => ({ receipt, envelope: undefined, signature: undefined })),
]);

/** An export bundle: records of one unit (optionally one duty type and period) with their receipts. */
export const bundleSchema = z.object({
  format: z.literal("dutyproof/bundle/v1"),
  createdAt: z.number().int(),
  query: z.object({
    unitId: hash32,
    dutyTypeId: hash32.optional(),
    from: z.number().int().optional(),
    to: z.number().int().optional(),
  }),
  items: z.array(
    z.object({
      envelope: recordEnvelopeSchema.optional().describe("absent once the record's personal content was erased"),
      receipt: receiptSchema,
      erasure: z
        .object({ erasedAt: z.number().int(), order: z.string(), fields: z.array(z.string()) })
        .optional()
        .describe("when and under what order the record's personal content was erased"),
    }),
  ),
  pending: z.number().int().min(0).describe("records that matched but were not anchored yet"),
  log: z
    .object({ chainId: z.number().int(), contract: address, logId: hash32, deployBlock: z.number().int().min(0) })
    .optional()
    .describe("the log the receipts are anchored in, and the block its ledger was deployed in"),
});

export type Bundle = z.infer<typeof bundleSchema>;

export interface KeyPeriodFact {
  signer: string;
  validFrom: number;
  validUntil: number; // 0 while current
}

export interface StatusPeriodFact {
  status: "none" | "active" | "suspended";
  since: number;
}

/** What the chain says, read by an adapter at verification time. */
export interface ChainFacts {
  chainId: number;
  contractHasCode: boolean;
  checkpoint: {
    found: boolean;
    /** The root the contract stores for the size (`checkpointAt`). */
    root: string;
    anchoredAt: number;
    blockNumber: number;
    /**
     * The root of the CheckpointAnchored event for the size in the block the contract names, if
     * the adapter read it (null: no such event). It and the stored root can only differ if the
     * chain's state was altered behind the contract's back.
     */
    eventRoot?: string | null;
  };
  keyHistory: KeyPeriodFact[];
  statusHistory: StatusPeriodFact[];
  /** Set when the receipt's log was sealed: only its checkpoints up to `size` belong to it. */
  seal?: { size: number; successorLogId: string };
  /** For a receipt with `signedLogId`: that log's seal, if it was sealed. */
  signedLogSeal?: { size: number; successorLogId: string };
}

export type CheckName =
  | "receipt"
  | "chain"
  | "deployment"
  | "contract"
  | "record"
  | "signature"
  | "leaf"
  | "inclusion"
  | "checkpoint"
  | "note"
  | "key"
  | "witnesses";

export interface Check {
  name: CheckName;
  ok: boolean;
  reason?: string; // a stable code when not ok, e.g. "record.altered"
}

export interface Verdict {
  valid: boolean;
  checks: Check[];
  /** The first failed check's reason, if any. */
  reason?: string;
  anchoredAt?: number;
  blockNumber?: number;
  recordChecked: boolean;
}

/** How much earlier than its anchoring a gateway may claim to have accepted a record. */
/**
 * What the chain's facts about a receipt depend on (chain, contract, log, size, unit, and the log
 * a carried-over record was signed for): receipts with the same key share one fetch.
 */
export function chainFactsKey(receipt: Receipt): string {
  return [receipt.chainId, receipt.contract, receipt.logId, receipt.treeSize, receipt.unitId, receipt.signedLogId].join(
    ":",
  );
}

export const MAX_ACCEPT_TO_ANCHOR_SECONDS = 86_400;

/** How much later than its anchoring a gateway may claim to have accepted a record (clock skew). */
export const MAX_ANCHOR_TO_ACCEPT_SECONDS = 300;

/**
 * The one acceptance-time rule of verify and replay: the time a gateway claims it accepted a
 * record is believed only from one day before the anchoring of the first checkpoint holding
 * it (the chain's word) to 5 minutes after. A record not anchored yet has no bound to check.
 */
export function acceptanceTimePlausible(acceptedAt: number, anchoredAt: number | undefined): boolean {
  if (anchoredAt === undefined) return true;
  return (
    acceptedAt <= anchoredAt + MAX_ANCHOR_TO_ACCEPT_SECONDS && acceptedAt >= anchoredAt - MAX_ACCEPT_TO_ANCHOR_SECONDS
  );
}

/**
 * The key and status a unit had at time t. The time a receipt claims for acceptance is the
 * gateway's word, so it is only believed within a day before the anchoring, which the chain
 * vouches for; a key stolen after its rotation cannot be used to backdate beyond that.
 */
export function keyValidAt(
  history: { keys: KeyPeriodFact[]; statuses: StatusPeriodFact[] },
  signer: string,
  t: number,
): boolean {
  const wanted = signer.toLowerCase();
  const key = history.keys.find((p) => p.signer.toLowerCase() === wanted);
  if (!key || t < key.validFrom || (key.validUntil !== 0 && t >= key.validUntil)) return false;
  // The latest status that had begun by t.
  for (let i = history.statuses.length - 1; i >= 0; i--) {
    if (history.statuses[i]!.since <= t) return history.statuses[i]!.status === "active";
  }
  return false;
}

/**
 * Verifies evidence against chain facts and the verifier's own trust anchors: the chain,
 * contract and log the receipt names must be a deployment the verifier trusts, since anyone can
 * deploy a look-alike ledger and anchor whatever they like in it. `recover` returns the address
 * that signed a digest (lower case) or null. Every check runs; the verdict lists each, the
 * first failure is `reason`.
 */
export function verifyEvidence(
  evidence: { receipt: Receipt; envelope?: RecordEnvelope; signature?: string },
  facts: ChainFacts,
  recover: (digest: Uint8Array, signature: string) => string | null,
  trust: TrustAnchors,
): Verdict {
  const { receipt, envelope } = evidence;
  const checks: Check[] = [];
  const check = (name: CheckName, ok: boolean, reason: string) => checks.push(ok ? { name, ok } : { name, ok, reason });

  check("chain", facts.chainId === receipt.chainId, "receipt.wrong_chain");
  const trusted = trustedDeploymentOf(trust, receipt.chainId, receipt.contract, receipt.logId);
  check("deployment", trusted !== undefined, "receipt.untrusted_deployment");
  check("contract", facts.contractHasCode, "receipt.no_contract");

  let recordId = receipt.recordId;
  if (envelope) {
    recordId = bytesToHex(recordDigest(envelope));
    check(
      "record",
      recordId === receipt.recordId &&
        envelope.version === receipt.version &&
        (!("logId" in envelope) || envelope.logId === (receipt.signedLogId ?? receipt.logId)) &&
        envelope.unitId === receipt.unitId &&
        envelope.dutyTypeId === receipt.dutyTypeId &&
        envelope.performedAt === receipt.performedAt,
      "record.altered",
    );
  }

  // The signature is over the record's message in the receipt's own domain (chain, contract)
  // and, from version 2, for the receipt's own log: a record signed for another log fails here.
  // A record signed for another log counts only if that log was sealed with the receipt's log as
  // its successor (the record was accepted there before the seal and carried over).
  const signedFor = receipt.signedLogId ?? receipt.logId;
  const carriedOver =
    signedFor === receipt.logId ||
    (receipt.version === 2 && facts.signedLogSeal?.successorLogId.toLowerCase() === receipt.logId.toLowerCase());
  // One suite throughout: the receipt's word, the record's declaration and the signature's shape.
  const suite = suiteOfSignature(receipt.signature);
  const suiteAgrees =
    (receipt.suite ?? SUITE_EIP712) === suite && (envelope === undefined || suiteOfEnvelope(envelope) === suite);
  const signer = suiteAgrees
    ? recordSignerOf(
        eip712Domain(receipt.chainId, receipt.contract),
        {
          ...(receipt.version === 2 ? { logId: signedFor } : {}),
          unitId: receipt.unitId,
          dutyTypeId: receipt.dutyTypeId,
          performedAt: receipt.performedAt,
        },
        hexToBytes(recordId),
        receipt.signature,
        recover,
      )
    : null;
  check(
    "signature",
    signer !== null && signer === receipt.signer.toLowerCase() && carriedOver,
    !suiteAgrees ? "signature.suite_mismatch" : carriedOver ? "signature.invalid" : "signature.other_log",
  );

  const leafHash = bytesToHex(leafHashOf(hexToBytes(recordId), receipt.signature));
  check("leaf", leafHash === receipt.leafHash, "leaf.mismatch");

  check(
    "inclusion",
    isValidInclusion(
      hexToBytes(leafHash),
      receipt.leafIndex,
      receipt.treeSize,
      receipt.inclusionProof.map(hexToBytes),
      hexToBytes(receipt.root),
    ),
    "proof.invalid",
  );

  const { eventRoot } = facts.checkpoint;
  const stateAltered = facts.checkpoint.found && eventRoot !== undefined && eventRoot !== facts.checkpoint.root;
  // A checkpoint above a sealed log's seal was anchored by whoever held the stolen operator key.
  const beyondSeal = facts.seal !== undefined && receipt.treeSize > facts.seal.size;
  const anchored = facts.checkpoint.found && !stateAltered && !beyondSeal && facts.checkpoint.root === receipt.root;
  check(
    "checkpoint",
    anchored,
    stateAltered
      ? "checkpoint.stored_root_disagrees"
      : beyondSeal
        ? "checkpoint.beyond_seal"
        : facts.checkpoint.found
          ? "checkpoint.root_mismatch"
          : "checkpoint.not_anchored",
  );

  // The log's signed checkpoint, when the receipt carries one and the trust anchor names the
  // log's key: it must be that key's signature on this very tree. Receipts issued before logs
  // signed checkpoints carry no note and are judged by the chain alone, as before.
  const logKey = receipt.checkpointNote === undefined ? undefined : logKeyOf(trusted?.tlogKeys, receipt);
  if (logKey) {
    const reason = checkpointNoteFault(receipt, logKey);
    check("note", reason === undefined, reason ?? "");
  }

  const anchoredAt = facts.checkpoint.anchoredAt;
  const plausible = acceptanceTimePlausible(receipt.acceptedAt, anchoredAt);
  check(
    "key",
    anchored &&
      plausible &&
      signer !== null &&
      keyValidAt({ keys: facts.keyHistory, statuses: facts.statusHistory }, signer, receipt.acceptedAt),
    plausible ? "key.not_valid_then" : "receipt.implausible_time",
  );

  const failed = checks.find((c) => !c.ok);
  return {
    valid: failed === undefined,
    checks,
    ...(failed ? { reason: failed.reason } : {}),
    ...(anchored ? { anchoredAt, blockNumber: facts.checkpoint.blockNumber } : {}),
    recordChecked: envelope !== undefined,
  };
}

/** The trusted key of the receipt's log (named by its origin), if the trust anchor lists one. */
function logKeyOf(keys: readonly string[] | undefined, receipt: Receipt): NoteVerifier | undefined {
  const origin = tlogOrigin(receipt.chainId, receipt.contract, receipt.logId);
  // The trust file's schema admits only keys that parse.
  return keys?.map((key) => parseVerifierKey(key)).find((key) => key.name === origin);
}

/** Why the receipt's checkpoint note does not vouch for its checkpoint, or undefined when it does. */
function checkpointNoteFault(receipt: Receipt, key: NoteVerifier): string | undefined {
  let opened;
  try {
    opened = openCheckpoint(receipt.checkpointNote!, key, key.name);
  } catch {
    return "note.bad_signature";
  }
  const { size, rootHash } = opened.checkpoint;
  return size === receipt.treeSize && bytesToHex(rootHash) === receipt.root ? undefined : "note.other_checkpoint";
}

/** One line per reason, in the two languages the tools speak. */
export const reasonText: Record<string, { "zh-CN": string; en: string }> = {
  "receipt.wrong_chain": {
    "zh-CN": "回执所属的链与所连接的链不一致",
    en: "the receipt is for another chain than the RPC endpoint serves",
  },
  "receipt.untrusted_deployment": {
    "zh-CN": "回执锚定在本核验方不信任的账本（链、合约或日志不在信任锚中）",
    en: "the receipt is anchored in a ledger this verifier does not trust (chain, contract or log not among its trust anchors)",
  },
  "receipt.no_contract": {
    "zh-CN": "回执中的地址上没有 DutyLedger 合约",
    en: "there is no DutyLedger contract at the receipt's address",
  },
  "record.altered": {
    "zh-CN": "记录内容与回执不符（已被改动）",
    en: "the record does not match the receipt (altered)",
  },
  "signature.invalid": {
    "zh-CN": "签名无效或不是回执所称的签名人",
    en: "the signature is invalid or not by the stated signer",
  },
  "signature.suite_mismatch": {
    "zh-CN": "回执、记录与签名所属的密码套件不一致（国密与 EIP-712 混用）",
    en: "the receipt, the record and the signature name different suites (SM2/SM3 and EIP-712/secp256k1 mixed)",
  },
  "leaf.mismatch": { "zh-CN": "叶子哈希与记录和签名不符", en: "the leaf hash does not match the record and signature" },
  "proof.invalid": {
    "zh-CN": "包含证明无效（证明被伪造或树规模不符）",
    en: "the inclusion proof is invalid (forged, or for another tree size)",
  },
  "checkpoint.not_anchored": {
    "zh-CN": "链上没有该规模的检查点",
    en: "the ledger anchored no checkpoint of that size",
  },
  "checkpoint.root_mismatch": {
    "zh-CN": "链上锚定的根与回执不同",
    en: "the ledger anchored another root for that size",
  },
  "checkpoint.stored_root_disagrees": {
    "zh-CN": "合约存储的根与其锚定事件记录的根不一致（链上状态被改动）",
    en: "the root the contract stores differs from the one its anchoring event recorded (the chain's state was altered)",
  },
  "signature.other_log": {
    "zh-CN": "记录签署给另一日志，而该日志并未封存并由本回执的日志接续",
    en: "the record was signed for another log, which was not sealed with this receipt's log as its successor",
  },
  "checkpoint.beyond_seal": {
    "zh-CN": "该日志已被封存，此检查点在封存规模之后（由被盗的运营密钥锚定），不属于该日志",
    en: "the log was sealed below this checkpoint's size: it was anchored with a stolen operator key and is not part of the log",
  },
  "note.bad_signature": {
    "zh-CN": "回执所附的检查点签名笔记不是该日志密钥的有效签名",
    en: "the receipt's signed checkpoint is not validly signed by the log's key",
  },
  "note.other_checkpoint": {
    "zh-CN": "回执所附的已签名检查点与回执锚定的检查点（规模或根）不同",
    en: "the receipt's signed checkpoint names another tree (size or root) than the receipt's anchored checkpoint",
  },
  "key.not_valid_then": {
    "zh-CN": "签名密钥在当时不是该单位的有效密钥，或单位已暂停",
    en: "the key was not the unit's valid key then, or the unit was suspended",
  },
  "checkpoint.not_cosigned": {
    "zh-CN": "回执所在的检查点未获得所要求数量的见证方联署",
    en: "the receipt's checkpoint lacks the required number of witness cosignatures",
  },
  "checkpoint.note_mismatch": {
    "zh-CN": "见证方联署的检查点不包含回执所在的树（日志向不同方展示了不同视图）",
    en: "the checkpoint the witnesses cosigned does not contain the receipt's tree (the log showed different views)",
  },
  "checkpoint.note_invalid": {
    "zh-CN": "检查点签名文本格式错误，或某一见证方的联署无法验证",
    en: "the checkpoint note is malformed, or a witness's cosignature on it does not verify",
  },
  "receipt.implausible_time": {
    "zh-CN": "回执声称的接收时间与锚定时间不符",
    en: "the receipt's acceptance time does not fit its anchoring time",
  },
};
