/**
 * OpenAPI 3.1 document generated from the same zod schemas the handlers validate with, and a
 * docs page rendered on the server (no script, no network) from that document.
 */
import { z } from "zod";
import { submissionSchema } from "../gateway/AttestationService.ts";
import { consolePaths } from "./consoleOpenapi.ts";
import { burdenPaths, burdenSchemas, securitySchemes } from "./burdenOpenapi.ts";
import { tlogPaths } from "./tlogOpenapi.ts";

const problem = {
  description: "RFC 9457 problem details",
  content: {
    "application/problem+json": {
      schema: {
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
      },
    },
  },
};

const jsonOk = (description: string) => ({
  description,
  content: { "application/json": { schema: { type: "object" } } },
});
const query = (name: string, description: string, schema: object) => ({
  name,
  in: "query",
  required: true,
  description,
  schema,
});
const recordIdParam = {
  name: "recordId",
  in: "path",
  required: true,
  description: "SHA-256 of the envelope's JCS bytes",
  schema: { type: "string", pattern: "^0x[0-9a-f]{64}$" },
};

export function openApiDocument() {
  const submission = z.toJSONSchema(submissionSchema, { target: "draft-2020-12", unrepresentable: "any" });
  return {
    openapi: "3.1.0",
    info: {
      title: "dutyproof gateway",
      version: "1",
      description: "Signed duty records in, anchored receipts out. Errors are RFC 9457 problem details.",
    },
    components: { schemas: { Submission: submission, ...burdenSchemas() }, securitySchemes },
    paths: {
      "/livez": { get: { summary: "The process is alive", responses: { 200: jsonOk("alive") } } },
      "/readyz": {
        get: { summary: "Chain and store are usable", responses: { 200: jsonOk("ready"), 503: jsonOk("not ready") } },
      },
      "/metrics": {
        get: {
          summary: "Prometheus metrics: ingest, backlog, checkpoint lag, anchoring failures, chain head, store size",
          responses: { 200: { description: "Prometheus text format", content: { "text/plain": {} } } },
        },
      },
      "/v1/info": {
        get: {
          summary: "Chain, contract, log id and the EIP-712 definition units sign",
          responses: { 200: jsonOk("info") },
        },
      },
      "/v1/duty-types": { get: { summary: "The duty-type catalog with ids", responses: { 200: jsonOk("catalog") } } },
      "/v1/attestations": {
        post: {
          summary: "Submit one signed record; acknowledged after a synced write",
          requestBody: {
            required: true,
            content: { "application/json": { schema: { $ref: "#/components/schemas/Submission" } } },
          },
          responses: {
            201: jsonOk("accepted"),
            200: jsonOk("already accepted (idempotent)"),
            400: problem,
            403: problem,
            413: problem,
            415: problem,
            422: problem,
            429: problem,
            503: problem,
          },
        },
      },
      "/v1/attestations/batch": {
        post: {
          summary: "Submit up to 1,000 signed records; one result per item",
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  required: ["items"],
                  properties: {
                    items: { type: "array", maxItems: 1000, items: { $ref: "#/components/schemas/Submission" } },
                  },
                },
              },
            },
          },
          responses: {
            200: jsonOk("per-item results"),
            400: problem,
            413: problem,
            415: problem,
            422: problem,
            429: problem,
          },
        },
      },
      "/v1/attestations/{recordId}/receipt": {
        get: {
          summary: "The record's receipt: pending (202) until anchored, then self-contained",
          parameters: [recordIdParam],
          responses: { 200: jsonOk("anchored receipt"), 202: jsonOk("pending"), 404: problem },
        },
      },
      "/v1/receipts/{hash}": {
        get: {
          summary:
            "The receipt for a bare hash: by record id the full receipt; by leaf hash only where the leaf was anchored, with its proof (unit, duty type, times and signer need the record id)",
          parameters: [{ ...recordIdParam, name: "hash", description: "record id or leaf hash" }],
          responses: { 200: jsonOk("anchored receipt"), 202: jsonOk("pending"), 404: problem },
        },
      },
      "/v1/attestations/{recordId}": {
        get: {
          summary:
            "The record's content (bearer token of its unit, of the department owning its duty type or granted it, or an auditor)",
          parameters: [recordIdParam],
          responses: { 200: jsonOk("record"), 401: problem, 403: problem, 404: problem },
        },
      },
      "/v1/verify": {
        post: {
          summary:
            "Verify a receipt, or a record with its receipt, against the chain it names (same verifier as the CLI)",
          responses: { 200: jsonOk("verdict: valid, checks, reason, anchoredAt"), 422: problem },
        },
      },
      "/v1/rpc": {
        post: {
          summary:
            "Embedded mode: the chain node's read-only JSON-RPC endpoint (read methods; eth_sendRawTransaction only to the DutyLedger by a role holder; batches of at most 50); answers are JSON-RPC, not problems",
          responses: { 200: jsonOk("JSON-RPC answer or batch of answers"), 400: jsonOk("JSON-RPC parse error") },
        },
      },
      "/v1/export": {
        get: {
          summary:
            "Export bundle: a unit's anchored records with their receipts (token of the unit or an auditor; a department's token gets the duty types it reads)",
          parameters: [query("unitId", "unit id", { type: "string" })],
          responses: { 200: jsonOk("bundle"), 401: problem, 403: problem, 422: problem },
        },
      },
      "/v1/audit/records": {
        get: {
          summary: "Every record in leaf order, for audit replay (auditor token)",
          responses: { 200: jsonOk("records"), 401: problem, 403: problem },
        },
      },
      "/v1/admin/erasures": {
        post: {
          summary:
            "Erase a record's personal fields and salt under an order; body {recordId, order, signedAt}, header 'Authorization: DutyproofOperator <EIP-191 signature by the operator key>' (docs/protocol.md §3)",
          responses: {
            200: jsonOk("recordId, erasure"),
            401: problem,
            403: problem,
            404: problem,
            409: problem,
            422: problem,
          },
        },
      },
      "/v1/proofs/inclusion": {
        get: {
          summary: "Inclusion proof of a leaf hash in a tree size",
          parameters: [
            query("leafHash", "leaf hash", { type: "string" }),
            query("treeSize", "tree size", { type: "integer", minimum: 1 }),
          ],
          responses: { 200: jsonOk("proof"), 404: problem, 422: problem },
        },
      },
      "/v1/proofs/consistency": {
        get: {
          summary: "Consistency proof between two tree sizes",
          parameters: [
            query("from", "first size", { type: "integer", minimum: 1 }),
            query("to", "second size", { type: "integer", minimum: 1 }),
          ],
          responses: { 200: jsonOk("proof"), 404: problem, 422: problem },
        },
      },
      "/v1/checkpoints/latest": {
        get: { summary: "The latest anchored checkpoint", responses: { 200: jsonOk("checkpoint"), 404: problem } },
      },
      "/v1/checkpoints": {
        get: { summary: "Checkpoint history, newest first", responses: { 200: jsonOk("checkpoints") } },
      },
      ...consolePaths(problem),
      ...burdenPaths(problem),
      ...tlogPaths(problem),
    },
  };
}

const escape = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

export function docsPage(): string {
  const doc = openApiDocument();
  const rows = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops as Record<string, { summary: string; responses: Record<string, unknown> }>).map(
      ([method, op]) =>
        `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escape(path)}</code></td><td>${escape(op.summary)}</td><td>${Object.keys(op.responses).join(", ")}</td></tr>`,
    ),
  );
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>dutyproof API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem;max-width:70rem}td,th{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}pre{background:#f6f6f6;padding:1rem;overflow:auto}</style></head>
<body><h1>dutyproof gateway API</h1><p>${escape(doc.info.description)} The machine-readable document is at <a href="/openapi.json">/openapi.json</a>.</p>
<table><thead><tr><th>method</th><th>path</th><th>what</th><th>responses</th></tr></thead><tbody>${rows.join("")}</tbody></table>
<h2>Submission schema</h2><pre>${escape(JSON.stringify(doc.components.schemas.Submission, null, 2))}</pre></body></html>`;
}
