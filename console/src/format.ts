/** Formatting shared by the pages: times in China Standard Time, shortened hashes. */
import { language } from "./i18n.ts";

/** A Unix-seconds time as a date and time in Asia/Shanghai, in the current language. */
export function formatTime(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return "—";
  return new Intl.DateTimeFormat(language(), {
    timeZone: "Asia/Shanghai",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hour12: false,
  }).format(new Date(seconds * 1000));
}

/** The year, month and day of a Unix-seconds time in Asia/Shanghai. */
export function chinaDateParts(seconds: number): { year: number; month: number; day: number } {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: "Asia/Shanghai",
    year: "numeric",
    month: "numeric",
    day: "numeric",
  }).formatToParts(new Date(seconds * 1000));
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return { year: part("year"), month: part("month"), day: part("day") };
}

/** A YYYY-MM-DD date (China time, midnight) as Unix seconds, or undefined when empty or bad. */
export function chinaDateToSeconds(date: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
  const ms = Date.parse(`${date}T00:00:00+08:00`);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
}

/** "0x1234…abcd" for display next to the full value in a title. */
export function shortHash(hash: string | undefined, keep = 10): string {
  if (!hash) return "—";
  return hash.length > 2 * keep + 1 ? `${hash.slice(0, keep)}…${hash.slice(-6)}` : hash;
}

export function formatNumber(value: number): string {
  return new Intl.NumberFormat(language()).format(value);
}
