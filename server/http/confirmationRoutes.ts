/**
 * Routes of residents' confirmations (docs/protocol.md §8). Two lists:
 * - `confirmationRoutes`: the unit asks for a link, inspectors read "did not happen" findings,
 *   evaluation reports, appeals. Served by the gateway's API like any other route.
 * - `confirmationPublicRoutes`: what a resident reaches without an account: the page, its two
 *   static files, and the link's view and answer. These are the routes a public listener
 *   (publicListener.ts) serves, alone, to the Internet.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import {
  type ConfirmationDependencies,
  answerConfirmation,
  appealAnswer,
  confirmationFindings,
  confirmationView,
  requestConfirmation,
  unitEvaluation,
} from "../app/confirm.ts";
import { residentAnswerSchema, textFault } from "../core/confirmation.ts";
import { DutyproofError } from "../core/errors.ts";
import { consoleBuildDir as defaultBuildDir } from "./consoleRoutes.ts";
import { hash32 } from "./parseQuery.ts";
import { type Route, route } from "./route.ts";

const ok = (description: string) => ({ description });
const bearer = (...scopes: Array<"unit" | "inspector:<department>" | "auditor">) =>
  ({ kind: "bearer", scopes }) as const;

const period = {
  from: z.coerce.number().int().min(0).optional().describe("Unix seconds, inclusive"),
  to: z.coerce.number().int().min(0).optional().describe("Unix seconds, exclusive"),
};
const schemas = {
  request: z
    .object({
      recordId: hash32,
      contact: z
        .string()
        .min(3)
        .max(200)
        .optional()
        .describe("the resident's phone number or app account: handed to the delivery hook, then dropped"),
    })
    .strict(),
  findings: z.object({ unitId: hash32.optional(), ...period }).strict(),
  evaluation: z
    .object({
      ...period,
      sample: z.coerce.number().int().min(0).max(1000).default(10).describe("follow-up visits (回访) to draw"),
      seedSize: z.coerce.number().int().min(1).optional().describe("the anchored checkpoint whose root seeds the draw"),
    })
    .strict(),
  appeal: z
    .object({
      reason: z.string().superRefine((s, ctx) => {
        const fault = s.trim() === "" ? "must not be empty" : textFault(s);
        if (fault) ctx.addIssue({ code: "custom", message: fault });
      }),
    })
    .strict(),
};
/** A link's token (43 base64url characters) or a typed code: short, and nothing else. */
const secretParams = z
  .object({
    secret: z
      .string()
      .min(6)
      .max(64)
      .regex(/^[A-Za-z0-9_ -]+$/),
  })
  .strict();

/** The unit's, inspectors' and auditors' routes. */
export function confirmationRoutes(deps: ConfirmationDependencies): Route[] {
  return [
    route({
      method: "POST",
      path: "/v1/confirmations",
      summary:
        "The unit asks the resident it served to confirm a record: a one-time link and code, sent through the delivery hook to `contact` (then dropped) or, without one, returned",
      auth: bearer("unit"),
      body: { limitBytes: 4 * 1024, schema: schemas.request },
      responses: { 201: ok("recordId, expiresAt, delivery, and link and code when not delivered") },
      problems: [401, 403, 409, 413, 415, 422, 502],
      handle: async ({ body, token }) => ({ status: 201, json: await requestConfirmation(deps, token!, body) }),
    }),
    route({
      method: "GET",
      path: "/v1/confirmations/findings",
      summary:
        '"Did not happen" answers, with their appeals: for the inspectors of the department owning the duty type, the unit, auditors',
      auth: bearer("unit", "inspector:<department>", "auditor"),
      query: schemas.findings,
      responses: { 200: ok("findings") },
      problems: [401, 422],
      handle: async ({ query, token }) => ({ json: await confirmationFindings(deps, token!, query) }),
    }),
    route({
      method: "POST",
      path: "/v1/confirmations/{answerId}/appeals",
      summary: "The unit appeals against a rating it holds malicious: logged beside the rating, which stays",
      auth: bearer("unit"),
      params: z.object({ answerId: hash32 }).strict(),
      body: { limitBytes: 4 * 1024, schema: schemas.appeal },
      responses: { 201: ok("appealId, leafIndex, answerId") },
      problems: [401, 404, 413, 415, 422],
      handle: async ({ params, body, token }) => ({
        status: 201,
        json: await appealAnswer(deps, token!, params.answerId, body),
      }),
    }),
    route({
      method: "GET",
      path: "/v1/units/{unitId}/evaluation",
      summary:
        "A unit's evaluation over a period: confirmation rate, satisfaction, did-not-happen count, appeals, a follow-up sample seeded by an anchored root, and a score in which residents weigh at least 60%",
      auth: bearer("unit", "inspector:<department>", "auditor"),
      params: z.object({ unitId: hash32 }).strict(),
      query: schemas.evaluation,
      responses: { 200: ok("the evaluation") },
      problems: [401, 403, 404, 422],
      handle: async ({ params, query, token }) => ({
        json: await unitEvaluation(deps, token!, params.unitId, query),
      }),
    }),
  ];
}

/** Headers of the resident's page: nothing from elsewhere, and no Referer that could carry the token. */
const pageHeaders = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

/** The routes a resident reaches: the page (a link or the code form), its assets, the link's API. */
export function confirmationPublicRoutes(deps: ConfirmationDependencies, buildDir: string = defaultBuildDir): Route[] {
  const file = (name: string, type: string) => async () => {
    let text: string;
    try {
      text = await readFile(join(buildDir, name), "utf8");
    } catch {
      throw new DutyproofError("request.not_found", "the residents' page is not built (node scripts/build-console.ts)");
    }
    return { text, type, headers: pageHeaders };
  };
  const page = file("resident.html", "text/html; charset=utf-8");
  const noStore = { "cache-control": "no-store", "referrer-policy": "no-referrer" };
  return [
    route({
      method: "GET",
      path: "/confirm-assets/resident.js",
      summary: "The residents' page script",
      auth: { kind: "public" },
      responses: { 200: { description: "JavaScript", type: "text/javascript" } },
      handle: file("resident.js", "text/javascript; charset=utf-8"),
    }),
    route({
      method: "GET",
      path: "/confirm-assets/resident-style.css",
      summary: "The residents' page style sheet",
      auth: { kind: "public" },
      responses: { 200: { description: "CSS", type: "text/css" } },
      handle: file("resident-style.css", "text/css; charset=utf-8"),
    }),
    route({
      method: "GET",
      path: "/confirm",
      summary: "The residents' page, asking for the code of a message",
      auth: { kind: "public" },
      responses: { 200: { description: "HTML", type: "text/html" } },
      handle: page,
    }),
    route({
      method: "GET",
      path: "/confirm/{secret}",
      secretPath: true,
      summary: "The residents' page of a one-time link",
      auth: { kind: "public" },
      params: secretParams,
      responses: { 200: { description: "HTML", type: "text/html" } },
      problems: [422],
      handle: page,
    }),
    route({
      method: "GET",
      path: "/v1/public/confirmations/{secret}",
      secretPath: true,
      summary: "What an open link is about: the service, the unit and the date; nothing personal",
      auth: { kind: "public" },
      params: secretParams,
      responses: { 200: ok("service, unit, performedAt, expiresAt") },
      problems: [404, 409, 410, 422, 429],
      handle: async ({ params }) => ({ json: await confirmationView(deps, params.secret), headers: noStore }),
    }),
    route({
      method: "POST",
      path: "/v1/public/confirmations/{secret}",
      secretPath: true,
      summary:
        "The resident's one answer: {happened, satisfaction 1–5 (required when it happened), comment?}; logged as a DPC1 entry",
      auth: { kind: "public" },
      params: secretParams,
      body: { limitBytes: 4 * 1024, schema: residentAnswerSchema },
      responses: { 201: ok("answerId, leafIndex") },
      problems: [404, 409, 410, 413, 415, 422, 429],
      handle: async ({ params, body }) => ({
        status: 201,
        json: await answerConfirmation(deps, params.secret, body),
        headers: noStore,
      }),
    }),
  ];
}
