/**
 * The CPU-heavy part of checking a submission: the record's digest, its leaf hash and the key
 * that signed it. A pure function of its input, so it runs the same inline or in a worker.
 */
import { bytesToHex } from "../core/bytes.ts";
import { type Eip712Domain, recordMessageDigest, signatureBytes, signatureParts } from "../core/eip712.ts";
import { type RecordEnvelope, leafHashOf, recordDigest } from "../core/record.ts";
import { recordSignerOf } from "../core/recordSigner.ts";
import { SUITE_EIP712, isSmSignature, suiteOfEnvelope } from "../core/smSuite.ts";
import { recoverSigner, recoverSignerFromParts } from "./recoverSigner.ts";

export interface DerivedRecord {
  recordId: string;
  leafHash: string;
  /** The recovered signer (lower case), or null for a malformed, high-s or unrecoverable signature. */
  signer: string | null;
}

/** What the signature work made of one submission: its derivation, or why it has none. */
export type DeriveOutcome = DerivedRecord | { error: string };

/** deriveRecord that answers a failure (e.g. a string with no canonical form) instead of throwing. */
export function deriveOutcome(envelope: RecordEnvelope, signature: string, domain: Eip712Domain): DeriveOutcome {
  try {
    return deriveRecord(envelope, signature, domain);
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

export function deriveRecord(envelope: RecordEnvelope, signature: string, domain: Eip712Domain): DerivedRecord {
  const digest = recordDigest(envelope);
  // The signature's bytes are decoded once, for the recovery and for the leaf. A signature that
  // is hex of the right length but high-s (or otherwise invalid) still gets its leaf hash: the
  // gateway answers a replay of an accepted record by comparing leaf hashes.
  if (isSmSignature(signature)) {
    // The SM suite (core/smSuite.ts): the signature value carries its key; no recovery.
    const signer = recordSignerOf(domain, envelope, digest, signature, recoverSigner, suiteOfEnvelope(envelope));
    return { recordId: bytesToHex(digest), leafHash: bytesToHex(leafHashOf(digest, signature)), signer };
  }
  const bytes = signatureBytes(signature);
  // An envelope of the SM suite under an EIP-712 signature is refused like any bad signature.
  const parts = bytes && suiteOfEnvelope(envelope) === SUITE_EIP712 ? signatureParts(bytes) : null;
  const signer = parts ? recoverSignerFromParts(recordMessageDigest(domain, envelope, digest), parts) : null;
  const leafHash = leafHashOf(digest, bytes ?? signature);
  return { recordId: bytesToHex(digest), leafHash: bytesToHex(leafHash), signer };
}
