import type { Clock } from "../core/clock.ts";

/** The clock's time in whole Unix seconds, the unit of every time a record or signature states. */
export const unixSeconds = (clock: Clock): number => Math.floor(clock.now() / 1000);

/** How long an operator's or inspector's signature over a request stays good, in seconds. */
export const SIGNED_REQUEST_LIFETIME_SECONDS = 300;
