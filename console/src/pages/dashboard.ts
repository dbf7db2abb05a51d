/**
 * 减负看板 Burden dashboard: the gateway's burden reports (GET /v1/burden/report) as figures and
 * ECharts charts — demands against those answered from the ledger per month, what became of
 * the demands, on-site inspections against the yearly quota per unit, hours saved — filtered by
 * period, department and unit. Needs an inspector's or auditor's token (a unit's for its own).
 */
import type { EChartsType } from "echarts/core";
import type { BurdenReport } from "../../../server/core/burdenResponses.ts";
import { errorText, requestOk } from "../api.ts";
import { tipFeedPanel } from "./tipFeed.ts";
import { type Child, download, h, replace } from "../dom.ts";
import { bindValue, dateRangeField, rememberToken, sessionToken } from "../fields.ts";
import { chinaDateToSeconds, formatNumber, formatTime } from "../format.ts";
import { type MessageKey, language, t } from "../i18n.ts";
import { type Page, type Redraw, notMounted } from "../page.ts";
import { liveBurdenPanel } from "./liveBurden.ts";
import { loadUnitNames, rememberUnitName, unitIdOf, unitLabel, unitSuggestions, unitText } from "../units.ts";

type Report = BurdenReport;

interface Reports {
  months: Report;
  units: Report;
  departments: Report;
}

/** The dashboard's state: the filters as entered and the reports they gave. */
interface DashboardState extends Redraw {
  from: string;
  to: string;
  department: string;
  unit: string;
  loading: boolean;
  error: string;
  reports: Reports | null;
  departmentsSeen: string[];
}

function reportQuery(state: DashboardState, groupBy: Report["groupBy"], format?: "csv"): string {
  const query = new URLSearchParams({ groupBy });
  const fromSeconds = chinaDateToSeconds(state.from);
  const toSeconds = chinaDateToSeconds(state.to);
  if (fromSeconds !== undefined) query.set("from", String(fromSeconds));
  if (toSeconds !== undefined) query.set("to", String(toSeconds));
  if (state.department) query.set("department", state.department);
  if (state.unit.trim()) query.set("unitId", unitIdOf(state.unit));
  if (format) query.set("format", format);
  return `/v1/burden/report?${query}`;
}

async function load(state: DashboardState, token: string): Promise<void> {
  rememberToken(token);
  state.loading = true;
  state.error = "";
  state.rerender();
  try {
    const [months, units, departments] = await Promise.all(
      (["month", "unit", "department"] as const).map(
        async (groupBy) => (await requestOk<Report>(reportQuery(state, groupBy), { token })).body,
      ),
    );
    if (state.unit.trim()) rememberUnitName(state.unit);
    state.reports = { months: months!, units: units!, departments: departments! };
    state.departmentsSeen = [...new Set([...state.departmentsSeen, ...departments!.rows.map((r) => r.key)])].sort();
  } catch (e) {
    state.reports = null;
    state.error = errorText(e);
  } finally {
    state.loading = false;
    state.rerender();
  }
}

async function downloadCsv(state: DashboardState, token: string): Promise<void> {
  const response = await fetch(reportQuery(state, "unit", "csv"), { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) return;
  download("dutyproof-burden-by-unit.csv", await response.text(), "text/csv");
}

export const dashboardPage: Page<DashboardState> = {
  path: "dashboard",
  label: "nav.dashboard",
  createState: () => ({
    rerender: notMounted,
    from: "",
    to: "",
    department: "",
    unit: "",
    loading: false,
    error: "",
    reports: null,
    departmentsSeen: [],
  }),
  mount: (main, state) => {
    const filters = h("section", { class: "panel" });
    const body = h("div", { class: "dashboard", "aria-live": "polite" });
    const live = liveBurdenPanel();
    const watchLive = (token: string) => live.watch(token, state.unit.trim() ? unitIdOf(state.unit) : undefined);
    let charts: EChartsType[] = [];
    let drawn = 0;
    const disposeCharts = () => {
      for (const chart of charts) chart.dispose();
      charts = [];
    };
    const onResize = () => charts.forEach((chart) => chart.resize());
    window.addEventListener("resize", onResize);

    const render = () => {
      const token = h("input", {
        id: "db-token",
        type: "password",
        autocomplete: "off",
        spellcheck: "false",
        placeholder: "dp_…",
        title: t("db.tokenHint"),
        value: sessionToken(),
      });
      replace(
        filters,
        h(
          "form",
          {
            class: "form-row",
            onsubmit: (event: Event) => {
              event.preventDefault();
              void load(state, token.value.trim());
              watchLive(token.value.trim());
            },
          },
          h("div", { class: "field" }, h("label", { for: "db-token" }, t("tl.token")), token),
          dateRangeField(
            "db",
            { from: state.from, to: state.to },
            (v) => (state.from = v),
            (v) => (state.to = v),
          ),
          h(
            "div",
            { class: "field" },
            h("label", { for: "db-department" }, t("dm.department")),
            h(
              "select",
              { id: "db-department", onchange: bindValue((v) => (state.department = v)) },
              h("option", { value: "" }, t("common.all")),
              state.departmentsSeen.map((d) => h("option", { value: d, selected: d === state.department }, d)),
            ),
          ),
          h(
            "div",
            { class: "field" },
            h("label", { for: "db-unit" }, t("db.unit")),
            h("input", {
              id: "db-unit",
              type: "text",
              value: state.unit,
              spellcheck: "false",
              placeholder: t("common.all"),
              list: "unit-directory",
              oninput: bindValue((v) => (state.unit = v)),
            }),
            unitSuggestions(),
          ),
          h(
            "div",
            { class: "field-actions" },
            h(
              "button",
              { type: "submit", class: "button", id: "db-search", disabled: state.loading },
              t("common.search"),
            ),
            state.reports
              ? h(
                  "button",
                  {
                    type: "button",
                    class: "button button-secondary",
                    onclick: () => void downloadCsv(state, token.value.trim()),
                  },
                  t("db.csv"),
                )
              : null,
          ),
        ),
      );
      disposeCharts();
      replace(body, renderBody(state));
      const { reports } = state;
      // While a new search loads, the body holds a spinner: no chart elements to draw into.
      if (reports && !state.loading && reports.months.totals.demands > 0) {
        const generation = ++drawn;
        void import("../charts.ts").then(({ drawChart }) => {
          if (generation !== drawn || state.reports !== reports) return;
          charts = drawAll(drawChart, reports);
        });
      }
    };
    state.rerender = render;
    replace(
      main,
      h("h1", null, t("dashboard.title")),
      h("p", { class: "intro" }, t("db.intro")),
      live.element,
      filters,
      body,
      tipFeedPanel(),
    );
    render();
    watchLive(sessionToken());
    void loadUnitNames().then(() => state.rerender());
    return () => {
      state.rerender = notMounted;
      live.stop();
      window.removeEventListener("resize", onResize);
      disposeCharts();
    };
  },
};

function renderBody(state: DashboardState): Child {
  const { error, reports } = state;
  if (state.loading)
    return h("p", { class: "muted" }, h("span", { class: "spinner", "aria-hidden": "true" }), t("common.loading"));
  if (error) return h("div", { class: "notice notice-error", role: "alert" }, error);
  if (!reports) return h("p", { class: "muted empty" }, t("db.start"));
  const total = reports.months.totals;
  if (total.demands === 0) return h("div", { class: "empty-state" }, h("p", null, t("db.empty")));
  const share = (n: number) => `${Math.round((1000 * n) / total.demands) / 10}%`;
  const cards: Array<[MessageKey, string, string, string?]> = [
    ["db.demands", formatNumber(total.demands), "db-demands"],
    [
      "db.answered",
      share(total.answeredFromLedger),
      "db-answered",
      t("db.ofDemands", { n: formatNumber(total.answeredFromLedger) }),
    ],
    ["db.duplicates", formatNumber(total.duplicatesAbsorbed), "db-duplicates"],
    [
      "db.refused",
      formatNumber(total.offListRefused + total.overQuotaRefused),
      "db-refused",
      t("db.refusedSplit", { offList: total.offListRefused, quota: total.overQuotaRefused }),
    ],
    ["db.hours", formatNumber(total.hoursSaved), "db-hours", t("db.hoursUnit")],
    [
      "db.overQuota",
      formatNumber(total.overQuotaWithoutEmergency),
      "db-over-quota",
      t("db.emergencies", { n: total.emergencies }),
    ],
  ];
  return [
    h(
      "ul",
      { class: "kpi-cards" },
      cards.map(([label, value, id, note]) =>
        h(
          "li",
          { class: `kpi${id === "db-over-quota" && total.overQuotaWithoutEmergency > 0 ? " kpi-bad" : ""}` },
          h("span", { class: "stat-label" }, t(label)),
          h("strong", { class: "stat-value", id }, value),
          note ? h("span", { class: "hint" }, note) : null,
        ),
      ),
    ),
    h(
      "div",
      { class: "chart-grid" },
      chartPanel("db.chartMonthly", "chart-monthly"),
      chartPanel("db.chartOutcomes", "chart-outcomes"),
      chartPanel("db.chartQuota", "chart-quota"),
      chartPanel("db.chartHours", "chart-hours"),
    ),
    emergencyTable(reports.months.emergencies ?? []),
  ];
}

function emergencyTable(list: NonNullable<Report["emergencies"]>): Child {
  if (list.length === 0) return null;
  return h(
    "section",
    { class: "panel emergencies" },
    h("h2", null, t("db.emergencyList", { n: list.length })),
    h(
      "table",
      { class: "data-table", id: "db-emergencies" },
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          h("th", { scope: "col" }, t("dm.decidedAt")),
          h("th", { scope: "col" }, t("field.unit")),
          h("th", { scope: "col" }, t("dm.department")),
          h("th", { scope: "col" }, t("db.emergencyReason")),
        ),
      ),
      h(
        "tbody",
        null,
        list.map((e) =>
          h(
            "tr",
            null,
            h("td", { class: "nowrap" }, formatTime(e.decidedAt)),
            h("td", null, unitLabel(e.unitId)),
            h("td", null, e.department),
            h("td", { class: "summary-cell" }, e.reason),
          ),
        ),
      ),
    ),
  );
}

function chartPanel(title: MessageKey, id: string): HTMLElement {
  return h(
    "section",
    { class: "panel chart-panel" },
    h("h2", null, t(title)),
    h("div", { class: "chart", id, role: "img", "aria-label": t(title) }),
  );
}

type Draw = (element: HTMLElement, option: Record<string, unknown>, lang: ReturnType<typeof language>) => EChartsType;

function drawAll(draw: Draw, r: Reports): EChartsType[] {
  const lang = language();
  const element = (id: string) => document.getElementById(id)!;
  const months = r.months.rows.map((row) => row.key);
  const grid = { left: 48, right: 24, top: 40, bottom: 32, containLabel: true };
  const legend = { top: 0, textStyle: { fontSize: 12 } };
  const total = r.months.totals;
  const charts: EChartsType[] = [];
  charts.push(
    draw(
      element("chart-monthly"),
      {
        tooltip: { trigger: "axis" },
        legend,
        grid,
        xAxis: { type: "category", data: months },
        yAxis: { type: "value", minInterval: 1 },
        series: [
          { name: t("db.demands"), type: "bar", data: r.months.rows.map((row) => row.demands) },
          { name: t("db.answeredShort"), type: "bar", data: r.months.rows.map((row) => row.answeredFromLedger) },
          { name: t("db.duplicates"), type: "line", data: r.months.rows.map((row) => row.duplicatesAbsorbed) },
        ],
      },
      lang,
    ),
  );
  const outcomes: Array<[MessageKey, number]> = [
    ["decision.answered_from_ledger", total.answeredFromLedger],
    ["decision.duplicate_absorbed", total.duplicatesAbsorbed],
    ["decision.task_created", total.tasksCreated],
    ["decision.on_site_admitted", total.onSiteAdmitted],
    ["decision.on_site_emergency", total.emergencies],
    ["decision.refused_off_list", total.offListRefused],
    ["decision.refused_over_quota", total.overQuotaRefused],
  ];
  charts.push(
    draw(
      element("chart-outcomes"),
      {
        tooltip: { trigger: "item" },
        legend: { ...legend, type: "scroll", orient: "vertical", left: 0, top: "middle" },
        series: [
          {
            type: "pie",
            radius: ["42%", "70%"],
            center: ["68%", "54%"],
            label: { formatter: "{d}%" },
            data: outcomes.filter(([, n]) => n > 0).map(([key, n]) => ({ name: t(key), value: n })),
          },
        ],
      },
      lang,
    ),
  );
  const units = r.units.rows;
  const quota = units.find((row) => row.onSiteQuotaPerYear !== undefined)?.onSiteQuotaPerYear;
  charts.push(
    draw(
      element("chart-quota"),
      {
        tooltip: { trigger: "axis" },
        legend,
        grid,
        xAxis: {
          type: "category",
          data: units.map((row) => unitText(row.key, 6)),
          axisLabel: { interval: 0, rotate: units.length > 6 ? 30 : 0 },
        },
        yAxis: {
          type: "value",
          minInterval: 1,
          max: (value: { max: number }) => Math.max(value.max, (quota ?? 0) + 1),
        },
        series: [
          {
            name: t("db.onSite"),
            type: "bar",
            data: units.map((row) => row.onSiteAdmitted),
            markLine:
              quota === undefined
                ? undefined
                : {
                    symbol: "none",
                    label: { formatter: t("db.quotaLine", { n: quota }) },
                    lineStyle: { color: "#a8231b", type: "dashed" },
                    data: [{ yAxis: quota }],
                  },
          },
          { name: t("decision.on_site_emergency"), type: "bar", data: units.map((row) => row.emergencies) },
          { name: t("decision.refused_over_quota"), type: "bar", data: units.map((row) => row.overQuotaRefused) },
        ],
      },
      lang,
    ),
  );
  charts.push(
    draw(
      element("chart-hours"),
      {
        tooltip: { trigger: "axis" },
        legend,
        grid,
        xAxis: { type: "category", data: months },
        yAxis: { type: "value", name: t("db.hoursUnit") },
        series: [
          {
            name: t("db.hours"),
            type: "bar",
            data: r.months.rows.map((row) => row.hoursSaved),
            itemStyle: { color: "#17683a" },
          },
        ],
      },
      lang,
    ),
  );
  return charts;
}
