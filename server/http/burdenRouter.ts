/**
 * HTTP routes of burden reduction: evidence demands, their packages and receipts, units' tasks,
 * duty lists and monthly summaries, and burden reports (JSON or CSV). Validation uses the zod
 * schemas below, which burdenOpenapi.ts turns into the OpenAPI document.
 */
import express, { type Request, type Response, Router } from "express";
import { verifyMessage } from "ethers";
import { z } from "zod";
import { DutyproofError } from "../core/errors.ts";
import { type BurdenService, type DemandView, publicDemandView } from "../burden/BurdenService.ts";
import { type DemandEntry, demandEip712Definition } from "../burden/demand.ts";
import { reportCsv } from "../burden/report.ts";
import { writeObjectWith } from "../gateway/evidenceAssembler.ts";
import { hash32, parseParameters } from "./parseQuery.ts";
import { streamJson } from "./streamJson.ts";

export interface BurdenRouterOptions {
  service: BurdenService;
  /** Whether a bearer token may read all of a unit's records ("*": every unit's). */
  mayRead?: (token: string | undefined, unitId: string) => Promise<boolean>;
  /** Whether a bearer token is an operator's. */
  mayOperate?: (token: string | undefined) => Promise<boolean>;
  /** The department (code) a bearer token is scoped to, if it is an inspector token. */
  departmentOf?: (token: string | undefined) => Promise<string | undefined>;
  /**
   * Whether a bearer token sees a demand in full: the unit's own token, the demanding
   * department's, an auditor's or the operator's.
   */
  maySeeDemand?: (token: string | undefined, demand: { unitId: string; department: string }) => Promise<boolean>;
  /** Runs and records an administrative act (the admin audit log); the act alone when absent. */
  audited?: <T>(action: string, target: Record<string, string | number | boolean>, run: () => Promise<T>) => Promise<T>;
}

/**
 * The text a demanding inspector signs (EIP-191) to fetch its demand's evidence package again:
 * it names the log and the demand, so it fetches nothing else, and is good for 5 minutes.
 */
export function packageRequestMessage(logId: string, demandId: string, signedAt: number): string {
  return `dutyproof evidence package\nlog: ${logId}\ndemand: ${demandId}\nsigned at: ${signedAt}`;
}

export const burdenQuerySchemas = {
  createDemand: z.object({ include: z.enum(["package"]).optional() }).strict(),
  tasks: z.object({ status: z.enum(["open", "answered", "all"]).default("open") }).strict(),
  dutyListChange: z
    .object({
      add: z.array(hash32).max(64).default([]).describe("duty type ids to put on the unit's list"),
      remove: z.array(hash32).max(64).default([]).describe("duty type ids to take off the unit's list"),
    })
    .strict(),
  summary: z
    .object({
      month: z
        .string()
        .regex(/^\d{4}-(0[1-9]|1[0-2])$/, "must be YYYY-MM")
        .describe("calendar month, UTC+8"),
    })
    .strict(),
  report: z
    .object({
      groupBy: z.enum(["unit", "department", "month"]).default("unit"),
      from: z.coerce.number().int().min(0).optional().describe("decided at or after, Unix seconds"),
      to: z.coerce.number().int().min(0).optional().describe("decided before, Unix seconds"),
      unitId: hash32.optional(),
      department: z.string().max(64).optional(),
      format: z.enum(["json", "csv"]).default("json"),
    })
    .strict(),
};

/** The fields of a demand entry the audit feed serves (what its leaf commits to). */
export function demandAuditFields(value: unknown) {
  const { demand, signature, outcome, outcomeDigest } = value as DemandEntry;
  return { demand, signature, outcome, outcomeDigest };
}

const bearer = (req: Request) => req.get("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];

export function burdenRouter(options: BurdenRouterOptions): Router {
  const { service } = options;
  const router = Router();
  const json = express.json({ limit: "64kb", strict: true, type: "application/json" });
  const requireJson = (req: Request, _res: Response, next: (e?: unknown) => void) => {
    next(
      req.is("application/json")
        ? undefined
        : new DutyproofError("request.unsupported_media_type", "send the body as application/json"),
    );
  };
  /**
   * The package goes to the demanding inspector only: a fresh signed demand is its own proof;
   * afterwards the inspector signs packageRequestMessage with the same key
   * ("Authorization: DutyproofInspector <signedAt>.<signature>").
   */
  const requireDemandingInspector = (req: Request, view: DemandView) => {
    const proof = req.get("authorization")?.match(/^DutyproofInspector\s+(\d{1,12})\.(0x[0-9a-fA-F]{130})$/);
    if (!proof)
      throw new DutyproofError(
        "request.unauthorized",
        'the evidence package needs "Authorization: DutyproofInspector <signedAt>.<signature>" by the demanding inspector',
      );
    const signedAt = Number(proof[1]);
    let signer = "";
    try {
      signer = verifyMessage(packageRequestMessage(service.logId, view.demandId, signedAt), proof[2]!).toLowerCase();
    } catch {
      // a signature that does not recover is refused below like any other
    }
    if (signer !== view.demand.inspector)
      throw new DutyproofError("demand.not_demanding_inspector", "not signed by the inspector who made this demand");
    if (Math.abs(service.now() - signedAt) > 300)
      throw new DutyproofError("demand.not_demanding_inspector", "the inspector's signature is older than 5 minutes");
  };
  const maySee = async (req: Request, view: DemandView) =>
    (await options.maySeeDemand?.(bearer(req), view.demand)) ?? false;
  const mayRead = async (req: Request, unitId: string, what: string) => {
    const token = bearer(req);
    if (!token) throw new DutyproofError("request.unauthorized", `${what} needs a bearer token`);
    if (!(await (options.mayRead?.(token, unitId) ?? false))) {
      throw new DutyproofError("request.forbidden", `this token cannot read ${what}`);
    }
  };

  router.get("/v1/demands/eip712", (_req, res) => {
    res.json(demandEip712Definition(service.domain, service.logId));
  });

  router.post("/v1/demands", requireJson, json, async (req, res) => {
    const query = parseParameters(burdenQuerySchemas.createDemand, req.query, "query.");
    const { created, view } = await service.submit(req.body);
    // A fresh demand signed by a registered, entitled inspector is itself the authorisation to
    // see the answer. A demand already logged may be known to others (auditors replay it), so
    // sending it again proves nothing: the package then needs the inspector's signature, and
    // the view the entitlement GET /v1/demands/{id} asks.
    if (!created) {
      if (query.include === "package") requireDemandingInspector(req, view);
      else if (!(await maySee(req, view))) {
        res.status(200).json(publicDemandView(view));
        return;
      }
    }
    if (query.include !== "package") {
      res.status(created ? 201 : 200).json(view);
      return;
    }
    await streamJson(
      res,
      (sink) => writeObjectWith(sink, { ...view }, "evidence", () => service.writeEvidencePackage(sink, view.demandId)),
      created ? 201 : 200,
    );
  });

  router.get("/v1/demands/:demandId", async (req, res) => {
    const view = await service.get(parseParameters(hash32, req.params.demandId, "path.demandId"));
    res.json((await maySee(req, view)) ? view : publicDemandView(view));
  });

  router.get("/v1/demands/:demandId/receipt", async (req, res) => {
    const receipt = await service.receipt(parseParameters(hash32, req.params.demandId, "path.demandId"));
    res.status(receipt.status === "pending" ? 202 : 200).json(receipt);
  });

  router.get("/v1/demands/:demandId/package", async (req, res) => {
    const view = await service.get(parseParameters(hash32, req.params.demandId, "path.demandId"));
    requireDemandingInspector(req, view);
    await streamJson(res, (sink) => service.writeEvidencePackage(sink, view.demandId));
  });

  router.get("/v1/units/:unitId/tasks", async (req, res) => {
    const unitId = parseParameters(hash32, req.params.unitId, "path.unitId");
    const query = parseParameters(burdenQuerySchemas.tasks, req.query, "query.");
    await mayRead(req, unitId, "this unit's tasks");
    res.json(await service.tasks(unitId, query.status));
  });

  router.get("/v1/units/:unitId/demands", async (req, res) => {
    const unitId = parseParameters(hash32, req.params.unitId, "path.unitId");
    await mayRead(req, unitId, "this unit's demands");
    res.json(await service.demandsOf(unitId));
  });

  router.get("/v1/units/:unitId/duty-list", async (req, res) => {
    res.json(await service.dutyList(parseParameters(hash32, req.params.unitId, "path.unitId")));
  });

  router.patch("/v1/units/:unitId/duty-list", requireJson, json, async (req, res) => {
    const unitId = parseParameters(hash32, req.params.unitId, "path.unitId");
    const token = bearer(req);
    if (!token) throw new DutyproofError("request.unauthorized", "changing a duty list needs an operator's token");
    if (!(await (options.mayOperate?.(token) ?? false))) {
      throw new DutyproofError("request.forbidden", "not an operator token");
    }
    const change = parseParameters(burdenQuerySchemas.dutyListChange, req.body, "");
    const act = () => service.changeDutyList(unitId, change);
    const target = { unitId, add: change.add.join(","), remove: change.remove.join(",") };
    res.json(await (options.audited ? options.audited("duty-list.change", target, act) : act()));
  });

  router.get("/v1/units/:unitId/summary", async (req, res) => {
    const unitId = parseParameters(hash32, req.params.unitId, "path.unitId");
    const query = parseParameters(burdenQuerySchemas.summary, req.query, "query.");
    await mayRead(req, unitId, "this unit's records");
    await streamJson(res, (sink) => service.writeMonthlySummary(sink, unitId, query.month));
  });

  router.get("/v1/burden/report", async (req, res) => {
    const query = parseParameters(burdenQuerySchemas.report, req.query, "query.");
    // A department's token reads the report of its own department's demands.
    const department = await options.departmentOf?.(bearer(req));
    if (department !== undefined && (query.department ?? department) === department) query.department = department;
    else
      await mayRead(
        req,
        query.unitId ?? "*",
        query.unitId ? "this unit's burden report" : "the county's burden report",
      );
    const report = await service.report(query);
    if (query.format === "csv") {
      res.type("text/csv; charset=utf-8").attachment(`burden-${query.groupBy}.csv`).send(reportCsv(report));
      return;
    }
    res.json(report);
  });

  return router;
}
