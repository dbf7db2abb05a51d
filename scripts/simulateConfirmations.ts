/**
 * The county simulation's residents (群众评价): for a share of the records of duty types that ask
 * residents, the unit asks for a link, and the resident (or, in a colluding unit, a cadre on the
 * resident's behalf) answers it through the gateway's public routes. Honest residents sometimes
 * say a service did not happen; colluding units always confirm with top marks. The figures come
 * back from the gateway: what the inspectors are shown, not what the simulation intended.
 */
import { join } from "node:path";
import { recordDigest } from "../server/core/record.ts";
import type { RecordEnvelope } from "../server/core/record.ts";
import { bytesToHex } from "../server/core/bytes.ts";
import { issueToken } from "../server/gateway/AccessTokens.ts";

/** The figures the simulation reports about residents. */
export interface ResidentFigures {
  /** Links issued, and answered. */
  confirmationsRequested: number;
  confirmationsAnswered: number;
  /** Answers "it happened" over the links issued: of the services residents were asked about. */
  residentConfirmationRate: number;
  /** Mean of the residents' ratings (1–5). */
  meanSatisfaction: number;
  /** "Did not happen" answers that reached inspectors as findings. */
  didNotHappenFlagged: number;
  /** Units whose cadres answered their own links. */
  colludingUnits: number;
}

export interface ResidentSimulation {
  /** The simulation's random source. */
  r: { next(): number; chance(p: number): boolean; int(min: number, max: number): number };
  dataDir: string;
  units: ReadonlyArray<{ id: string; name: string; level: number }>;
  records: ReadonlyArray<{ envelope: RecordEnvelope }>;
  /** Duty type ids that ask residents. */
  confirmable: ReadonlySet<string>;
  /** A POST (or other method) to the gateway; throws on 4xx/5xx. */
  post: (path: string, body: unknown, token?: string, method?: string) => Promise<Record<string, unknown>>;
  get: (path: string, token: string) => Promise<Record<string, unknown>>;
  /** An auditor's token: reads every department's findings. */
  auditorToken: string;
}

/** Runs the residents' year; `share` of the confirmable records ask their resident. */
export async function simulateConfirmations(
  sim: ResidentSimulation,
  options: { share: number; collusion: number } = { share: 0.25, collusion: 0.1 },
): Promise<ResidentFigures> {
  const { r } = sim;
  const tokens = new Map<string, string>();
  const colluding = new Set<string>();
  for (const unit of sim.units) {
    tokens.set(unit.id, issueToken(join(sim.dataDir, "tokens.json"), `unit:${unit.id}`, unit.name));
    if (r.chance(options.collusion)) colluding.add(unit.id);
  }
  const confirmable = sim.records.filter((x) => sim.confirmable.has(x.envelope.dutyTypeId));
  const asked = confirmable.filter(() => r.chance(options.share));
  // Each answer decided up front, in order, so a seed gives the same county whatever the timing.
  const plans = asked.map(({ envelope }) => {
    const colludes = colluding.has(envelope.unitId);
    const answers = colludes || r.chance(0.7);
    const happened = colludes || !r.chance(0.04);
    const satisfaction = colludes ? 5 : happened ? r.int(r.chance(0.15) ? 1 : 3, 5) : r.int(1, 2);
    return { recordId: bytesToHex(recordDigest(envelope)), unitId: envelope.unitId, answers, happened, satisfaction };
  });
  let answered = 0;
  // A few at a time: answers share the store's group commits, as concurrent residents would.
  for (let i = 0; i < plans.length; i += 16) {
    await Promise.all(
      plans.slice(i, i + 16).map(async (plan) => {
        const issued = await sim.post("/v1/confirmations", { recordId: plan.recordId }, tokens.get(plan.unitId));
        if (!plan.answers) return;
        const secret = String(issued.link).split("/confirm/")[1]!;
        await sim.post(`/v1/public/confirmations/${secret}`, {
          happened: plan.happened,
          ...(plan.happened || plan.satisfaction <= 2 ? { satisfaction: plan.satisfaction } : {}),
        });
        answered++;
      }),
    );
  }
  const { findings } = (await sim.get("/v1/confirmations/findings", sim.auditorToken)) as { findings: unknown[] };
  const rated = plans.filter((p) => p.answers);
  const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
  return {
    confirmationsRequested: plans.length,
    confirmationsAnswered: answered,
    residentConfirmationRate: round(rated.filter((p) => p.happened).length / Math.max(1, plans.length), 4),
    meanSatisfaction: round(rated.reduce((s, p) => s + p.satisfaction, 0) / Math.max(1, rated.length), 2),
    didNotHappenFlagged: findings.length,
    colludingUnits: colluding.size,
  };
}
