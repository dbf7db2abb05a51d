/**
 * Trust anchors: the deployments (chain, DutyLedger contract, logs) a verifier believes. Evidence
 * names the contract and log it was anchored in, and anyone can deploy a look-alike ledger that
 * says whatever they like; so every verifier (CLI, gateway, console, replay) checks evidence
 * against anchors from its own configuration, never against the evidence itself. Pure: the
 * anchors are read from files by the adapters (server/chain/trustAnchors.ts).
 */
import { z } from "zod";
import { DutyproofError } from "./errors.ts";
import { NOTE_COSIGNATURE_V1, parseVerifierKey } from "./note.ts";

/** The one format string of this version of the trust file (docs/protocol.md, "Trust files"). */
export const TRUST_FILE_FORMAT = "dutyproof/trust/v1";

const hash32 = z.string().regex(/^0x[0-9a-f]{64}$/, "must be 0x and 64 lower-case hex digits");
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be an address (0x + 40 hex)");

/**
 * One trusted deployment. Unknown fields are kept out (strict), so that a later version that
 * adds keys a verifier must check bumps the format, or is refused by an older reader instead of
 * being silently ignored (`tlogKeys`, `witnesses` and `witnessQuorum` were added so).
 */
export const trustedDeploymentSchema = z
  .object({
    name: z.string().min(1).max(200).describe("a label for people, e.g. the county's gateway"),
    chainId: z.number().int().min(1),
    contract: address.describe("the DutyLedger address"),
    logIds: z
      .array(hash32)
      .min(1)
      .max(1000)
      .optional()
      .describe("the logs trusted; absent: every log the ledger's admin created on this contract"),
    deployBlock: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("the block DutyLedger was deployed in; replay reads events from there (default 0)"),
    tlogKeys: z
      .array(
        z
          .string()
          .max(1000)
          .refine((key) => isVerifierKey(key), "must be a signed-note verifier key (name+keyid+base64)"),
      )
      .max(1000)
      .optional()
      .describe(
        "the logs' checkpoint keys (signed-note verifier keys named by each log's origin, /v1/info tlog.verifierKey); a receipt's checkpoint note is checked against them",
      ),
    witnesses: z
      .array(
        z
          .string()
          .max(1000)
          .refine((key) => isWitnessKey(key), "must be a witness's signed-note verifier key (type 0x04)"),
      )
      .min(1)
      .max(64)
      .optional()
      .describe(
        "the witnesses whose cosignatures a receipt's checkpoint must carry (verify --witness): signed-note verifier keys of type 0x04",
      ),
    witnessQuorum: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("how many of `witnesses` must have cosigned (verify --quorum); default: all of them"),
  })
  .strict()
  .refine((d) => d.witnessQuorum === undefined || d.witnessQuorum <= (d.witnesses?.length ?? 0), {
    message: "witnessQuorum needs at least that many witnesses",
    path: ["witnessQuorum"],
  });

function isVerifierKey(key: string): boolean {
  try {
    parseVerifierKey(key);
    return true;
  } catch (error) {
    if (error instanceof DutyproofError) return false;
    throw error;
  }
}

function isWitnessKey(key: string): boolean {
  try {
    return parseVerifierKey(key).type === NOTE_COSIGNATURE_V1;
  } catch (error) {
    if (error instanceof DutyproofError) return false;
    throw error;
  }
}

export type TrustedDeployment = z.infer<typeof trustedDeploymentSchema>;

export const trustFileSchema = z
  .object({
    format: z.literal(TRUST_FILE_FORMAT),
    deployments: z.array(trustedDeploymentSchema).max(1000),
  })
  .strict();

export type TrustFile = z.infer<typeof trustFileSchema>;

/** The anchors a verifier holds, in the order it was given them. */
export type TrustAnchors = readonly TrustedDeployment[];

/**
 * The trusted deployment that covers a log of a contract on a chain, or undefined. Addresses
 * compare without regard to checksum case.
 */
export function trustedDeploymentOf(
  anchors: TrustAnchors,
  chainId: number,
  contract: string,
  logId: string,
): TrustedDeployment | undefined {
  const wanted = contract.toLowerCase();
  return anchors.find(
    (d) =>
      d.chainId === chainId &&
      d.contract.toLowerCase() === wanted &&
      (d.logIds === undefined || d.logIds.includes(logId.toLowerCase())),
  );
}

/** A trust file naming one deployment: what a gateway hands out about itself. */
export function trustFileOf(deployments: TrustAnchors): TrustFile {
  return { format: TRUST_FILE_FORMAT, deployments: [...deployments] };
}

/**
 * Anchors from several sources as one list; a deployment given twice (same chain, contract and
 * logs) appears once.
 */
export function mergeTrustAnchors(...sources: TrustAnchors[]): TrustedDeployment[] {
  const seen = new Set<string>();
  const out: TrustedDeployment[] = [];
  for (const d of sources.flat()) {
    // A deployment given again with a witness policy is kept: the policy is what it adds.
    const policy = d.witnesses ? `:${d.witnesses.join(",")}:${d.witnessQuorum ?? "all"}` : "";
    const key = `${d.chainId}:${d.contract.toLowerCase()}:${d.logIds?.join(",") ?? "*"}${policy}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}
