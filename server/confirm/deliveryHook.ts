/**
 * The outbound hook that carries a confirmation link to a resident: an HMAC-signed POST to an
 * SMS gateway or government-app bridge the county runs (docs/operations.md, "Resident
 * confirmations"). The resident's contact goes into this one request body and nowhere else: it
 * is not logged, not stored and not returned.
 *
 * The request: `POST <CONFIRMATION_HOOK_URL>`, `content-type: application/json`, headers
 * `x-dutyproof-timestamp: <Unix seconds>` and `x-dutyproof-signature: sha256=<hex>` where the hex
 * is HMAC-SHA256(secret, timestamp + "." + body). The bridge refuses a request whose signature
 * does not verify or whose timestamp is more than 5 minutes off.
 */
import { createHmac } from "node:crypto";
import type { Clock } from "../core/clock.ts";
import { DutyproofError } from "../core/errors.ts";

/** What the hook sends: where to send, what to say. */
export interface DeliveryMessage {
  /** The resident's phone number or app account: used for this request only. */
  contact: string;
  link: string;
  code: string;
  /** Unix seconds. */
  expiresAt: number;
  /** The service, as the resident knows it. */
  service: { "zh-CN": string; en: string };
}

export interface DeliveryHookSettings {
  url: string;
  /** The HMAC key shared with the bridge (at least 32 bytes). */
  secret: Uint8Array;
  clock: Clock;
  timeoutMs?: number;
}

/** The signature header's value for a body sent at `timestamp` (Unix seconds). */
export function hookSignature(secret: Uint8Array, timestamp: number, body: string): string {
  return "sha256=" + createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
}

/** A delivery function for the settings; it throws confirmation.delivery_failed on any failure. */
export function deliveryHook(settings: DeliveryHookSettings): (message: DeliveryMessage) => Promise<void> {
  if (settings.secret.length < 32) throw new Error("the confirmation hook's secret must be at least 32 bytes");
  return async (message) => {
    const body = JSON.stringify({ type: "dutyproof.confirmation-link", ...message });
    const timestamp = Math.floor(settings.clock.now() / 1000);
    let status: number;
    try {
      const response = await fetch(settings.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-dutyproof-timestamp": String(timestamp),
          "x-dutyproof-signature": hookSignature(settings.secret, timestamp, body),
        },
        body,
        redirect: "error",
        signal: AbortSignal.timeout(settings.timeoutMs ?? 10_000),
      });
      status = response.status;
      await response.body?.cancel();
    } catch {
      // The error may quote the request; it is not passed on.
      throw new DutyproofError("confirmation.delivery_failed", "the delivery hook could not be reached");
    }
    if (status < 200 || status >= 300)
      throw new DutyproofError("confirmation.delivery_failed", `the delivery hook answered ${status}`);
  };
}
