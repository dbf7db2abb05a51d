import type { Clock } from "./core/clock.ts";

/**
 * The one place that reads the system clock. Only composition roots (server/main.ts, the CLI,
 * benchmarks) import it; everything else is handed a {@link Clock}.
 */
export const systemClock: Clock = { now: () => Date.now() };
