/**
 * `dutyproof burden digest`: the weekly digest of the county's burden (or of the token's
 * department), JSON or CSV, written to a file for the week's meeting or an upper level.
 */
import { ISO_WEEK, weekOfTime } from "../../server/burden/liveAlerts.ts";
import { command, required } from "./command.ts";
import { tokenOf, writeOut } from "./context.ts";
import { UsageError } from "./errors.ts";
import { gatewayText } from "./gateway.ts";

export const burdenDigestCommand = command(
  {
    name: "burden digest",
    summary: "the weekly digest: the week's burden by unit and department, and the alerts at its end",
    usage: "--token TOKEN --week YYYY-Www|last --out FILE [--csv]",
    flags: {
      token: {
        value: "TOKEN",
        help: "an auditor's token (the county) or a department's (its own); else DUTYPROOF_TOKEN",
      },
      week: { value: "WEEK", help: "ISO week in China time, e.g. 2026-W49, or last (the week before this one)" },
      out: { value: "FILE", help: "write the digest here; a name ending .csv writes CSV" },
      csv: { help: "CSV instead of JSON" },
    },
    example: "dutyproof burden digest --token dp_… --week 2026-W49 --out digest-2026-W49.csv",
  },
  async ({ values, switches }) => {
    const given = required(values, "week");
    const week = given === "last" ? weekOfTime(Math.floor(Date.now() / 1000) - 7 * 86_400) : given;
    if (!ISO_WEEK.test(week))
      throw new UsageError(`--week must be an ISO week such as 2026-W49, or last; got ${given}`);
    const out = required(values, "out");
    const csv = switches.has("csv") || out.toLowerCase().endsWith(".csv");
    const token = tokenOf(values, "burden digest");
    const params = new URLSearchParams({ week, format: csv ? "csv" : "json" });
    const text = await gatewayText(`/v1/burden/digest?${params}`, { token, timeoutMs: 120_000 });
    writeOut(out, csv ? text : JSON.stringify(JSON.parse(text), null, 2));
    console.log(`burden digest of ${week} written to ${out}`);
  },
);
