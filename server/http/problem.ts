/**
 * RFC 9457 problem details: the only way the API reports an error, written here and nowhere
 * else. Catalogue errors keep their code, title and status; anything else becomes a 500 that
 * reveals nothing.
 */
import type { ServerResponse } from "node:http";
import { DutyproofError } from "../core/errors.ts";
import type { Problem } from "../core/apiResponses.ts";

export type { Problem };

export function problemOf(error: DutyproofError, instance?: string): Problem {
  const { errors, ...rest } = error.details as { errors?: unknown };
  return {
    type: `https://dutyproof.invalid/problems/${error.code}`,
    title: error.title,
    status: error.status,
    detail: error.message,
    code: error.code,
    ...(instance ? { instance } : {}),
    ...(errors ? { errors } : {}),
    ...rest,
  };
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

/**
 * Answers `error` as problem+json, with the request's id so a user can quote it: a
 * DutyproofError with its own status, anything else logged and answered 500.
 */
export function writeProblem(
  res: ServerResponse,
  error: unknown,
  where: { method: string; url: string; requestId?: string | undefined; log?: ((message: string) => void) | undefined },
): void {
  if (res.headersSent) return;
  let known = error instanceof DutyproofError ? error : undefined;
  if (!known) {
    where.log?.(
      `internal error on ${where.method} ${where.url}: ${error instanceof Error ? error.stack : String(error)}`,
    );
    known = new DutyproofError("internal", "the gateway failed to handle this request");
  }
  const problem = problemOf(known, where.url);
  if (where.requestId) problem.requestId = where.requestId;
  if (typeof problem.retryAfter === "number") res.setHeader("Retry-After", String(problem.retryAfter));
  writeBody(res, problem.status, JSON.stringify(problem), "application/problem+json; charset=utf-8");
}
