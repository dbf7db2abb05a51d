/**
 * Per-client rate limiting for the HTTP API: one token bucket per remote address, spent by every
 * request except the liveness and readiness probes. Past the limit the answer is a 429 problem
 * with Retry-After, before the body is read or any work is done.
 */
import type { NextFunction, Request, Response } from "express";
import { DutyproofError } from "../core/errors.ts";
import type { RateLimiter } from "../core/rateLimit.ts";

const probes = new Set(["/livez", "/readyz"]);

export function clientRateLimit(limiter: RateLimiter, now: () => number = Date.now) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!limiter.enabled || probes.has(req.path)) return next();
    // The socket's address: a forwarded-for header is the client's own claim and is not trusted.
    const decision = limiter.take(req.socket.remoteAddress ?? "unknown", now());
    if (decision.allowed) return next();
    next(
      new DutyproofError("request.rate_limited", "too many requests from this client", {
        retryAfter: decision.retryAfterSeconds,
      }),
    );
  };
}

/** Per-unit limit on records: throws the 429 problem when the unit is past its limit. */
export function unitRateLimit(limiter: RateLimiter, now: () => number = Date.now) {
  return (unitId: string): void => {
    const decision = limiter.take(unitId, now());
    if (!decision.allowed) {
      throw new DutyproofError("request.rate_limited", `too many records from unit ${unitId}`, {
        retryAfter: decision.retryAfterSeconds,
      });
    }
  };
}
