/**
 * Token-bucket rate limiting, one bucket per key (a client address, a unit id). Pure: the
 * caller passes the time, so the same calls give the same answers and tests need no clock.
 *
 * A bucket holds at most `burst` tokens and gains `perSecond` tokens a second; each admitted
 * request (or record) spends one. The number of buckets kept is bounded by `maxKeys`: a bucket
 * that has refilled is indistinguishable from a new one and is dropped first, then the least
 * recently used. Memory therefore stays bounded whatever keys an attacker invents.
 */

export interface RateLimitSettings {
  /** Tokens added per second; 0 turns the limiter off (every request admitted). */
  perSecond: number;
  /** Bucket capacity: how many requests may come at once after a quiet period. */
  burst: number;
  /** Most buckets held at once. */
  maxKeys: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  updatedAt: number; // milliseconds, the caller's clock
}

export class RateLimiter {
  private readonly settings: RateLimitSettings;
  /** Insertion order is recency order: a touched bucket is moved to the end. */
  private readonly buckets = new Map<string, Bucket>();

  /** Preconditions: perSecond >= 0, burst >= 1, maxKeys >= 1. */
  constructor(settings: RateLimitSettings) {
    if (!(settings.perSecond >= 0) || !(settings.burst >= 1) || !(settings.maxKeys >= 1)) {
      throw new RangeError("rate limit needs perSecond >= 0, burst >= 1 and maxKeys >= 1");
    }
    this.settings = settings;
  }

  get enabled(): boolean {
    return this.settings.perSecond > 0;
  }

  /** Number of buckets currently held (never more than maxKeys). */
  get size(): number {
    return this.buckets.size;
  }

  /** Spends `cost` tokens of `key`'s bucket at time `nowMs` if it has them. */
  take(key: string, nowMs: number, cost = 1): RateDecision {
    const { perSecond, burst } = this.settings;
    if (perSecond === 0) return { allowed: true };
    const bucket = this.buckets.get(key);
    let tokens = burst;
    if (bucket) {
      const elapsed = Math.max(0, nowMs - bucket.updatedAt) / 1000;
      tokens = Math.min(burst, bucket.tokens + elapsed * perSecond);
      this.buckets.delete(key);
    }
    if (tokens >= cost) {
      this.buckets.set(key, { tokens: tokens - cost, updatedAt: nowMs });
      this.evict(nowMs);
      return { allowed: true };
    }
    this.buckets.set(key, { tokens, updatedAt: nowMs });
    this.evict(nowMs);
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((cost - tokens) / perSecond)) };
  }

  private evict(nowMs: number): void {
    const { maxKeys, perSecond, burst } = this.settings;
    if (this.buckets.size <= maxKeys) return;
    // Refilled buckets first: forgetting them changes no answer. The scan is bounded so one
    // request never pays for the whole map.
    let scanned = 0;
    for (const [key, bucket] of this.buckets) {
      if (this.buckets.size <= maxKeys || scanned++ >= 64) break;
      if (bucket.tokens + ((nowMs - bucket.updatedAt) / 1000) * perSecond >= burst) this.buckets.delete(key);
    }
    // Then the least recently used, which is the oldest entry of the map.
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= maxKeys) break;
      this.buckets.delete(key);
    }
  }
}
