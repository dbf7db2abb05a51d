/**
 * Operator actions over HTTP. An operator action needs what every other admin action needs: the
 * gateway's operator key. The request carries an EIP-191 signature by that key over a message
 * naming the action, its arguments, this log and the time (`operatorMessage`), so neither a read
 * token nor a captured request for another record or another gateway can erase anything; a
 * signature is good for 5 minutes.
 */
import express, { type Request, Router } from "express";
import { verifyMessage } from "ethers";
import { z } from "zod";
import { DutyproofError } from "../core/errors.ts";
import { fieldErrors } from "../gateway/AttestationService.ts";
import { hash32 } from "./parseQuery.ts";

export interface AdminOptions {
  operatorAddress: string;
  logId: string;
  now: () => number; // Unix seconds
  erase: (recordId: string, order: string) => Promise<unknown>;
}

/** The text the operator key signs to erase `recordId` under `order` at `signedAt` (Unix seconds). */
export function operatorMessage(action: "erase", logId: string, recordId: string, order: string, signedAt: number) {
  return `dutyproof operator action\naction: ${action}\nlog: ${logId}\nrecord: ${recordId}\norder: ${order}\nsigned at: ${signedAt}`;
}

const eraseSchema = z
  .object({
    recordId: hash32,
    order: z.string().describe("reference of the order that requires the erasure"),
    signedAt: z.number().int().describe("Unix seconds when the operator signed"),
  })
  .strict();

function operatorSignature(req: Request): string {
  const signature = req.get("authorization")?.match(/^DutyproofOperator\s+(0x[0-9a-fA-F]{130})$/)?.[1];
  if (!signature)
    throw new DutyproofError("request.unauthorized", 'send "Authorization: DutyproofOperator <signature>"');
  return signature;
}

export function adminRoutes(options: AdminOptions): Router {
  const router = Router();
  router.post("/v1/admin/erasures", express.json({ limit: "16kb", type: "application/json" }), async (req, res) => {
    const signature = operatorSignature(req);
    const parsed = eraseSchema.safeParse(req.body);
    if (!parsed.success) {
      const errors = fieldErrors(parsed.error);
      throw new DutyproofError("request.invalid", `${errors.length} field(s) at fault`, { errors });
    }
    const { recordId, order, signedAt } = parsed.data;
    let signer: string;
    try {
      signer = verifyMessage(operatorMessage("erase", options.logId, recordId, order, signedAt), signature);
    } catch {
      signer = "";
    }
    if (signer.toLowerCase() !== options.operatorAddress.toLowerCase())
      throw new DutyproofError("request.forbidden", "not signed by this gateway's operator key");
    if (Math.abs(options.now() - signedAt) > 300)
      throw new DutyproofError("request.forbidden", "the operator's signature is older than 5 minutes");
    res.json(await options.erase(recordId, order));
  });
  return router;
}
