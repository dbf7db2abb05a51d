/**
 * A unit's signing key as `submit` uses it, of either suite: an Ethereum JSON keystore signs
 * EIP-712, an SM keystore (smKeystore.ts) signs the SM suite's bytes. The keystore picks the suite.
 */
import { readFileSync } from "node:fs";
import { bytesToHex } from "../../server/core/bytes.ts";
import { recordDigest, type RecordEnvelope } from "../../server/core/record.ts";
import { SUITE_SM2, smSign, smSigningBytes } from "../../server/core/smSuite.ts";
import { openKeystore, password } from "./context.ts";
import { CliError, UsageError } from "./errors.ts";
import { decryptSmKeystore, isSmKeystore } from "./smKeystore.ts";

/** What /v1/info says a unit signs for. */
export interface SigningInfo {
  logId: string;
  eip712: { domain: Record<string, unknown>; types: Record<string, Array<{ name: string; type: string }>> };
}

export interface UnitKey {
  /** Set for the SM suite: the envelope must declare it before it is hashed. */
  suite?: typeof SUITE_SM2;
  /** The signature of a version 2 envelope (which already carries `suite` when set). */
  sign(info: SigningInfo, envelope: RecordEnvelope & { version: 2 }): Promise<string>;
}

/** Opens --keystore FILE with the password, whichever suite it is of. */
export async function openUnitKey(values: Record<string, string | undefined>, file: string): Promise<UnitKey> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    throw new UsageError(`--keystore ${file} cannot be read`);
  }
  if (isSmKeystore(json)) {
    let privateKey: string;
    try {
      privateKey = decryptSmKeystore(json, password(values));
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new CliError("cannot open the keystore: wrong password or an altered SM keystore");
    }
    return {
      suite: SUITE_SM2,
      async sign(info, envelope) {
        const domain = info.eip712.domain as { chainId: number; verifyingContract: string };
        const bytes = smSigningBytes(
          { ...envelope, chainId: Number(domain.chainId), contract: domain.verifyingContract },
          recordDigest(envelope),
        );
        return smSign(bytes, privateKey);
      },
    };
  }
  const wallet = await openKeystore(values, file);
  return {
    async sign(info, envelope) {
      const message = {
        logId: envelope.logId,
        unitId: envelope.unitId,
        dutyTypeId: envelope.dutyTypeId,
        performedAt: envelope.performedAt,
        recordDigest: bytesToHex(recordDigest(envelope)),
      };
      return wallet.signTypedData(info.eip712.domain, { DutyRecord: info.eip712.types.DutyRecord! }, message);
    },
  };
}
