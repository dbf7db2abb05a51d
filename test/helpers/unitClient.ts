/** A unit's side of the protocol, as a third party would write it: ethers and the /v1/info definition. */
import { randomBytes } from "node:crypto";
import { type BaseWallet, Signature } from "ethers";
import { bytesToHex } from "../../server/core/bytes.ts";
import { eip712Types } from "../../server/core/eip712.ts";
import { type RecordEnvelope, recordDigest } from "../../server/core/record.ts";

export interface Eip712Info {
  domain: Record<string, unknown>;
  types: Record<string, Array<{ name: string; type: string }>>;
  primaryType: string;
}

/**
 * A fresh record envelope: version 2 for the log `logId` (a gateway's /v1/info logId), or, with
 * `logId` null, a version 1 envelope as units signed before logs were bound (for the verifiers
 * that must still take those).
 */
export function newEnvelope(
  logId: string | null,
  unitId: string,
  dutyTypeId: string,
  fields: Record<string, string | number | boolean>,
  performedAt = Math.floor(Date.now() / 1000) - 60,
): RecordEnvelope {
  const common = { unitId, dutyTypeId, performedAt, fields, salt: bytesToHex(randomBytes(32)) };
  return logId === null ? { version: 1, ...common } : { version: 2, logId, ...common };
}

/** Signs with the served definition: its types say which members the message has. */
export async function signEnvelope(wallet: BaseWallet, eip712: Eip712Info, envelope: RecordEnvelope): Promise<string> {
  const message = {
    ...(envelope.version === 2 ? { logId: envelope.logId } : {}),
    unitId: envelope.unitId,
    dutyTypeId: envelope.dutyTypeId,
    performedAt: envelope.performedAt,
    recordDigest: bytesToHex(recordDigest(envelope)),
  };
  // A version 1 envelope is signed with the version 1 types whatever the gateway serves now.
  const types =
    envelope.version === 2
      ? { [eip712.primaryType]: eip712.types[eip712.primaryType]! }
      : { DutyRecord: [...eip712Types.DutyRecord] };
  return wallet.signTypedData(eip712.domain, types, message);
}

/** The same signature with s replaced by n - s (and v flipped): valid maths, refused by EIP-2. */
export function toHighS(signature: string): string {
  const sig = Signature.from(signature);
  const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
  const highS = n - BigInt(sig.s);
  const v = sig.v === 27 ? 28 : 27;
  return "0x" + sig.r.slice(2) + highS.toString(16).padStart(64, "0") + v.toString(16);
}
