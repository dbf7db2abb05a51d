/**
 * The routes of anonymous tips (server/app/tips.ts). The sender's routes (group, scope, send,
 * follow-up) are public and anonymous: no operator auth, no log line, no address kept, so they
 * can be served on a resident-facing listener of their own. A tracking code travels in a body,
 * never in a path (paths are logged elsewhere, by proxies).
 */
import { z } from "zod";
import type { Access } from "../app/access.ts";
import { type TipService, isTrackingCode } from "../app/tips.ts";
import { DutyproofError } from "../core/errors.ts";
import { TIP_CATEGORIES, TIP_TEXT_MAX, semaphoreProofSchema, tipContentSchema } from "../core/tip.ts";
import { hash32 } from "./parseQuery.ts";
import { type Route, route } from "./route.ts";

export interface TipRouteDependencies {
  service: TipService;
  access: Access;
}

const month = z.string().regex(/^[0-9]{4}-(0[1-9]|1[0-2])$/, "a month, YYYY-MM");
const commitment = z.string().regex(/^[1-9][0-9]{0,77}$/, "a decimal identity commitment");

/** Schemas of the tip routes' bodies and queries. */
export const tipSchemas = {
  member: z.object({ unitId: hash32, commitment }).strict(),
  tip: z.object({ content: tipContentSchema, proof: semaphoreProofSchema }).strict(),
  followUp: z.object({ code: z.string().refine(isTrackingCode, "0x and 64 lowercase hex digits") }).strict(),
  reply: z.object({ text: z.string().min(1).max(TIP_TEXT_MAX) }).strict(),
  period: z.object({ period: month.optional() }).strict(),
  scope: z.object({ category: z.enum(TIP_CATEGORIES), period: month }).strict(),
  tipParams: z.object({ tipId: hash32 }).strict(),
};

const ok = (description: string) => ({ description });

/** Whether a token registers members for `unitId`: the unit's own token, or the operator's. */
async function mayRegister(access: Access, token: string, unitId: string): Promise<boolean> {
  if (await (access.mayOperate?.(token) ?? false)) return true;
  return (await (access.mayRead?.(token, unitId) ?? false)) && !(await (access.mayAudit?.(token) ?? false));
}

export function tipRoutes(deps: TipRouteDependencies): Route[] {
  const { service, access } = deps;
  const currentMonth = () => service.groupView().period;
  const member =
    (action: "add" | "remove") =>
    async (context: { body: z.infer<typeof tipSchemas.member>; token: string | undefined }) => {
      const { body, token } = context;
      if (!(await mayRegister(access, token!, body.unitId))) {
        throw new DutyproofError(
          "request.forbidden",
          "only the unit's own token (or the operator's) changes its members",
        );
      }
      return {
        status: action === "add" ? 201 : 200,
        json: await service.changeMember(action, body.unitId, body.commitment),
      };
    };
  return [
    route({
      method: "GET",
      path: "/v1/tips/group",
      summary:
        "The tip group (lean IMT of Semaphore identity commitments): every leaf, the root, recent roots, depth and the current month; a prover builds its Merkle proof from it locally",
      auth: { kind: "public" },
      anonymous: true,
      responses: { 200: ok("the group") },
      handle: () => ({ json: service.groupView(), headers: { "cache-control": "no-store" } }),
    }),
    route({
      method: "GET",
      path: "/v1/tips/scope",
      summary: "The Semaphore scope of a category in a month of this log (one tip per member per scope)",
      auth: { kind: "public" },
      anonymous: true,
      query: tipSchemas.scope,
      responses: { 200: ok("the scope") },
      problems: [422],
      handle: ({ query }) => ({ json: { ...query, scope: service.scope(query.category, query.period) } }),
    }),
    route({
      method: "POST",
      path: "/v1/tips",
      summary:
        "Send an anonymous tip: its content and a Semaphore proof (message: the content digest; scope: category and month). Logged as a DPT1 leaf; no address, agent or time of the request is kept",
      auth: { kind: "public" },
      anonymous: true,
      body: { limitBytes: 16 * 1024, schema: tipSchemas.tip },
      responses: { 201: ok("the tip's id and leaf") },
      problems: [409, 413, 415, 422, 429],
      handle: async ({ body }) => ({ status: 201, json: await service.submit(body.content, body.proof) }),
    }),
    route({
      method: "POST",
      path: "/v1/tips/follow-up",
      summary: "The sender reads its tip and the replies with its tracking code (sent in the body)",
      auth: { kind: "public" },
      anonymous: true,
      body: { limitBytes: 1024, schema: tipSchemas.followUp },
      responses: { 200: ok("the tip and its replies") },
      problems: [404, 413, 415, 422],
      handle: async ({ body }) => ({
        json: await service.followUp(body.code),
        headers: { "cache-control": "no-store" },
      }),
    }),
    route({
      method: "GET",
      path: "/v1/tips/summary",
      summary: "Counts of a month's tips by target and category (the dashboard's feed)",
      auth: { kind: "public" },
      query: tipSchemas.period,
      responses: { 200: ok("counts") },
      problems: [422],
      handle: async ({ query }) => ({ json: await service.summary(query.period ?? currentMonth()) }),
    }),
    route({
      method: "GET",
      path: "/v1/tips",
      summary: "A month's tips the token answers: its department's, or every tip for an auditor, with replies",
      auth: { kind: "bearer", scopes: ["inspector:<department>", "auditor"] },
      query: tipSchemas.period,
      responses: { 200: ok("tips") },
      problems: [401, 403, 422],
      handle: async ({ query, token }) => ({
        json: await service.list(access, token!, query.period ?? currentMonth()),
      }),
    }),
    route({
      method: "POST",
      path: "/v1/tips/{tipId}/replies",
      summary: "Reply to a tip (the department it names, or an auditor); logged as a DPT1 leaf",
      auth: { kind: "bearer", scopes: ["inspector:<department>", "auditor"] },
      params: tipSchemas.tipParams,
      body: { limitBytes: 16 * 1024, schema: tipSchemas.reply },
      responses: { 201: ok("the reply's id and leaf") },
      problems: [401, 403, 404, 413, 415, 422],
      handle: async ({ params, body, token }) => ({
        status: 201,
        json: await service.reply(access, token!, params.tipId, body.text),
      }),
    }),
    route({
      method: "POST",
      path: "/v1/tips/members",
      summary: "Register a member's identity commitment in the tip group (the unit's token, or the operator's)",
      auth: { kind: "bearer", scopes: ["unit", "operator"] },
      body: { limitBytes: 1024, schema: tipSchemas.member },
      responses: { 201: ok("the change's leaf and the new root") },
      problems: [401, 403, 409, 413, 415, 422],
      handle: member("add"),
    }),
    route({
      method: "POST",
      path: "/v1/tips/members/remove",
      summary: "Withdraw a member's identity commitment from the tip group (the registering unit, or the operator)",
      auth: { kind: "bearer", scopes: ["unit", "operator"] },
      body: { limitBytes: 1024, schema: tipSchemas.member },
      responses: { 200: ok("the change's leaf and the new root") },
      problems: [401, 403, 404, 413, 415, 422],
      handle: member("remove"),
    }),
  ];
}
