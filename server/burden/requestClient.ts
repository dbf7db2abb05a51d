/**
 * A department's side of burden requests: builds a request envelope and signs it with ethers'
 * EIP-712 encoder, from the definition the gateway serves at /v1/requests/eip712 (so a third
 * party's client does the same). Used by the CLI, the county simulation and the tests.
 */
import { randomBytes } from "node:crypto";
import type { BaseWallet } from "ethers";
import { bytesToHex } from "../core/bytes.ts";
import { type RequestEnvelope, requestDigest } from "../core/request.ts";
import type { DemandDefinition } from "./demandClient.ts";

/** A request without the fields the client fills in: version, log, signer, salt. */
export type RequestDraft = RequestEnvelope extends infer R
  ? R extends RequestEnvelope
    ? Omit<R, "version" | "logId" | "inspector" | "salt"> & { salt?: string }
    : never
  : never;

/** A version 1 request envelope for the log `logId` (the definition's), with a fresh salt. */
export function requestOf(inspector: string, draft: RequestDraft, logId: string): RequestEnvelope {
  return {
    version: 1,
    logId,
    inspector: inspector.toLowerCase(),
    salt: bytesToHex(randomBytes(32)),
    ...draft,
  } as RequestEnvelope;
}

/** Signs a request: EIP-712 BurdenRequest over (logId, unitId, inspector, issuedAt, kind, requestDigest). */
export async function signRequest(
  wallet: BaseWallet,
  definition: DemandDefinition,
  request: RequestEnvelope,
): Promise<string> {
  const message = {
    logId: request.logId,
    unitId: request.unitId,
    inspector: request.inspector,
    issuedAt: request.issuedAt,
    kind: request.kind,
    requestDigest: bytesToHex(requestDigest(request)),
  };
  const types = { [definition.primaryType]: [...definition.types[definition.primaryType]!] };
  return wallet.signTypedData(definition.domain, types, message);
}
