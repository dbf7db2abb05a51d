/**
 * What a gateway checks of its log and its key on an external chain before it serves: that its
 * hot key holds no admin or registrar role (a stolen hot key must not be able to seal, redirect or
 * re-register anything), and, when the log it served was sealed after its operator key was stolen,
 * that it takes over the honest prefix as the sealed log's successor.
 */
import { type Contract, ZeroHash, id } from "ethers";
import type { Deployment } from "./deployment.ts";
import type { LedgerStore } from "../store/LedgerStore.ts";
import { bytesToHex } from "../core/bytes.ts";
import type { AnchoredCheckpoint } from "../core/replay.ts";
import { type CheckpointAfterSeal, type SealedLog, joinSuccession } from "../core/succession.ts";
import { fetchCheckpoints } from "./chainHistory.ts";

/** How a log was sealed (IDutyLedger.LogSeal); null while the log is open. */
export interface LogSealFact {
  size: number; // leaves in the last checkpoint that belongs to the log
  sealedAt: number; // Unix seconds, block time
  successorLogId: string;
}

export async function readLogSeal(ledger: Contract, logId: string): Promise<LogSealFact | null> {
  const seal = (await ledger.getFunction("logSeal")(logId)) as {
    size: bigint;
    sealedAt: bigint;
    successorLogId: string;
  };
  if (seal.sealedAt === 0n) return null;
  return { size: Number(seal.size), sealedAt: Number(seal.sealedAt), successorLogId: seal.successorLogId };
}

/**
 * Throws a one-line reason if `address` (the gateway's hot key) holds DEFAULT_ADMIN_ROLE or
 * REGISTRAR_ROLE: whoever steals a hot key with those roles could seal the log themselves, name
 * their own successor or register units, and no recovery would be left.
 */
export async function refuseAdminHotKey(ledger: Contract, address: string): Promise<void> {
  for (const [name, role] of [
    ["DEFAULT_ADMIN_ROLE", ZeroHash],
    ["REGISTRAR_ROLE", id("REGISTRAR_ROLE")],
  ] as const) {
    if (await ledger.getFunction("hasRole")(role, address)) {
      throw new Error(
        `the gateway's key ${address} holds ${name} on the ledger; a production gateway's hot key must hold no admin or registrar role (revoke it, or give the gateway its own operator key)`,
      );
    }
  }
}

/**
 * Whether a gateway whose DATA_DIR was written for `deployment.logId` may start for `logId`:
 * null when they are the same log; the old log's seal when it was sealed with `logId` as its
 * successor (the caller then takes the store over with `takeOverSealedLog`); otherwise it throws,
 * since one DATA_DIR serves one log. Reads only the chain, so it runs before the store is opened.
 */
export async function sealToSucceed(
  ledger: Contract,
  deployment: Deployment,
  logId: string,
  logName: string,
): Promise<LogSealFact | null> {
  if (deployment.logId === logId) return null;
  const seal = await readLogSeal(ledger, deployment.logId);
  if (!seal || seal.successorLogId !== logId) {
    throw new Error(
      `DATA_DIR/deployment.json is for log ${deployment.logId}, but LOG_NAME ${logName} is ${logId}; one DATA_DIR serves one log` +
        (seal ? ` (that log was sealed with successor ${seal.successorLogId})` : ""),
    );
  }
  return seal;
}

/**
 * Takes the store of a sealed log over for its successor `logId` and returns the deployment that
 * names the successor. The store keeps every leaf (the honest records, anchored or not); its
 * checkpoints up to the seal stay the sealed log's (their receipts verify there), after checking
 * that the chain holds each with the store's root; the others are dropped, so the successor's
 * first checkpoint covers every leaf above the seal. Refused when the seal is not at a size whose
 * anchored root is the store's: the successor would then continue someone else's tree.
 * Idempotent, so a crash before the caller saved the new deployment is harmless.
 */
export async function takeOverSealedLog(options: {
  ledger: Contract;
  store: LedgerStore;
  deployment: Deployment;
  seal: LogSealFact;
  logId: string;
}): Promise<Deployment> {
  const { ledger, store, deployment, seal, logId } = options;
  if (seal.size > store.treeSize) {
    throw new Error(
      `log ${deployment.logId} was sealed at size ${seal.size}, but DATA_DIR has only ${store.treeSize} leaves; it is not this store's log`,
    );
  }
  if (seal.size > 0) {
    const [, sealed] = await ledger.getFunction("checkpointAt")(deployment.logId, seal.size);
    const root = bytesToHex(await store.rootAt(seal.size));
    if (sealed.root !== root) {
      throw new Error(
        `log ${deployment.logId} was sealed at size ${seal.size}, whose root on chain ${sealed.root} is not this store's ${root}; seal it at the last checkpoint the gateway anchored itself`,
      );
    }
  }
  for (const checkpoint of await store.listCheckpoints()) {
    if (checkpoint.logId !== undefined) continue; // taken over by an earlier succession
    const [found, onChain] = await ledger.getFunction("checkpointAt")(deployment.logId, checkpoint.size);
    if (checkpoint.size <= seal.size && found && onChain.root === checkpoint.root) {
      await store.putCheckpoint({
        ...checkpoint,
        status: "anchored",
        logId: deployment.logId,
        blockNumber: Number(onChain.blockNumber),
        anchoredAt: Number(onChain.anchoredAt),
        rawTransaction: undefined,
      });
    } else {
      await store.deleteCheckpoint(checkpoint.size);
    }
  }
  return { ...deployment, logId, predecessorLogIds: [...(deployment.predecessorLogIds ?? []), deployment.logId] };
}

/**
 * The checkpoints of `logId` for replay, with those of the logs it succeeds (found by their
 * LogSealed events, which name it as successor), joined as core/succession.ts specifies.
 */
export async function fetchSucceededCheckpoints(
  ledger: Contract,
  logId: string,
  fromBlock: number,
): Promise<{ checkpoints: AnchoredCheckpoint[]; afterSeal: CheckpointAfterSeal[]; predecessorLogIds: string[] }> {
  const sealed: SealedLog[] = [];
  const seen = new Set([logId]);
  for (let successor = logId; ;) {
    const [event] = await ledger.queryFilter(ledger.filters.LogSealed!(null, successor), fromBlock, "latest");
    if (!event) break;
    const args = (event as unknown as { args: { logId: string; size: bigint } }).args;
    if (seen.has(args.logId)) break;
    seen.add(args.logId);
    sealed.unshift({
      logId: args.logId,
      size: Number(args.size),
      checkpoints: await fetchCheckpoints(ledger, args.logId, fromBlock),
    });
    successor = args.logId;
  }
  return joinSuccession(sealed, await fetchCheckpoints(ledger, logId, fromBlock));
}
