/**
 * The CLI's burden-reduction commands (wired into scripts/dutyproof.ts):
 *
 *   dutyproof demand create --keystore FILE --unit NAME --duty-type CODE[,CODE…] --department CODE
 *                           --from DATE --to DATE --purpose TEXT [--on-site] [--emergency REASON] [--out FILE]
 *   dutyproof demand show DEMAND_ID [--token TOKEN]   in full for the unit, the demanding department, auditors
 *   dutyproof tasks --token TOKEN --unit NAME [--status open|answered|all]
 *   dutyproof duty-list show UNIT | duty-list (add|remove) UNIT CODE… --token OPERATOR_TOKEN
 *   dutyproof burden report --token TOKEN [--group-by unit|department|month] [--from DATE] [--to DATE]
 *                           [--unit NAME] [--department CODE] [--csv] [--out FILE]
 *   dutyproof summary --token TOKEN --unit NAME --month YYYY-MM [--out FILE]
 *
 * An inspector's key is a keystore like a unit's (`dutyproof unit keygen`); it is registered with
 * `dutyproof inspector register ADDRESS --department CODE`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { Wallet } from "ethers";
import { type DemandDefinition, demandOf, signDemand } from "../server/burden/demandClient.ts";

export interface CliHelpers {
  options: (
    args: string[],
    names: string[],
    flags?: string[],
  ) => { values: Record<string, string | undefined>; switches: Set<string>; positionals: string[] };
  required: (values: Record<string, unknown>, name: string) => string;
  password: (values: Record<string, unknown>) => string;
  gatewayJson: (path: string, init?: RequestInit) => Promise<{ status: number; body: Record<string, unknown> }>;
  gatewayUrl: () => string;
  unitIdOf: (name: string) => string;
  usage: (message: string) => Error;
}

/** A date (YYYY-MM-DD, China time) or an ISO time, as Unix seconds. */
function seconds(h: CliHelpers, name: string, value: string): number {
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00+08:00` : value) / 1000;
  if (!Number.isFinite(t)) throw h.usage(`--${name} must be a date (YYYY-MM-DD, China time) or an ISO time`);
  return Math.floor(t);
}

function refused(status: number, body: Record<string, unknown>): Error {
  const errors = (body.errors as Array<{ path: string; message: string }> | undefined)
    ?.map((e) => `${e.path}: ${e.message}`)
    .join("; ");
  return new Error(`refused (${status} ${String(body.code)}): ${String(body.detail)}${errors ? ` — ${errors}` : ""}`);
}

function tokenOf(h: CliHelpers, values: Record<string, string | undefined>, what: string): string {
  const token = values.token ?? process.env.DUTYPROOF_TOKEN;
  if (!token) throw h.usage(`${what} needs a bearer token: --token or DUTYPROOF_TOKEN`);
  return token;
}

async function dutyTypeIds(h: CliHelpers, codes: string): Promise<string[]> {
  const catalog = (await h.gatewayJson("/v1/duty-types")).body.dutyTypes as Array<{ id: string; code: string }>;
  return codes.split(",").map((wanted) => {
    const found = catalog.find((d) => d.code === wanted.trim() || d.id === wanted.trim());
    if (!found) throw h.usage(`unknown duty type ${wanted}; known: ${catalog.map((d) => d.code).join(", ")}`);
    return found.id;
  });
}

async function getWithToken(h: CliHelpers, path: string, token: string): Promise<Response> {
  try {
    return await fetch(h.gatewayUrl() + path, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(120_000),
    });
  } catch {
    throw new Error(`the gateway at ${h.gatewayUrl()} does not answer`);
  }
}

export function burdenCommands(h: CliHelpers): Record<string, (args: string[]) => Promise<void>> {
  return {
    async demand(args) {
      const [action, ...rest] = args;
      if (action === "show") {
        const { values, positionals } = h.options(rest, ["token"]);
        const demandId = positionals[0];
        if (!demandId || !/^0x[0-9a-f]{64}$/.test(demandId)) throw h.usage("demand show: give the demand id");
        // Without a token the gateway shows only that the demand was logged and its decision.
        const token = values.token ?? process.env.DUTYPROOF_TOKEN;
        const { status, body } = await h.gatewayJson(
          `/v1/demands/${demandId}`,
          token ? { headers: { authorization: `Bearer ${token}` } } : undefined,
        );
        if (status >= 400) throw refused(status, body);
        console.log(JSON.stringify(body, null, 2));
        return;
      }
      if (action !== "create") throw h.usage("demand: expected create or show");
      const { values, switches } = h.options(
        rest,
        ["keystore", "password-file", "unit", "duty-type", "department", "from", "to", "purpose", "emergency", "out"],
        ["on-site"],
      );
      const draft = {
        unitId: h.unitIdOf(h.required(values, "unit")),
        from: seconds(h, "from", h.required(values, "from")),
        to: seconds(h, "to", h.required(values, "to")),
        purpose: h.required(values, "purpose"),
        department: h.required(values, "department"),
        onSite: switches.has("on-site"),
        ...(values.emergency ? { emergencyReason: values.emergency } : {}),
        issuedAt: Math.floor(Date.now() / 1000),
      };
      if (values.emergency && !draft.onSite) throw h.usage("--emergency is for an on-site demand (--on-site)");
      const wallet = await Wallet.fromEncryptedJson(
        readFileSync(h.required(values, "keystore"), "utf8"),
        h.password(values),
      ).catch(() => {
        throw new Error("cannot open the keystore: wrong password or not a keystore file");
      });
      const definition = (await h.gatewayJson("/v1/demands/eip712")).body as unknown as DemandDefinition;
      const demand = demandOf(
        wallet.address,
        { ...draft, dutyTypeIds: await dutyTypeIds(h, h.required(values, "duty-type")) },
        definition.logId,
      );
      const signature = await signDemand(wallet, definition, demand);
      const { status, body } = await h.gatewayJson("/v1/demands?include=package", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ demand, signature }),
      });
      if (status >= 400) throw refused(status, body);
      const outcome = body.outcome as { decision: string; reason: string };
      const evidence = body.evidence as { items: unknown[]; pending: number };
      if (values.out) writeFileSync(values.out, JSON.stringify(evidence, null, 2) + "\n");
      console.log(`demand ${String(body.demandId)}: ${outcome.decision} — ${outcome.reason}`);
      console.log(
        `  evidence: ${evidence.items.length} anchored record(s)${evidence.pending ? `, ${evidence.pending} pending` : ""}${values.out ? `, written to ${values.out} (check it with dutyproof verify)` : ""}`,
      );
    },

    async tasks(args) {
      const { values } = h.options(args, ["token", "unit", "status"]);
      const token = tokenOf(h, values, "tasks");
      const unitId = h.unitIdOf(h.required(values, "unit"));
      const res = await getWithToken(h, `/v1/units/${unitId}/tasks?status=${values.status ?? "open"}`, token);
      const body = (await res.json()) as Record<string, unknown>;
      if (res.status !== 200) throw refused(res.status, body);
      const tasks = body.tasks as Array<{
        demandId: string;
        decision: string;
        status: string;
        department: string;
        from: number;
        to: number;
      }>;
      if (tasks.length === 0) console.log("no tasks");
      for (const t of tasks) {
        const period = `${new Date(t.from * 1000).toISOString().slice(0, 10)}…${new Date(t.to * 1000).toISOString().slice(0, 10)}`;
        console.log(`${t.demandId}  ${t.status.padEnd(8)} ${t.decision.padEnd(18)} ${t.department}  ${period}`);
      }
      if (tasks.some((t) => t.status === "open")) {
        console.log("answer a task: dutyproof submit … --demand DEMAND_ID");
      }
    },

    async "duty-list"(args) {
      const [action, unit, ...rest] = args;
      if (!unit) throw h.usage("duty-list: expected show|add|remove UNIT [CODE…]");
      const unitId = h.unitIdOf(unit);
      let status: number;
      let body: Record<string, unknown>;
      if (action === "show") {
        ({ status, body } = await h.gatewayJson(`/v1/units/${unitId}/duty-list`));
      } else if (action === "add" || action === "remove") {
        const { values, positionals } = h.options(rest, ["token"]);
        if (positionals.length === 0) throw h.usage(`duty-list ${action}: give duty type codes`);
        const ids = await dutyTypeIds(h, positionals.join(","));
        ({ status, body } = await h.gatewayJson(`/v1/units/${unitId}/duty-list`, {
          method: "PATCH",
          headers: { "content-type": "application/json", authorization: `Bearer ${tokenOf(h, values, "duty-list")}` },
          body: JSON.stringify({ [action]: ids }),
        }));
      } else throw h.usage("duty-list: expected show, add or remove");
      if (status >= 400) throw refused(status, body);
      for (const d of body.dutyTypes as Array<{ code: string; onList: boolean; reason?: string }>) {
        console.log(`${d.onList ? "✓" : "✗"} ${d.code}${d.reason ? ` (${d.reason})` : ""}`);
      }
    },

    async burden(args) {
      const [action, ...rest] = args;
      if (action !== "report") throw h.usage("burden: expected report");
      const { values, switches } = h.options(
        rest,
        ["token", "group-by", "from", "to", "unit", "department", "out"],
        ["csv"],
      );
      const params = new URLSearchParams({
        groupBy: values["group-by"] ?? "unit",
        format: switches.has("csv") ? "csv" : "json",
      });
      if (values.from) params.set("from", String(seconds(h, "from", values.from)));
      if (values.to) params.set("to", String(seconds(h, "to", values.to)));
      if (values.unit) params.set("unitId", h.unitIdOf(values.unit));
      if (values.department) params.set("department", values.department);
      const res = await getWithToken(h, `/v1/burden/report?${params}`, tokenOf(h, values, "burden report"));
      const text = await res.text();
      if (res.status !== 200) throw refused(res.status, JSON.parse(text) as Record<string, unknown>);
      const output = switches.has("csv") ? text : JSON.stringify(JSON.parse(text), null, 2) + "\n";
      if (values.out) {
        writeFileSync(values.out, output);
        console.log(`burden report written to ${values.out}`);
      } else process.stdout.write(output);
    },

    async summary(args) {
      const { values } = h.options(args, ["token", "unit", "month", "out"]);
      const unitId = h.unitIdOf(h.required(values, "unit"));
      const month = h.required(values, "month");
      const res = await getWithToken(
        h,
        `/v1/units/${unitId}/summary?month=${encodeURIComponent(month)}`,
        tokenOf(h, values, "summary"),
      );
      const body = (await res.json()) as Record<string, unknown>;
      if (res.status !== 200) throw refused(res.status, body);
      const s = body as {
        records: number;
        anchored: number;
        pending: number;
        demandsReceived: number;
        answeredDemands: number;
        byDutyType: Array<{ code: string; title: { "zh-CN": string }; count: number }>;
        bundle: unknown;
      };
      console.log(`${month} 月汇总: ${s.records} 条履职记录（${s.anchored} 条已锚定，${s.pending} 条待锚定）`);
      for (const d of s.byDutyType) console.log(`  ${d.title["zh-CN"]} (${d.code}): ${d.count}`);
      console.log(`  demands received: ${s.demandsReceived}; records answering demands: ${s.answeredDemands}`);
      if (values.out) {
        writeFileSync(values.out, JSON.stringify(s.bundle, null, 2) + "\n");
        console.log(`  records with receipts written to ${values.out} (check them with dutyproof verify)`);
      }
    },
  };
}
