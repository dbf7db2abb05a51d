/**
 * The burden-request use cases (meetings, data requests, inspections, evaluations, secondments):
 * a signed request decided by the gate and logged (RequestService), its views, receipt and data
 * package, a unit's and a department's lists, and the gate's administrative lists. Who sees what
 * is decided here, as for evidence demands (./demand.ts).
 */
import type { RequestView } from "../burden/RequestService.ts";
import type { RequestEntry } from "../core/request.ts";
import { DutyproofError } from "../core/errors.ts";
import type { JsonSink } from "../gateway/evidenceAssembler.ts";
import { requireUnitReader } from "./access.ts";
import { type DemandDependencies, requireDemandingInspector } from "./demand.ts";

/** The fields of a request entry the audit feed serves (what its leaf commits to). */
export function requestAuditFields(value: RequestEntry) {
  const { request, signature, outcome, outcomeDigest } = value;
  return { request, signature, outcome, outcomeDigest };
}

/**
 * A request as anyone may see it: that it was logged, where, its kind and what was decided. Who
 * asked, what, and why are for the unit, the requesting department, auditors and the operator.
 */
export function publicRequestView(view: RequestView) {
  return {
    requestId: view.requestId,
    leafIndex: view.leafIndex,
    leafHash: view.leafHash,
    unitId: view.request.unitId,
    kind: view.request.kind,
    decision: view.outcome.decision,
    reasonCode: view.outcome.reasonCode,
    decidedAt: view.outcome.decidedAt,
    outcomeDigest: view.outcomeDigest,
  };
}

const maySee = async (deps: DemandDependencies, token: string | undefined, view: RequestView) =>
  (await deps.access.maySeeDemand?.(token, view.request)) ?? false;

/**
 * Decides and logs a request. A fresh request signed by a registered, entitled signer is itself
 * the authorisation to see its outcome; one already logged may be known to others (auditors
 * replay it), so sending it again shows the full view only to those GET shows it to.
 */
export async function submitRequest(deps: DemandDependencies, body: unknown, token: string | undefined) {
  const { created, view } = await deps.service.requests.submit(body);
  if (created) return { status: 201, view };
  return { status: 200, view: (await maySee(deps, token, view)) ? view : publicRequestView(view) };
}

/** A request in full for those entitled, its public view for anyone else. */
export async function requestFor(deps: DemandDependencies, token: string | undefined, requestId: string) {
  const view = await deps.service.requests.get(requestId);
  return (await maySee(deps, token, view)) ? view : publicRequestView(view);
}

/** The request's log entry with an inclusion proof once an anchored checkpoint covers it. */
export async function requestReceipt(deps: DemandDependencies, requestId: string) {
  return deps.service.requests.receipt(requestId);
}

/**
 * The data package of a data request (the records answering its items, with receipts), for the
 * requesting inspector only: the signature scheme of evidence packages, over the request id.
 */
export async function dataPackage(deps: DemandDependencies, authorization: string | undefined, requestId: string) {
  const view = await deps.service.requests.get(requestId);
  requireDemandingInspector(deps, authorization, { demandId: view.requestId, demand: view.request });
  return (sink: JsonSink) => deps.service.requests.writeDataPackage(sink, view.requestId);
}

/** What a unit must act on (tasks), its merged meetings, joint visits and flagged conflicts. */
export async function unitRequests(deps: DemandDependencies, token: string, unitId: string) {
  await requireUnitReader(deps.access, token, unitId, "this unit's requests");
  return deps.service.requests.ofUnit(unitId);
}

/** A department's own requests and the conflicts flagged to it: its token, an auditor's or the operator's. */
export async function departmentRequests(deps: DemandDependencies, token: string, department: string) {
  const own = await deps.access.departmentOf?.(token);
  const oversees = (await deps.access.mayAudit?.(token)) || (await deps.access.mayOperate?.(token));
  if (own !== department && !oversees) {
    throw new DutyproofError(
      "request.forbidden",
      "a department's requests are for its own token, auditors and the operator",
    );
  }
  return deps.service.requests.ofDepartment(department);
}

async function requireOperator(deps: DemandDependencies, token: string) {
  if (!(await (deps.access.mayOperate?.(token) ?? false)))
    throw new DutyproofError("request.forbidden", "not an operator token");
}

/** Sets lead departments per domain: operator tokens only; the act is in the admin audit log. */
export async function setLeadDepartments(deps: DemandDependencies, token: string, leads: Record<string, string>) {
  await requireOperator(deps, token);
  const act = () => deps.service.requests.setLeadDepartments(leads);
  const target = {
    leads: Object.entries(leads)
      .map(([d, l]) => `${d}=${l}`)
      .join(","),
  };
  return deps.audit ? deps.audit("lead-department.set", target, act) : act();
}

/** Changes the county's data list (数据清单): operator tokens only; the act is in the admin audit log. */
export async function changeDataList(
  deps: DemandDependencies,
  token: string,
  change: { add: string[]; remove: string[] },
) {
  await requireOperator(deps, token);
  const act = () => deps.service.requests.changeDataList(change);
  const target = { add: change.add.join(","), remove: change.remove.join(",") };
  return deps.audit ? deps.audit("data-list.change", target, act) : act();
}
