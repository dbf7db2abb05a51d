/**
 * Seeded randomness for tests that explore at random (crash, fault and hostile campaigns): a run
 * draws its seed from an environment variable, or at random when none is set, and prints it
 * when a test fails, so that the failing run can be replayed with `VAR=seed`.
 */
import { bytesToHex } from "../../server/core/bytes.ts";

/** A small, fast, seedable generator (mulberry32); enough for test inputs, not for keys. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** A number in [min, max). */
  between(min: number, max: number): number {
    return min + this.next() * (max - min);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.int(256));
  }
  hex32(): string {
    return bytesToHex(this.bytes(32));
  }
}

/**
 * The seed of a randomised test: `process.env[variable]` when set (a whole number), else a fresh
 * one. Registers a mocha hook (call it inside a describe) that prints the seed and how to replay
 * it when a test of that suite fails.
 */
export function testSeed(variable: string): number {
  const given = process.env[variable];
  if (given !== undefined && !/^\d+$/.test(given))
    throw new Error(`${variable} must be a whole number, not "${given}"`);
  const seed = given === undefined ? Math.floor(Math.random() * 2 ** 32) : Number(given) >>> 0;
  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(`    replay this run with ${variable}=${seed}`);
  });
  return seed;
}
