/**
 * 履职记录 Unit timeline: a unit's attestations by period and duty type, grouped by month, with
 * their status (pending, anchored, superseded, withdrawn). Needs a token for that unit or an
 * inspector's; the token stays in this browser session.
 */
import { type DutyTypeEntry, dutyTypes, errorText, request, requestOk } from "../api.ts";
import { type Child, download, h, replace } from "../dom.ts";
import { bindValue, dateRangeField, rememberToken, sessionToken } from "../fields.ts";
import { chinaDateParts, chinaDateToSeconds, formatTime, shortHash } from "../format.ts";
import { type MessageKey, localTitle, t } from "../i18n.ts";
import type { Page } from "../page.ts";
import type { RecordEnvelope } from "../../../server/core/record.ts";
import { rememberUnitName, unitIdOf } from "../units.ts";
import { verifyFromElsewhere } from "./verify.ts";

interface TimelineRecord {
  recordId: string;
  leafIndex: number;
  leafHash: string;
  envelope: Omit<RecordEnvelope, "salt">; // personal fields left out

  signature: string;
  acceptedAt: number;
  anchored: boolean;
  status: "pending" | "anchored" | "superseded" | "withdrawn" | "erased";
  amendedBy?: string;
}

let unit = "";
let dutyTypeId = "";
let from = "";
let to = "";
let loading = false;
let result: { total: number; records: TimelineRecord[] } | null = null;
let error = "";
let rerender: (() => void) | null = null;

async function search(token: string): Promise<void> {
  rememberToken(token);
  error = "";
  if (!unit.trim()) {
    error = t("ws.needUnit");
    return rerender?.();
  }
  loading = true;
  rerender?.();
  try {
    const query = new URLSearchParams();
    if (dutyTypeId) query.set("dutyTypeId", dutyTypeId);
    const fromSeconds = chinaDateToSeconds(from);
    const toSeconds = chinaDateToSeconds(to);
    if (fromSeconds !== undefined) query.set("from", String(fromSeconds));
    if (toSeconds !== undefined) query.set("to", String(toSeconds));
    const { body } = await requestOk<{ total: number; records: TimelineRecord[] }>(
      `/v1/units/${unitIdOf(unit)}/records?${query}`,
      { token },
    );
    rememberUnitName(unit);
    result = body;
  } catch (e) {
    result = null;
    error = errorText(e);
  } finally {
    loading = false;
    rerender?.();
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

export const timelinePage: Page = (main) => {
  let catalog: DutyTypeEntry[] = [];
  const formArea = h("section", { class: "panel" });
  const results = h("section", { class: "results", "aria-live": "polite" });
  const render = () => {
    replace(formArea, renderForm(catalog));
    replace(results, renderResults(catalog));
  };
  rerender = render;
  replace(main, h("h1", null, t("tl.title")), h("p", { class: "intro" }, t("tl.intro")), formArea, results);
  render();
  dutyTypes().then(
    (list) => {
      catalog = list;
      render();
    },
    () => {},
  );
  return () => {
    rerender = null;
  };
};

function renderForm(catalog: DutyTypeEntry[]): Child {
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
        void search(token.value.trim());
      },
    },
    h(
      "div",
      { class: "field" },
      h("label", { for: "tl-unit" }, t("field.unit")),
      h("input", {
        id: "tl-unit",
        type: "text",
        value: unit,
        spellcheck: "false",
        placeholder: t("ws.unitPlaceholder"),
        title: t("ws.unitHint"),
        oninput: bindValue((v) => (unit = v)),
      }),
    ),
    h("div", { class: "field" }, h("label", { for: "tl-token" }, t("tl.token")), token),
    h(
      "div",
      { class: "field" },
      h("label", { for: "tl-dutyType" }, t("field.dutyType")),
      h(
        "select",
        { id: "tl-dutyType", onchange: bindValue((v) => (dutyTypeId = v)) },
        h("option", { value: "" }, t("common.all")),
        catalog.map((d) => h("option", { value: d.id, selected: d.id === dutyTypeId }, localTitle(d.title))),
      ),
    ),
    dateRangeField(
      "tl",
      { from, to },
      (v) => (from = v),
      (v) => (to = v),
    ),
    h(
      "div",
      { class: "field-actions" },
      h("button", { type: "submit", class: "button", id: "tl-search", disabled: loading }, t("common.search")),
    ),
  );
}

function renderResults(catalog: DutyTypeEntry[]): Child {
  if (loading)
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
          : String(value).replace(/[。.；;，,\s]+$/u, "");
      return `${def ? localTitle(def.title) : name}：${shown}`;
    })
    .join("；");
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
