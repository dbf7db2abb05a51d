/**
 * The two ingest routes, POST /v1/attestations and POST /v1/attestations/batch, served on
 * Node's HTTP server directly, in front of the Express app (readPath.ts serves the public read
 * routes the same way).
 *
 * Why: ingest is the gateway's hot path, and Express's per-request machinery (router, request
 * and response decoration, body-parser, res.json) cost more CPU per request than the signature
 * check itself (`npm run bench:http-path` measures a no-op POST handler both ways;
 * docs/operations.md "Ingest path"). Behaviour is the same as the Express routes it replaces:
 * the same media-type, size and JSON checks, the same problem+json errors, the same bodies.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { bodyShapeFaults } from "../core/bodyShape.ts";
import { DutyproofError } from "../core/errors.ts";
import { type AttestationService, fieldErrors } from "../gateway/AttestationService.ts";
import type { StoredRecord } from "../store/LedgerStore.ts";
import { DISCARD_LIMIT_BYTES, stopReading } from "./bodyLimit.ts";
import { type NodeRouteOptions, serveOnNode, writeBody } from "./serveOnNode.ts";

export interface IngestOptions extends NodeRouteOptions {
  attestations: AttestationService;
  /** Called after records were appended (to wake the anchorer). */
  onAppended?: () => void;
  maxBatch?: number;
  /** Body limits in bytes. */
  maxSingleBytes?: number;
  maxBatchBytes?: number;
}

export const SINGLE_PATH = "/v1/attestations";
export const BATCH_PATH = "/v1/attestations/batch";

/** What a successful submission is answered with. */
export function acknowledgement(record: StoredRecord, created: boolean) {
  return {
    recordId: record.recordId,
    leafIndex: record.leafIndex,
    leafHash: record.leafHash,
    duplicate: !created,
    receipt: `/v1/attestations/${record.recordId}/receipt`,
  };
}

/** The media type must be JSON in UTF-8, unencoded: what express.json accepted on these routes. */
function checkMediaType(req: IncomingMessage): void {
  const [type, ...params] = (req.headers["content-type"] ?? "").split(";").map((p) => p.trim().toLowerCase());
  const charset = params.find((p) => p.startsWith("charset="))?.slice(8);
  const encoding = (req.headers["content-encoding"] ?? "identity").toLowerCase();
  if (type !== "application/json" || (charset !== undefined && charset !== "utf-8") || encoding !== "identity") {
    throw new DutyproofError("request.unsupported_media_type", "send the body as application/json");
  }
}

/**
 * Reads the body, refusing it as soon as it exceeds `limit` bytes (what still arrives is dropped,
 * and the connection closed past bodyLimit.ts's bound); parses it as a JSON object or array.
 */
function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (declared > limit) {
      stopReading(req, limit + DISCARD_LIMIT_BYTES);
      reject(new DutyproofError("request.too_large", "the body exceeds the size limit"));
      return;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    req.on("data", (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) {
        stopReading(req);
        reject(new DutyproofError("request.too_large", "the body exceeds the size limit"));
        return;
      }
      chunks.push(chunk);
    });
    req.on("error", reject);
    req.on("end", () => {
      if (length > limit) return;
      const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString("utf8");
      // Strict JSON as express.json({ strict: true }): an object or an array at the top.
      const first = /^[\s]*(.)/.exec(text)?.[1];
      let body: unknown;
      try {
        if (first !== "{" && first !== "[") throw new SyntaxError("not an object or array");
        body = JSON.parse(text);
      } catch {
        reject(new DutyproofError("request.malformed_json", "the body is not valid JSON"));
        return;
      }
      // Depth and __proto__-like keys are checked before any schema sees the body.
      const errors = bodyShapeFaults(body);
      if (errors.length) reject(new DutyproofError("request.invalid", "the body's shape is not allowed", { errors }));
      else resolve(body);
    });
  });
}

/**
 * A request listener for the ingest routes. Returns false, touching nothing, for any other
 * request, which then goes to the Express app.
 */
export function ingestHandler(options: IngestOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { attestations } = options;
  const batchSchema = z
    .object({
      items: z
        .array(z.unknown())
        .min(1)
        .max(options.maxBatch ?? 1000),
    })
    .strict();

  const single = async (req: IncomingMessage, res: ServerResponse) => {
    checkMediaType(req);
    const body = await readJson(req, options.maxSingleBytes ?? 64 * 1024);
    const { created, record } = await attestations.submit(body);
    if (created) options.onAppended?.();
    writeBody(res, created ? 201 : 200, JSON.stringify(acknowledgement(record, created)));
  };

  const batch = async (req: IncomingMessage, res: ServerResponse) => {
    checkMediaType(req);
    const body = await readJson(req, options.maxBatchBytes ?? 8 * 1024 * 1024);
    const parsed = batchSchema.safeParse(body);
    if (!parsed.success) {
      const errors = fieldErrors(parsed.error);
      throw new DutyproofError("request.invalid", `${errors.length} field(s) at fault`, { errors });
    }
    const settled = await attestations.submitMany(parsed.data.items);
    let anyCreated = false;
    const results = settled.map((outcome, index) => {
      if (outcome.status === "fulfilled") {
        anyCreated ||= outcome.value.created;
        return {
          index,
          status: outcome.value.created ? 201 : 200,
          ...acknowledgement(outcome.value.record, outcome.value.created),
        };
      }
      const error =
        outcome.reason instanceof DutyproofError ? outcome.reason : new DutyproofError("internal", "failed");
      const { errors, retryAfter } = error.details;
      return { index, status: error.status, code: error.code, detail: error.message, errors, retryAfter };
    });
    if (anyCreated) options.onAppended?.();
    writeBody(res, 200, JSON.stringify({ results }));
  };

  return (req, res) => {
    if (req.method !== "POST") return false;
    const url = req.url ?? "";
    const query = url.indexOf("?");
    let path = query === -1 ? url : url.slice(0, query);
    if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
    const handler = path === SINGLE_PATH ? single : path === BATCH_PATH ? batch : null;
    if (!handler) return false;
    serveOnNode(
      options,
      req,
      res,
      () => path,
      () => path,
      () => handler(req, res),
    );
    return true;
  };
}
