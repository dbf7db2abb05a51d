/** Reads every inspector's active periods from DutyLedger's events, for audit replay. */
import type { Contract } from "ethers";

/**
 * Per inspector (lower-case address): the periods it was active or not, from
 * InspectorRegistered (active) and InspectorStatusChanged events, with their block times.
 */
export async function fetchInspectorHistory(
  ledger: Contract,
  fromBlock: number,
): Promise<Map<string, Array<{ active: boolean; since: number }>>> {
  const [registered, changed] = await Promise.all([
    ledger.queryFilter(ledger.filters.InspectorRegistered!(), fromBlock, "latest"),
    ledger.queryFilter(ledger.filters.InspectorStatusChanged!(), fromBlock, "latest"),
  ]);
  const events = [...registered, ...changed].sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
  const blockTimes = new Map<number, number>();
  const history = new Map<string, Array<{ active: boolean; since: number }>>();
  for (const event of events) {
    let time = blockTimes.get(event.blockNumber);
    if (time === undefined) {
      time = (await event.getBlock()).timestamp;
      blockTimes.set(event.blockNumber, time);
    }
    const { args, eventName } = event as unknown as {
      args: { inspector: string; active?: boolean };
      eventName: string;
    };
    const active = eventName === "InspectorRegistered" ? true : Boolean(args.active);
    const address = args.inspector.toLowerCase();
    const list = history.get(address) ?? [];
    list.push({ active, since: time });
    history.set(address, list);
  }
  return history;
}
