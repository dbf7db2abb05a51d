/**
 * The verify use case: a receipt, or a record with its receipt, checked against the chain it
 * names with the same verifier as `dutyproof verify`, and only if the gateway trusts that
 * deployment; then what this gateway knows happened to the record since (amendments, erasure).
 * Its own store plays no part in the verdict.
 */
import { ChainUnreachableError, fetchChainFacts } from "../chain/chainFacts.ts";
import { DutyproofError } from "../core/errors.ts";
import { type TrustAnchors, trustedDeploymentOf } from "../core/trust.ts";
import { type Receipt, evidenceSchema, verifyEvidence } from "../core/verifier.ts";
import { recoverSigner } from "../crypto/recoverSigner.ts";
import { fieldErrors } from "../gateway/AttestationService.ts";
import { noticesOf } from "../gateway/ledgerNotices.ts";
import type { LedgerStore } from "../store/LedgerStore.ts";

export interface VerifyDependencies {
  store: LedgerStore;
  /** The chain endpoint the gateway reads (its own /v1/rpc in embedded mode). */
  rpcUrl: string;
  trust: TrustAnchors;
}

/** The verdict on `body` (evidence as `dutyproof verify` reads it), with the gateway's notices. */
export async function verifyEvidenceOnChain(deps: VerifyDependencies, body: unknown): Promise<unknown> {
  const parsed = evidenceSchema.safeParse(body);
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error);
    throw new DutyproofError("request.invalid", "not a receipt, or a record with its receipt", { errors });
  }
  const facts = await fetchChainFacts(deps.rpcUrl, parsed.data.receipt, deps.trust);
  const verdict = verifyEvidence(parsed.data, facts, recoverSigner, deps.trust) as unknown as Record<string, unknown>;
  const given = body as { receipt?: { recordId?: unknown }; recordId?: unknown };
  const recordId = given.receipt?.recordId ?? given.recordId;
  const known = typeof recordId === "string" ? await deps.store.getRecord(recordId) : undefined;
  return known ? { ...verdict, ...(await noticesOf(deps.store, known)) } : verdict;
}

/** What a chain-facts request names: the receipt fields the facts depend on. */
export interface ChainFactsQuery {
  chainId: number;
  contract: string;
  logId: string;
  treeSize: number;
  unitId: string;
  signedLogId?: string | undefined;
}

/**
 * What the chain states about a receipt, read through the gateway's RPC endpoint, for a
 * verifier (the console) that cannot reach the chain itself. Only for trusted deployments.
 */
export async function chainFactsFor(deps: Omit<VerifyDependencies, "store">, query: ChainFactsQuery) {
  if (!trustedDeploymentOf(deps.trust, query.chainId, query.contract, query.logId))
    throw new DutyproofError(
      "receipt.untrusted_deployment",
      "this gateway does not trust that chain, contract and log (see /v1/trust)",
    );
  try {
    return await fetchChainFacts(deps.rpcUrl, query as unknown as Receipt, deps.trust);
  } catch (error) {
    if (error instanceof ChainUnreachableError)
      throw new DutyproofError("chain.unreachable", "the chain node does not answer");
    throw error;
  }
}
