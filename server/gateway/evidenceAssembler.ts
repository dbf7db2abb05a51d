/**
 * The one assembler of evidence: every receipt (of a record, of a demand) and every bundle
 * (export, evidence package, the bundle of a monthly summary) the gateway serves is built here,
 * so each rule is written once: an erased record travels as its receipt and erasure notice, every
 * bundled record brings its whole line of corrections and withdrawals, and every bundle names
 * the log its receipts are anchored in.
 *
 * Bundles are written item by item to a sink that may hold the writer back (an HTTP response
 * under backpressure), so memory stays bounded by one item and a page of index keys, whatever
 * the number of records.
 */
import { SUITE_SM2, isSmSignature } from "../core/smSuite.ts";
import { bytesToHex } from "../core/bytes.ts";
import type { RecordEnvelope } from "../core/record.ts";
import type { Deployment } from "../chain/deployment.ts";
import type { LedgerStore, StoredCheckpoint, StoredRecord } from "../store/LedgerStore.ts";
import { noticesOf } from "./ledgerNotices.ts";
import { checkpointNoteAt } from "./SignedCheckpoints.ts";

/** Where JSON text goes: the returned promise settles when the sink can take more. */
export interface JsonSink {
  write(text: string): Promise<void>;
}

/** What the assembler reads: the store and the deployment its receipts name. */
export interface EvidenceSources {
  store: LedgerStore;
  deployment: Deployment;
}

/** The first anchored checkpoint covering a leaf and the leaf's inclusion proof into it. */
async function anchorOf(store: LedgerStore, leafIndex: number) {
  const checkpoint = await store.anchoredCheckpointCovering(leafIndex);
  if (!checkpoint) return undefined;
  const proof = (await store.inclusionProof(leafIndex, checkpoint.size)).map(bytesToHex);
  // The signed note of that same checkpoint, with the cosignatures gathered so far (none for a
  // checkpoint anchored before the log had a key). A sealed predecessor's checkpoints keep the
  // notes signed under its origin: its receipts are served as they were before the seal.
  const checkpointNote = await checkpointNoteAt(store, checkpoint.size);
  return { checkpoint, proof, checkpointNote };
}

/** Where a leaf was anchored: the checkpoint, the proof into it and the chain that holds it. */
function anchoringFacts(
  checkpoint: StoredCheckpoint,
  proof: string[],
  deployment: Deployment,
  checkpointNote?: string,
) {
  return {
    treeSize: checkpoint.size,
    root: checkpoint.root,
    inclusionProof: proof,
    // A checkpoint kept from a sealed predecessor log names that log (docs/protocol.md §2).
    logId: checkpoint.logId ?? deployment.logId,
    chainId: deployment.chainId,
    contract: deployment.address,
    transactionHash: checkpoint.txHash,
    blockNumber: checkpoint.blockNumber,
    anchoredAt: checkpoint.anchoredAt,
    ...(checkpointNote !== undefined ? { checkpointNote } : {}),
  };
}

/** The receipt of an anchored record: everything needed to verify it with an EVM client. */
function anchoredReceipt(
  record: StoredRecord,
  anchor: { checkpoint: StoredCheckpoint; proof: string[]; checkpointNote?: string },
  d: Deployment,
) {
  const facts = anchoringFacts(anchor.checkpoint, anchor.proof, d, anchor.checkpointNote);
  // A version 2 record signed for a sealed log and carried over to its successor (docs/protocol.md
  // §2) names the log it was signed for; its signature binds that log, not the receipt's.
  const signedFor = "logId" in record.envelope ? record.envelope.logId : undefined;
  return {
    status: "anchored" as const,
    // The record envelope's version: a version 2 record's signature binds `logId` below.
    version: record.envelope.version,
    recordId: record.recordId,
    unitId: record.envelope.unitId,
    dutyTypeId: record.envelope.dutyTypeId,
    performedAt: record.envelope.performedAt,
    // Receipts of the SM suite say so; one without `suite` is of the EIP-712 suite.
    ...(isSmSignature(record.signature) ? { suite: SUITE_SM2 } : {}),
    signer: record.signer,
    signature: record.signature,
    leafHash: record.leafHash,
    leafIndex: record.leafIndex,
    ...facts,
    ...(signedFor !== undefined && signedFor !== facts.logId ? { signedLogId: signedFor } : {}),
    acceptedAt: Math.floor(record.receivedAt / 1000),
  };
}

/**
 * A record's receipt as served: 202 and where its leaf is while no anchored checkpoint covers
 * it; 200 and the anchored receipt with the gateway's notices (amended, erased) once one does.
 */
export async function recordReceipt(
  { store, deployment }: EvidenceSources,
  record: StoredRecord,
): Promise<[number, Record<string, unknown>]> {
  const anchor = await anchorOf(store, record.leafIndex);
  if (!anchor) {
    return [
      202,
      { status: "pending", recordId: record.recordId, leafIndex: record.leafIndex, leafHash: record.leafHash },
    ];
  }
  return [200, { ...anchoredReceipt(record, anchor, deployment), ...(await noticesOf(store, record)) }];
}

/**
 * What a leaf hash alone is answered with: whether and when the leaf was anchored, with its
 * proof. Leaf hashes are public (proofs, tiles), so the record's unit, duty type, times and
 * signer are for the holder of its record id (recordReceipt), never for a leaf hash.
 */
export async function leafReceipt(
  { store, deployment }: EvidenceSources,
  leafHash: string,
  leafIndex: number,
): Promise<[number, Record<string, unknown>]> {
  const anchor = await anchorOf(store, leafIndex);
  if (!anchor) return [202, { status: "pending", leafHash, leafIndex }];
  return [
    200,
    {
      status: "anchored",
      leafHash,
      leafIndex,
      ...anchoringFacts(anchor.checkpoint, anchor.proof, deployment, anchor.checkpointNote),
    },
  ];
}

/** A demand's receipt: its log entry, with an inclusion proof once an anchored checkpoint covers it. */
export async function demandReceipt(
  { store, deployment }: EvidenceSources,
  entry: { demandId: string; leafIndex: number; leafHash: string },
): Promise<Record<string, unknown>> {
  const anchor = await anchorOf(store, entry.leafIndex);
  if (!anchor) return { status: "pending", ...entry };
  return {
    status: "anchored",
    demandId: entry.demandId,
    leafHash: entry.leafHash,
    leafIndex: entry.leafIndex,
    ...anchoringFacts(anchor.checkpoint, anchor.proof, deployment, anchor.checkpointNote),
  };
}

/** One item of a bundle; undefined while the record is not anchored. */
export async function bundleItem({ store, deployment }: EvidenceSources, record: StoredRecord) {
  const anchor = await anchorOf(store, record.leafIndex);
  if (!anchor) return undefined;
  const receipt = anchoredReceipt(record, anchor, deployment);
  // An erased record travels as its receipt and erasure notice: its remaining content can no
  // longer be checked against the digest, so it is not offered as if it could.
  return record.erasure
    ? { receipt, erasure: record.erasure }
    : { envelope: record.envelope as RecordEnvelope, receipt };
}

/** The log a bundle's receipts are anchored in, and the block its ledger was deployed in. */
export function bundleLog(deployment: Deployment) {
  return {
    chainId: deployment.chainId,
    contract: deployment.address,
    logId: deployment.logId,
    deployBlock: deployment.deployBlock,
  };
}

/** The records a bundle is made of. */
export interface BundleSelection {
  /** The query the bundle answers, as written in it. */
  query: Record<string, unknown>;
  /** The selected records, each once. */
  records: AsyncIterable<StoredRecord>;
  /** Whether `records` yields this record (then it is not added again as part of a line). */
  selects(record: StoredRecord): boolean;
  /** Unix seconds, the gateway's clock. */
  createdAt: number;
}

/** What a written bundle held. */
export interface BundleTally {
  /** Selected records that are anchored (items), and those that are not yet (left out). */
  anchored: number;
  pending: number;
  /** Selected anchored records that answer an evidence demand. */
  answering: number;
  /** Records added as part of a selected record's line of amendments (items or pending). */
  amendments: number;
}

/**
 * Writes one bundle (dutyproof/bundle/v1) to `sink`: the selected records, each followed by the
 * records of its amendment line that are not selected themselves (the records it amends, back to
 * the original, and those amending it, up to the latest), whatever their dates, so the bundle
 * alone shows what superseded what. Anchored records are items; the others are counted in
 * `pending`.
 */
export async function writeBundle(
  sink: JsonSink,
  sources: EvidenceSources,
  selection: BundleSelection,
): Promise<BundleTally> {
  const { store } = sources;
  const tally: BundleTally = { anchored: 0, pending: 0, answering: 0, amendments: 0 };
  let pending = 0;
  let first = true;
  const emit = async (record: StoredRecord): Promise<boolean> => {
    const item = await bundleItem(sources, record);
    if (!item) {
      pending++;
      return false;
    }
    await sink.write((first ? "" : ",") + JSON.stringify(item));
    first = false;
    return true;
  };
  // Records added for a line, by id: as many as the selection's amendments, not its records.
  const added = new Set<string>();
  const visit = async (recordId: string | undefined): Promise<void> => {
    if (recordId === undefined || added.has(recordId)) return;
    const record = await store.getRecord(recordId);
    // A selected record is written by the selection, with its own line.
    if (!record || selection.selects(record)) return;
    added.add(recordId);
    tally.amendments++;
    await emit(record);
    await visit(record.envelope.amends?.recordId);
    await visit((await store.amendmentOf(recordId))?.recordId);
  };

  await sink.write(
    `{"format":"dutyproof/bundle/v1","createdAt":${JSON.stringify(selection.createdAt)},` +
      `"query":${JSON.stringify(selection.query)},"items":[`,
  );
  for await (const record of selection.records) {
    if (await emit(record)) {
      tally.anchored++;
      if (record.envelope.demandId) tally.answering++;
    } else tally.pending++;
    await visit(record.envelope.amends?.recordId);
    await visit((await store.amendmentOf(record.recordId))?.recordId);
  }
  await sink.write(`],"pending":${pending},"log":${JSON.stringify(bundleLog(sources.deployment))}}`);
  return tally;
}

/**
 * Writes a JSON object of `head`'s members followed by one member whose value `writeValue`
 * writes, then the members `tail` returns once it has (counts known only after streaming).
 * Precondition: `head` is a plain object whose members do not include `key`.
 */
export async function writeObjectWith<T>(
  sink: JsonSink,
  head: Record<string, unknown>,
  key: string,
  writeValue: () => Promise<T>,
  tail: (written: T) => Record<string, unknown> = () => ({}),
): Promise<T> {
  const opening = JSON.stringify(head);
  await sink.write(`${opening.slice(0, -1)}${opening.length > 2 ? "," : ""}${JSON.stringify(key)}:`);
  const written = await writeValue();
  const closing = JSON.stringify(tail(written));
  await sink.write(closing.length > 2 ? `,${closing.slice(1)}` : "}");
  return written;
}

/** A sink that keeps the text (for callers that need the whole document as a value). */
export function textSink(): JsonSink & { text(): string } {
  const parts: string[] = [];
  return {
    write: async (text) => {
      parts.push(text);
    },
    text: () => parts.join(""),
  };
}

/**
 * The stored records of ids yielded by `keys`, read a few at a time, skipping ids without a
 * record (never the case for an index derived from the log, but a reader does not trust that).
 */
export async function* recordsOf(store: LedgerStore, ids: AsyncIterable<string>): AsyncGenerator<StoredRecord> {
  for await (const recordId of ids) {
    const record = await store.getRecord(recordId);
    if (record) yield record;
  }
}
