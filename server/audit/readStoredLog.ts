/**
 * Reads a gateway's LevelDB log straight from disk (the gateway stopped) as audit records in
 * leaf order, believing nothing: every stored record must have exactly the stored shape and
 * name the key it is stored under, or it is handed to replay as not well-formed.
 */
import { Level } from "level";
import type { AuditRecord } from "../core/replay.ts";

const storedKeys = ["envelope", "leafHash", "leafIndex", "receivedAt", "recordId", "signature", "signer"];

/** One stored value as an audit record; anything off makes it a record replay reports as altered. */
export function auditRecordOf(position: number, recordId: string, raw: string | undefined): AuditRecord {
  const broken: AuditRecord = {
    leafIndex: position,
    recordId,
    envelope: null as never,
    signature: "",
    acceptedAt: 0,
  };
  if (raw === undefined) return broken;
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return broken;
  }
  if (typeof value !== "object" || value === null) return broken;
  const keys = Object.keys(value)
    .filter((k) => k !== "erasure")
    .sort();
  // JSON.stringify wrote the record; reading it back must give the very same bytes.
  if (keys.join() !== storedKeys.join() || value.recordId !== recordId || JSON.stringify(value) !== raw) return broken;
  const receivedAt = value.receivedAt;
  return {
    leafIndex: position,
    claimedIndex: value.leafIndex as number,
    recordId,
    envelope: value.envelope as AuditRecord["envelope"],
    signature: value.signature as string,
    signer: value.signer as string,
    leafHash: value.leafHash as string,
    acceptedAt: typeof receivedAt === "number" ? Math.floor(receivedAt / 1000) : Number.NaN,
    ...(value.erasure ? { erasure: value.erasure as AuditRecord["erasure"] } : {}),
  };
}

/** Every leaf of the log at `location`, with its record, in leaf order. */
export async function readStoredLog(db: Level<string, string>): Promise<AuditRecord[]> {
  const leaves = db.sublevel<string, string>("leaf", { valueEncoding: "utf8" });
  const records = db.sublevel<string, string>("record", { valueEncoding: "utf8" });
  const entries: Array<[number, string]> = [];
  for await (const [key, id] of leaves.iterator()) entries.push([Number(key), id]);
  const values = await records.getMany(entries.map(([, id]) => id));
  return entries.map(([position, id], i) => auditRecordOf(position, id, values[i]));
}
