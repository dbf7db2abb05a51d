/**
 * The county simulation's second half (scripts/simulate.ts calls it after the evidence demands):
 * a year of the other burdens, each a signed request the gateway's gate decides. Departments
 * call meetings (some without agenda or decision, some on the same topic as another's), send
 * data requests over the fields units already attest (some over fields they never fill in, some
 * over data catalogue items, some contradicting another department), visit villages (some in
 * the same week as another department), evaluate townships (lead and non-lead departments, some
 * past the yearly cap, some emergencies) and second staff (some past the limits, some approved).
 * What is modelled is this traffic; what is measured is what the gateway decided.
 */
import type { Eip712Domain } from "../server/core/eip712.ts";
import {
  type DataItem,
  type RequestEnvelope,
  type RequestOutcome,
  requestMessageOf,
  requestTypedDataDigest,
} from "../server/core/request.ts";
import { collide } from "../server/burden/requestRules.ts";
import { CALENDAR_OFFSET_SECONDS, yearStartOf } from "../server/burden/rules.ts";

const DAY = 86_400;

/** The domains evaluated and inspected, their lead department and the duty types inspected. */
const DOMAINS: Record<string, { lead: string; others: string[]; codes: string[] }> = {
  "social-assistance": {
    lead: "civil-affairs",
    others: ["agriculture", "health"],
    codes: ["household-visit", "subsistence-allowance-check"],
  },
  "work-safety": {
    lead: "emergency-management",
    others: ["natural-resources", "ecology-environment"],
    codes: ["safety-hazard-check"],
  },
  "comprehensive-governance": {
    lead: "political-legal",
    others: ["petition"],
    codes: ["grid-patrol", "dispute-mediation"],
  },
  "party-building": { lead: "organization", others: ["general-office"], codes: ["meeting-held"] },
};

/** Fields units fill in (required, not personal) and fields they never do, per duty type. */
const FILLED: Record<string, string[]> = {
  "grid-patrol": ["gridCode", "durationMinutes", "issuesFound"],
  "household-visit": ["visitPurpose", "followUpRequired"],
  "meeting-held": ["meetingKind", "attendees"],
  "policy-outreach": ["channel", "audience"],
  "safety-hazard-check": ["siteKind", "hazardsFound", "hazardsRectified"],
  "dispute-mediation": ["disputeKind", "outcome"],
  "petition-reception": ["handling"],
  "subsistence-allowance-check": ["householdSize", "conclusion"],
};
const NEVER_FILLED: Record<string, string[]> = {
  "grid-patrol": ["issuesSummary"],
  "household-visit": ["needsFound"],
  "safety-hazard-check": ["description"],
};
const CATALOG_ITEMS = [
  "population.households",
  "population.elderly",
  "land.contracted-area",
  "economy.collective-income",
];

interface SimUnit {
  id: string;
  level: number;
}

interface Random {
  next(): number;
  int(min: number, max: number): number;
  chance(p: number): boolean;
  pick<T>(list: readonly T[]): T;
  bytes32(): string;
}

/** What the county simulation hands in. */
export interface GateSimulationContext {
  r: Random;
  year: number;
  quick: boolean;
  units: readonly SimUnit[];
  departments: Record<string, string[]>;
  inspectors: Map<string, Array<{ key: string; address: string }>>;
  /** Duty types the unit attests at its level (and has not left to its township). */
  attests: (code: string, unit: SimUnit) => boolean;
  dutyId: (code: string) => string;
  domain: Eip712Domain;
  logId: string;
  operatorToken: string;
  setClock: (t: number) => void;
  sign: (digest: Uint8Array, key: string) => string;
  post: (path: string, body: unknown, token?: string, method?: string) => Promise<Record<string, unknown>>;
}

/** The simulation's figures about the gate's other kinds (scripts/simulate.ts adds them to its result). */
export interface GateSimulationResult {
  requests: number;
  dataItemsAnsweredFromLedgerShare: number;
  meetingsMerged: number;
  jointInspections: number;
  conflictsFlagged: number;
  nonLeadEvaluationsRefused: number;
  evaluationsOverCapWithoutEmergency: number;
  secondmentsOverLimitWithoutApproval: number;
  meetingsPerUnitDayMax: number;
  overlappingVisitsNotMerged: number;
}

type Draft = Record<string, unknown> & { kind: RequestEnvelope["kind"]; department: string; unitId: string };
interface Planned {
  at: number;
  draft: Draft;
  intent?: "conflict";
}

const localDay = (t: number) => Math.floor((t + CALENDAR_OFFSET_SECONDS) / DAY);

/** Runs the year of requests against the gateway; returns the figures, measured from its outcomes. */
export async function simulateRequests(ctx: GateSimulationContext): Promise<GateSimulationResult> {
  const { r, year, units, departments } = ctx;
  const yearStart = yearStartOf(year);
  const departmentCodes = Object.keys(departments);
  await ctx.post(
    "/v1/burden/lead-departments",
    { leads: Object.fromEntries(Object.entries(DOMAINS).map(([d, v]) => [d, v.lead])) },
    ctx.operatorToken,
    "PATCH",
  );
  await ctx.post("/v1/burden/data-list", { add: CATALOG_ITEMS }, ctx.operatorToken, "PATCH");

  const plan: Planned[] = [];
  const at = () => yearStart + r.int(15, 350) * DAY + r.int(8, 17) * 3600;
  const topics = ["安全生产部署", "防汛备汛", "低保政策", "网格化治理", "党建工作", "环境整治", "征兵工作", "春耕生产"];
  for (const unit of units) {
    // Meetings: about two a month, from any department; a few without agenda or decisions.
    const meetings = ctx.quick ? r.int(8, 12) : r.int(18, 30);
    for (let i = 0; i < meetings; i++) {
      const department = r.pick(departmentCodes);
      const start = at();
      plan.push({
        at: start - r.int(3, 10) * DAY,
        draft: {
          kind: "meeting",
          department,
          unitId: unit.id,
          topic: `${r.pick(topics)}（${department}）`,
          agenda: r.chance(0.05) ? [] : ["通报情况", "部署任务"],
          decisionsSought: r.chance(0.05) ? [] : ["明确责任分工"],
          start,
          durationMinutes: r.pick([60, 90, 120]),
          roles: r.chance(0.5) ? ["secretary"] : ["secretary", "director"],
        },
      });
    }
    // Data requests over the last quarter: mostly fields the unit attests, some it never fills
    // in, some data catalogue items.
    const dataRequests = ctx.quick ? r.int(5, 8) : r.int(8, 14);
    for (let i = 0; i < dataRequests; i++) {
      const department = r.pick(departmentCodes);
      const codes = departments[department]!.filter((c) => ctx.attests(c, unit));
      if (codes.length === 0) continue;
      const code = r.pick(codes);
      const items: DataItem[] = [];
      for (const field of FILLED[code]!) if (r.chance(0.7)) items.push({ dutyTypeId: ctx.dutyId(code), field });
      if (NEVER_FILLED[code] && r.chance(0.2))
        items.push({ dutyTypeId: ctx.dutyId(code), field: NEVER_FILLED[code][0]! });
      if (r.chance(0.15)) items.push({ catalogItem: r.pick(CATALOG_ITEMS) });
      if (items.length === 0) items.push({ dutyTypeId: ctx.dutyId(code), field: FILLED[code]![0]! });
      const t = at();
      const draft: Draft = {
        kind: "data",
        department,
        unitId: unit.id,
        items,
        from: t - 90 * DAY,
        to: t - DAY,
        deadline: t + 10 * DAY,
      };
      plan.push({ at: t, draft });
      if (r.chance(0.08)) {
        // Another department asks a catalogue item with another definition (指令冲突).
        const item = r.pick(CATALOG_ITEMS);
        const other = r.pick(departmentCodes.filter((d) => d !== department));
        plan.push({ at: t, draft: { ...draft, items: [{ catalogItem: item, value: "按户统计" }] } });
        plan.push({
          at: t + r.int(1, 5) * DAY,
          draft: { ...draft, department: other, items: [{ catalogItem: item, value: "按人统计" }] },
          intent: "conflict",
        });
      }
    }
    // On-site visits of villages by lead departments, some in the same week as another's.
    if (unit.level === 3) {
      const visits = r.int(1, 3);
      for (let i = 0; i < visits; i++) {
        const [domain, d] = r.pick(Object.entries(DOMAINS));
        const codes = d.codes.filter((c) => ctx.attests(c, unit));
        if (codes.length === 0) continue;
        const from = at();
        const visit = (department: string, dom: string, dutyCodes: string[], start: number): Planned => ({
          at: start - r.int(2, 7) * DAY,
          draft: {
            kind: "inspection",
            department,
            unitId: unit.id,
            domain: dom,
            dutyTypeIds: dutyCodes.map(ctx.dutyId).sort(),
            from: start,
            to: start + 4 * 3600,
          },
        });
        plan.push(visit(d.lead, domain, codes, from));
        if (r.chance(0.4)) {
          const [otherDomain, o] = r.pick(Object.entries(DOMAINS).filter(([k]) => k !== domain));
          const otherCodes = o.codes.filter((c) => ctx.attests(c, unit));
          if (otherCodes.length > 0) plan.push(visit(o.lead, otherDomain, otherCodes, from + r.int(0, 2) * DAY));
        }
      }
    }
    // Evaluations of townships: by the lead departments, a few past the cap, some by non-leads.
    if (unit.level === 2) {
      const evaluations = r.int(4, 8);
      for (let i = 0; i < evaluations; i++) {
        const [domain, d] = r.pick(Object.entries(DOMAINS));
        const nonLead = r.chance(0.2);
        const from = at();
        plan.push({
          at: from - 5 * DAY,
          draft: {
            kind: "evaluation",
            department: nonLead ? r.pick(d.others) : d.lead,
            unitId: unit.id,
            domain,
            title: `${domain} 考核 ${i + 1}`,
            from,
            to: from + DAY,
            ...(r.chance(0.1) ? { emergency: { reason: "灾后恢复专项核查" } } : {}),
          },
        });
      }
      // Secondments: some past 3 months, some approved, some extended once or twice.
      const secondments = r.int(1, 3);
      for (let i = 0; i < secondments; i++) {
        const days = r.pick([30, 60, 90, 92, 120, 180]);
        const from = at();
        plan.push({
          at: from - 7 * DAY,
          draft: {
            kind: "secondment",
            department: r.pick(departmentCodes),
            unitId: unit.id,
            role: r.pick(["clerk", "grid-worker", "accountant"]),
            from,
            days,
            ...(days > 92 && r.chance(0.5) ? { approvalRef: "县委组织部〔2025〕批" } : {}),
          },
        });
      }
    }
  }
  plan.sort((a, b) => a.at - b.at);

  const outcomes: Array<{ request: RequestEnvelope; outcome: RequestOutcome; requestId: string }> = [];
  const submit = async (request: RequestEnvelope) => {
    const inspector = ctx.inspectors.get(request.department)!.find((i) => i.address === request.inspector)!;
    const signature = ctx.sign(requestTypedDataDigest(ctx.domain, requestMessageOf(request)), inspector.key);
    const answer = (await ctx.post("/v1/requests", { request, signature })) as {
      requestId: string;
      outcome: RequestOutcome;
    };
    outcomes.push({ request, outcome: answer.outcome, requestId: answer.requestId });
    return answer;
  };
  const envelope = (draft: Draft, issuedAt: number): RequestEnvelope => {
    const inspector = r.pick(ctx.inspectors.get(draft.department)!);
    return {
      version: 1,
      logId: ctx.logId,
      inspector: inspector.address,
      issuedAt,
      salt: r.bytes32(),
      ...draft,
    } as unknown as RequestEnvelope;
  };
  for (const planned of plan) {
    if (planned.at >= yearStartOf(year + 1)) continue;
    ctx.setClock(planned.at);
    const answer = await submit(envelope(planned.draft, planned.at));
    const { draft } = planned;
    // An admitted secondment is extended now and then, once or (rarely) twice.
    if (draft.kind === "secondment" && answer.outcome.decision === "admitted") {
      let extended = answer.requestId;
      let from = (draft.from as number) + (draft.days as number) * DAY;
      for (let n = 0; n < 2 && r.chance(n === 0 ? 0.4 : 0.3); n++) {
        const days = r.pick([30, 60, 92, 120]);
        ctx.setClock(Math.min(from - DAY, yearStartOf(year + 1) - 60));
        const extension = await submit(
          envelope(
            {
              ...draft,
              from,
              days,
              extends: extended,
              ...(r.chance(0.3) ? { approvalRef: "县委组织部〔2025〕续" } : {}),
            },
            Math.min(from - DAY, yearStartOf(year + 1) - 60),
          ),
        );
        if (extension.outcome.decision !== "admitted") break;
        extended = extension.requestId;
        from += days * DAY;
      }
    }
  }

  // ── measured, from the gateway's outcomes ──
  let itemsAsked = 0;
  let itemsFromLedger = 0;
  const evaluationsPerUnitYear = new Map<string, number>();
  let evaluationsOverCapWithoutEmergency = 0;
  let secondmentsOverLimitWithoutApproval = 0;
  const extensionsOf = new Map<string, number>(); // request id -> extensions in its chain so far
  const attendance = new Map<string, number>(); // unit:day -> meetings attended
  const visits = new Map<string, Array<{ from: number; to: number }>>();
  for (const { request, outcome, requestId } of outcomes) {
    const stands = outcome.decision === "admitted" || outcome.decision === "admitted_emergency";
    if (request.kind === "data" && outcome.decision !== "refused" && outcome.decision !== "duplicate_absorbed") {
      itemsAsked += request.items.length;
      itemsFromLedger += outcome.answered?.length ?? 0;
    }
    if (request.kind === "evaluation" && outcome.decision === "admitted") {
      const key = `${request.unitId}:${year}`;
      const count = (evaluationsPerUnitYear.get(key) ?? 0) + 1;
      evaluationsPerUnitYear.set(key, count);
      if (count > 5) evaluationsOverCapWithoutEmergency++;
    }
    if (request.kind === "secondment" && stands && request.approvalRef === undefined) {
      const chain = request.extends ? (extensionsOf.get(request.extends) ?? 0) + 1 : 0;
      extensionsOf.set(requestId, chain);
      if (chain === 0 ? request.days > 92 : request.days > 92 || chain > 1) secondmentsOverLimitWithoutApproval++;
    } else if (request.kind === "secondment" && stands) {
      extensionsOf.set(requestId, request.extends ? (extensionsOf.get(request.extends) ?? 0) + 1 : 0);
    }
    if (request.kind === "meeting" && stands) {
      const key = `${request.unitId}:${localDay(request.start)}`;
      attendance.set(key, (attendance.get(key) ?? 0) + 1);
    }
    if (request.kind === "inspection" && stands) {
      const list = visits.get(request.unitId) ?? [];
      list.push({ from: request.from, to: request.to });
      visits.set(request.unitId, list);
    }
  }
  let overlappingVisitsNotMerged = 0;
  for (const list of visits.values()) {
    for (let i = 0; i < list.length; i++)
      for (let j = i + 1; j < list.length; j++) if (collide(list[i]!, list[j]!)) overlappingVisitsNotMerged++;
  }
  const count = (predicate: (o: (typeof outcomes)[number]) => boolean) => outcomes.filter(predicate).length;
  return {
    requests: outcomes.length,
    dataItemsAnsweredFromLedgerShare: Math.round((itemsFromLedger / Math.max(1, itemsAsked)) * 10_000) / 10_000,
    meetingsMerged: count((o) => o.outcome.reasonCode === "merged.combined_meeting"),
    jointInspections: count((o) => o.outcome.reasonCode === "merged.joint_visit"),
    conflictsFlagged: count((o) => (o.outcome.conflicts?.length ?? 0) > 0),
    nonLeadEvaluationsRefused: count((o) => o.outcome.reasonCode === "refused.not_lead_department"),
    evaluationsOverCapWithoutEmergency,
    secondmentsOverLimitWithoutApproval,
    meetingsPerUnitDayMax: Math.max(0, ...attendance.values()),
    overlappingVisitsNotMerged,
  };
}

/** Whether the gate's targets of the default scenario are met (test/burden/simulate.test.ts asserts each). */
export function gateTargetsMet(g: GateSimulationResult): boolean {
  return (
    g.dataItemsAnsweredFromLedgerShare >= 0.7 &&
    g.evaluationsOverCapWithoutEmergency === 0 &&
    g.secondmentsOverLimitWithoutApproval === 0 &&
    g.overlappingVisitsNotMerged === 0 &&
    g.meetingsPerUnitDayMax <= 1
  );
}
