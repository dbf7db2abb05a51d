/** Worker thread of VerifyPool: derives digests, leaf hashes and signers for a chunk of records. */
import { parentPort } from "node:worker_threads";
import type { Eip712Domain } from "../core/eip712.ts";
import type { RecordEnvelope } from "../core/record.ts";
import { deriveOutcome } from "./deriveRecord.ts";
import { installNativeHashes } from "./nativeHashes.ts";

installNativeHashes();

interface Job {
  id: number;
  domain: Eip712Domain;
  items: Array<{ envelope: RecordEnvelope; signature: string }>;
}

parentPort!.on("message", (job: Job) => {
  // Each item on its own: one that cannot be derived (no canonical form) fails alone, never the
  // chunk, which holds other submitters' records.
  const results = job.items.map((item) => deriveOutcome(item.envelope, item.signature, job.domain));
  parentPort!.postMessage({ id: job.id, results });
});

// Loaded: the pool counts a worker ready once this arrives.
parentPort!.postMessage({ id: -1 });
