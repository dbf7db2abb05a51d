/** Live monitoring settings from the environment (docs/operations.md, "Configuration"). */
import { readFileSync } from "node:fs";
import type { AlertThresholds } from "./liveAlerts.ts";

export interface LiveSettings {
  thresholds: AlertThresholds;
  /** The outbound webhook of alerts; none when absent. */
  webhook?: { url: string; secret: string; maxAttempts: number };
}

export const defaultAlertThresholds: AlertThresholds = {
  requestsPerUnitMonth: 10,
  usualMonths: 6,
  usualSigmas: 2,
  usualFloor: 5,
};

function number(name: string, value: string, min: number, integer: boolean): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n)))
    throw new Error(`${name} must be ${integer ? "an integer" : "a number"} >= ${min}, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * The settings in `env`. The webhook needs its URL (http or https) and a secret of at least 16
 * characters, given inline or, better, in a file readable by the gateway alone.
 */
export function liveSettingsFromEnvironment(env: NodeJS.ProcessEnv = process.env): LiveSettings {
  const thresholds = { ...defaultAlertThresholds };
  const integers = [
    ["BURDEN_ALERT_PER_UNIT_MONTH", "requestsPerUnitMonth", 0],
    ["BURDEN_ALERT_USUAL_MONTHS", "usualMonths", 1],
    ["BURDEN_ALERT_USUAL_FLOOR", "usualFloor", 0],
  ] as const;
  for (const [name, key, min] of integers) {
    const value = env[name];
    if (value) thresholds[key] = number(name, value, min, true);
  }
  if (env.BURDEN_ALERT_USUAL_SIGMAS)
    thresholds.usualSigmas = number("BURDEN_ALERT_USUAL_SIGMAS", env.BURDEN_ALERT_USUAL_SIGMAS, 0, false);
  const url = env.BURDEN_ALERT_WEBHOOK_URL;
  if (!url) return { thresholds };
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol))
    throw new Error("BURDEN_ALERT_WEBHOOK_URL must be an http or https URL");
  const secret = env.BURDEN_ALERT_WEBHOOK_SECRET_FILE
    ? readFileSync(env.BURDEN_ALERT_WEBHOOK_SECRET_FILE, "utf8").trim()
    : (env.BURDEN_ALERT_WEBHOOK_SECRET ?? "");
  if (secret.length < 16)
    throw new Error(
      "BURDEN_ALERT_WEBHOOK_URL needs BURDEN_ALERT_WEBHOOK_SECRET_FILE (or BURDEN_ALERT_WEBHOOK_SECRET) of at least 16 characters",
    );
  const maxAttempts = env.BURDEN_ALERT_WEBHOOK_ATTEMPTS
    ? number("BURDEN_ALERT_WEBHOOK_ATTEMPTS", env.BURDEN_ALERT_WEBHOOK_ATTEMPTS, 1, true)
    : 5;
  return { thresholds, webhook: { url, secret, maxAttempts } };
}
