/**
 * Times as the CLI reads and prints them: in China time (UTC+8), the zone the records are entered
 * in, whatever the machine's own time zone is.
 */
import { UsageError } from "./errors.ts";

const CHINA_OFFSET_SECONDS = 8 * 3600;

/** Unix seconds as `2026-12-06 15:04:05 +08:00`. */
export function chinaTime(seconds: number): string {
  const shifted = new Date((seconds + CHINA_OFFSET_SECONDS) * 1000).toISOString();
  return `${shifted.slice(0, 10)} ${shifted.slice(11, 19)} +08:00`;
}

/** Unix seconds as the China-time calendar day `2026-12-06`. */
export function chinaDate(seconds: number): string {
  return new Date((seconds + CHINA_OFFSET_SECONDS) * 1000).toISOString().slice(0, 10);
}

const dateOnly = /^\d{4}-\d{2}-\d{2}$/;
const dateTime = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?)(Z|[+-]\d{2}:\d{2})?$/;

/**
 * A time given on the command line as Unix seconds: `YYYY-MM-DD` (midnight, China time),
 * `YYYY-MM-DD HH:MM[:SS[.sss]]` (China time unless an offset such as `Z` or `+08:00` follows; so
 * ISO 8601 times with an offset are read as given), or
 * plain Unix seconds. Anything else is a usage error naming the flag.
 */
export function parseTime(flag: string, value: string): number {
  let ms = Number.NaN;
  if (/^\d{1,12}$/.test(value)) return Number(value);
  if (dateOnly.test(value)) ms = Date.parse(`${value}T00:00:00+08:00`);
  else {
    const m = dateTime.exec(value.trim());
    if (m) ms = Date.parse(`${m[1]}T${m[2]!.length === 5 ? `${m[2]}:00` : m[2]}${m[3] ?? "+08:00"}`);
  }
  if (!Number.isFinite(ms))
    throw new UsageError(
      `--${flag} must be a date (YYYY-MM-DD), a time (YYYY-MM-DD HH:MM[:SS], China time unless an offset follows) or Unix seconds`,
    );
  return Math.floor(ms / 1000);
}
