/**
 * Live monitoring wired into a gateway: the monitor over the gateway's requests, its alerts as a
 * Prometheus metric, a log line and, when configured, the signed webhook. Alerts carry unit ids,
 * department codes and counts only: nothing of a person.
 */
import type { Logger } from "../observability/logger.ts";
import { Counter, Gauge, type Registry } from "prom-client";
import type { Clock } from "../core/clock.ts";
import type { LedgerStore } from "../store/LedgerStore.ts";
import { AlertWebhook } from "./AlertWebhook.ts";
import type { BurdenService } from "./BurdenService.ts";
import type { BurdenAlert } from "./liveAlerts.ts";
import { LiveMonitor, type RequestSource, demandRequests, gateRequests } from "./LiveMonitor.ts";
import type { LiveSettings } from "./liveSettings.ts";

export interface LiveMonitoring {
  monitor: LiveMonitor;
  webhook: AlertWebhook | undefined;
  stop: () => Promise<void>;
}

/**
 * Starts live monitoring of `burden`'s requests (and those of `extraSources`, other kinds of
 * request) with `settings`; the gateway calls `monitor.poke()` after each decided request.
 */
export function startLiveMonitoring(options: {
  burden: BurdenService;
  store: LedgerStore;
  clock: Clock;
  settings: LiveSettings;
  registry: Registry;
  logger: Logger;
  extraSources?: RequestSource[];
  /** Webhook retry pacing (tests shorten it), ms. */
  webhookRetryDelayMs?: number;
}): LiveMonitoring {
  const { burden, settings, logger } = options;
  const raised = new Counter({
    name: "dutyproof_burden_alerts_raised_total",
    help: "Burden alerts raised since the gateway started, by rule (each alert once)",
    labelNames: ["rule"],
    registers: [options.registry],
  });
  const webhook = settings.webhook
    ? new AlertWebhook({
        url: settings.webhook.url,
        secret: settings.webhook.secret,
        maxAttempts: settings.webhook.maxAttempts,
        retryDelayMs: options.webhookRetryDelayMs ?? 2_000,
        timeoutMs: 10_000,
        now: () => Math.floor(options.clock.now() / 1000),
        log: (level, message) => logger[level](message),
      })
    : undefined;
  const monitor = new LiveMonitor({
    store: options.store,
    sources: [demandRequests(burden), gateRequests(burden), ...(options.extraSources ?? [])],
    thresholds: settings.thresholds,
    clock: options.clock,
    report: (query) => burden.report(query),
    onRaised: [
      (alert) => raised.inc({ rule: alert.rule }),
      (alert: BurdenAlert) => logger.warn({ burdenAlert: alert }, `burden alert: ${alert.rule} ${alert.alertId}`),
      ...(webhook ? [(alert: BurdenAlert) => webhook.send(alert)] : []),
    ],
  });
  new Gauge({
    name: "dutyproof_burden_alerts_active",
    help: "Burden alerts standing in the current month (UTC+8), by rule",
    labelNames: ["rule"],
    registers: [options.registry],
    async collect() {
      const { alerts } = await monitor.current();
      this.reset();
      for (const rule of ["department_over_threshold", "unit_above_usual"] as const)
        this.set({ rule }, alerts.filter((a) => a.rule === rule).length);
    },
  });
  if (webhook) {
    new Gauge({
      name: "dutyproof_burden_alert_webhook_failed",
      help: "Burden alerts the webhook gave up on since the gateway started (every attempt failed, or dropped)",
      registers: [options.registry],
      collect() {
        this.set(webhook.failed);
      },
    });
  }
  // Alerts standing since before a restart are known (the store remembers them); new ones are
  // raised at the first count.
  monitor.poke();
  return {
    monitor,
    webhook,
    stop: async () => {
      monitor.stop();
      await webhook?.stop();
    },
  };
}
