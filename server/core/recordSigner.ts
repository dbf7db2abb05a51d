/**
 * The one place that decides who signed a record, in either suite: an EIP-712 signature
 * (65 bytes) recovers its secp256k1 address, an SM-suite signature value (128 bytes, core/smSuite.ts)
 * verifies under the public key it carries and gives that key's id. The gateway, the verifier,
 * replay and the monitor all ask here, so the suites are told apart in one way only.
 */
import { type Eip712Domain, recordMessageDigest } from "./eip712.ts";
import type { DutyRecordMessage } from "./record.ts";
import { type SuiteName, isSmSignature, smSignerOf, smSigningBytes, suiteOfSignature } from "./smSuite.ts";

/** Recovers the lower-case address that signed an EIP-712 digest, or null (an adapter's native secp256k1). */
export type RecoverSigner = (digest: Uint8Array, signature: string) => string | null;

/**
 * The signer (lower-case address or SM2 key id) of a record's signature, or null when it is
 * malformed or does not verify. `digest` is the record digest the log keeps; `suite`, when the
 * envelope is at hand, is the suite it declares: a signature of the other suite gives null, so a
 * record can never be taken for the other suite's. An SM-suite record must name its log
 * (envelope version 2).
 */
export function recordSignerOf(
  domain: Eip712Domain,
  message: Pick<DutyRecordMessage, "logId" | "unitId" | "dutyTypeId" | "performedAt">,
  digest: Uint8Array,
  signature: string,
  recover: RecoverSigner,
  suite?: SuiteName,
): string | null {
  if (suite !== undefined && suite !== suiteOfSignature(signature)) return null;
  if (!isSmSignature(signature)) return recover(recordMessageDigest(domain, message, digest), signature);
  if (message.logId === undefined) return null;
  let bytes: Uint8Array;
  try {
    bytes = smSigningBytes(
      {
        chainId: domain.chainId,
        contract: domain.verifyingContract,
        logId: message.logId,
        unitId: message.unitId,
        dutyTypeId: message.dutyTypeId,
        performedAt: message.performedAt,
      },
      digest,
    );
  } catch {
    return null;
  }
  return smSignerOf(bytes, signature);
}
