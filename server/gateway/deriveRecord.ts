/**
 * The CPU-heavy part of checking a submission: the record's digest, its leaf hash and the key
 * that signed it. A pure function of its input, so it runs the same inline or in a worker.
 */
import { bytesToHex } from "../core/bytes.ts";
import { type Eip712Domain, typedDataDigest } from "../core/eip712.ts";
import { type RecordEnvelope, leafHashOf, recordDigest, signedMessageOf } from "../core/record.ts";
import { recoverSigner } from "../crypto/recoverSigner.ts";

export interface DerivedRecord {
  recordId: string;
  leafHash: string;
  /** The recovered signer (lower case), or null for a malformed, high-s or unrecoverable signature. */
  signer: string | null;
}

export function deriveRecord(envelope: RecordEnvelope, signature: string, domain: Eip712Domain): DerivedRecord {
  const digest = recordDigest(envelope);
  const signer = recoverSigner(typedDataDigest(domain, signedMessageOf(envelope, digest)), signature);
  return { recordId: bytesToHex(digest), leafHash: bytesToHex(leafHashOf(digest, signature)), signer };
}
