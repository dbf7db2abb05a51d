/**
 * 链状态 Chain status: the gateway's health (store, chain, anchoring), its ledger deployment,
 * the log's size against what is anchored, and the latest checkpoints with their transactions.
 * Refreshed every five seconds while the page is open.
 */
import type { PublicCheckpoint } from "../../../server/core/apiResponses.ts";
import { type GatewayInfo, errorText, request, requestOk } from "../api.ts";
import { type Child, h, replace } from "../dom.ts";
import { formatNumber, formatTime, shortHash } from "../format.ts";
import { t } from "../i18n.ts";
import type { Page } from "../page.ts";

interface Snapshot {
  ready: { status: string; checks: Record<string, string> } | null;
  info: GatewayInfo | null;
  checkpoints: PublicCheckpoint[];
  error: string;
  at: number;
}

/** The chain page's state: the last snapshot, shown at once when the page is opened again. */
interface ChainState {
  last: Snapshot | null;
}

async function load(): Promise<Snapshot> {
  const snapshot: Snapshot = { ready: null, info: null, checkpoints: [], error: "", at: Math.floor(Date.now() / 1000) };
  try {
    snapshot.ready = (await request<Snapshot["ready"]>("/readyz", { timeoutMs: 8000 })).body;
    snapshot.info = (await requestOk<GatewayInfo>("/v1/info")).body;
    snapshot.checkpoints = (
      await requestOk<{ checkpoints: PublicCheckpoint[] }>("/v1/checkpoints?limit=20")
    ).body.checkpoints;
  } catch (error) {
    snapshot.error = errorText(error);
  }
  return snapshot;
}

export const chainPage: Page<ChainState> = {
  path: "chain",
  label: "nav.chain",
  createState: () => ({ last: null }),
  mount: (main, state) => {
    const content = h("div", { class: "chain-status", "aria-live": "polite" });
    replace(main, h("h1", null, t("chain.title")), content);
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const refresh = async () => {
      state.last = await load();
      if (stopped) return;
      replace(content, render(state.last));
      timer = setTimeout(() => void refresh(), 5000);
    };
    replace(content, state.last ? render(state.last) : h("p", { class: "muted" }, t("common.loading")));
    void refresh();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  },
};

function render(s: Snapshot): Child {
  const checks = s.ready?.checks ?? {};
  const stateOf = (value: string | undefined) => (value === undefined ? "unknown" : value === "ok" ? "ok" : "bad");
  const label = (value: string | undefined) =>
    value === undefined
      ? "—"
      : value === "ok"
        ? t("chain.ok")
        : value === "unreachable"
          ? t("chain.unreachable")
          : value;
  const anchored = s.checkpoints.find((c) => c.status === "anchored");
  const cards: Array<[string, string | undefined]> = [
    [t("health.gateway"), s.ready ? "ok" : s.error ? "unreachable" : undefined],
    [t("chain.store"), checks.store],
    [t("health.chain"), checks.chain],
    [t("chain.anchoring"), s.ready ? (checks.anchoring ?? "ok") : undefined],
  ];
  return [
    s.error ? h("div", { class: "notice notice-error", role: "alert" }, s.error) : null,
    h("p", { class: "hint" }, t("common.updated", { time: formatTime(s.at) })),
    h("h2", null, t("chain.health")),
    h(
      "ul",
      { class: "health-cards" },
      cards.map(([name, value]) =>
        h(
          "li",
          { class: `health-card health-${stateOf(value)}`, "data-health-card": name },
          h("span", { class: "health-card-name" }, name),
          h("strong", null, label(value)),
        ),
      ),
    ),
    s.info
      ? [
          h("h2", null, t("chain.ledger")),
          h(
            "div",
            { class: "stat-row" },
            stat(t("chain.logSize"), formatNumber(s.info.treeSize), "chain-log-size"),
            stat(t("chain.anchoredSize"), anchored ? formatNumber(anchored.size) : "—", "chain-anchored-size"),
            stat(
              t("chain.waiting"),
              formatNumber(Math.max(0, s.info.treeSize - (anchored?.size ?? 0))),
              "chain-waiting",
            ),
          ),
          h(
            "table",
            { class: "kv" },
            h(
              "tbody",
              null,
              h("tr", null, h("th", { scope: "row" }, t("chain.chainId")), h("td", null, String(s.info.chainId))),
              h(
                "tr",
                null,
                h("th", { scope: "row" }, t("chain.contract")),
                h("td", null, h("code", { class: "hash" }, s.info.contracts.DutyLedger)),
              ),
              h(
                "tr",
                null,
                h("th", { scope: "row" }, t("chain.logId")),
                h("td", null, h("code", { class: "hash" }, s.info.logId)),
              ),
              h("tr", null, h("th", { scope: "row" }, t("chain.rpc")), h("td", null, h("code", null, s.info.rpcUrl))),
            ),
          ),
        ]
      : null,
    h("h2", null, t("chain.checkpoints")),
    s.checkpoints.length === 0
      ? h("div", { class: "empty-state" }, h("p", null, s.error ? "—" : t("chain.noCheckpoints")))
      : h(
          "table",
          { class: "data-table", id: "checkpoints" },
          h(
            "thead",
            null,
            h(
              "tr",
              null,
              h("th", { scope: "col" }, t("chain.size")),
              h("th", { scope: "col" }, t("field.root")),
              h("th", { scope: "col" }, t("field.status")),
              h("th", { scope: "col" }, t("field.transaction")),
              h("th", { scope: "col" }, t("field.block")),
              h("th", { scope: "col" }, t("chain.time")),
            ),
          ),
          h(
            "tbody",
            null,
            s.checkpoints.map((c) =>
              h(
                "tr",
                null,
                h("td", { class: "num" }, formatNumber(c.size)),
                h("td", null, h("code", { class: "hash", title: c.root }, shortHash(c.root))),
                h(
                  "td",
                  null,
                  h(
                    "span",
                    { class: `badge status-${c.status === "anchored" ? "anchored" : "pending"}` },
                    c.status === "anchored" ? t("chain.anchored") : t("chain.sent"),
                  ),
                ),
                h(
                  "td",
                  null,
                  h("code", { class: "hash", title: c.transactionHash ?? "" }, shortHash(c.transactionHash)),
                ),
                h("td", { class: "num" }, c.blockNumber === undefined ? "—" : String(c.blockNumber)),
                h("td", { class: "nowrap" }, formatTime(c.anchoredAt)),
              ),
            ),
          ),
        ),
  ];
}

function stat(label: string, value: string, id: string): HTMLElement {
  return h(
    "div",
    { class: "stat" },
    h("span", { class: "stat-label" }, label),
    h("strong", { class: "stat-value", id }, value),
  );
}
