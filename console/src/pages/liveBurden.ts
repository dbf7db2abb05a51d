/**
 * 实时监测 Live burden: the month's requests and the alerts standing (GET /v1/burden/live), shown
 * on the burden dashboard as a line of counts and, while any alert stands, a banner. Polled with
 * the ETag of the last answer, so a poll that finds nothing new is a 304 without a body.
 */
import { type Child, h, replace } from "../dom.ts";
import { formatNumber } from "../format.ts";
import { hasMessage, t } from "../i18n.ts";
import { unitText } from "../units.ts";

/** An alert as GET /v1/burden/live gives it (server/burden/liveAlerts.ts). */
interface LiveAlert {
  alertId: string;
  rule: "department_over_threshold" | "unit_above_usual";
  month: string;
  unitId: string;
  department?: string;
  count: number;
  limit: number;
}

interface LiveView {
  month: string;
  requests: number;
  byKind: Record<string, number>;
  alerts: LiveAlert[];
}

/** A request kind's name in the page's language; a kind the console does not know, as the gateway says it. */
function kindName(kind: string): string {
  const key = `live.kind.${kind}`;
  return hasMessage(key) ? t(key) : kind;
}

/** How often the dashboard asks, ms. */
const POLL_MS = 3_000;

/** The live panel: `element` goes on the page; `watch` (re)starts polling with a token; `stop` ends it. */
export function liveBurdenPanel(): {
  element: HTMLElement;
  watch: (token: string, unitId?: string) => void;
  stop: () => void;
} {
  const element = h("div", { id: "db-live-panel", "aria-live": "polite" });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let generation = 0;

  const render = (view: LiveView | null, failed: boolean) => {
    const children: Child[] = [];
    if (view && view.alerts.length > 0) {
      children.push(
        h(
          "div",
          { class: "notice notice-error live-alerts", role: "alert", id: "db-live-alerts" },
          h("strong", null, t("live.alertTitle", { n: view.alerts.length })),
          h(
            "ul",
            null,
            view.alerts.map((a) =>
              h(
                "li",
                { "data-alert-id": a.alertId },
                a.rule === "department_over_threshold"
                  ? t("live.overThreshold", {
                      department: a.department ?? "",
                      unit: unitText(a.unitId),
                      count: a.count,
                      limit: a.limit,
                    })
                  : t("live.aboveUsual", { unit: unitText(a.unitId), count: a.count, limit: a.limit }),
              ),
            ),
          ),
        ),
      );
    }
    if (view) {
      const kinds = Object.entries(view.byKind)
        .map(([kind, n]) => `${kindName(kind)} ${formatNumber(n)}`)
        .join(" · ");
      children.push(
        h(
          "p",
          { class: "muted", id: "db-live" },
          h("span", { class: "live-dot", "aria-hidden": "true" }),
          t("live.month", { month: view.month, n: formatNumber(view.requests) }),
          kinds ? ` (${kinds})` : "",
          failed ? ` — ${t("live.stale")}` : "",
        ),
      );
    }
    replace(element, ...children);
  };

  const stop = () => {
    generation++;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };

  const watch = (token: string, unitId?: string) => {
    stop();
    // What the last token saw is not this one's to show.
    replace(element);
    if (!token) return;
    const mine = generation;
    let etag = "";
    let last: LiveView | null = null;
    const path = `/v1/burden/live${unitId ? `?unitId=${encodeURIComponent(unitId)}` : ""}`;
    const poll = async () => {
      let failed = false;
      try {
        const response = await fetch(path, {
          headers: {
            authorization: `Bearer ${token}`,
            accept: "application/json",
            ...(etag ? { "if-none-match": etag } : {}),
          },
          cache: "no-store",
        });
        if (response.status === 200) {
          etag = response.headers.get("etag") ?? "";
          last = (await response.json()) as LiveView;
        } else if (response.status !== 304) failed = true;
      } catch {
        failed = true;
      }
      if (mine !== generation) return;
      render(last, failed);
      timer = setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
  };

  return { element, watch, stop };
}
