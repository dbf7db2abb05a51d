/**
 * What the routes served on Node's HTTP server in front of Express (ingest.ts, readPath.ts) need
 * to answer as the Express app does: the request id, log line and metrics of the request
 * observer, the per-client rate limit, and errors as the same problem+json problemHandler sends.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { DutyproofError } from "../core/errors.ts";
import type { RateLimiter } from "../core/rateLimit.ts";
import type { RequestObserver } from "../observability/httpObservability.ts";
import { type Problem, problemOf } from "./problem.ts";

export interface NodeRouteOptions {
  /** Request ids, request log lines and metrics, as the Express routes get them. */
  observe?: RequestObserver;
  /** Per-client (remote address) request limit, as on every other route; none when absent. */
  clientLimiter?: RateLimiter;
  log?: (message: string) => void;
}

/** Sends a whole body with its length (for HEAD, Node sends the headers only). */
export function writeBody(
  res: ServerResponse,
  status: number,
  body: string,
  type = "application/json; charset=utf-8",
): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function writeProblem(res: ServerResponse, problem: Problem): void {
  if (typeof problem.retryAfter === "number") res.setHeader("Retry-After", String(problem.retryAfter));
  writeBody(res, problem.status, JSON.stringify(problem), "application/problem+json; charset=utf-8");
}

/**
 * Answers `req` with `handler` after giving it its request id (from `observe`, which reads
 * `route` and `path` for the log line and metrics when the response is done) and spending the
 * client's rate-limit token. What the handler throws is answered as problem+json: a
 * DutyproofError with its own status, anything else logged and answered 500.
 */
export function serveOnNode(
  options: NodeRouteOptions,
  req: IncomingMessage,
  res: ServerResponse,
  route: () => string,
  path: () => string,
  handler: () => Promise<void>,
): void {
  const url = req.url ?? "";
  const requestId = options.observe?.(req, res, route, path);
  const run = async () => {
    const limiter = options.clientLimiter;
    if (limiter?.enabled) {
      // The socket's address: a forwarded-for header is the client's own claim.
      const decision = limiter.take(req.socket.remoteAddress ?? "unknown", Date.now());
      if (!decision.allowed) {
        req.resume();
        throw new DutyproofError("request.rate_limited", "too many requests from this client", {
          retryAfter: decision.retryAfterSeconds,
        });
      }
    }
    await handler();
  };
  run().catch((error: unknown) => {
    if (res.headersSent) return;
    const withId = (problem: Problem): Problem => (requestId ? { ...problem, requestId } : problem);
    if (error instanceof DutyproofError) {
      writeProblem(res, withId(problemOf(error, url)));
      return;
    }
    options.log?.(`internal error on ${req.method} ${url}: ${error instanceof Error ? error.stack : String(error)}`);
    writeProblem(
      res,
      withId(problemOf(new DutyproofError("internal", "the gateway failed to handle this request"), url)),
    );
  });
}
