/**
 * Routes of live monitoring: the month's burden and alerts, polled by the console with an ETag
 * (a poll that finds nothing new costs a 304 and no body), and the weekly digest in JSON or CSV.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { type LiveDependencies, liveBurden, weeklyDigest } from "../app/live.ts";
import { digestCsv } from "../burden/LiveMonitor.ts";
import { ISO_WEEK } from "../burden/liveAlerts.ts";
import { hash32 } from "./parseQuery.ts";
import { type Route, route } from "./route.ts";

export const liveSchemas = {
  live: z.object({ unitId: hash32.optional().describe("only this unit (a unit's token reads its own)") }).strict(),
  digest: z
    .object({
      week: z.string().regex(ISO_WEEK, "must be an ISO week, YYYY-Www").describe("ISO week, UTC+8 (2026-W49)"),
      format: z.enum(["json", "csv"]).default("json"),
    })
    .strict(),
};

/** Whether an If-None-Match header names `etag` (a list, weak or strong). */
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}

/** GET /v1/burden/live and GET /v1/burden/digest. */
export function liveRoutes(deps: LiveDependencies): Route[] {
  return [
    route({
      method: "GET",
      path: "/v1/burden/live",
      summary:
        "Live burden of the current month (UTC+8): requests per kind, unit and department, and the alerts standing (thresholds in docs/operations.md). ETag; If-None-Match answers 304 while nothing changed. A department's token sees its own department's, a unit's token its own unit's (unitId), an auditor's the county's",
      auth: bearer("inspector:<department>", "unit", "auditor"),
      query: liveSchemas.live,
      responses: { 200: { description: "live burden" }, 304: { description: "not modified" } },
      problems: [401, 403, 422],
      handle: async ({ query, token, req, res }) => {
        const body = JSON.stringify(await liveBurden(deps, token, query.unitId));
        const etag = `"${createHash("sha256").update(body).digest("hex").slice(0, 32)}"`;
        const headers = { etag, "cache-control": "private, no-cache" };
        if (matches(req.headers["if-none-match"], etag)) {
          res.writeHead(304, headers).end();
          return;
        }
        return { text: body, type: "application/json; charset=utf-8", headers };
      },
    }),
    route({
      method: "GET",
      path: "/v1/burden/digest",
      summary:
        "Weekly digest (ISO week, UTC+8): the week's burden report by unit and by department and the alerts standing at its end, JSON or CSV. The county's for an auditor's token, a department's own for its token",
      auth: bearer("inspector:<department>", "auditor"),
      query: liveSchemas.digest,
      responses: { 200: { description: "digest (dutyproof/burden-digest/v1) or CSV" } },
      problems: [401, 403, 422],
      handle: async ({ query, token }) => {
        const digest = await weeklyDigest(deps, token, query.week);
        if (query.format !== "csv") return { json: digest };
        return {
          text: digestCsv(digest),
          type: "text/csv; charset=utf-8",
          headers: { "content-disposition": `attachment; filename="burden-digest-${query.week}.csv"` },
        };
      },
    }),
  ];
}

const bearer = (...scopes: Array<"inspector:<department>" | "unit" | "auditor">) =>
  ({ kind: "bearer", scopes }) as const;
