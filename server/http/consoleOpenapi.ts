/** OpenAPI paths of the routes the web console adds (server/http/consoleRoutes.ts). */

const jsonOk = (description: string) => ({
  description,
  content: { "application/json": { schema: { type: "object" } } },
});
const hashSchema = { type: "string", pattern: "^0x[0-9a-f]{64}$" };
const param = (name: string, where: "query" | "path", description: string, schema: object, required = true) => ({
  name,
  in: where,
  required,
  description,
  schema,
});

export function consolePaths(problem: object) {
  return {
    "/console/": {
      get: {
        summary: "The web console (zh-CN, English toggle), served under a strict Content-Security-Policy",
        responses: { 200: { description: "the console's page", content: { "text/html": {} } }, 404: problem },
      },
    },
    "/v1/chain-facts": {
      get: {
        summary:
          "What the chain states about a receipt (checkpoint of that size, the unit's key and status history), for verifiers that cannot reach the chain; 422 receipt.untrusted_deployment for a deployment this gateway does not trust",
        parameters: [
          param("chainId", "query", "the receipt's chain id", { type: "integer", minimum: 1 }),
          param("contract", "query", "the receipt's DutyLedger address", { type: "string" }),
          param("logId", "query", "the receipt's log id", hashSchema),
          param("treeSize", "query", "the receipt's tree size", { type: "integer", minimum: 1 }),
          param("unitId", "query", "the receipt's unit id", hashSchema),
        ],
        responses: { 200: jsonOk("chain facts"), 422: problem, 503: problem },
      },
    },
    "/v1/trust": {
      get: {
        summary:
          "The deployments this gateway's verification trusts, as a dutyproof/trust/v1 file an inspector can pass to `dutyproof verify --trust`",
        responses: { 200: jsonOk("trust file") },
      },
    },
    "/v1/units/{unitId}/records": {
      get: {
        summary:
          "A unit's records, newest first, with status pending, anchored, superseded or withdrawn (token of the unit, an inspector or an auditor)",
        parameters: [
          param("unitId", "path", "unit id", hashSchema),
          param("dutyTypeId", "query", "only this duty type", hashSchema, false),
          param("from", "query", "performedAt lower bound, Unix seconds", { type: "integer" }, false),
          param("to", "query", "performedAt upper bound (exclusive), Unix seconds", { type: "integer" }, false),
          param(
            "limit",
            "query",
            "at most this many (default 500)",
            { type: "integer", minimum: 1, maximum: 5000 },
            false,
          ),
        ],
        responses: { 200: jsonOk("records"), 401: problem, 403: problem, 422: problem },
      },
    },
  };
}
