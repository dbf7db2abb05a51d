/**
 * Per-unit rate limiting of records. (The per-client limit, one token bucket per remote address,
 * is spent by the dispatcher, server/http/dispatch.ts, for every route but the probes.)
 */
import { DutyproofError } from "../core/errors.ts";
import type { Clock } from "../core/clock.ts";
import type { RateLimiter } from "../core/rateLimit.ts";

/** Per-unit limit on records: throws the 429 problem when the unit is past its limit. */
export function unitRateLimit(limiter: RateLimiter, clock: Clock) {
  return (unitId: string): void => {
    const decision = limiter.take(unitId, clock.now());
    if (!decision.allowed) {
      throw new DutyproofError("request.rate_limited", `too many records from unit ${unitId}`, {
        retryAfter: decision.retryAfterSeconds,
      });
    }
  };
}
