/**
 * The demand use cases: an inspector's signed evidence demand decided and logged
 * (BurdenService), its views, receipt and evidence package, a unit's tasks, demands, duty list
 * and monthly summary, and burden reports. Who sees what is decided here.
 */
import { verifyMessage } from "ethers";
import { type BurdenService, type DemandView, publicDemandView } from "../burden/BurdenService.ts";
import type { DemandEntry } from "../burden/demand.ts";
import type { Clock } from "../core/clock.ts";
import { DutyproofError } from "../core/errors.ts";
import { type JsonSink, writeObjectWith } from "../gateway/evidenceAssembler.ts";
import { type Access, requireUnitReader } from "./access.ts";
import type { AdminAudit } from "./adminAudit.ts";
import { SIGNED_REQUEST_LIFETIME_SECONDS, unixSeconds } from "./clockTime.ts";

/**
 * The text a demanding inspector signs (EIP-191) to fetch its demand's evidence package again:
 * it names the log and the demand, so it fetches nothing else, and is good for 5 minutes.
 */
export function packageRequestMessage(logId: string, demandId: string, signedAt: number): string {
  return `dutyproof evidence package\nlog: ${logId}\ndemand: ${demandId}\nsigned at: ${signedAt}`;
}

/** The fields of a demand entry the audit feed serves (what its leaf commits to). */
export function demandAuditFields(value: unknown) {
  const { demand, signature, outcome, outcomeDigest } = value as DemandEntry;
  return { demand, signature, outcome, outcomeDigest };
}

export interface DemandDependencies {
  service: BurdenService;
  access: Access;
  clock: Clock;
  /** Records administrative acts (duty-list changes); the act alone when absent. */
  audit?: AdminAudit | undefined;
}

/**
 * Throws unless `authorization` ("DutyproofInspector <signedAt>.<signature>") is the demanding
 * inspector's signature of packageRequestMessage, at most 5 minutes old.
 */
export function requireDemandingInspector(
  deps: DemandDependencies,
  authorization: string | undefined,
  view: Pick<DemandView, "demandId"> & { demand: { inspector: string } },
) {
  const proof = authorization?.match(/^DutyproofInspector\s+(\d{1,12})\.(0x[0-9a-fA-F]{130})$/);
  if (!proof)
    throw new DutyproofError(
      "request.unauthorized",
      'the evidence package needs "Authorization: DutyproofInspector <signedAt>.<signature>" by the demanding inspector',
    );
  const signedAt = Number(proof[1]);
  let signer = "";
  try {
    signer = verifyMessage(packageRequestMessage(deps.service.logId, view.demandId, signedAt), proof[2]!).toLowerCase();
  } catch {
    // a signature that does not recover is refused below like any other
  }
  if (signer !== view.demand.inspector)
    throw new DutyproofError("demand.not_demanding_inspector", "not signed by the inspector who made this demand");
  if (Math.abs(unixSeconds(deps.clock) - signedAt) > SIGNED_REQUEST_LIFETIME_SECONDS)
    throw new DutyproofError("demand.not_demanding_inspector", "the inspector's signature is older than 5 minutes");
}

const maySee = async (deps: DemandDependencies, token: string | undefined, view: DemandView) =>
  (await deps.access.maySeeDemand?.(token, view.demand)) ?? false;

/** What a demand submission is answered with: a view, or the view with its evidence streamed. */
export type DemandAnswer =
  { status: number; view: unknown } | { status: number; stream: (sink: JsonSink) => Promise<unknown> };

/**
 * Decides and logs a demand. A fresh demand signed by a registered, entitled inspector is itself
 * the authorisation to see the answer. A demand already logged may be known to others (auditors
 * replay it), so sending it again proves nothing: the package then needs the inspector's
 * signature, and the view the entitlement GET /v1/demands/{id} asks.
 */
export async function submitDemand(
  deps: DemandDependencies,
  body: unknown,
  include: "package" | undefined,
  caller: { token: string | undefined; authorization: string | undefined },
): Promise<DemandAnswer> {
  const { created, view } = await deps.service.submit(body);
  if (!created) {
    if (include === "package") requireDemandingInspector(deps, caller.authorization, view);
    else if (!(await maySee(deps, caller.token, view))) return { status: 200, view: publicDemandView(view) };
  }
  const status = created ? 201 : 200;
  if (include !== "package") return { status, view };
  return {
    status,
    stream: (sink) =>
      writeObjectWith(sink, { ...view }, "evidence", () => deps.service.writeEvidencePackage(sink, view.demandId)),
  };
}

/** A demand in full for those entitled, its public view for anyone else. */
export async function demandFor(deps: DemandDependencies, token: string | undefined, demandId: string) {
  const view = await deps.service.get(demandId);
  return (await maySee(deps, token, view)) ? view : publicDemandView(view);
}

/** The evidence package of a demand, for its demanding inspector only: a writer of the bundle. */
export async function evidencePackage(deps: DemandDependencies, authorization: string | undefined, demandId: string) {
  const view = await deps.service.get(demandId);
  requireDemandingInspector(deps, authorization, view);
  return (sink: JsonSink) => deps.service.writeEvidencePackage(sink, view.demandId);
}

/** A unit's tasks, for a token that reads the unit. */
export async function unitTasks(
  deps: DemandDependencies,
  token: string,
  unitId: string,
  status: "open" | "answered" | "all",
) {
  await requireUnitReader(deps.access, token, unitId, "this unit's tasks");
  return deps.service.tasks(unitId, status);
}

/** Every demand made on a unit, for a token that reads the unit. */
export async function unitDemands(deps: DemandDependencies, token: string, unitId: string) {
  await requireUnitReader(deps.access, token, unitId, "this unit's demands");
  return deps.service.demandsOf(unitId);
}

/** Changes a unit's duty list: operator tokens only; the act is in the admin audit log. */
export async function changeDutyList(
  deps: DemandDependencies,
  token: string,
  unitId: string,
  change: { add: string[]; remove: string[] },
) {
  if (!(await (deps.access.mayOperate?.(token) ?? false)))
    throw new DutyproofError("request.forbidden", "not an operator token");
  const act = () => deps.service.changeDutyList(unitId, change);
  const target = { unitId, add: change.add.join(","), remove: change.remove.join(",") };
  return deps.audit ? deps.audit("duty-list.change", target, act) : act();
}

/** A unit's monthly summary, for a token that reads the unit: a writer of the document. */
export async function monthlySummary(deps: DemandDependencies, token: string, unitId: string, month: string) {
  await requireUnitReader(deps.access, token, unitId, "this unit's records");
  return (sink: JsonSink) => deps.service.writeMonthlySummary(sink, unitId, month);
}

/** What a burden report selects. */
export type ReportQuery = Parameters<BurdenService["report"]>[0];

/**
 * A burden report. A department's token reads the report of its own department's demands; a
 * token that reads the unit (or every unit, for the county's) reads the rest.
 */
export async function burdenReport(deps: DemandDependencies, token: string | undefined, query: ReportQuery) {
  const department = await deps.access.departmentOf?.(token);
  if (department !== undefined && (query.department ?? department) === department) query.department = department;
  else {
    if (!token)
      throw new DutyproofError(
        "request.unauthorized",
        `${query.unitId ? "this unit's burden report" : "the county's burden report"} needs a bearer token`,
      );
    await requireUnitReader(
      deps.access,
      token,
      query.unitId ?? "*",
      query.unitId ? "this unit's burden report" : "the county's burden report",
    );
  }
  return deps.service.report(query);
}
