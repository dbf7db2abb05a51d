/**
 * Audit replay with the records read from a gateway (auditor token) and everything else from
 * the chain: the gateway is trusted for nothing but handing over the records. Which ledger and
 * log it anchors to is checked against the auditor's own trust anchors, so that an operator
 * cannot point its auditor at a shadow ledger it controls.
 */
import { JsonRpcProvider } from "ethers";
import { eip712Domain } from "../core/eip712.ts";
import { type AuditLogItem, type ReplayReport, replay } from "../core/replay.ts";
import type { KeyPeriodFact, StatusPeriodFact } from "../core/verifier.ts";
import { type TrustAnchors, type TrustedDeployment, trustedDeploymentOf } from "../core/trust.ts";
import { fetchUnitHistory, ledgerAt } from "../chain/chainHistory.ts";
import { fetchSucceededCheckpoints } from "../chain/logSuccession.ts";
import { inspectorActiveAt } from "../core/demandAudit.ts";
import { verifyTipProofs } from "./tipProofs.ts";
import { fetchInspectorHistory } from "../burden/inspectorHistory.ts";
import { recoverSigner } from "../crypto/recoverSigner.ts";
import { VerifyPool } from "../crypto/VerifyPool.ts";
import { replayOnWorkers } from "./replayOnWorkers.ts";
import { availableParallelism } from "node:os";

export interface ReplayTarget {
  gatewayUrl: string;
  token: string;
  rpcUrl: string;
  /** The deployments the auditor trusts; a gateway anchoring anywhere else is refused. */
  trust: TrustAnchors;
  onProgress?: (done: number, total: number) => void;
}

export interface ReplayResult extends ReplayReport {
  chainId: number;
  contract: string;
  logId: string;
}

/** Thrown when the log to replay is not among the auditor's trust anchors. */
export class UntrustedDeploymentError extends Error {}

/** Thrown when the gateway answers the audit feed with a refusal (a problem document). */
export class AuditFeedRefusedError extends Error {
  readonly status: number;
  constructor(status: number, detail: string) {
    super(`the gateway refused the audit feed (${status}): ${detail}`);
    this.status = status;
  }
}

/**
 * The trust anchor covering a log, or UntrustedDeploymentError naming it and who claimed it.
 * Replay reads events from the anchor's deployment block, never from one the audited side gave.
 */
export function trustedLog(
  trust: TrustAnchors,
  log: { chainId: number; contract: string; logId: string },
  claimedBy: string,
): TrustedDeployment {
  const anchor = trustedDeploymentOf(trust, log.chainId, log.contract, log.logId);
  if (!anchor)
    throw new UntrustedDeploymentError(
      `${claimedBy} anchors to chain ${log.chainId}, contract ${log.contract}, log ${log.logId}, which is not among this auditor's trust anchors (--trust FILE)`,
    );
  return anchor;
}

async function getJson(url: string, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export async function replayFromGateway(target: ReplayTarget): Promise<ReplayResult> {
  const info = (await getJson(`${target.gatewayUrl}/v1/info`)).body as {
    chainId: number;
    contracts: { DutyLedger: string };
    logId: string;
    deployBlock: number;
  };
  const provider = new JsonRpcProvider(target.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  try {
    const chainId = Number(await provider.send("eth_chainId", []));
    if (chainId !== info.chainId)
      throw new Error(`the RPC endpoint serves chain ${chainId}, the gateway anchors to ${info.chainId}`);
    const anchor = trustedLog(
      target.trust,
      { chainId: info.chainId, contract: info.contracts.DutyLedger, logId: info.logId },
      "the gateway",
    );
    const deployBlock = anchor.deployBlock ?? 0;
    const ledger = ledgerAt(provider, info.contracts.DutyLedger);
    // A log that succeeds a sealed one replays with its predecessors' honest checkpoints.
    const { checkpoints, afterSeal, predecessorLogIds } = await fetchSucceededCheckpoints(
      ledger,
      info.logId,
      deployBlock,
    );

    const records: AuditLogItem[] = [];
    let from: number | null = 0;
    let total = 0;
    while (from !== null) {
      const page = await getJson(`${target.gatewayUrl}/v1/audit/records?from=${from}&limit=2000`, target.token);
      if (page.status !== 200) throw new AuditFeedRefusedError(page.status, String(page.body.detail));
      records.push(...(page.body.records as AuditLogItem[]));
      total = page.body.treeSize as number;
      from = page.body.next as number | null;
    }
    await verifyTipProofs(records);
    const histories = new Map<string, { keys: KeyPeriodFact[]; statuses: StatusPeriodFact[] }>();
    const inspectors = await fetchInspectorHistory(ledger, deployBlock);
    for (const unitId of new Set(records.flatMap((r) => ("kind" in r ? [] : [r.envelope.unitId]))))
      histories.set(unitId, await fetchUnitHistory(ledger, unitId));

    // Signature work on every core; small logs are not worth starting workers for.
    const pool = records.length >= 20_000 ? new VerifyPool(availableParallelism()) : null;
    const input = {
      domain: eip712Domain(info.chainId, info.contracts.DutyLedger),
      logId: info.logId,
      predecessorLogIds,
      checkpoints,
      afterSeal,
      records,
      unitHistory: (unitId: string) => histories.get(unitId) ?? { keys: [], statuses: [] },
      recover: recoverSigner,
      inspectorActiveAt: (inspector: string, t: number) => inspectorActiveAt(inspectors.get(inspector) ?? [], t),
      onProgress: target.onProgress ? (done: number) => target.onProgress!(done, total) : undefined,
    };
    let report: ReplayReport;
    try {
      report = pool ? await replayOnWorkers(input, pool) : replay(input);
    } finally {
      await pool?.close();
    }
    return { ...report, chainId, contract: info.contracts.DutyLedger, logId: info.logId };
  } finally {
    provider.destroy();
  }
}
