/**
 * The erase use case: a record's personal fields and salt are erased under an order, on the
 * word of the gateway's operator key. The request carries an EIP-191 signature by that key over
 * a message naming the action, its arguments, this log and the time (operatorMessage), so
 * neither a read token nor a captured request for another record or another gateway can erase
 * anything; a signature is good for 5 minutes.
 */
import { verifyMessage } from "ethers";
import type { Clock } from "../core/clock.ts";
import type { DutyTypeDocument } from "../core/dutyType.ts";
import type { Erasure } from "../core/amendment.ts";
import { DutyproofError } from "../core/errors.ts";
import { eraseRecord } from "../gateway/ledgerNotices.ts";
import type { Logger } from "../observability/logger.ts";
import type { LedgerStore } from "../store/LedgerStore.ts";
import type { AdminAudit } from "./adminAudit.ts";
import { SIGNED_REQUEST_LIFETIME_SECONDS, unixSeconds } from "./clockTime.ts";

/** The text the operator key signs to erase `recordId` under `order` at `signedAt` (Unix seconds). */
export function operatorMessage(action: "erase", logId: string, recordId: string, order: string, signedAt: number) {
  return `dutyproof operator action\naction: ${action}\nlog: ${logId}\nrecord: ${recordId}\norder: ${order}\nsigned at: ${signedAt}`;
}

export interface EraseDependencies {
  store: LedgerStore;
  dutyTypeOf: (dutyTypeId: string) => DutyTypeDocument | undefined;
  clock: Clock;
  logger: Logger;
  audit: AdminAudit;
  /** The gateway's operator address: the only key whose signature erases. */
  operatorAddress: string;
  logId: string;
}

/** An erasure request as the operator signed it. */
export interface EraseRequest {
  recordId: string;
  order: string;
  signedAt: number; // Unix seconds
}

/**
 * Erases `request.recordId` if `signature` is the operator key's over operatorMessage and at
 * most 5 minutes old; the act is in the admin audit log whatever its outcome. Throws
 * request.forbidden for any other signature, and eraseRecord's errors.
 */
export async function eraseWithOperatorSignature(
  deps: EraseDependencies,
  signature: string,
  request: EraseRequest,
): Promise<{ recordId: string; erasure: Erasure }> {
  const { recordId, order, signedAt } = request;
  let signer: string;
  try {
    signer = verifyMessage(operatorMessage("erase", deps.logId, recordId, order, signedAt), signature);
  } catch {
    signer = "";
  }
  if (signer.toLowerCase() !== deps.operatorAddress.toLowerCase())
    throw new DutyproofError("request.forbidden", "not signed by this gateway's operator key");
  if (Math.abs(unixSeconds(deps.clock) - signedAt) > SIGNED_REQUEST_LIFETIME_SECONDS)
    throw new DutyproofError("request.forbidden", "the operator's signature is older than 5 minutes");
  return deps.audit(
    "record.erase",
    { recordId, order },
    async () => {
      const { erasure } = await eraseRecord(deps.store, deps.dutyTypeOf, recordId, order, unixSeconds(deps.clock));
      deps.logger.info({ recordId, order: erasure.order }, "record's personal content erased");
      return { recordId, erasure };
    },
    deps.operatorAddress,
  );
}
