/**
 * The verify driver shared by `dutyproof verify` and the web console's verify page: what a file,
 * a paste or a gateway's answer holds (an export bundle, or a receipt with or without its record)
 * is checked item by item with `verifyEvidence`, and each item gets the notices of the amendment
 * rule (server/core/amendment.ts), and, when a witness policy applies (the caller's, else the
 * trust anchors'), the witnesses' cosignatures (server/core/witnessQuorum.ts). Pure: the chain's
 * facts, signer recovery and the gateway's checkpoints are passed in.
 */
import { type RecordNotices, bundleNotices, servedNotices } from "./amendment.ts";
import type { RecordEnvelope } from "./record.ts";
import { type TrustAnchors, trustedDeploymentOf } from "./trust.ts";
import {
  type Bundle,
  type ChainFacts,
  type Receipt,
  type Verdict,
  bundleSchema,
  evidenceSchema,
  verifyEvidence,
} from "./verifier.ts";
import {
  type CheckpointSource,
  type QuorumVerdict,
  type WitnessPolicy,
  receiptWitnessCheck,
  trustedWitnessPolicy,
  withWitnessCheck,
} from "./witnessQuorum.ts";

/** A receipt, with the record and signature when the holder has them. */
export interface Evidence {
  receipt: Receipt;
  envelope?: RecordEnvelope;
  signature?: string;
}

/** One verified item: what was checked, the verdict, and what is known to have happened since. */
export interface ItemResult {
  evidence: Evidence;
  verdict: Verdict;
  notices: RecordNotices;
  /** The witness check, when a policy applied to this valid item: each witness's status. */
  witnesses?: QuorumVerdict;
}

/**
 * The witnesses a verifier asks for: its own policy (command line, page setting), which replaces
 * a trust anchor's, and where to read the log's latest cosigned checkpoint.
 */
export interface WitnessOptions {
  policy?: WitnessPolicy | undefined;
  source: CheckpointSource;
}

export type VerificationResult =
  | { kind: "single"; item: ItemResult }
  | { kind: "bundle"; bundle: Bundle; items: ItemResult[] }
  | { kind: "unreadable" };

/** Recovers the signer of a digest: lower-case address, or null for a malformed signature. */
export type Recover = (digest: Uint8Array, signature: string) => string | null;

/** The facts a verifier needs of a receipt naming no trusted deployment: it asks nothing of it. */
const untrustedFacts = (receipt: Receipt): ChainFacts => ({
  chainId: receipt.chainId,
  contractHasCode: false,
  checkpoint: { found: false, root: "0x", anchoredAt: 0, blockNumber: 0 },
  keyHistory: [],
  statusHistory: [],
});

/**
 * Verifies what `raw` holds against `trust`. `factsFor` is asked only about receipts naming a
 * trusted deployment (the caller caches per `chainFactsKey`); whatever it throws propagates. A
 * bundle's notices come from its own records that verified; a single receipt's are those the
 * gateway served beside it (not checked on chain, and shown as such).
 */
export async function verifyDocument(
  raw: unknown,
  factsFor: (receipt: Receipt) => Promise<ChainFacts>,
  recover: Recover,
  trust: TrustAnchors,
  witnesses?: WitnessOptions,
): Promise<VerificationResult> {
  const verify = async (evidence: Evidence): Promise<Verdict> => {
    const r = evidence.receipt;
    const facts = trustedDeploymentOf(trust, r.chainId, r.contract, r.logId) ? await factsFor(r) : untrustedFacts(r);
    return verifyEvidence(evidence, facts, recover, trust);
  };
  // Only a valid item is worth the witnesses' word; an invalid one keeps the reason it has.
  const witnessed = async (item: ItemResult, carriedNote: string | undefined): Promise<ItemResult> => {
    const r = item.evidence.receipt;
    const policy = witnesses && (witnesses.policy ?? trustedWitnessPolicy(trust, r));
    if (!policy || !item.verdict.valid) return item;
    const quorum = await receiptWitnessCheck(policy, r, carriedNote, witnesses.source);
    return { ...item, verdict: withWitnessCheck(item.verdict, quorum), witnesses: quorum };
  };
  const bundle = bundleSchema.safeParse(raw);
  if (bundle.success) {
    const verdicts: Verdict[] = [];
    for (const evidence of bundle.data.items) verdicts.push(await verify(evidence));
    const notices = bundleNotices(
      bundle.data.items.map((item, i) => ({
        recordId: item.receipt.recordId,
        valid: verdicts[i]!.valid,
        ...(item.envelope ? { envelope: item.envelope } : {}),
        ...(item.erasure ? { erasure: item.erasure } : {}),
      })),
    );
    const items: ItemResult[] = [];
    for (const [i, evidence] of bundle.data.items.entries())
      items.push(
        await witnessed({ evidence, verdict: verdicts[i]!, notices: notices[i]! }, evidence.receipt.checkpointNote),
      );
    return { kind: "bundle", bundle: bundle.data, items };
  }
  const parsed = evidenceSchema.safeParse(raw);
  if (!parsed.success) return { kind: "unreadable" };
  const evidence = parsed.data as Evidence;
  // A note carried beside the receipt (a record file with its receipt) counts as one inside it.
  const beside = (raw as { checkpointNote?: unknown }).checkpointNote;
  const carriedNote = evidence.receipt.checkpointNote ?? (typeof beside === "string" ? beside : undefined);
  const item = { evidence, verdict: await verify(evidence), notices: servedNotices(raw) };
  return { kind: "single", item: await witnessed(item, carriedNote) };
}
