/**
 * Dates and numbers as the page's language writes them, whatever the browser's own locale and
 * time zone: every time is the county's, China Standard Time (UTC+8), and formatted with the
 * page language's locale (zh-CN or en).
 */
import { language } from "./i18n.ts";

/** The county's time zone: every date the console shows or reads is in it. */
export const countyTimeZone = "Asia/Shanghai";
const countyOffset = "+08:00";

/** A Unix-seconds time as a date and time in UTC+8, in the page's language. */
export function formatTime(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return "—";
  return new Intl.DateTimeFormat(language(), {
    timeZone: countyTimeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    // Not hour12: false, which some locales write as "24:05" after midnight.
    hourCycle: "h23",
  }).format(new Date(seconds * 1000));
}

/** A Unix-seconds time as a date in UTC+8, in the page's language. */
export function formatDate(seconds: number): string {
  return new Intl.DateTimeFormat(language(), {
    timeZone: countyTimeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(new Date(seconds * 1000));
}

/** The year, month, day, hour and minute of a Unix-seconds time in UTC+8. */
export function chinaDateParts(seconds: number): {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
} {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: countyTimeZone,
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    hourCycle: "h23",
  }).formatToParts(new Date(seconds * 1000));
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return { year: part("year"), month: part("month"), day: part("day"), hour: part("hour"), minute: part("minute") };
}

/** A YYYY-MM-DD date (UTC+8, midnight) as Unix seconds, or undefined when empty or bad. */
export function chinaDateToSeconds(date: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
  const ms = Date.parse(`${date}T00:00:00${countyOffset}`);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
}

/**
 * A `datetime-local` value (YYYY-MM-DDTHH:mm, read as UTC+8 whatever the browser's time zone) as
 * Unix seconds, or undefined when empty or bad.
 */
export function chinaDateTimeToSeconds(value: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value)) return undefined;
  const ms = Date.parse(`${value}:00${countyOffset}`);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
}

/** A Unix-seconds time as a `datetime-local` value in UTC+8 (the inverse of chinaDateTimeToSeconds). */
export function chinaDateTimeInput(seconds: number): string {
  const { year, month, day, hour, minute } = chinaDateParts(seconds);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${year}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}`;
}

/** "0x1234…abcd" for display next to the full value in a title. */
export function shortHash(hash: string | undefined, keep = 10): string {
  if (!hash) return "—";
  return hash.length > 2 * keep + 1 ? `${hash.slice(0, keep)}…${hash.slice(-6)}` : hash;
}

export function formatNumber(value: number): string {
  return new Intl.NumberFormat(language()).format(value);
}
