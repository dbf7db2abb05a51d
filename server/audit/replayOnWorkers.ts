/**
 * Replay with the signature work on worker threads: the records' digests, leaf hashes and
 * signers are derived by a VerifyPool a few chunks ahead, while this thread rebuilds the tree
 * and checks each chunk as it comes back. The findings are those of `replay`: a derivation is
 * only a shortcut for work the replay core would otherwise do itself, with the same code.
 */
import {
  LogReplayer,
  type AuditLogItem,
  type AuditRecord,
  type ReplayInput,
  type ReplayReport,
} from "../core/replay.ts";
import type { RecordEnvelope } from "../core/record.ts";
import type { VerifyPool } from "../crypto/VerifyPool.ts";

/** Records a worker can derive: complete envelopes (not erased) with a signature string. */
const derivable = (r: AuditLogItem): r is AuditRecord =>
  !("kind" in r) &&
  r.erasure === undefined &&
  typeof r.signature === "string" &&
  typeof r.envelope === "object" &&
  r.envelope !== null &&
  typeof r.envelope.salt === "string";

export async function replayOnWorkers(
  input: Omit<ReplayInput, "records"> & { records: AuditLogItem[] },
  pool: VerifyPool,
  options: { chunk?: number; ahead?: number } = {},
): Promise<ReplayReport> {
  const { records } = input;
  const chunk = options.chunk ?? 5_000;
  const ahead = options.ahead ?? 4;
  const replayer = new LogReplayer(input);
  const jobs: Array<Promise<void>> = [];
  const submit = (at: number) => {
    const part = records.slice(at, at + chunk).filter(derivable);
    jobs.push(
      pool
        .derive(
          input.domain,
          part.map((r) => ({ envelope: r.envelope as RecordEnvelope, signature: r.signature })),
        )
        .then(
          (derived) =>
            derived.forEach((d, i) => {
              part[i]!.derived = { recordId: d.recordId, signer: d.signer, leafHash: d.leafHash };
            }),
          // A chunk a worker could not derive is checked here, record by record.
          () => {},
        ),
    );
  };
  for (let k = 0; k < ahead && k * chunk < records.length; k++) submit(k * chunk);
  for (let k = 0; k * chunk < records.length; k++) {
    await jobs[k];
    if ((k + ahead) * chunk < records.length) submit((k + ahead) * chunk);
    for (let i = k * chunk; i < Math.min(records.length, (k + 1) * chunk); i++) replayer.add(records[i]!);
  }
  return replayer.finish();
}
