/**
 * The burden-reduction commands: evidence demands, a unit's tasks, duty lists, burden reports and
 * monthly summaries. An inspector's key is a keystore like a unit's (`dutyproof unit keygen`),
 * registered with `dutyproof inspector register ADDRESS --department CODE`.
 */
import { type DemandDefinition, demandOf, signDemand } from "../../server/burden/demandClient.ts";
import { burdenDigestCommand } from "./burdenDigest.ts";
import { type Command, command, group, required } from "./command.ts";
import { hash32, openKeystore, tokenOf, unitIdOf, writeOut } from "./context.ts";
import { UsageError } from "./errors.ts";
import { dutyTypeIds, gatewayJson, gatewayText } from "./gateway.ts";
import { requestCommands } from "./request.ts";
import { chinaDate, parseTime } from "./time.ts";

const demandCreate = command(
  {
    name: "demand create",
    summary: "inspector: sign an evidence demand; the ledger answers first, else it becomes the unit's task",
    usage:
      "--keystore FILE --unit NAME --duty-type CODE[,CODE…] --department CODE --from DATE --to DATE\n" +
      "                              --purpose TEXT [--on-site] [--emergency REASON] [--out FILE]",
    flags: {
      keystore: { value: "FILE", help: "the inspector's keystore" },
      "password-file": { value: "FILE", help: "keystore password (else DUTYPROOF_PASSWORD)" },
      unit: { value: "NAME", help: "the unit asked" },
      "duty-type": { value: "CODES", help: "duty types asked, comma-separated" },
      department: { value: "CODE", help: "the inspector's department" },
      from: { value: "DATE", help: "period start (YYYY-MM-DD [HH:MM], China time)" },
      to: { value: "DATE", help: "period end, exclusive" },
      purpose: { value: "TEXT", help: "why the evidence is needed" },
      "on-site": { help: "an on-site inspection (counts against the unit's yearly quota)" },
      emergency: { value: "REASON", help: "an on-site inspection beyond the quota, with its reason" },
      out: { value: "FILE", help: "write the evidence package (an export bundle) here" },
    },
    example:
      "dutyproof demand create --keystore inspector.json --unit qingshui-1 --duty-type safety-hazard-check --department emergency-management --from 2026-07-01 --to 2026-10-01 --purpose 第三季度安全检查 --out evidence.json",
  },
  async ({ values, switches }) => {
    const draft = {
      unitId: unitIdOf(required(values, "unit")),
      from: parseTime("from", required(values, "from")),
      to: parseTime("to", required(values, "to")),
      purpose: required(values, "purpose"),
      department: required(values, "department"),
      onSite: switches.has("on-site"),
      ...(values.emergency ? { emergencyReason: values.emergency } : {}),
      issuedAt: Math.floor(Date.now() / 1000),
    };
    if (values.emergency && !draft.onSite) throw new UsageError("--emergency is for an on-site demand (--on-site)");
    const codes = required(values, "duty-type");
    const wallet = await openKeystore(values, required(values, "keystore"));
    const definition = await gatewayJson<DemandDefinition>("/v1/demands/eip712");
    const demand = demandOf(wallet.address, { ...draft, dutyTypeIds: await dutyTypeIds(codes) }, definition.logId);
    const signature = await signDemand(wallet, definition, demand);
    const body = await gatewayJson<{
      demandId: string;
      outcome: { decision: string; reason: string };
      evidence: { items: unknown[]; pending: number };
    }>("/v1/demands?include=package", { method: "POST", body: { demand, signature } });
    const { outcome, evidence } = body;
    if (values.out !== undefined) writeOut(values.out, JSON.stringify(evidence, null, 2));
    console.log(`demand ${body.demandId}: ${outcome.decision} — ${outcome.reason}`);
    console.log(
      `  evidence: ${evidence.items.length} anchored record(s)${evidence.pending ? `, ${evidence.pending} pending` : ""}${values.out ? `, written to ${values.out} (check it with dutyproof verify)` : ""}`,
    );
  },
);

const demandShow = command(
  {
    name: "demand show",
    summary: "a demand: in full for the unit, the demanding department and auditors; else its decision",
    usage: "DEMAND_ID [--token TOKEN]",
    flags: { token: { value: "TOKEN", help: "a token that may read it in full (else DUTYPROOF_TOKEN)" } },
    maxPositionals: 1,
    example: "dutyproof demand show 0x41b7…c2 --token dp_…",
  },
  async ({ values, positionals }) => {
    const demandId = hash32("demand show: the demand id", positionals[0]);
    // Without a token the gateway shows only that the demand was logged and its decision.
    const token = values.token ?? process.env.DUTYPROOF_TOKEN;
    console.log(JSON.stringify(await gatewayJson(`/v1/demands/${demandId}`, token ? { token } : {}), null, 2));
  },
);

export const demandCommand: Command = group("demand", "evidence demands (inspectors)", [demandCreate, demandShow]);

export const tasksCommand: Command = command(
  {
    name: "tasks",
    summary: "a unit's tasks: the demands the ledger could not answer",
    usage: "--token TOKEN --unit NAME [--status open|answered|all]",
    flags: {
      token: { value: "TOKEN", help: "the unit's token (else DUTYPROOF_TOKEN)" },
      unit: { value: "NAME", help: "the unit" },
      status: { value: "STATUS", help: "open (default), answered or all" },
    },
    example: "dutyproof tasks --token dp_… --unit qingshui-1",
  },
  async ({ values }) => {
    const token = tokenOf(values, "tasks");
    const unitId = unitIdOf(required(values, "unit"));
    const { tasks } = await gatewayJson<{
      tasks: Array<{
        demandId: string;
        decision: string;
        status: string;
        department: string;
        from: number;
        to: number;
      }>;
    }>(`/v1/units/${unitId}/tasks?status=${encodeURIComponent(values.status ?? "open")}`, {
      token,
      timeoutMs: 120_000,
    });
    if (tasks.length === 0) console.log("no tasks");
    for (const t of tasks) {
      const period = `${chinaDate(t.from)}…${chinaDate(t.to)}`;
      console.log(`${t.demandId}  ${t.status.padEnd(8)} ${t.decision.padEnd(18)} ${t.department}  ${period}`);
    }
    if (tasks.some((t) => t.status === "open")) console.log("answer a task: dutyproof submit … --demand DEMAND_ID");
  },
);

const printDutyList = (body: { dutyTypes: Array<{ code: string; onList: boolean; reason?: string }> }) => {
  for (const d of body.dutyTypes) console.log(`${d.onList ? "✓" : "✗"} ${d.code}${d.reason ? ` (${d.reason})` : ""}`);
};

const dutyListChange = (action: "add" | "remove") =>
  command(
    {
      name: `duty-list ${action}`,
      summary: `operator: ${action === "add" ? "add duty types to" : "remove duty types from"} a unit's duty list`,
      usage: "UNIT CODE… --token OPERATOR_TOKEN",
      flags: { token: { value: "TOKEN", help: "an operator token (else DUTYPROOF_TOKEN)" } },
      maxPositionals: 100,
      example: `dutyproof duty-list ${action} qingshui-1 dispute-mediation --token dp_…`,
    },
    async ({ values, positionals }) => {
      const [unit, ...codes] = positionals;
      if (!unit || codes.length === 0) throw new UsageError(`duty-list ${action}: give the unit and duty type codes`);
      const ids = await dutyTypeIds(codes.join(","));
      const token = tokenOf(values, "duty-list");
      printDutyList(
        await gatewayJson(`/v1/units/${unitIdOf(unit)}/duty-list`, { method: "PATCH", token, body: { [action]: ids } }),
      );
    },
  );

export const dutyListCommand: Command = group("duty-list", "a unit's duty list (权责清单)", [
  command(
    {
      name: "duty-list show",
      summary: "the duty types on a unit's list, and why the others are not",
      usage: "UNIT",
      maxPositionals: 1,
      example: "dutyproof duty-list show qingshui-1",
    },
    async ({ positionals }) => {
      if (!positionals[0]) throw new UsageError("duty-list show: give the unit");
      printDutyList(await gatewayJson(`/v1/units/${unitIdOf(positionals[0])}/duty-list`));
    },
  ),
  dutyListChange("add"),
  dutyListChange("remove"),
]);

export const burdenCommand: Command = group("burden", "burden reports, and requests of every kind through the gate", [
  ...requestCommands,
  command(
    {
      name: "burden report",
      summary:
        "every kind received, answered from the ledger, merged, absorbed, refused; tasks; on-site use; hours saved",
      usage:
        "--token TOKEN [--group-by unit|department|month] [--from DATE] [--to DATE] [--unit NAME]\n" +
        "                              [--department CODE] [--csv] [--out FILE]",
      flags: {
        token: { value: "TOKEN", help: "auditor, department or unit token (else DUTYPROOF_TOKEN)" },
        "group-by": { value: "KEY", help: "unit (default), department or month" },
        from: { value: "DATE", help: "from this day (China time)" },
        to: { value: "DATE", help: "up to this day, exclusive" },
        unit: { value: "NAME", help: "only this unit" },
        department: { value: "CODE", help: "only this department" },
        csv: { help: "CSV instead of JSON" },
        out: { value: "FILE", help: "write the report here (else stdout)" },
      },
      example: "dutyproof burden report --token dp_… --group-by department --csv --out burden.csv",
    },
    async ({ values, switches }) => {
      const params = new URLSearchParams({
        groupBy: values["group-by"] ?? "unit",
        format: switches.has("csv") ? "csv" : "json",
      });
      if (values.from !== undefined) params.set("from", String(parseTime("from", values.from)));
      if (values.to !== undefined) params.set("to", String(parseTime("to", values.to)));
      if (values.unit !== undefined) params.set("unitId", unitIdOf(values.unit));
      if (values.department !== undefined) params.set("department", values.department);
      const token = tokenOf(values, "burden report");
      const text = await gatewayText(`/v1/burden/report?${params}`, { token, timeoutMs: 120_000 });
      const output = switches.has("csv") ? text : JSON.stringify(JSON.parse(text), null, 2) + "\n";
      if (values.out === undefined) return void process.stdout.write(output);
      writeOut(values.out, output);
      console.log(`burden report written to ${values.out}`);
    },
  ),
  burdenDigestCommand,
]);

export const summaryCommand: Command = command(
  {
    name: "summary",
    summary: "a unit's monthly summary (月汇总), generated from its records",
    usage: "--token TOKEN --unit NAME --month YYYY-MM [--out FILE]",
    flags: {
      token: { value: "TOKEN", help: "the unit's or an auditor's token (else DUTYPROOF_TOKEN)" },
      unit: { value: "NAME", help: "the unit" },
      month: { value: "YYYY-MM", help: "the calendar month, China time" },
      out: { value: "FILE", help: "write the month's records with their receipts (a bundle) here" },
    },
    example: "dutyproof summary --token dp_… --unit qingshui-1 --month 2026-10 --out 2026-10.json",
  },
  async ({ values }) => {
    const unitId = unitIdOf(required(values, "unit"));
    const month = required(values, "month");
    const token = tokenOf(values, "summary");
    const s = await gatewayJson<{
      records: number;
      anchored: number;
      pending: number;
      demandsReceived: number;
      answeredDemands: number;
      byDutyType: Array<{ code: string; title: { "zh-CN": string }; count: number }>;
      bundle: unknown;
    }>(`/v1/units/${unitId}/summary?month=${encodeURIComponent(month)}`, { token, timeoutMs: 120_000 });
    console.log(`${month} 月汇总: ${s.records} 条履职记录（${s.anchored} 条已锚定，${s.pending} 条待锚定）`);
    for (const d of s.byDutyType) console.log(`  ${d.title["zh-CN"]} (${d.code}): ${d.count}`);
    console.log(`  demands received: ${s.demandsReceived}; records answering demands: ${s.answeredDemands}`);
    if (values.out !== undefined) {
      writeOut(values.out, JSON.stringify(s.bundle, null, 2));
      console.log(`  records with receipts written to ${values.out} (check them with dutyproof verify)`);
    }
  },
);
