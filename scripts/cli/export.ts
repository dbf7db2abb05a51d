/** `dutyproof export`: a unit's anchored records as one self-contained bundle file. */
import { type Command, command, required } from "./command.ts";
import { tokenOf, unitIdOf, writeOut } from "./context.ts";
import { dutyTypeIds, gatewayText } from "./gateway.ts";
import { parseTime } from "./time.ts";

export const exportCommand: Command = command(
  {
    name: "export",
    summary: "a unit's anchored records with their receipts, as one bundle file `verify` and `replay` check",
    usage: "--token TOKEN --unit NAME [--duty-type CODE] [--from DATE] [--to DATE] --out FILE",
    flags: {
      token: { value: "TOKEN", help: "a token that may read the unit's records (else DUTYPROOF_TOKEN)" },
      unit: { value: "NAME", help: "the unit's name or 0x id" },
      "duty-type": { value: "CODE", help: "only this duty type" },
      from: { value: "DATE", help: "from this day or time (YYYY-MM-DD [HH:MM], China time)" },
      to: { value: "DATE", help: "up to this day or time, exclusive" },
      out: { value: "FILE", help: "the bundle file" },
    },
    example: "dutyproof export --token dp_… --unit qingshui-1 --from 2026-01-01 --to 2026-07-01 --out 2026H1.json",
  },
  async ({ values }) => {
    const token = tokenOf(values, "export");
    const out = required(values, "out");
    const params = new URLSearchParams({ unitId: unitIdOf(required(values, "unit")) });
    if (values["duty-type"] !== undefined) params.set("dutyTypeId", (await dutyTypeIds(values["duty-type"]))[0]!);
    for (const bound of ["from", "to"] as const) {
      const value = values[bound];
      if (value !== undefined) params.set(bound, String(parseTime(bound, value)));
    }
    const text = await gatewayText(`/v1/export?${params}`, { token, timeoutMs: 120_000 });
    const body = JSON.parse(text) as { items: unknown[]; pending?: number };
    writeOut(out, JSON.stringify(body, null, 2));
    console.log(
      `${body.items.length} anchored records written to ${out}${body.pending ? ` (${body.pending} not anchored yet, left out)` : ""}`,
    );
  },
);
