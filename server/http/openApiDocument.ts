/**
 * The OpenAPI 3.1 document of the gateway, derived from the route table (routes.ts): every
 * route with its auth scope (`x-dutyproof-auth` and `security`), parameters, body and answers,
 * from the same zod schemas the dispatcher checks requests with; and a docs page rendered on
 * the server (no script, no network) from that document.
 */
import { z } from "zod";
import { demandSubmissionSchema } from "../burden/demand.ts";
import { requestSubmissionSchema } from "../core/request.ts";
import { evidenceSchema } from "../core/verifier.ts";
import { submissionSchema } from "../gateway/AttestationService.ts";
import {
  demandPublicViewSchema,
  demandReceiptSchema,
  demandViewSchema,
  dutyListSchema,
  reportSchema,
  summarySchema,
  tasksSchema,
  unitDemandsSchema,
} from "./burdenResponses.ts";
import type { Auth, Route } from "./route.ts";

const inputSchema = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { target: "draft-2020-12", unrepresentable: "any", io: "input" });
const outputSchema = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { target: "draft-2020-12", unrepresentable: "any", io: "output" });

const problemSchema = {
  type: "object",
  required: ["type", "title", "status", "detail", "code"],
  properties: {
    type: { type: "string" },
    title: { type: "string" },
    status: { type: "integer" },
    detail: { type: "string" },
    code: { type: "string" },
    requestId: { type: "string", description: "the request's id, also in the X-Request-Id header" },
    errors: {
      type: "array",
      items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } },
    },
  },
};

/** How a client proves who it is, per kind of route auth. */
const securitySchemes = {
  bearer: { type: "http", scheme: "bearer", description: "a token the operator issued (`dutyproof token issue`)" },
  operatorSignature: {
    type: "apiKey",
    in: "header",
    name: "Authorization",
    description: '"DutyproofOperator <EIP-191 signature by the gateway\'s operator key of the operator message>"',
  },
  inspectorSignature: {
    type: "apiKey",
    in: "header",
    name: "Authorization",
    description:
      '"DutyproofInspector <signedAt>.<EIP-191 signature by the demanding inspector of packageRequestMessage>"',
  },
};

/** The route's auth scope as one line: what `x-dutyproof-auth` says. */
export function authScopeOf(auth: Auth): string {
  switch (auth.kind) {
    case "public":
      return "public";
    case "bearer":
      return `${auth.optional ? "public, or " : ""}bearer: ${auth.scopes.join(" | ")}`;
    default:
      return auth.kind;
  }
}

function securityOf(auth: Auth): object[] {
  switch (auth.kind) {
    case "public":
      return [];
    case "bearer":
      return auth.optional ? [{}, { bearer: [] }] : [{ bearer: [] }];
    case "operator-signature":
      return [{ operatorSignature: [] }];
    case "inspector-signature":
      return [{ inspectorSignature: [] }];
  }
}

/** One OpenAPI parameter per key of a zod object schema. */
function parametersOf(schema: z.ZodType | undefined, where: "path" | "query") {
  if (!schema) return [];
  const json = inputSchema(schema) as { properties?: Record<string, { description?: string }>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === "path" || ((json.required ?? []).includes(name) && !("default" in s)),
    ...(s.description ? { description: s.description } : {}),
    schema: s,
  }));
}

const schemaRef = (schema: object | string) =>
  typeof schema === "string" ? { $ref: `#/components/schemas/${schema}` } : schema;

function operationOf(route: Route) {
  const responses: Record<string, object> = {};
  for (const [status, doc] of Object.entries(route.responses)) {
    const type = doc.type ?? "application/json";
    responses[status] = {
      description: doc.description,
      content: {
        [type]: doc.schema
          ? { schema: schemaRef(doc.schema) }
          : type.includes("json")
            ? { schema: { type: "object" } }
            : {},
      },
    };
  }
  for (const status of route.problems ?? []) responses[status] = { $ref: "#/components/responses/Problem" };
  const body = route.body;
  return {
    summary: route.summary,
    "x-dutyproof-auth": authScopeOf(route.auth),
    security: securityOf(route.auth),
    ...(route.params || route.query
      ? { parameters: [...parametersOf(route.params, "path"), ...parametersOf(route.query, "query")] }
      : {}),
    ...(body
      ? {
          requestBody: {
            required: true,
            description: `JSON, at most ${body.limitBytes} bytes`,
            content: {
              "application/json": {
                schema: body.schema ? inputSchema(body.schema) : schemaRef(body.ref ?? { type: "object" }),
              },
            },
          },
        }
      : {}),
    responses,
  };
}

/** The document of `routes`: one path item per path, one operation per method. */
export function openApiDocument(routes: readonly Route[]) {
  const paths: Record<string, Record<string, object>> = {};
  for (const route of routes) {
    const path = route.prefix ? `${route.path}/` : route.path;
    (paths[path] ??= {})[route.method.toLowerCase()] = operationOf(route);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "dutyproof gateway",
      version: "1",
      description: "Signed duty records in, anchored receipts out. Errors are RFC 9457 problem details.",
    },
    components: {
      schemas: {
        Submission: inputSchema(submissionSchema),
        Evidence: inputSchema(evidenceSchema),
        DemandSubmission: inputSchema(demandSubmissionSchema),
        RequestSubmission: inputSchema(requestSubmissionSchema),
        DemandView: outputSchema(demandViewSchema),
        DemandPublicView: outputSchema(demandPublicViewSchema),
        DemandReceipt: outputSchema(demandReceiptSchema),
        Tasks: outputSchema(tasksSchema),
        UnitDemands: outputSchema(unitDemandsSchema),
        DutyList: outputSchema(dutyListSchema),
        BurdenReport: outputSchema(reportSchema),
        MonthlySummary: outputSchema(summarySchema),
        Problem: problemSchema,
      },
      responses: {
        Problem: {
          description: "RFC 9457 problem details",
          content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
        },
      },
      securitySchemes,
    },
    paths,
  };
}

const escape = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** The API as an HTML page: method, path, auth scope, what, answers. */
export function docsPage(routes: readonly Route[]): string {
  const doc = openApiDocument(routes);
  const rows = routes.map(
    (r) =>
      `<tr><td><code>${r.method}</code></td><td><code>${escape(r.path)}</code></td><td>${escape(authScopeOf(r.auth))}</td><td>${escape(r.summary)}</td><td>${[...Object.keys(r.responses), ...(r.problems ?? [])].join(", ")}</td></tr>`,
  );
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>dutyproof API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem;max-width:70rem}td,th{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}pre{background:#f6f6f6;padding:1rem;overflow:auto}</style></head>
<body><h1>dutyproof gateway API</h1><p>${escape(doc.info.description)} The machine-readable document is at <a href="/openapi.json">/openapi.json</a>.</p>
<table><thead><tr><th>method</th><th>path</th><th>auth</th><th>what</th><th>responses</th></tr></thead><tbody>${rows.join("")}</tbody></table>
<h2>Submission schema</h2><pre>${escape(JSON.stringify(doc.components.schemas.Submission, null, 2))}</pre></body></html>`;
}
