/** Settings of residents' confirmations and the public listener, from the environment (docs/operations.md). */
import { readFileSync } from "node:fs";
import { DEFAULT_RESIDENT_WEIGHT } from "../core/confirmation.ts";

export interface ConfirmationSettings {
  /** A second listener serving only the residents' routes (PUBLIC_PORT); none when absent. */
  publicPort?: number | undefined;
  /** Its address (PUBLIC_HOST; default HOST). */
  publicHost?: string | undefined;
  /** The origin links point at (PUBLIC_BASE_URL; default the public listener's, else the gateway's). */
  publicBaseUrl?: string | undefined;
  /** Requests a minute per client address on the public listener (PUBLIC_RATE_LIMIT_PER_MIN). */
  publicRatePerMinute: number;
  /** How long a link stays open (CONFIRMATION_LINK_TTL_HOURS, default 72). */
  linkTtlSeconds: number;
  /** The residents' weight in evaluation scores (RESIDENT_WEIGHT, 0.6–1, default 0.6). */
  residentWeight: number;
  /** The delivery hook (CONFIRMATION_HOOK_URL and CONFIRMATION_HOOK_SECRET_FILE); none when absent. */
  hook?: { url: string; secret: Uint8Array } | undefined;
}

function number(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new Error(`${name} must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

export function confirmationSettingsFromEnvironment(env: NodeJS.ProcessEnv = process.env): ConfirmationSettings {
  const url = env.CONFIRMATION_HOOK_URL || undefined;
  const secretFile = env.CONFIRMATION_HOOK_SECRET_FILE || undefined;
  if ((url === undefined) !== (secretFile === undefined))
    throw new Error("CONFIRMATION_HOOK_URL and CONFIRMATION_HOOK_SECRET_FILE go together");
  let hook: ConfirmationSettings["hook"];
  if (url && secretFile) {
    if (!/^https:\/\//.test(url) && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(url))
      throw new Error("CONFIRMATION_HOOK_URL must be https (or http on loopback)");
    let secret: Buffer;
    try {
      secret = readFileSync(secretFile);
    } catch {
      throw new Error(`CONFIRMATION_HOOK_SECRET_FILE ${secretFile} cannot be read`);
    }
    if (secret.length < 32) throw new Error("CONFIRMATION_HOOK_SECRET_FILE must hold at least 32 bytes");
    hook = { url, secret: new Uint8Array(secret) };
  }
  return {
    publicPort: env.PUBLIC_PORT ? number("PUBLIC_PORT", env.PUBLIC_PORT, 0, 0, 65535) : undefined,
    publicHost: env.PUBLIC_HOST || undefined,
    publicBaseUrl: env.PUBLIC_BASE_URL ? env.PUBLIC_BASE_URL.replace(/\/+$/, "") : undefined,
    publicRatePerMinute: number("PUBLIC_RATE_LIMIT_PER_MIN", env.PUBLIC_RATE_LIMIT_PER_MIN, 30, 1, 100_000),
    linkTtlSeconds: Math.round(
      number("CONFIRMATION_LINK_TTL_HOURS", env.CONFIRMATION_LINK_TTL_HOURS, 72, 1, 24 * 365) * 3600,
    ),
    residentWeight: number("RESIDENT_WEIGHT", env.RESIDENT_WEIGHT, DEFAULT_RESIDENT_WEIGHT, DEFAULT_RESIDENT_WEIGHT, 1),
    hook,
  };
}
