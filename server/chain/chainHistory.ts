/** Reads a log's checkpoints and a unit's registry history from the chain, for audit replay. */
import { Contract, type JsonRpcProvider } from "ethers";
import type { AnchoredCheckpoint } from "../core/replay.ts";
import type { KeyPeriodFact, StatusPeriodFact } from "../core/verifier.ts";
import { loadDutyLedgerArtifact } from "./dutyLedgerArtifact.ts";

const statusNames: StatusPeriodFact["status"][] = ["none", "active", "suspended"];

export function ledgerAt(provider: JsonRpcProvider, address: string): Contract {
  return new Contract(address, loadDutyLedgerArtifact().abi as never, provider);
}

/**
 * Every CheckpointAnchored event of `logId` from `fromBlock`, in chain order, each with the
 * block time and the root the contract stores for its size (replay compares the two roots).
 */
export async function fetchCheckpoints(
  ledger: Contract,
  logId: string,
  fromBlock: number,
): Promise<AnchoredCheckpoint[]> {
  const events = await ledger.queryFilter(ledger.filters.CheckpointAnchored!(logId), fromBlock, "latest");
  const out: AnchoredCheckpoint[] = [];
  for (const event of events) {
    const args = (event as unknown as { args: { size: bigint; root: string; previousSize: bigint } }).args;
    const [found, stored] = await ledger.getFunction("checkpointAt")(logId, args.size);
    out.push({
      storedRoot: found ? String(stored.root) : null,
      size: Number(args.size),
      root: args.root,
      previousSize: Number(args.previousSize),
      blockNumber: event.blockNumber,
      anchoredAt: Number(stored.anchoredAt),
    });
  }
  return out;
}

export async function fetchUnitHistory(
  ledger: Contract,
  unitId: string,
): Promise<{ keys: KeyPeriodFact[]; statuses: StatusPeriodFact[] }> {
  const [keys, statuses] = await Promise.all([
    ledger.getFunction("unitKeyHistory")(unitId),
    ledger.getFunction("unitStatusHistory")(unitId),
  ]);
  return {
    keys: (keys as Array<{ signer: string; validFrom: bigint; validUntil: bigint }>).map((k) => ({
      signer: k.signer,
      validFrom: Number(k.validFrom),
      validUntil: Number(k.validUntil),
    })),
    statuses: (statuses as Array<{ status: bigint; since: bigint }>).map((s) => ({
      status: statusNames[Number(s.status)] ?? "none",
      since: Number(s.since),
    })),
  };
}
