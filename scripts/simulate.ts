#!/usr/bin/env node
/**
 * County simulation (npm run simulate): a seeded, reproducible calendar year of a county's
 * grassroots units attesting their duties and of its departments demanding evidence, run
 * against the real gateway, LevelDB and anvil chain in a temporary directory. Prints the burden
 * figures; checks the targets (exit 1 when one is missed).
 *
 *   npm run simulate -- [--quick] [--json] [--seed N] [--year YYYY] [--out FILE] [--chain-port N]
 *
 * The gateway's clock is the simulated one, so records and demands of the year are accepted and
 * decided at their own times. Units and inspectors sign with their own keys (the same EIP-712
 * digests the gateway checks; test/burden/rules.test.ts checks them against ethers).
 */
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { computeAddress, id } from "ethers";
import { bytesToHex, hexToBytes } from "../server/core/bytes.ts";
import { eip712Domain, typedDataDigest } from "../server/core/eip712.ts";
import { validateFields } from "../server/core/dutyType.ts";
import { type RecordEnvelope, signedMessageOf } from "../server/core/record.ts";
import { type DemandEnvelope, demandMessageOf, demandTypedDataDigest } from "../server/burden/demand.ts";
import { yearStartOf } from "../server/burden/rules.ts";
import { departmentIdOf } from "../server/chain/deployment.ts";
import { configFromEnvironment } from "../server/config.ts";
import { issueToken } from "../server/gateway/AccessTokens.ts";
import { simulateTips } from "./simulateTips.ts";
import { ownTrustAnchor } from "../server/chain/trustAnchors.ts";

import { addGrant } from "../server/gateway/Grants.ts";
import { replayFromGateway } from "../server/audit/replayFromGateway.ts";
import { startGateway } from "../server/main.ts";
import { type ResidentFigures, simulateConfirmations } from "./simulateConfirmations.ts";
import { type GateSimulationResult, gateTargetsMet, simulateRequests } from "./simulateRequests.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const DAY = 86_400;

/** sfc32: a small seeded generator, so every run of a seed makes the same county. */
function generator(seed: number) {
  let a = 0x9e3779b9 ^ seed,
    b = 0x243f6a88 ^ (seed * 31),
    c = 0xb7e15162,
    d = 1;
  const next = () => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 20; i++) next();
  const random = {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    chance: (p: number) => next() < p,
    pick: <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!,
    bytes32: () => {
      const out = new Uint8Array(32);
      for (let i = 0; i < 32; i++) out[i] = Math.floor(next() * 256);
      return bytesToHex(out);
    },
  };
  return random;
}
type Random = ReturnType<typeof generator>;

interface NativeSecp256k1 {
  ecdsaSign(message: Uint8Array, key: Uint8Array): { signature: Uint8Array; recid: number };
}
const secp256k1 = createRequire(import.meta.url)("secp256k1") as NativeSecp256k1;

/** r ‖ s ‖ v (27/28) of a digest; libsecp256k1 signs low-s. */
function sign(digest: Uint8Array, key: string): string {
  const { signature, recid } = secp256k1.ecdsaSign(digest, hexToBytes(key));
  return bytesToHex(signature) + (27 + recid).toString(16);
}

interface Unit {
  name: string;
  id: string;
  level: number; // 2 township, 3 village
  key: string;
  address: string;
  diligence: number; // share of planned duties actually performed and attested
}

/**
 * Departments and the duty types they ask about (codes of the starter catalog). A department
 * asks about another's duty types only by a grant (server/gateway/Grants.ts), which the
 * simulation writes for each at the start, as the county's admin would.
 */
const DEPARTMENTS: Record<string, string[]> = {
  "political-legal": ["grid-patrol", "dispute-mediation"],
  "civil-affairs": ["household-visit", "subsistence-allowance-check"],
  "general-office": ["meeting-held"],
  petition: ["petition-reception"],
  propaganda: ["policy-outreach"],
  "emergency-management": ["safety-hazard-check"],
  organization: ["meeting-held", "policy-outreach"],
  agriculture: ["household-visit", "policy-outreach"],
  health: ["household-visit", "safety-hazard-check"],
  "natural-resources": ["safety-hazard-check", "grid-patrol"],
  "ecology-environment": ["grid-patrol", "safety-hazard-check"],
  "supervision-office": ["meeting-held", "safety-hazard-check", "dispute-mediation", "petition-reception"],
};

/** Planned records per year, by duty type and level. */
const PLAN: Record<string, Partial<Record<number, number>>> = {
  "grid-patrol": { 3: 52 },
  "household-visit": { 3: 24 },
  "meeting-held": { 2: 24, 3: 12 },
  "policy-outreach": { 2: 8, 3: 8 },
  "safety-hazard-check": { 2: 24, 3: 12 },
  "dispute-mediation": { 2: 6, 3: 6 },
  "petition-reception": { 2: 24, 3: 6 },
  "subsistence-allowance-check": { 2: 12, 3: 6 },
};

function fieldsFor(code: string, r: Random, n: number): Record<string, string | number | boolean> {
  switch (code) {
    case "grid-patrol":
      return {
        gridCode: `G-${r.int(1, 40)}`,
        durationMinutes: r.int(30, 180),
        issuesFound: r.int(0, 3),
        gridWorker: "网格员",
      };
    case "household-visit":
      return {
        householdName: `户${n}`,
        address: `${r.int(1, 9)}组${r.int(1, 60)}号`,
        visitPurpose: r.pick(["routine", "elderly-care", "difficulty-assistance", "policy-follow-up"]),
        followUpRequired: r.chance(0.2),
        visitors: "村干部",
      };
    case "meeting-held":
      return {
        topic: `例会${n}`,
        meetingKind: r.pick(["party-branch", "villagers-representatives", "working"]),
        attendees: r.int(5, 60),
        chair: "书记",
      };
    case "policy-outreach":
      return {
        policy: "惠农政策",
        channel: r.pick(["meeting", "door-to-door", "bulletin"]),
        audience: r.int(20, 500),
        staff: "宣传员",
      };
    case "safety-hazard-check":
      return {
        site: `点位${n}`,
        siteKind: r.pick(["residential", "shop", "factory", "school", "public-place"]),
        hazardsFound: r.int(0, 4),
        hazardsRectified: 0,
        inspectors: "安全员",
      };
    case "dispute-mediation":
      return {
        caseNumber: `TJ-${n}`,
        parties: "甲、乙",
        disputeKind: r.pick(["neighbourhood", "family", "land"]),
        outcome: r.pick(["agreement-reached", "partially-resolved", "referred"]),
        mediator: "调解员",
      };
    case "petition-reception":
      return {
        petitionerName: `来访人${n}`,
        matter: "反映问题",
        handling: r.pick(["answered-on-site", "assigned"]),
        receptionist: "接待员",
      };
    case "subsistence-allowance-check":
      return {
        applicantName: `申请人${n}`,
        idNumber: `5101${String(n).padStart(14, "0")}`.slice(0, 18),
        householdSize: r.int(1, 6),
        monthlyIncomePerPerson: r.int(200, 900),
        conclusion: r.pick(["eligible", "not-eligible", "needs-review"]),
        checkers: "民政专干",
      };
    default:
      throw new Error(`no field generator for ${code}`);
  }
}

interface PlannedDemand {
  at: number;
  department: string;
  unit: Unit;
  codes: string[];
  from: number;
  to: number;
  onSite: boolean;
  emergency?: string;
  intent: "routine" | "duplicate" | "off-list" | "on-site" | "emergency";
}

/** The figures of the evidence demands, of every other kind (scripts/simulateRequests.ts) and of residents. */
export interface SimulationResult extends Omit<GateSimulationResult, "requests">, ResidentFigures {
  requestsByKind: Record<string, number>;
  seed: number;
  year: number;
  quick: boolean;
  county: { townships: number; villages: number; departments: number; inspectors: number };
  records: number;
  demands: number;
  answeredFromLedger: number;
  duplicatesAbsorbed: number;
  offListRefused: number;
  overQuotaRefused: number;
  emergencies: number;
  tasksCreated: number;
  tasksAnswered: number;
  onSiteAdmitted: number;
  answeredFromLedgerShare: number;
  withoutNewPaperworkShare: number;
  duplicatesSubmitted: number;
  duplicatesAbsorbedShare: number;
  offListSubmitted: number;
  overQuotaWithoutEmergency: number;
  hoursSaved: number;
  replayClean: boolean | null;
  /** Anonymous tips accepted (scripts/simulateTips.ts). */
  tips: number;
  seconds: number;
  targetsMet: boolean;
}

export async function simulate(options: {
  seed: number;
  quick: boolean;
  year: number;
  chainPort: number;
  replay: boolean;
  log: (line: string) => void;
}): Promise<SimulationResult> {
  const started = Date.now();
  const r = generator(options.seed);
  const { year, log } = options;
  const yearStart = yearStartOf(year);
  const yearEnd = yearStartOf(year + 1);
  let clock = yearStart;
  const townships = options.quick ? 4 : 15;
  const villagesTotal = options.quick ? 40 : 200;

  const dir = mkdtempSync(join(tmpdir(), "dutyproof-simulate-"));
  const gateway = await startGateway(
    configFromEnvironment(
      {},
      {
        dataDir: dir,
        port: 0,
        chainPort: options.chainPort,
        anchorIntervalMs: 1000,
        anchorMaxLeaves: 20_000,
        logName: "county",
      },
    ),
    () => {},
    { clock: { now: () => clock * 1000 } },
  );
  try {
    const url = gateway.url;
    const post = async (path: string, body: unknown, token?: string, method = "POST") => {
      const init = {
        method,
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      };
      // A kept-alive connection the server closed while the client was busy can reset once;
      // every request here is idempotent at the gateway (same record, same leaf; same demand,
      // same entry), so it is sent again.
      let res: Response | undefined;
      for (let attempt = 1; !res; attempt++) {
        try {
          res = await fetch(url + path, init);
        } catch (error) {
          if (attempt >= 3) throw error;
        }
      }
      const json = (await res.json()) as Record<string, unknown>;
      if (res.status >= 400) throw new Error(`${path} answered ${res.status}: ${String(json.detail)}`);
      return json;
    };
    const catalog = new Map(gateway.catalog.list().map((e) => [e.document.code, e]));
    const dutyId = (code: string) => catalog.get(code)!.id;
    const domain = eip712Domain(gateway.deployment.chainId, gateway.deployment.address);
    const { logId } = gateway.deployment;

    // ── the county on the ledger ──
    const ledger = gateway.ledger;
    const send = async (name: string, ...args: unknown[]) => (await ledger.getFunction(name)(...args)).wait();
    const units: Unit[] = [];
    const newUnit = (name: string, level: number): Unit => {
      const key = r.bytes32();
      return {
        name,
        id: id(`unit:${name}`),
        level,
        key,
        address: computeAddress(key).toLowerCase(),
        diligence: 0.85 + r.next() * 0.15,
      };
    };
    const villagesOf = new Map<string, Unit[]>();
    for (let t = 0; t < townships; t++) {
      const township = newUnit(`township-${t + 1}`, 2);
      units.push(township);
      await send("registerUnit", township.id, "0x" + "00".repeat(32), 2, township.address);
      const count = Math.floor(villagesTotal / townships) + (t < villagesTotal % townships ? 1 : 0);
      const villages = [];
      for (let v = 0; v < count; v++) {
        const village = newUnit(`township-${t + 1}-village-${v + 1}`, 3);
        villages.push(village);
        units.push(village);
        await send("registerUnit", village.id, township.id, 3, village.address);
      }
      villagesOf.set(township.id, villages);
    }
    const inspectors = new Map<string, Array<{ key: string; address: string }>>();
    for (const department of Object.keys(DEPARTMENTS)) {
      const list = [];
      for (let i = 0; i < 2; i++) {
        const key = r.bytes32();
        const address = computeAddress(key).toLowerCase();
        await send("registerInspector", address, departmentIdOf(department));
        list.push({ key, address });
      }
      inspectors.set(department, list);
    }
    for (const [department, codes] of Object.entries(DEPARTMENTS)) {
      const owners = [...new Set(codes.map((c) => catalog.get(c)!.document.department))].filter(
        (o) => o !== department,
      );
      if (owners.length > 0)
        addGrant(
          join(dir, "grants.json"),
          { grantee: department, over: owners, reason: "县委办：联合督查分工" },
          yearStart, // in force from the simulated year's start, by the gateway's (simulated) clock
        );
    }
    const operator = issueToken(join(dir, "tokens.json"), "operator", "county IT");
    const reader = issueToken(join(dir, "tokens.json"), "auditor", "county burden office");
    // Some villages leave petition reception to their township: off their list.
    const withoutPetitions = new Set<string>();
    for (const unit of units) {
      if (unit.level === 3 && r.chance(0.1)) {
        withoutPetitions.add(unit.id);
        await post(`/v1/units/${unit.id}/duty-list`, { remove: [dutyId("petition-reception")] }, operator, "PATCH");
      }
    }
    log(`county: ${townships} townships, ${units.length - townships} villages, ${inspectors.size} departments`);

    // ── a year of records ──
    clock = yearEnd - 60; // records are accepted at the year's end, each with its own time
    const recordItems: Array<{ envelope: RecordEnvelope; signature: string }> = [];
    let serial = 0;
    for (const unit of units) {
      for (const [code, perLevel] of Object.entries(PLAN)) {
        const planned = perLevel[unit.level] ?? 0;
        if (code === "petition-reception" && withoutPetitions.has(unit.id)) continue;
        for (let i = 0; i < planned; i++) {
          if (!r.chance(unit.diligence)) continue;
          const slot = (yearEnd - yearStart - DAY) / planned;
          const performedAt = Math.floor(yearStart + slot * i + r.next() * slot);
          const fields = fieldsFor(code, r, ++serial);
          const problems = validateFields(catalog.get(code)!.document, fields);
          if (problems.length > 0) throw new Error(`${code}: ${JSON.stringify(problems)}`);
          const envelope: RecordEnvelope = {
            version: 2,
            logId,
            unitId: unit.id,
            dutyTypeId: dutyId(code),
            performedAt,
            fields,
            salt: r.bytes32(),
          };
          recordItems.push({ envelope, signature: sign(typedDataDigest(domain, signedMessageOf(envelope)), unit.key) });
        }
      }
    }
    for (let i = 0; i < recordItems.length; i += 1000) {
      const { results } = (await post("/v1/attestations/batch", { items: recordItems.slice(i, i + 1000) })) as {
        results: Array<{ status: number; detail?: string }>;
      };
      const failed = results.find((x) => x.status >= 400);
      if (failed) throw new Error(`a record was refused: ${failed.detail}`);
    }
    log(`records: ${recordItems.length} attested`);
    const residents = await simulateConfirmations({
      r,
      dataDir: dir,
      units,
      records: recordItems,
      confirmable: new Set(gateway.catalog.list().flatMap((e) => (e.document.confirmation ? [e.id] : []))),
      post,
      get: async (path, token) =>
        (await (await fetch(url + path, { headers: { authorization: `Bearer ${token}` } })).json()) as never,
      auditorToken: reader,
    });
    log(`residents: ${residents.confirmationsAnswered} of ${residents.confirmationsRequested} links answered`);

    // ── a year of demands ──
    const plan: PlannedDemand[] = [];
    const departments = Object.keys(DEPARTMENTS);
    const applies = (code: string, unit: Unit) => (PLAN[code]![unit.level] ?? 0) > 0;
    const sampleShare = 0.1;
    for (let month = 1; month < 12; month++) {
      const monthStart = Date.UTC(year, month, 1) / 1000 - 8 * 3600;
      for (const department of departments) {
        for (const unit of units) {
          if (!r.chance(sampleShare)) continue;
          const codes = DEPARTMENTS[department]!.filter((c) => applies(c, unit));
          const offList = r.chance(0.04);
          let code: string;
          let intent: PlannedDemand["intent"] = "routine";
          if (offList) {
            // A duty the unit does not hold: a village's duty asked of a township, or petitions
            // of a village that left them to its township; only of the department's own.
            const villageOnly = DEPARTMENTS[department]!.filter((c) => !applies(c, unit));
            if (unit.level === 2 && villageOnly.length > 0) code = r.pick(villageOnly);
            else if (withoutPetitions.has(unit.id) && DEPARTMENTS[department]!.includes("petition-reception"))
              code = "petition-reception";
            else continue;
            intent = "off-list";
          } else {
            if (codes.length === 0) continue;
            code = r.pick(codes);
            if (code === "petition-reception" && withoutPetitions.has(unit.id)) continue;
          }
          const at = monthStart + r.int(0, 25 * DAY);
          const from = Date.UTC(year, Math.max(0, month - 3), 1) / 1000 - 8 * 3600;
          const demand: PlannedDemand = {
            at,
            department,
            unit,
            codes: [code],
            from,
            to: monthStart,
            onSite: false,
            intent,
          };
          plan.push(demand);
          if (intent === "routine" && r.chance(0.12)) {
            // Another department that asks about this duty asks for the same evidence within two months.
            const others = departments.filter((d) => d !== department && DEPARTMENTS[d]!.includes(code));
            if (others.length > 0)
              plan.push({ ...demand, department: r.pick(others), at: at + r.int(1, 60) * DAY, intent: "duplicate" });
          }
        }
      }
    }
    // On-site inspections: evaluations of townships and visits to villages, some of them about
    // periods the ledger cannot answer (a fortnight with no record of that duty).
    for (const unit of units) {
      const visits = unit.level === 2 ? r.int(10, 16) : r.int(0, 2);
      for (let i = 0; i < visits; i++) {
        const at = yearStart + r.int(20, 355) * DAY;
        const code = r.pick(
          Object.keys(PLAN).filter(
            (c) => applies(c, unit) && !(c === "petition-reception" && withoutPetitions.has(unit.id)),
          ),
        );
        const span = r.chance(0.5) ? 7 * DAY : 60 * DAY;
        const to = at - r.int(1, 10) * DAY;
        plan.push({
          at,
          department: r.pick(departments.filter((d) => DEPARTMENTS[d]!.includes(code))),
          unit,
          codes: [code],
          from: to - span,
          to,
          onSite: true,
          intent: "on-site",
        });
      }
      if (unit.level === 2 && r.chance(0.5)) {
        const at = yearStart + r.int(20, 355) * DAY;
        plan.push({
          at,
          department: "emergency-management",
          unit,
          codes: ["safety-hazard-check"],
          from: at - 7 * DAY,
          to: at,
          onSite: true,
          emergency: r.pick(["汛期险情", "燃气泄漏事故", "山体滑坡隐患"]),
          intent: "emergency",
        });
      }
    }
    plan.sort((a, b) => a.at - b.at);

    const decisions = new Map<string, number>();
    let duplicatesSubmitted = 0;
    let duplicatesAbsorbedIntended = 0;
    let offListSubmitted = 0;
    let offListRefusedIntended = 0;
    let tasksAnswered = 0;
    for (const planned of plan) {
      if (planned.at >= yearEnd) continue;
      clock = planned.at;
      const inspector = r.pick(inspectors.get(planned.department)!);
      const demand: DemandEnvelope = {
        version: 2,
        logId,
        unitId: planned.unit.id,
        dutyTypeIds: planned.codes.map(dutyId).sort(),
        from: planned.from,
        to: planned.to,
        purpose: planned.onSite ? "实地检查" : "材料调阅",
        department: planned.department,
        inspector: inspector.address,
        onSite: planned.onSite,
        ...(planned.emergency ? { emergency: { reason: planned.emergency } } : {}),
        issuedAt: clock,
        salt: r.bytes32(),
      };
      const signature = sign(demandTypedDataDigest(domain, demandMessageOf(demand)), inspector.key);
      const answer = (await post("/v1/demands", { demand, signature })) as {
        demandId: string;
        outcome: { decision: string };
      };
      const decision = answer.outcome.decision;
      decisions.set(decision, (decisions.get(decision) ?? 0) + 1);
      if (planned.intent === "duplicate") {
        duplicatesSubmitted++;
        if (decision === "duplicate_absorbed") duplicatesAbsorbedIntended++;
      }
      if (planned.intent === "off-list") {
        offListSubmitted++;
        if (decision === "refused_off_list") offListRefusedIntended++;
      }
      if (decision === "task_created" && r.chance(0.95)) {
        // The unit answers its task: the record it had not attested, linked to the demand.
        const unit = planned.unit;
        for (const code of planned.codes) {
          const envelope: RecordEnvelope = {
            version: 2,
            logId,
            unitId: unit.id,
            dutyTypeId: dutyId(code),
            performedAt: Math.min(planned.to - 1, clock),
            fields: fieldsFor(code, r, ++serial),
            salt: r.bytes32(),
            demandId: answer.demandId,
          };
          await post("/v1/attestations", {
            envelope,
            signature: sign(typedDataDigest(domain, signedMessageOf(envelope)), unit.key),
          });
        }
        tasksAnswered++;
      }
    }
    log(`demands: ${[...decisions.values()].reduce((a, b) => a + b, 0)} decided`);
    const gate = await simulateRequests({
      r,
      year,
      quick: options.quick,
      units,
      departments: DEPARTMENTS,
      inspectors,
      attests: (code, unit) =>
        applies(code, unit as Unit) && !(code === "petition-reception" && withoutPetitions.has(unit.id)),
      dutyId,
      domain,
      logId,
      operatorToken: operator,
      setClock: (t) => (clock = t),
      sign,
      post,
    });
    log(`requests of the other kinds: ${gate.requests} decided`);

    const report = (await (
      await fetch(`${url}/v1/burden/report?groupBy=department`, { headers: { authorization: `Bearer ${reader}` } })
    ).json()) as { totals: Record<string, number>; requests: { totals: { byKind: Record<string, number> } } };
    const t = report.totals;
    const tipRun = await simulateTips({
      url,
      operatorToken: operator,
      unitIds: units.map((u) => u.id),
      members: 6,
      count: options.quick ? 2 : 6,
      pick: (n) => r.int(0, n - 1),
    });
    log(`tips: ${tipRun.tips} sent anonymously, ${tipRun.repeatsRefused} of ${tipRun.repeatsTried} repeats refused`);
    let replayClean: boolean | null = null;
    if (options.replay) {
      // Wait for the last leaves to be anchored, then replay the whole log from the chain.
      const size = gateway.store.treeSize;
      for (let i = 0; i < 600; i++) {
        const [latest] = await gateway.store.listCheckpoints({ reverse: true, limit: 1 });
        if (latest?.status === "anchored" && latest.size >= size) break;
        await new Promise((res) => setTimeout(res, 100));
      }
      const auditor = issueToken(join(dir, "tokens.json"), "auditor", "audit bureau");
      const replay = await replayFromGateway({
        gatewayUrl: url,
        token: auditor,
        rpcUrl: gateway.rpcUrl,
        trust: [ownTrustAnchor(gateway.deployment, "the simulated county")],
      });
      replayClean = replay.clean;
      log(`replay: ${replay.records} records and ${replay.demands} demands, ${replay.clean ? "clean" : "FINDINGS"}`);
    }
    const demands = t.demands!;
    const refused = t.offListRefused! + t.overQuotaRefused!;
    const withoutPaperwork = t.answeredFromLedger! + t.duplicatesAbsorbed! + refused;
    const round = (x: number) => Math.round(x * 10_000) / 10_000;
    const result: SimulationResult = {
      seed: options.seed,
      year,
      quick: options.quick,
      county: {
        townships,
        villages: units.length - townships,
        departments: departments.length,
        inspectors: departments.length * 2,
      },
      records: recordItems.length,
      demands,
      answeredFromLedger: t.answeredFromLedger!,
      duplicatesAbsorbed: t.duplicatesAbsorbed!,
      offListRefused: t.offListRefused!,
      overQuotaRefused: t.overQuotaRefused!,
      emergencies: t.emergencies!,
      tasksCreated: t.tasksCreated!,
      tasksAnswered,
      onSiteAdmitted: t.onSiteAdmitted!,
      answeredFromLedgerShare: round((t.answeredFromLedger! + t.duplicatesAbsorbed!) / Math.max(1, demands - refused)),
      withoutNewPaperworkShare: round(withoutPaperwork / Math.max(1, demands)),
      duplicatesSubmitted,
      duplicatesAbsorbedShare: round(duplicatesAbsorbedIntended / Math.max(1, duplicatesSubmitted)),
      offListSubmitted,
      overQuotaWithoutEmergency: t.overQuotaWithoutEmergency!,
      hoursSaved: t.hoursSaved!,
      requestsByKind: report.requests.totals.byKind,
      ...(({ requests: _, ...figures }) => figures)(gate),
      ...residents,
      replayClean,
      tips: tipRun.tips,
      seconds: Math.round((Date.now() - started) / 100) / 10,
      targetsMet: false,
    };
    result.targetsMet =
      result.withoutNewPaperworkShare >= 0.9 &&
      result.duplicatesAbsorbedShare === 1 &&
      result.overQuotaWithoutEmergency === 0 &&
      offListRefusedIntended === offListSubmitted &&
      gateTargetsMet(gate) &&
      replayClean !== false &&
      tipRun.repeatsRefused === tipRun.repeatsTried;
    return result;
  } finally {
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        quick: { type: "boolean" },
        json: { type: "boolean" },
        "no-replay": { type: "boolean" },
        seed: { type: "string" },
        year: { type: "string" },
        out: { type: "string" },
        "chain-port": { type: "string" },
      },
      strict: true,
    }));
  } catch (error) {
    console.error(`simulate: ${(error as Error).message}`);
    process.exit(2);
  }
  const integer = (name: string, value: string | undefined, fallback: number) => {
    const n = value === undefined ? fallback : Number(value);
    if (!Number.isSafeInteger(n) || n < 0) {
      console.error(`simulate: --${name} must be a non-negative integer`);
      process.exit(2);
    }
    return n;
  };
  const result = await simulate({
    seed: integer("seed", values.seed, 2025),
    quick: values.quick ?? false,
    year: integer("year", values.year, 2025),
    chainPort: integer(
      "chain-port",
      values["chain-port"] ?? process.env.SIMULATE_CHAIN_PORT,
      30_000 + Math.floor(Math.random() * 2_000),
    ),
    replay: !(values["no-replay"] ?? false),
    log: values.json ? () => {} : (line) => console.log(line),
  });
  if (values.out) writeFileSync(values.out, JSON.stringify(result, null, 2) + "\n");
  if (values.json) console.log(JSON.stringify(result));
  else {
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    console.log(`county year ${result.year} (seed ${result.seed}${result.quick ? ", quick" : ""}), ${result.seconds} s
  records attested                 ${result.records}
  demands                          ${result.demands}
  answered from the ledger         ${pct(result.answeredFromLedgerShare)} of admissible demands (duplicates included)
  without new paperwork            ${pct(result.withoutNewPaperworkShare)} of all demands   (target >= 90%)
  duplicates absorbed              ${result.duplicatesAbsorbed}; of those submitted as repeats ${pct(result.duplicatesAbsorbedShare)} (target 100%)
  off-list refused                 ${result.offListRefused} (${result.offListSubmitted} submitted off-list)
  on-site admitted / refused       ${result.onSiteAdmitted} / ${result.overQuotaRefused}, emergencies ${result.emergencies}
  over quota without emergency     ${result.overQuotaWithoutEmergency}   (target 0)
  tasks created / answered         ${result.tasksCreated} / ${result.tasksAnswered}
  staff hours saved                ${result.hoursSaved}
  requests by kind                 ${Object.entries(result.requestsByKind)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ")}
  data items from the ledger       ${pct(result.dataItemsAnsweredFromLedgerShare)}   (target >= 70%)
  meetings merged / per unit-day   ${result.meetingsMerged} / at most ${result.meetingsPerUnitDayMax}   (target <= 1)
  joint visits / overlapping left  ${result.jointInspections} / ${result.overlappingVisitsNotMerged}   (target 0)
  conflicts flagged                ${result.conflictsFlagged}
  non-lead evaluations refused     ${result.nonLeadEvaluationsRefused}; over the cap w/o emergency ${result.evaluationsOverCapWithoutEmergency} (target 0)
  secondments over limit w/o approval ${result.secondmentsOverLimitWithoutApproval}   (target 0)
  residents confirming / mean 1–5  ${pct(result.residentConfirmationRate)} of links / ${result.meanSatisfaction}; did not happen flagged ${result.didNotHappenFlagged}
  anonymous tips                   ${result.tips}
  audit replay                     ${result.replayClean === null ? "skipped" : result.replayClean ? "clean" : "FINDINGS"}
  targets                          ${result.targetsMet ? "met" : "MISSED"}`);
  }
  process.exit(result.targetsMet ? 0 : 1);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    const cause = error instanceof Error && error.cause ? ` (${String(error.cause)})` : "";
    console.error(`simulate: ${error instanceof Error ? error.message : String(error)}${cause}`);
    process.exit(1);
  });
}
