import { expect } from "chai";
import { RateLimiter } from "../../server/core/rateLimit.ts";

describe("rate limiter (token bucket, pure)", () => {
  it("admits exactly the burst at once and refuses the next with the seconds until a token", () => {
    const limiter = new RateLimiter({ perSecond: 2, burst: 5, maxKeys: 10 });
    for (let i = 0; i < 5; i++) expect(limiter.take("a", 1_000)).to.deep.equal({ allowed: true });
    expect(limiter.take("a", 1_000)).to.deep.equal({ allowed: false, retryAfterSeconds: 1 });
    // Another key has its own bucket.
    expect(limiter.take("b", 1_000)).to.deep.equal({ allowed: true });
  });

  it("refills at the configured rate, never beyond the burst", () => {
    const limiter = new RateLimiter({ perSecond: 2, burst: 3, maxKeys: 10 });
    for (let i = 0; i < 3; i++) limiter.take("a", 0);
    expect(limiter.take("a", 499).allowed).to.equal(false); // 0.998 tokens
    expect(limiter.take("a", 500).allowed).to.equal(true); // 1 token after 0.5 s
    expect(limiter.take("a", 500).allowed).to.equal(false);
    // A long quiet period refills to the burst, not more.
    for (let i = 0; i < 3; i++) expect(limiter.take("a", 60_000).allowed).to.equal(true);
    expect(limiter.take("a", 60_000).allowed).to.equal(false);
  });

  it("says how long to wait for a cost larger than one", () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 10, maxKeys: 10 });
    expect(limiter.take("a", 0, 10).allowed).to.equal(true);
    expect(limiter.take("a", 0, 4)).to.deep.equal({ allowed: false, retryAfterSeconds: 4 });
  });

  it("admits everything when the rate is 0 and keeps no state", () => {
    const limiter = new RateLimiter({ perSecond: 0, burst: 1, maxKeys: 10 });
    for (let i = 0; i < 1000; i++) expect(limiter.take(`k${i}`, 0).allowed).to.equal(true);
    expect([limiter.enabled, limiter.size]).to.deep.equal([false, 0]);
  });

  it("holds at most maxKeys buckets however many distinct keys arrive", () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 2, maxKeys: 1000 });
    let largest = 0;
    for (let i = 0; i < 300_000; i++) {
      limiter.take(`key-${i}`, Math.floor(i / 100));
      largest = Math.max(largest, limiter.size);
    }
    expect([largest, limiter.size]).to.deep.equal([1000, 1000]);
  });

  it("forgets the least recently used bucket first, so a busy key stays limited", () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 1, maxKeys: 3 });
    expect(limiter.take("busy", 0).allowed).to.equal(true);
    for (let i = 0; i < 10; i++) {
      limiter.take(`other-${i}`, 0);
      expect(limiter.take("busy", 0).allowed, `after ${i} other keys`).to.equal(false);
    }
  });

  it("refuses nonsense settings", () => {
    expect(() => new RateLimiter({ perSecond: -1, burst: 1, maxKeys: 1 })).to.throw(RangeError);
    expect(() => new RateLimiter({ perSecond: 1, burst: 0, maxKeys: 1 })).to.throw(RangeError);
    expect(() => new RateLimiter({ perSecond: 1, burst: 1, maxKeys: 0 })).to.throw(RangeError);
  });
});
