/**
 * One pass of a monitor over a log: from the state it saved last time to the log's latest
 * signed checkpoint. It checks the checkpoint's signature with the key pinned on the first run,
 * the witnesses' cosignatures against a quorum, the new entries against the saved right edge
 * (core/monitor.ts), each anchored root on chain, and — with an auditor token — each new record
 * or demand as replay does (core/replay.ts). It reads only the bundles and tiles of the new
 * range, so a pass costs what the log grew by, not what it holds.
 */
import { JsonRpcProvider } from "ethers";
import { bytesEqual, bytesToHex, hexToBytes } from "../core/bytes.ts";
import { eip712Domain } from "../core/eip712.ts";
import { DutyproofError } from "../core/errors.ts";
import {
  type MonitorFinding,
  type MonitorState,
  type MonitorStateJson,
  advanceMonitor,
  initialMonitorState,
  monitorStateFromJson,
  monitorStateToJson,
} from "../core/monitor.ts";
import { type NoteVerifier, formatVerifierKey, openCheckpoint, parseVerifierKey } from "../core/note.ts";
import { leafDataOf } from "../core/record.ts";
import { hashLeaf } from "../core/merkle/hasher.ts";
import { type AuditLogItem, type AuditRecord, AmendmentTracker, type Finding, checkRecord } from "../core/replay.ts";
import { checkDemandEntry, inspectorActiveAt } from "../core/demandAudit.ts";
import { checkConfirmationEntry } from "../core/confirmation.ts";
import { isAuditTipEntry, tipBodyDigest, tipLeafHashOf } from "../core/tip.ts";
import { verifyTipProof } from "./tipProofs.ts";
import type { KeyPeriodFact, StatusPeriodFact } from "../core/verifier.ts";
import { fetchUnitHistory, ledgerAt } from "../chain/chainHistory.ts";
import { fetchInspectorHistory } from "../burden/inspectorHistory.ts";
import { recoverSigner } from "../crypto/recoverSigner.ts";
import { TlogReadError, TlogReader } from "./tlogReader.ts";

/** What a monitor keeps in its state file. */
export interface MonitorFileState {
  version: 1;
  /** The log's origin; a state file of another origin is refused. */
  origin: string;
  /** The log's verifier key, pinned on the first run. */
  logKey: string;
  chainId: number;
  contract: string;
  logId: string;
  tree: MonitorStateJson;
  /** The last checkpoint note verified, as served (with its cosignatures). */
  checkpoint: string | null;
  /** Last block scanned for CheckpointAnchored events. */
  chainBlock: number;
}

/** Where and how to monitor. */
export interface MonitorTarget {
  gatewayUrl: string;
  /** An auditor token: each new record's content is then checked too (needs rpcUrl). */
  token?: string;
  rpcUrl?: string;
  witnesses: NoteVerifier[];
  /** Valid cosignatures required; 0 when no witness is given. */
  quorum: number;
}

/** One finding with the leaf or checkpoint size it is at. */
export type MonitorReportFinding = Omit<MonitorFinding, "kind"> & { kind: MonitorFinding["kind"] | Finding["kind"] };

export interface MonitorPass {
  state: MonitorFileState;
  findings: MonitorReportFinding[];
  /** Entries checked in this pass (0 when nothing was new or the pass stopped at a finding). */
  checked: number;
}

/** The state file belongs to another log, or is not a monitor state: refused, never overwritten. */
export class MonitorStateError extends Error {}

/** Parses a state file's JSON; throws MonitorStateError unless it is a well-formed state. */
export function parseMonitorState(text: string): MonitorFileState {
  try {
    const json = JSON.parse(text) as MonitorFileState;
    if (json.version !== 1 || typeof json.origin !== "string" || typeof json.logKey !== "string")
      throw new Error("not a monitor state");
    const tree = monitorStateFromJson(json.tree);
    if (tree.origin !== json.origin) throw new Error("its tree is of another origin");
    parseVerifierKey(json.logKey);
    return json;
  } catch (error) {
    throw new MonitorStateError(`the state file is not a monitor's state (${(error as Error).message})`, {
      cause: error,
    });
  }
}

interface GatewayInfo {
  chainId: number;
  contracts: { DutyLedger: string };
  logId: string;
  deployBlock: number;
  tlog?: { origin: string; verifierKey: string };
}

async function getJson(url: string, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  let res: Response;
  try {
    res = await fetch(url, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(60_000),
    });
  } catch (error) {
    throw new Error(`the gateway at ${new URL(url).origin} does not answer`, { cause: error });
  }
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/**
 * Runs one pass. `saved` is the state of the last pass (null on the first). The returned state
 * has advanced only if the pass found nothing, so a problem is reported again on the next pass
 * rather than forgotten. Throws MonitorStateError for a state of another log; throws an Error
 * when the gateway or the chain cannot be reached (no finding can be made then).
 */
export async function monitorOnce(target: MonitorTarget, saved: MonitorFileState | null): Promise<MonitorPass> {
  const gateway = target.gatewayUrl.replace(/\/+$/, "");
  const info = (await getJson(`${gateway}/v1/info`)).body as unknown as GatewayInfo;
  if (!info.tlog || typeof info.tlog.origin !== "string" || typeof info.tlog.verifierKey !== "string")
    throw new Error("the gateway does not publish a tlog origin and verifier key in /v1/info");
  const findings: MonitorReportFinding[] = [];
  if (saved && saved.origin !== info.tlog.origin)
    throw new MonitorStateError(
      `the state file follows log ${saved.origin}, this gateway serves ${info.tlog.origin}: refusing to mix them`,
    );
  const state: MonitorFileState = saved ?? {
    version: 1,
    origin: info.tlog.origin,
    logKey: formatVerifierKey(parseVerifierKey(info.tlog.verifierKey)),
    chainId: info.chainId,
    contract: info.contracts.DutyLedger.toLowerCase(),
    logId: info.logId,
    tree: monitorStateToJson(initialMonitorState(info.tlog.origin)),
    checkpoint: null,
    chainBlock: Math.max(0, info.deployBlock - 1),
  };
  if (info.tlog.verifierKey !== state.logKey) {
    findings.push({
      kind: "log.key_changed",
      detail: `the log now names verifier key ${info.tlog.verifierKey}, the key pinned is ${state.logKey}`,
    });
  }
  const unchanged: MonitorPass = { state, findings, checked: 0 };

  // The checkpoint, opened with the pinned key only: a key the log swapped in proves nothing.
  const reader = new TlogReader(`${gateway}/tlog/`);
  let note: string;
  let opened: ReturnType<typeof openCheckpoint>;
  try {
    note = await reader.checkpoint();
    opened = openCheckpoint(note, parseVerifierKey(state.logKey), state.origin, target.witnesses);
  } catch (error) {
    if (!(error instanceof DutyproofError) && !(error instanceof TlogReadError)) throw error;
    // A new log has signed nothing yet; a log that had and now serves none is a finding.
    if (error instanceof TlogReadError && error.status === 404 && state.tree.size === 0) return unchanged;
    findings.push({
      kind: error instanceof TlogReadError ? "log.unreadable" : "checkpoint.bad_signature",
      detail: `the log's checkpoint does not open: ${error.message}`,
    });
    return unchanged;
  }
  const { checkpoint } = opened;
  const cosigners = new Set(opened.cosignatures.map((c) => c.verifier));
  if (cosigners.size < target.quorum) {
    findings.push({
      kind: "checkpoint.quorum_not_met",
      checkpointSize: checkpoint.size,
      detail: `${cosigners.size} valid witness cosignature(s) on checkpoint ${checkpoint.size}, the quorum is ${target.quorum}`,
    });
  }

  const tree = monitorStateFromJson(state.tree);
  const chain = target.rpcUrl ? await readChain(target.rpcUrl, state, tree, checkpoint.size, findings) : null;
  try {
    let entries: Uint8Array[];
    try {
      entries = await reader.entries(tree.size, checkpoint.size, checkpoint.size);
    } catch (error) {
      if (!(error instanceof TlogReadError)) throw error;
      findings.push({ kind: "log.unreadable", leafIndex: tree.size, detail: error.message });
      return unchanged;
    }
    const step = { size: checkpoint.size, root: checkpoint.rootHash, entries, anchored: chain?.anchored };
    let result = advanceMonitor(tree, step);
    if (result.wantsTreeLeafHashes) {
      try {
        const treeLeafHashes = await reader.leafHashes(tree.size, checkpoint.size, checkpoint.size);
        result = advanceMonitor(tree, { ...step, treeLeafHashes });
      } catch (error) {
        if (!(error instanceof TlogReadError)) throw error;
        findings.push({ kind: "log.unreadable", leafIndex: tree.size, detail: error.message });
      }
    }
    findings.push(...result.findings);
    if (result.findings.length === 0 && target.token && chain) {
      findings.push(...(await checkContent(target, gateway, info, chain, tree, entries)));
    }
    const clean = findings.length === 0;
    const next: MonitorFileState = clean
      ? {
          ...state,
          tree: monitorStateToJson(result.state),
          checkpoint: note,
          chainBlock: chain?.scannedTo ?? state.chainBlock,
        }
      : state;
    return { state: next, findings, checked: clean ? checkpoint.size - tree.size : 0 };
  } finally {
    chain?.provider.destroy();
  }
}

interface ChainView {
  provider: JsonRpcProvider;
  ledger: ReturnType<typeof ledgerAt>;
  anchored: Array<{ size: number; root: Uint8Array; anchoredAt: number }>;
  scannedTo: number;
}

/**
 * What the chain says about the new range, and whether it still holds what was verified
 * before: a chain node restored from an older copy, or a stored root overwritten, loses the
 * checkpoint the monitor saw anchored.
 */
async function readChain(
  rpcUrl: string,
  state: MonitorFileState,
  tree: MonitorState,
  newSize: number,
  findings: MonitorReportFinding[],
): Promise<ChainView> {
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  try {
    const chainId = Number(await provider.send("eth_chainId", []));
    if (chainId !== state.chainId)
      throw new Error(`the RPC endpoint serves chain ${chainId}, the log anchors to ${state.chainId}`);
    const ledger = ledgerAt(provider, state.contract);
    const at = async (size: number) => {
      const [found, stored] = (await ledger.getFunction("checkpointAt")(state.logId, size)) as [
        boolean,
        { root: string; anchoredAt: bigint },
      ];
      return found ? { root: hexToBytes(stored.root), anchoredAt: Number(stored.anchoredAt) } : null;
    };
    if (tree.size > 0) {
      const held = await at(tree.size);
      if (!held || !bytesEqual(held.root, tree.root)) {
        findings.push({
          kind: "chain.checkpoint_lost",
          checkpointSize: tree.size,
          detail: held
            ? `the chain now stores root ${bytesToHex(held.root)} for size ${tree.size}, which was verified anchored with root ${bytesToHex(tree.root)}`
            : `the chain no longer holds the checkpoint of size ${tree.size} that was verified anchored: the chain was rolled back`,
        });
      }
    }
    const latestBlock = await provider.getBlockNumber();
    if (latestBlock < state.chainBlock) {
      findings.push({
        kind: "chain.checkpoint_lost",
        checkpointSize: tree.size,
        detail: `the chain is at block ${latestBlock}, below block ${state.chainBlock} already scanned: the chain was rolled back`,
      });
    }
    const anchored: ChainView["anchored"] = [];
    if (newSize > tree.size) {
      const events = await ledger.queryFilter(
        ledger.filters.CheckpointAnchored!(state.logId),
        Math.min(state.chainBlock + 1, latestBlock),
        latestBlock,
      );
      const sizes = new Set<number>([newSize]);
      for (const event of events) {
        const size = Number((event as unknown as { args: { size: bigint } }).args.size);
        if (size > tree.size && size <= newSize) sizes.add(size);
      }
      for (const size of [...sizes].sort((a, b) => a - b)) {
        const stored = await at(size);
        if (stored) anchored.push({ size, ...stored });
        else if (size === newSize)
          findings.push({
            kind: "chain.not_anchored",
            checkpointSize: size,
            detail: `the log signed checkpoint ${size}, the chain holds no checkpoint of that size`,
          });
      }
    }
    return { provider, ledger, anchored, scannedTo: latestBlock };
  } catch (error) {
    provider.destroy();
    throw error;
  }
}

/**
 * With an auditor token: each new record or demand fetched from the audit feed and checked as
 * replay checks it (content, signature, key valid then, amendment and demand rules), and each
 * must be the one its log entry commits to.
 */
async function checkContent(
  target: MonitorTarget,
  gateway: string,
  info: GatewayInfo,
  chain: ChainView,
  tree: MonitorState,
  entries: Uint8Array[],
): Promise<MonitorReportFinding[]> {
  const findings: Finding[] = [];
  const mismatches: MonitorReportFinding[] = [];
  const domain = eip712Domain(info.chainId, info.contracts.DutyLedger);
  const end = tree.size + entries.length;
  const feed: AuditLogItem[] = [];
  for (let from: number | null = tree.size; from !== null && from < end;) {
    const page = await getJson(
      `${gateway}/v1/audit/records?from=${from}&limit=${Math.min(2000, end - from)}`,
      target.token,
    );
    if (page.status !== 200)
      throw new Error(`the gateway refused the audit feed (${page.status}): ${String(page.body.detail)}`);
    feed.push(...(page.body.records as AuditLogItem[]));
    from = page.body.next as number | null;
  }
  const histories = new Map<string, { keys: KeyPeriodFact[]; statuses: StatusPeriodFact[] }>();
  for (const unitId of new Set(feed.flatMap((r) => ("kind" in r ? [] : [r.envelope.unitId]))))
    histories.set(unitId, await fetchUnitHistory(chain.ledger, unitId));
  const inspectors = feed.some((r) => "kind" in r && r.kind === "demand")
    ? await fetchInspectorHistory(chain.ledger, 0)
    : new Map();
  const input = {
    domain,
    logId: info.logId,
    unitHistory: (unitId: string) => histories.get(unitId) ?? { keys: [], statuses: [] },
    recover: recoverSigner,
  };
  const amendments = new AmendmentTracker();
  await seedAmendmentTargets(amendments, feed, gateway, target.token!);
  const byIndex = new Map(feed.map((r) => [r.leafIndex, r]));
  for (let i = tree.size; i < end; i++) {
    const item = byIndex.get(i);
    const entry = entries[i - tree.size]!;
    if (!item) {
      findings.push({ kind: "record.missing", leafIndex: i, detail: `the audit feed has no record for leaf ${i}` });
      continue;
    }
    const anchoredAt = chain.anchored.find((c) => c.size > i)?.anchoredAt;
    if ("kind" in item && item.kind === "confirmation") {
      const checked = checkConfirmationEntry(item);
      for (const p of checked.problems) findings.push({ ...p, leafIndex: i, recordId: item.entryId });
      if (!bytesEqual(hashLeaf(entry), checked.leafHash)) mismatches.push(contentMismatch(i, item.entryId));
      continue;
    }
    if (isAuditTipEntry(item)) {
      // The group's earlier roots and nullifiers are a full replay's to check; here the entry
      // and its proof.
      const digest = tipBodyDigest(item.body);
      if (bytesToHex(digest) !== item.entryId || !bytesEqual(hashLeaf(entry), tipLeafHashOf(item.body.type, digest))) {
        mismatches.push(contentMismatch(i, item.entryId));
      } else if (item.body.type === "tip" && !(await verifyTipProof(item.body.proof))) {
        findings.push({
          kind: "tip.bad_proof",
          leafIndex: i,
          recordId: item.entryId,
          detail: "the membership proof does not verify",
        });
      }
      continue;
    }
    if ("kind" in item) {
      const checked = checkDemandEntry(item, domain, recoverSigner, (inspector, t) =>
        inspectorActiveAt(inspectors.get(inspector) ?? [], t),
      );
      for (const p of checked.problems) findings.push({ ...p, leafIndex: i, recordId: item.entryId });
      if (!bytesEqual(hashLeaf(entry), checked.leafHash)) mismatches.push(contentMismatch(i, item.entryId));
      continue;
    }
    // The entry must be the leaf of the fed record and signature, in its suite's format.
    if (!bytesEqual(entry, committedLeafOf(item))) {
      mismatches.push(contentMismatch(i, item.recordId));
      continue;
    }
    const before = findings.length;
    checkRecord(item, i, anchoredAt, input, findings);
    if (!findings.slice(before).some((f) => f.detail === "not a well-formed record"))
      amendments.visit(item, i, findings);
  }
  // An erased record is a lawful fact, not a problem (replay reports it as information).
  return [...mismatches, ...findings.filter((f) => f.kind !== "record.erased")].sort(
    (a, b) => (a.leafIndex ?? 0) - (b.leafIndex ?? 0),
  );
}

/** The leaf a fed record and signature make, or an empty array when they make none. */
function committedLeafOf(item: AuditRecord): Uint8Array {
  try {
    return leafDataOf(hexToBytes(item.recordId), item.signature);
  } catch {
    return new Uint8Array(0);
  }
}

function contentMismatch(leafIndex: number, id: string): MonitorReportFinding {
  return {
    kind: "entry.content_mismatch",
    leafIndex,
    recordId: id,
    detail: `the audit feed's entry ${id} at leaf ${leafIndex} is not the one the log's entry commits to`,
  };
}

/**
 * Records amended by the new ones but logged before this pass are fetched, so the amendment
 * rules see their unit and duty type; whether an earlier pass already saw them amended is not
 * known here (a full replay checks that).
 */
async function seedAmendmentTargets(
  amendments: AmendmentTracker,
  feed: AuditLogItem[],
  gateway: string,
  token: string,
): Promise<void> {
  const inFeed = new Set(feed.flatMap((r) => ("kind" in r ? [] : [r.recordId])));
  const wanted = new Set<string>();
  for (const r of feed) {
    if ("kind" in r) continue;
    const target = (r.envelope as { amends?: { recordId: string } }).amends?.recordId;
    if (target && !inFeed.has(target)) wanted.add(target);
  }
  for (const recordId of wanted) {
    const { status, body } = await getJson(`${gateway}/v1/attestations/${recordId}`, token);
    if (status !== 200) continue; // left unseen: the tracker then reports the target as not found
    amendments.visit(body as unknown as AuditRecord, Number(body.leafIndex), []);
  }
}
