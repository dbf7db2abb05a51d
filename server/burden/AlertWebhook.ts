/**
 * The optional outbound webhook of burden alerts: each alert POSTed as JSON to one URL,
 * authenticated with an HMAC-SHA256 of the timestamp and body under a secret shared with the
 * receiver, retried a bounded number of times with growing delays. Sending runs in the
 * background, one delivery at a time: a slow or dead receiver never holds a request of the
 * gateway, and a full queue drops its oldest alert with a log line rather than grow.
 */
import { createHmac } from "node:crypto";
import { redactUrl } from "../chain/redactUrl.ts";
import type { BurdenAlert } from "./liveAlerts.ts";

/** Header names of a delivery. */
export const WEBHOOK_HEADERS = {
  signature: "x-dutyproof-signature",
  timestamp: "x-dutyproof-timestamp",
  delivery: "x-dutyproof-delivery",
} as const;

/**
 * The signature header's value: "sha256=" and the hex HMAC-SHA256, under `secret`, of the
 * timestamp (decimal Unix seconds), a full stop and the body's bytes.
 */
export function alertSignature(secret: string, timestamp: number, body: string): string {
  return "sha256=" + createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
}

export interface AlertWebhookOptions {
  url: string;
  secret: string;
  /** Attempts per alert, the first included. */
  maxAttempts: number;
  /** Delay before the second attempt; each further one waits twice as long, ms. */
  retryDelayMs: number;
  /** How long one attempt may take, ms. */
  timeoutMs: number;
  /** Unix seconds, for the timestamp header. */
  now: () => number;
  log: (level: "info" | "warn" | "error", message: string) => void;
  /** Alerts waiting at most; beyond it the oldest is dropped. */
  maxQueue?: number;
}

/** A retry is worth it for a network fault, a timeout, 408, 429 and 5xx; any other 4xx is final. */
const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

export class AlertWebhook {
  private readonly options: AlertWebhookOptions;
  private readonly queue: BurdenAlert[] = [];
  private running: Promise<void> | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  /** Alerts delivered, and alerts given up on (after every attempt, or dropped from a full queue). */
  delivered = 0;
  failed = 0;

  constructor(options: AlertWebhookOptions) {
    this.options = options;
  }

  /** Queues `alert` for delivery and returns at once. */
  send(alert: BurdenAlert): void {
    if (this.stopped) return;
    if (this.queue.length >= (this.options.maxQueue ?? 1000)) {
      const dropped = this.queue.shift()!;
      this.failed++;
      this.options.log("error", `burden alert webhook: queue full, dropped ${dropped.alertId}`);
    }
    this.queue.push(alert);
    this.running ??= this.drain().finally(() => (this.running = null));
  }

  /** Resolves when every queued alert was delivered or given up on. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops: nothing more is sent, a waiting retry is cut short. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.length = 0;
    this.wake?.();
    await this.idle();
  }

  private async drain(): Promise<void> {
    for (let alert = this.queue.shift(); alert && !this.stopped; alert = this.queue.shift()) {
      if (await this.deliver(alert)) this.delivered++;
      else this.failed++;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      timer.unref();
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }

  private async deliver(alert: BurdenAlert): Promise<boolean> {
    const { url, secret, maxAttempts, retryDelayMs, timeoutMs, now, log } = this.options;
    const where = redactUrl(url);
    for (let attempt = 1; attempt <= maxAttempts && !this.stopped; attempt++) {
      if (attempt > 1) await this.sleep(retryDelayMs * 2 ** (attempt - 2));
      if (this.stopped) break;
      // Signed per attempt, so a receiver's age check holds for a retry too.
      const timestamp = now();
      const body = JSON.stringify({ type: "dutyproof.burden.alert", sentAt: timestamp, alert });
      let outcome: string;
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            [WEBHOOK_HEADERS.timestamp]: String(timestamp),
            [WEBHOOK_HEADERS.signature]: alertSignature(secret, timestamp, body),
            [WEBHOOK_HEADERS.delivery]: alert.alertId,
          },
          body,
          redirect: "error",
          signal: AbortSignal.timeout(timeoutMs),
        });
        await response.body?.cancel();
        if (response.ok) return true;
        outcome = `HTTP ${response.status}`;
        if (!retryable(response.status)) {
          log("error", `burden alert webhook ${where}: ${alert.alertId} refused (${outcome}), not retried`);
          return false;
        }
      } catch (error) {
        outcome = error instanceof Error ? error.name : "error";
      }
      log(
        "warn",
        `burden alert webhook ${where}: attempt ${attempt} of ${maxAttempts} for ${alert.alertId}: ${outcome}`,
      );
    }
    log("error", `burden alert webhook ${where}: gave up on ${alert.alertId}`);
    return false;
  }
}
