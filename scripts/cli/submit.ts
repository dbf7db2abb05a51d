/** `dutyproof submit` and `dutyproof receipt`: a unit attests a duty, corrects or withdraws one. */
import { randomBytes } from "node:crypto";
import { bytesToHex } from "../../server/core/bytes.ts";
import type { AmendmentKind } from "../../server/core/amendment.ts";
import { type Command, command, required } from "./command.ts";
import { hash32, unitIdOf, writeOut } from "./context.ts";
import { type SigningInfo, openUnitKey } from "./unitKey.ts";
import { UsageError } from "./errors.ts";
import { gatewayAnswer, gatewayJson, dutyTypeIds } from "./gateway.ts";
import { parseTime } from "./time.ts";

/** The record's fields: a JSON object of strings, numbers and booleans. */
function fieldsOf(text: string): Record<string, string | number | boolean> {
  let fields: unknown;
  try {
    fields = JSON.parse(text);
  } catch {
    throw new UsageError("--fields must be a JSON object");
  }
  if (typeof fields !== "object" || fields === null || Array.isArray(fields))
    throw new UsageError("--fields must be a JSON object");
  return fields as Record<string, string | number | boolean>;
}

/** The `amends` link of --amends, --kind and --reason (all three, or none). */
function amendsOf(values: Record<string, string | undefined>) {
  if (values.amends === undefined) {
    if (values.kind !== undefined || values.reason !== undefined)
      throw new UsageError("--kind and --reason go with --amends RECORD_ID");
    return undefined;
  }
  const recordId = hash32("--amends", values.amends);
  const kind = required(values, "kind");
  if (kind !== "correction" && kind !== "withdrawal") throw new UsageError("--kind must be correction or withdrawal");
  return { recordId, kind: kind as AmendmentKind, reason: required(values, "reason") };
}

export const submitCommand: Command = command(
  {
    name: "submit",
    summary: "sign a duty record with the unit's keystore and submit it; or correct or withdraw one",
    usage:
      "--keystore FILE --unit NAME --duty-type CODE --fields JSON [--performed-at TIME] [--demand DEMAND_ID]\n" +
      "                        [--amends RECORD_ID --kind correction|withdrawal --reason TEXT] [--out FILE]",
    flags: {
      keystore: { value: "FILE", help: "the unit's encrypted keystore (unit keygen), of either suite" },
      "password-file": { value: "FILE", help: "keystore password (else DUTYPROOF_PASSWORD)" },
      unit: { value: "NAME", help: "the unit's name or 0x id" },
      "duty-type": { value: "CODE", help: "the duty type's code or id (with --amends: the amended record's)" },
      fields: { value: "JSON", help: "the record's fields as a JSON object (a withdrawal has none)" },
      "performed-at": {
        value: "TIME",
        help: "when the duty was done: YYYY-MM-DD HH:MM[:SS] (China time), or Unix seconds; default now",
      },
      demand: { value: "DEMAND_ID", help: "the evidence demand (task) this record answers" },
      amends: { value: "RECORD_ID", help: "the record this one corrects or withdraws (the latest version)" },
      kind: { value: "KIND", help: "correction (new content) or withdrawal (retracts it)" },
      reason: { value: "TEXT", help: "why it is corrected or withdrawn" },
      out: { value: "FILE", help: "write the record, its signature and the gateway's answer here" },
    },
    example:
      "dutyproof submit --keystore village.json --unit qingshui-1 --amends 0x6e0c…9a --kind withdrawal --reason 重复录入",
    notes: [
      "Without --out the record, its signature and the gateway's answer are printed as JSON.",
      "A correction carries the full new --fields; a withdrawal needs neither --fields nor --duty-type.",
    ],
  },
  async ({ values }) => {
    const demandId = values.demand === undefined ? undefined : hash32("--demand", values.demand);
    const amends = amendsOf(values);
    const fields =
      amends?.kind === "withdrawal"
        ? values.fields === undefined
          ? {}
          : fieldsOf(values.fields)
        : fieldsOf(required(values, "fields"));
    const performedAt =
      values["performed-at"] === undefined
        ? Math.floor(Date.now() / 1000)
        : parseTime("performed-at", values["performed-at"]);
    const unitId = unitIdOf(required(values, "unit"));
    const key = await openUnitKey(values, required(values, "keystore"));
    const info = await gatewayJson<SigningInfo>("/v1/info");
    let dutyTypeId: string;
    if (values["duty-type"] !== undefined) [dutyTypeId] = (await dutyTypeIds(values["duty-type"])) as [string];
    else if (amends) {
      // An amendment has the amended record's duty type: its public receipt names it.
      const { status, body } = await gatewayAnswer<{ dutyTypeId?: string; detail?: string }>(
        `/v1/attestations/${amends.recordId}/receipt`,
      );
      if (status >= 400 || !body.dutyTypeId)
        throw new UsageError(`--amends ${amends.recordId}: the gateway has no such record (${body.detail ?? status})`);
      dutyTypeId = body.dutyTypeId;
    } else throw new UsageError("--duty-type is required");
    // Version 2: the record names, and the signature binds, the log of the gateway it goes to.
    const envelope = {
      version: 2 as const,
      logId: info.logId,
      unitId,
      dutyTypeId,
      performedAt,
      fields,
      salt: bytesToHex(randomBytes(32)),
      ...(demandId ? { demandId } : {}),
      ...(amends ? { amends } : {}),
      // The keystore picks the suite; an SM-suite record says so, so its digest is SM3.
      ...(key.suite ? { suite: key.suite } : {}),
    };
    const signature = await key.sign(info, envelope);
    const body = await gatewayJson<{ recordId: string; leafIndex: number }>("/v1/attestations", {
      method: "POST",
      body: { envelope, signature },
    });
    const output = JSON.stringify({ ...body, envelope, signature }, null, 2);
    if (values.out === undefined) return console.log(output);
    writeOut(values.out, output);
    console.log(
      `${amends ? `${amends.kind} of ${amends.recordId}: ` : ""}record ${body.recordId} accepted at leaf ${body.leafIndex}; record and signature written to ${values.out}`,
    );
  },
);

export const receiptCommand: Command = command(
  {
    name: "receipt",
    summary: "a record's receipt: pending until anchored, then with its inclusion proof",
    usage: "RECORD_ID [--out FILE]",
    flags: { out: { value: "FILE", help: "write the receipt here (else it is printed as JSON)" } },
    maxPositionals: 1,
    example: "dutyproof receipt 0x6e0c…9a --out receipt.json",
    notes: ["exit 0 when the gateway has the record (anchored or pending), 1 when it has not"],
  },
  async ({ values, positionals }) => {
    const recordId = hash32("receipt: the record id", positionals[0]);
    const body = await gatewayJson<{ status?: string }>(`/v1/attestations/${recordId}/receipt`);
    const output = JSON.stringify(body, null, 2);
    if (values.out === undefined) return console.log(output);
    writeOut(values.out, output);
    console.log(`receipt of ${recordId} (${body.status ?? "unknown status"}) written to ${values.out}`);
  },
);
