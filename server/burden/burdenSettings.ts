/** Burden-reduction settings from the environment (README, "Configuration"). */
import type { HoursPerDemand } from "./report.ts";
import type { QuotaPolicy } from "./rules.ts";

export interface BurdenSettings {
  /** A demand repeating an earlier one decided less than this long ago is absorbed, seconds. */
  duplicateWindowSeconds: number;
  quota: QuotaPolicy;
  hours: HoursPerDemand;
  /** How far a demand's issuedAt may be from the gateway's clock, seconds. */
  maxClockSkewSeconds: number;
}

export const defaultBurdenSettings: BurdenSettings = {
  duplicateWindowSeconds: 90 * 86_400,
  quota: { perYear: 5, byLevel: {} },
  hours: { document: 4, onSite: 8 },
  maxClockSkewSeconds: 600,
};

function number(name: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min)
    throw new Error(`${name} must be a number >= ${min}, got ${JSON.stringify(value)}`);
  return n;
}

/** Parses "key:value,key:value" pairs. */
function pairs(name: string, value: string): Array<[string, number]> {
  return value
    .split(",")
    .filter((p) => p.trim() !== "")
    .map((p) => {
      const [key, v] = p.split(":").map((s) => s.trim());
      if (!key || v === undefined)
        throw new Error(`${name} must look like key:value,key:value, got ${JSON.stringify(value)}`);
      return [key, number(name, v, 0)];
    });
}

export function burdenSettingsFromEnvironment(env: NodeJS.ProcessEnv = process.env): BurdenSettings {
  const settings = structuredClone(defaultBurdenSettings);
  if (env.BURDEN_DUPLICATE_WINDOW_DAYS) {
    settings.duplicateWindowSeconds = Math.round(
      number("BURDEN_DUPLICATE_WINDOW_DAYS", env.BURDEN_DUPLICATE_WINDOW_DAYS, 0) * 86_400,
    );
  }
  if (env.BURDEN_ONSITE_QUOTA) {
    settings.quota.perYear = Math.floor(number("BURDEN_ONSITE_QUOTA", env.BURDEN_ONSITE_QUOTA, 0));
  }
  if (env.BURDEN_ONSITE_QUOTA_BY_LEVEL) {
    for (const [level, quota] of pairs("BURDEN_ONSITE_QUOTA_BY_LEVEL", env.BURDEN_ONSITE_QUOTA_BY_LEVEL)) {
      settings.quota.byLevel[number("BURDEN_ONSITE_QUOTA_BY_LEVEL level", level, 0)] = Math.floor(quota);
    }
  }
  if (env.BURDEN_HOURS_PER_DEMAND) {
    for (const [kind, hours] of pairs("BURDEN_HOURS_PER_DEMAND", env.BURDEN_HOURS_PER_DEMAND)) {
      if (kind !== "document" && kind !== "onSite")
        throw new Error("BURDEN_HOURS_PER_DEMAND kinds are document and onSite");
      settings.hours[kind] = hours;
    }
  }
  return settings;
}
