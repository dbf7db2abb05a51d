/**
 * RFC 9457 problem details: the only way the API reports an error. Catalogue errors keep their
 * code, title and status; anything else becomes a 500 that reveals nothing.
 */
import type { ErrorRequestHandler, Response } from "express";
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

export function sendProblem(res: Response, problem: Problem): void {
  if (typeof problem.retryAfter === "number") res.set("Retry-After", String(problem.retryAfter));
  // The request id the observability middleware gave this request, so a user can quote it.
  if (typeof res.locals.requestId === "string") problem = { ...problem, requestId: res.locals.requestId };
  res.status(problem.status).type("application/problem+json").send(JSON.stringify(problem));
}

/** Maps body-parser's errors to catalogue errors. */
function fromBodyParser(error: { type?: string; status?: number; expose?: boolean }): DutyproofError | null {
  switch (error.type) {
    case "entity.parse.failed":
      return new DutyproofError("request.malformed_json", "the body is not valid JSON");
    case "entity.too.large":
      return new DutyproofError("request.too_large", "the body exceeds the size limit");
    case "encoding.unsupported":
    case "charset.unsupported":
      return new DutyproofError("request.unsupported_media_type", "the body must be UTF-8 JSON");
    default:
      // Any other client fault Express or body-parser reports (a body cut short, a length that
      // does not match, a corrupt gzip stream, a path that is not valid percent-encoding).
      if (typeof error.status === "number" && error.status >= 400 && error.status < 500 && error.expose !== false) {
        return new DutyproofError("request.unreadable", "the request could not be read (encoding, length or path)");
      }
      return null;
  }
}

export function problemHandler(log: (message: string) => void): ErrorRequestHandler {
  return (error, req, res, _next) => {
    // Already answered (a body over its limit is refused as it arrives; see bodyLimit.ts).
    if (res.headersSent) return;
    const known =
      error instanceof DutyproofError ? error : (fromBodyParser(error as { type?: string; status?: number }) ?? null);
    if (known) {
      sendProblem(res, problemOf(known, req.originalUrl));
      return;
    }
    log(`internal error on ${req.method} ${req.originalUrl}: ${error instanceof Error ? error.stack : String(error)}`);
    sendProblem(
      res,
      problemOf(new DutyproofError("internal", "the gateway failed to handle this request"), req.originalUrl),
    );
  };
}
