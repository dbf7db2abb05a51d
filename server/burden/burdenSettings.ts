/** Burden-reduction settings from the environment (README, "Configuration"). */
import type { HoursPerDemand } from "./report.ts";
import { type GateSettings, defaultGateSettings } from "./requestRules.ts";
import type { QuotaPolicy } from "./rules.ts";

export interface BurdenSettings {
  /** A demand repeating an earlier one decided less than this long ago is absorbed, seconds. */
  duplicateWindowSeconds: number;
  quota: QuotaPolicy;
  hours: HoursPerDemand;
  /** How far a demand's issuedAt may be from the gateway's clock, seconds. */
  maxClockSkewSeconds: number;
  /** The gate's rules for the other request kinds; their defaults when absent. */
  gate?: GateSettings;
}

export const defaultBurdenSettings: BurdenSettings = {
  duplicateWindowSeconds: 90 * 86_400,
  quota: { perYear: 5, byLevel: {} },
  hours: { document: 4, onSite: 8 },
  maxClockSkewSeconds: 600,
  gate: defaultGateSettings,
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
  settings.gate = gateSettingsFromEnvironment(env, settings.duplicateWindowSeconds);
  return settings;
}

/** The gate's settings from BURDEN_GATE_* (docs/operations.md, "Burden gate settings"). */
function gateSettingsFromEnvironment(env: NodeJS.ProcessEnv, duplicateWindowSeconds: number): GateSettings {
  const gate = { ...defaultGateSettings, duplicateWindowSeconds };
  const days = (name: string) => Math.round(number(name, env[name]!, 0) * 86_400);
  if (env.BURDEN_EVALUATIONS_PER_YEAR) {
    gate.evaluationsPerYear = Math.floor(number("BURDEN_EVALUATIONS_PER_YEAR", env.BURDEN_EVALUATIONS_PER_YEAR, 0));
  }
  if (env.BURDEN_ONSITE_SHARE) {
    gate.onSiteShare = number("BURDEN_ONSITE_SHARE", env.BURDEN_ONSITE_SHARE, 0);
    if (gate.onSiteShare > 1) throw new Error("BURDEN_ONSITE_SHARE must be a fraction between 0 and 1");
  }
  if (env.BURDEN_SECONDMENT_MAX_DAYS) {
    gate.secondmentMaxDays = Math.floor(number("BURDEN_SECONDMENT_MAX_DAYS", env.BURDEN_SECONDMENT_MAX_DAYS, 1));
  }
  if (env.BURDEN_EXTENSION_MAX_DAYS) {
    gate.extensionMaxDays = Math.floor(number("BURDEN_EXTENSION_MAX_DAYS", env.BURDEN_EXTENSION_MAX_DAYS, 1));
  }
  if (env.BURDEN_HOURS_PER_DATA_ITEM) {
    gate.hoursPerDataItem = number("BURDEN_HOURS_PER_DATA_ITEM", env.BURDEN_HOURS_PER_DATA_ITEM, 0);
  }
  if (env.BURDEN_DEADLINE_TOLERANCE_DAYS) gate.deadlineToleranceSeconds = days("BURDEN_DEADLINE_TOLERANCE_DAYS");
  return gate;
}
