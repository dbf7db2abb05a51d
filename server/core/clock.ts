/**
 * Time as a dependency. Every use case takes a {@link Clock} instead of reading the system
 * clock, so the composition root (server/main.ts, a CLI command, a test) decides what "now" is,
 * and tests set time instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/**
 * A clock that moves only when told to: for tests and for replays that must see the time a
 * record claims. Pure: it reads nothing outside itself.
 */
export class ManualClock implements Clock {
  #ms: number;

  constructor(startMs: number) {
    this.#ms = startMs;
  }

  now(): number {
    return this.#ms;
  }

  /** Sets the time; refuses to go backwards, as no real clock the gateway trusts does. */
  set(ms: number): void {
    if (ms < this.#ms) throw new RangeError(`ManualClock cannot go back from ${this.#ms} to ${ms}`);
    this.#ms = ms;
  }

  /** Moves the time forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.set(this.#ms + ms);
  }
}
