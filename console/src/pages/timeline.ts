/**
 * 履职记录 Unit timeline: a unit's attestations by period and duty type, grouped by month, with
 * their status (pending, anchored, superseded, withdrawn). Needs a token for that unit or an
 * inspector's; the token stays in this browser session.
 */
import type { TimelineRecord, UnitRecordsResponse } from "../../../server/core/apiResponses.ts";
import type { RecordEnvelope } from "../../../server/core/record.ts";
import { type DutyTypeEntry, dutyTypes, errorText, request, requestOk } from "../api.ts";
import { type Child, download, h, replace } from "../dom.ts";
import { bindValue, dateRangeField, rememberToken, sessionToken } from "../fields.ts";
import { chinaDateParts, chinaDateToSeconds, formatTime, shortHash } from "../format.ts";
import { type MessageKey, localTitle, t, valueText } from "../i18n.ts";
import { type Page, type Redraw, notMounted } from "../page.ts";
import { loadUnitNames, rememberUnitName, unitIdOf, unitLabel, unitSuggestions } from "../units.ts";
import { verifyFromElsewhere } from "./verify.ts";

/** The timeline's state: the search as entered and its result. */
interface TimelineState extends Redraw {
  unit: string;
  dutyTypeId: string;
  from: string;
  to: string;
  loading: boolean;
  result: UnitRecordsResponse | null;
  error: string;
}

async function search(state: TimelineState, token: string): Promise<void> {
  rememberToken(token);
  state.error = "";
  if (!state.unit.trim()) {
    state.error = t("ws.needUnit");
    return state.rerender();
  }
  state.loading = true;
  state.rerender();
  try {
    const query = new URLSearchParams();
    if (state.dutyTypeId) query.set("dutyTypeId", state.dutyTypeId);
    const fromSeconds = chinaDateToSeconds(state.from);
    const toSeconds = chinaDateToSeconds(state.to);
    if (fromSeconds !== undefined) query.set("from", String(fromSeconds));
    if (toSeconds !== undefined) query.set("to", String(toSeconds));
    const { body } = await requestOk<UnitRecordsResponse>(`/v1/units/${unitIdOf(state.unit)}/records?${query}`, {
      token,
    });
    rememberUnitName(state.unit);
    state.result = body;
  } catch (e) {
    state.result = null;
    state.error = errorText(e);
  } finally {
    state.loading = false;
    state.rerender();
  }
}

/**
 * The record with its receipt. The list leaves out personal fields and the salt, so the record
 * itself is fetched with the same token (the receipt by record id is for its holder too).
 */
async function evidenceOf(record: TimelineRecord): Promise<unknown> {
  const { status, body } = await request(`/v1/attestations/${record.recordId}/receipt`);
  if (status !== 200) throw new Error(t("tl.notAnchored"));
  const full = await requestOk<{ envelope: RecordEnvelope }>(`/v1/attestations/${record.recordId}`, {
    token: sessionToken(),
  });
  return { envelope: full.body.envelope, signature: record.signature, receipt: body };
}

export const timelinePage: Page<TimelineState> = {
  path: "timeline",
  label: "nav.timeline",
  createState: () => ({
    rerender: notMounted,
    unit: "",
    dutyTypeId: "",
    from: "",
    to: "",
    loading: false,
    result: null,
    error: "",
  }),
  mount: (main, state) => {
    let catalog: DutyTypeEntry[] = [];
    const formArea = h("section", { class: "panel" });
    const results = h("section", { class: "results", "aria-live": "polite" });
    state.rerender = () => {
      replace(formArea, renderForm(state, catalog));
      replace(results, renderResults(state, catalog));
    };
    replace(main, h("h1", null, t("tl.title")), h("p", { class: "intro" }, t("tl.intro")), formArea, results);
    state.rerender();
    void loadUnitNames().then(() => state.rerender());
    dutyTypes().then(
      (list) => {
        catalog = list;
        state.rerender();
      },
      () => {},
    );
    return () => {
      state.rerender = notMounted;
    };
  },
};

function renderForm(state: TimelineState, catalog: DutyTypeEntry[]): Child {
  const token = h("input", {
    id: "tl-token",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "dp_…",
    title: t("tl.tokenHint"),
    value: sessionToken(),
  });
  return h(
    "form",
    {
      class: "form-row",
      onsubmit: (event: Event) => {
        event.preventDefault();
        void search(state, token.value.trim());
      },
    },
    h(
      "div",
      { class: "field" },
      h("label", { for: "tl-unit" }, t("field.unit")),
      h("input", {
        id: "tl-unit",
        type: "text",
        value: state.unit,
        spellcheck: "false",
        placeholder: t("ws.unitPlaceholder"),
        title: t("ws.unitHint"),
        list: "unit-directory",
        oninput: bindValue((v) => (state.unit = v)),
      }),
      unitSuggestions(),
    ),
    h("div", { class: "field" }, h("label", { for: "tl-token" }, t("tl.token")), token),
    h(
      "div",
      { class: "field" },
      h("label", { for: "tl-dutyType" }, t("field.dutyType")),
      h(
        "select",
        { id: "tl-dutyType", onchange: bindValue((v) => (state.dutyTypeId = v)) },
        h("option", { value: "" }, t("common.all")),
        catalog.map((d) => h("option", { value: d.id, selected: d.id === state.dutyTypeId }, localTitle(d.title))),
      ),
    ),
    dateRangeField(
      "tl",
      { from: state.from, to: state.to },
      (v) => (state.from = v),
      (v) => (state.to = v),
    ),
    h(
      "div",
      { class: "field-actions" },
      h("button", { type: "submit", class: "button", id: "tl-search", disabled: state.loading }, t("common.search")),
    ),
  );
}

function renderResults(state: TimelineState, catalog: DutyTypeEntry[]): Child {
  const { error, result } = state;
  if (state.loading)
    return h("p", { class: "muted" }, h("span", { class: "spinner", "aria-hidden": "true" }), t("common.loading"));
  if (error) return h("div", { class: "notice notice-error", role: "alert" }, error);
  if (!result) return h("p", { class: "muted empty" }, t("tl.start"));
  if (result.records.length === 0) return h("div", { class: "empty-state" }, h("p", null, t("tl.empty")));
  const counts = new Map<string, number>();
  for (const r of result.records) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const months = new Map<string, TimelineRecord[]>();
  for (const r of result.records) {
    const { year, month } = chinaDateParts(r.envelope.performedAt);
    const label = t("tl.month", { year, month: String(month).padStart(2, "0") });
    months.set(label, [...(months.get(label) ?? []), r]);
  }
  const title = (id: string) => {
    const entry = catalog.find((d) => d.id === id);
    return entry ? localTitle(entry.title) : shortHash(id);
  };
  return [
    h(
      "div",
      { class: "summary-bar" },
      h("span", { class: "summary-unit", id: "tl-unit-name" }, unitLabel(result.unitId)),
      h("strong", null, t("tl.total", { total: result.total })),
      result.total > result.records.length ? t("tl.shown", { shown: result.records.length }) : null,
      [...counts].map(([status, n]) =>
        h("span", { class: `badge status-${status}` }, `${t(`status.${status}` as MessageKey)} ${n}`),
      ),
    ),
    [...months].map(([label, records]) =>
      h(
        "section",
        { class: "month" },
        h("h2", null, label),
        h(
          "table",
          { class: "data-table timeline-table" },
          h(
            "thead",
            null,
            h(
              "tr",
              null,
              h("th", { scope: "col" }, t("field.performedAt")),
              h("th", { scope: "col" }, t("field.dutyType")),
              h("th", { scope: "col" }, t("field.fields")),
              h("th", { scope: "col" }, t("field.status")),
              h("th", { scope: "col" }, t("field.leaf")),
              h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, t("tl.evidence"))),
            ),
          ),
          h(
            "tbody",
            null,
            records.map((r) => recordRow(r, catalog, title(r.envelope.dutyTypeId))),
          ),
        ),
      ),
    ),
  ];
}

function recordRow(r: TimelineRecord, catalog: DutyTypeEntry[], dutyTitle: string): HTMLElement {
  const entry = catalog.find((d) => d.id === r.envelope.dutyTypeId);
  // Personal fields are not shown in a list: they are for the record's own page and the verifier.
  const summary = Object.entries(r.envelope.fields)
    .filter(([name]) => !entry?.fields.find((f) => f.name === name)?.personal)
    .map(([name, value]) => {
      const def = entry?.fields.find((f) => f.name === name);
      // A value's own closing full stop would stand before the separator ("。；").
      const shown =
        typeof value === "boolean"
          ? value
            ? t("common.yes")
            : t("common.no")
          : def?.type === "enum"
            ? valueText(def, String(value))
            : String(value).replace(/[。.；;，,\s]+$/u, "");
      return `${def ? localTitle(def.title) : name}${t("common.colon")}${shown}`;
    })
    .join(t("common.listSeparator"));
  const actionError = h("span", { class: "error-text" });
  const act = (what: "verify" | "download") => async () => {
    try {
      const evidence = await evidenceOf(r);
      if (what === "verify") verifyFromElsewhere(evidence, `${t("nav.timeline")} ${shortHash(r.recordId)}`);
      else download(`dutyproof-${r.recordId.slice(2, 14)}.json`, JSON.stringify(evidence, null, 2) + "\n");
    } catch (e) {
      actionError.textContent = e instanceof Error ? e.message : errorText(e);
    }
  };
  return h(
    "tr",
    { "data-record": r.recordId },
    h("td", { class: "nowrap" }, formatTime(r.envelope.performedAt)),
    h("td", null, dutyTitle),
    h("td", { class: "summary-cell" }, summary || "—"),
    h(
      "td",
      null,
      h("span", { class: `badge status-${r.status}` }, t(`status.${r.status}` as MessageKey)),
      r.amendedBy ? h("div", { class: "hint" }, t("tl.amendedBy", { id: shortHash(r.amendedBy) })) : null,
    ),
    h("td", { class: "nowrap" }, `#${r.leafIndex}`),
    h(
      "td",
      { class: "row-actions" },
      r.anchored
        ? [
            h("button", { type: "button", class: "button button-small", onclick: act("verify") }, t("tl.verify")),
            h(
              "button",
              { type: "button", class: "button button-small button-secondary", onclick: act("download") },
              t("tl.evidence"),
            ),
          ]
        : h("span", { class: "hint" }, t("tl.notAnchored")),
      actionError,
    ),
  );
}
