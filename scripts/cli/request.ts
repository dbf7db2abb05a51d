/**
 * The gate's commands for the burdens beyond evidence (issue 15): a department signs a request
 * of any kind (meeting, data, inspection, evaluation, secondment) with an inspector's keystore; a
 * unit lists what it must act on, the meetings combined and the visits joined; the operator sets
 * lead departments and the data list (both audited admin acts).
 */
import type { DemandDefinition } from "../../server/burden/demandClient.ts";
import { type RequestDraft, requestOf, signRequest } from "../../server/burden/requestClient.ts";
import type { DataItem, RequestKind } from "../../server/core/request.ts";
import { REQUEST_KINDS } from "../../server/core/request.ts";
import { type Command, command } from "./command.ts";
import { hash32, openKeystore, tokenOf, unitIdOf } from "./context.ts";
import { UsageError } from "./errors.ts";
import { dutyTypeIds, gatewayJson } from "./gateway.ts";
import { chinaDate, parseTime } from "./time.ts";

const list = (value: string | undefined): string[] =>
  (value ?? "")
    .split(";")
    .map((s) => s.trim())
    .filter((s) => s !== "");

function wanted(values: Record<string, string | undefined>, name: string, kind: string): string {
  const value = values[name];
  if (value === undefined || value === "") throw new UsageError(`request create --kind ${kind} needs --${name}`);
  return value;
}

function count(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive whole number`);
  return n;
}

/** Data items: `DUTY-TYPE-CODE.field` or `catalog:CODE`, comma-separated. */
async function dataItems(text: string): Promise<DataItem[]> {
  const items: DataItem[] = [];
  for (const part of text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")) {
    if (part.startsWith("catalog:")) {
      items.push({ catalogItem: part.slice("catalog:".length) });
      continue;
    }
    const dot = part.lastIndexOf(".");
    if (dot <= 0) throw new UsageError(`--items: "${part}" is neither DUTY-TYPE.field nor catalog:CODE`);
    const [dutyTypeId] = await dutyTypeIds(part.slice(0, dot));
    items.push({ dutyTypeId: dutyTypeId!, field: part.slice(dot + 1) });
  }
  if (items.length === 0) throw new UsageError("--items: name at least one data item");
  return items;
}

/** The kind's own fields from the flags. */
async function kindFields(kind: RequestKind, values: Record<string, string | undefined>) {
  const emergency = values.emergency ? { emergency: { reason: values.emergency } } : {};
  const approval = values.approval ? { approvalRef: values.approval } : {};
  switch (kind) {
    case "meeting":
      return {
        topic: wanted(values, "topic", kind),
        agenda: list(values.agenda),
        decisionsSought: list(values.decisions),
        start: parseTime("start", wanted(values, "start", kind)),
        durationMinutes: count("minutes", wanted(values, "minutes", kind)),
        roles: wanted(values, "roles", kind)
          .split(",")
          .map((s) => s.trim()),
      };
    case "data":
      return {
        items: await dataItems(wanted(values, "items", kind)),
        from: parseTime("from", wanted(values, "from", kind)),
        to: parseTime("to", wanted(values, "to", kind)),
        deadline: parseTime("deadline", wanted(values, "deadline", kind)),
        ...approval,
      };
    case "inspection":
      return {
        domain: wanted(values, "domain", kind),
        dutyTypeIds: [...new Set(await dutyTypeIds(wanted(values, "duty-type", kind)))].sort(),
        from: parseTime("from", wanted(values, "from", kind)),
        to: parseTime("to", wanted(values, "to", kind)),
        ...emergency,
      };
    case "evaluation":
      return {
        domain: wanted(values, "domain", kind),
        title: wanted(values, "title", kind),
        from: parseTime("from", wanted(values, "from", kind)),
        to: parseTime("to", wanted(values, "to", kind)),
        ...emergency,
      };
    case "secondment":
      return {
        role: wanted(values, "role", kind),
        from: parseTime("from", wanted(values, "from", kind)),
        days: count("days", wanted(values, "days", kind)),
        ...(values.extends ? { extends: hash32("--extends", values.extends) } : {}),
        ...approval,
      };
  }
}

const requestCreate = command(
  {
    name: "burden request",
    summary: "department: sign a meeting, data, inspection, evaluation or secondment request; the gate decides it",
    usage:
      "--kind KIND --keystore FILE --unit NAME --department CODE [the kind's flags]\n" +
      "    meeting:    --topic TEXT --agenda 'A;B' --decisions 'X;Y' --start DATE --minutes N --roles a,b\n" +
      "    data:       --items grid-patrol.gridCode,catalog:CODE --from DATE --to DATE --deadline DATE [--approval REF]\n" +
      "    inspection: --domain CODE --duty-type CODES --from DATE --to DATE [--emergency REASON]\n" +
      "    evaluation: --domain CODE --title TEXT --from DATE --to DATE [--emergency REASON]\n" +
      "    secondment: --role CODE --from DATE --days N [--extends REQUEST_ID] [--approval REF]",
    flags: {
      kind: { value: "KIND", help: `one of ${REQUEST_KINDS.join(", ")} (evidence: dutyproof demand create)` },
      keystore: { value: "FILE", help: "the inspector's (or officer's) keystore" },
      "password-file": { value: "FILE", help: "keystore password (else DUTYPROOF_PASSWORD)" },
      unit: { value: "NAME", help: "the unit asked" },
      department: { value: "CODE", help: "the signer's department" },
      topic: { value: "TEXT", help: "meeting: its topic" },
      agenda: { value: "ITEMS", help: "meeting: agenda items, separated by ';' (none: refused)" },
      decisions: { value: "ITEMS", help: "meeting: decisions sought, separated by ';' (none: refused)" },
      start: { value: "DATE", help: "meeting: when it starts (YYYY-MM-DD HH:MM, China time)" },
      minutes: { value: "N", help: "meeting: how long, minutes" },
      roles: { value: "ROLES", help: "meeting: the roles that attend, comma-separated" },
      items: { value: "ITEMS", help: "data: DUTY-TYPE.field or catalog:CODE, comma-separated" },
      deadline: { value: "DATE", help: "data: when the data is due" },
      domain: { value: "CODE", help: "inspection, evaluation: the domain (its lead department decides)" },
      "duty-type": { value: "CODES", help: "inspection: duty types inspected, comma-separated" },
      title: { value: "TEXT", help: "evaluation: what is evaluated" },
      role: { value: "CODE", help: "secondment: the seconded person's role (never a name)" },
      days: { value: "N", help: "secondment: length in days" },
      extends: { value: "REQUEST_ID", help: "secondment: the secondment this one extends" },
      from: { value: "DATE", help: "start of the period, visit or secondment (China time)" },
      to: { value: "DATE", help: "end, exclusive" },
      emergency: { value: "REASON", help: "inspection, evaluation: outside the quota, with its reason" },
      approval: { value: "REF", help: "data, secondment: reference of the recorded approval" },
    },
    example:
      "dutyproof burden request --kind meeting --keystore office.json --unit qingshui-1 --department general-office --topic 防汛部署 --agenda '通报汛情;部署任务' --decisions 明确分工 --start '2026-07-02 09:00' --minutes 90 --roles secretary",
  },
  async ({ values }) => {
    const kind = values.kind as RequestKind | undefined;
    if (!kind || !REQUEST_KINDS.includes(kind))
      throw new UsageError(`--kind must be one of ${REQUEST_KINDS.join(", ")} (evidence: dutyproof demand create)`);
    const unitId = unitIdOf(wanted(values, "unit", kind));
    const department = wanted(values, "department", kind);
    const fields = await kindFields(kind, values);
    const wallet = await openKeystore(values, wanted(values, "keystore", kind));
    const definition = await gatewayJson<DemandDefinition>("/v1/requests/eip712");
    const draft = { kind, unitId, department, issuedAt: Math.floor(Date.now() / 1000), ...fields } as RequestDraft;
    const request = requestOf(wallet.address, draft, definition.logId);
    const signature = await signRequest(wallet, definition, request);
    const body = await gatewayJson<{
      requestId: string;
      outcome: { decision: string; reasonCode: string; reason: string; missing?: string[]; mergedWith?: string };
    }>("/v1/requests", { method: "POST", body: { request, signature } });
    const { outcome } = body;
    console.log(`request ${body.requestId}: ${outcome.decision} (${outcome.reasonCode}) — ${outcome.reason}`);
    if (outcome.missing) console.log(`  the unit provides: ${outcome.missing.join(", ")}`);
  },
);

const requestShow = command(
  {
    name: "burden show",
    summary: "a burden request: in full for the unit, its department and auditors; else its decision",
    usage: "REQUEST_ID [--token TOKEN]",
    flags: { token: { value: "TOKEN", help: "a token that may read it in full (else DUTYPROOF_TOKEN)" } },
    maxPositionals: 1,
    example: "dutyproof burden show 0x41b7…c2 --token dp_…",
  },
  async ({ values, positionals }) => {
    const requestId = hash32("burden show: the request id", positionals[0]);
    const token = values.token ?? process.env.DUTYPROOF_TOKEN;
    console.log(JSON.stringify(await gatewayJson(`/v1/requests/${requestId}`, token ? { token } : {}), null, 2));
  },
);

interface UnitItem {
  requestId: string;
  kind: string;
  department: string;
  decision: string;
  from: number;
  topic?: string;
  domain?: string;
  roles?: string[];
  missing?: string[];
  departments?: string[];
}

const unitRequests = command(
  {
    name: "burden requests",
    summary: "unit: what it must act on, the meetings combined, the visits joined and conflicting directives",
    usage: "--token TOKEN --unit NAME",
    flags: {
      token: { value: "TOKEN", help: "the unit's token (else DUTYPROOF_TOKEN)" },
      unit: { value: "NAME", help: "the unit" },
    },
    example: "dutyproof burden requests --token dp_… --unit qingshui-1",
  },
  async ({ values }) => {
    const token = tokenOf(values, "burden requests");
    const unitId = unitIdOf(values.unit ?? "");
    if (!values.unit) throw new UsageError("burden requests needs --unit");
    const body = await gatewayJson<{
      tasks: UnitItem[];
      mergedMeetings: UnitItem[];
      jointVisits: UnitItem[];
      conflicts: Array<{ item: string; department: string; otherDepartment: string; on: string }>;
    }>(`/v1/units/${unitId}/requests`, { token, timeoutMs: 120_000 });
    const line = (t: UnitItem) =>
      `${t.requestId}  ${t.kind.padEnd(10)} ${chinaDate(t.from)}  ${t.department}${t.topic ? `  ${t.topic}` : ""}${
        t.roles ? `  attend: ${t.roles.join(",")}` : ""
      }${t.missing ? `  provide: ${t.missing.join(",")}` : ""}`;
    console.log(`tasks (${body.tasks.length})`);
    for (const t of body.tasks) console.log(`  ${line(t)}`);
    console.log(`combined meetings (${body.mergedMeetings.length})`);
    for (const m of body.mergedMeetings) console.log(`  ${line(m)}  with ${m.departments!.join(", ")}`);
    console.log(`joint visits (${body.jointVisits.length})`);
    for (const v of body.jointVisits) console.log(`  ${line(v)}  with ${v.departments!.join(", ")}`);
    if (body.conflicts.length > 0) console.log(`conflicting directives (${body.conflicts.length})`);
    for (const c of body.conflicts)
      console.log(`  ${c.item}: ${c.department} and ${c.otherDepartment} differ on ${c.on}`);
  },
);

const gateLead = command(
  {
    name: "burden lead",
    summary: "operator: set the lead department of domains (谁主管谁考核), an audited admin act",
    usage: "DOMAIN=DEPARTMENT… --token OPERATOR_TOKEN",
    flags: { token: { value: "TOKEN", help: "an operator token (else DUTYPROOF_TOKEN)" } },
    maxPositionals: 50,
    example: "dutyproof burden lead social-assistance=civil-affairs work-safety=emergency-management --token dp_…",
  },
  async ({ values, positionals }) => {
    if (positionals.length === 0) throw new UsageError("burden lead: give DOMAIN=DEPARTMENT pairs");
    const leads: Record<string, string> = {};
    for (const pair of positionals) {
      const [domain, department, extra] = pair.split("=");
      if (!domain || department === undefined || extra !== undefined)
        throw new UsageError(`burden lead: "${pair}" is not DOMAIN=DEPARTMENT`);
      leads[domain] = department;
    }
    const token = tokenOf(values, "burden lead");
    const body = await gatewayJson<{ leadDepartments: Record<string, string> }>("/v1/burden/lead-departments", {
      method: "PATCH",
      token,
      body: { leads },
    });
    for (const [domain, department] of Object.entries(body.leadDepartments)) console.log(`${domain}: ${department}`);
  },
);

const gateDataList = command(
  {
    name: "burden data-list",
    summary: "operator: add or remove data catalogue items of the data list (数据清单), an audited admin act",
    usage: "[--add CODES] [--remove CODES] --token OPERATOR_TOKEN",
    flags: {
      add: { value: "CODES", help: "data catalogue items to put on the list, comma-separated" },
      remove: { value: "CODES", help: "data catalogue items to take off it, comma-separated" },
      token: { value: "TOKEN", help: "an operator token (else DUTYPROOF_TOKEN)" },
    },
    example: "dutyproof burden data-list --add population.households,population.elderly --token dp_…",
  },
  async ({ values }) => {
    const codes = (value: string | undefined) =>
      (value ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
    const add = codes(values.add);
    const remove = codes(values.remove);
    if (add.length + remove.length === 0) throw new UsageError("burden data-list: give --add or --remove");
    const token = tokenOf(values, "burden data-list");
    const body = await gatewayJson<{ dataList: string[] }>("/v1/burden/data-list", {
      method: "PATCH",
      token,
      body: { add, remove },
    });
    console.log(body.dataList.length === 0 ? "the data list is empty" : body.dataList.join("\n"));
  },
);

/** The gate's subcommands of `dutyproof burden`. */
export const requestCommands: Command[] = [requestCreate, requestShow, unitRequests, gateLead, gateDataList];
