/**
 * 调阅 Evidence demands. An inspector signs a demand in the browser with their keystore (EIP-712
 * EvidenceDemand, server/burden/demand.ts bundled) and sees what became of it: answered from the
 * ledger, absorbed as a duplicate, refused as off-list or over quota, or turned into a task, with
 * the evidence package to verify. A unit sees the demands made on it and its open tasks.
 */
import { bytesToHex } from "../../../server/core/bytes.ts";
import { demandMessageOf, demandTypedDataDigest, type DemandEnvelope } from "../../../server/burden/demand.ts";
import type { DemandListItem, DemandView, Tasks } from "../../../server/core/burdenResponses.ts";
import type { Decision } from "../../../server/core/demand.ts";
import { eip712Domain } from "../../../server/core/eip712.ts";
import { ApiError, type DutyTypeEntry, type GatewayInfo, dutyTypes, errorText, request, requestOk } from "../api.ts";
import { type Child, download, h, replace } from "../dom.ts";
import { bindValue, dateRangeField, rememberToken, sessionToken } from "../fields.ts";
import { chinaDateToSeconds, formatDate, formatTime, shortHash } from "../format.ts";
import { type MessageKey, language, localTitle, t } from "../i18n.ts";
import { type KeySlot, emptyKeySlot, keyPanel } from "../keystore.ts";
import { type Page, type Redraw, notMounted } from "../page.ts";
import { loadUnitNames, rememberUnitName, unitIdOf, unitSuggestions, unitText } from "../units.ts";
import { verifyFromElsewhere } from "./verify.ts";
import { answerDemand } from "./workstation.ts";

/** A demand with its outcome as POST /v1/demands?include=package answers it. */
type DemandResult = Omit<DemandView, "package" | "signature" | "outcomeDigest" | "leafHash">;
/** A demand as the unit's lists show it; a task carries its status. */
type ListedDemand = DemandListItem & Partial<Pick<Tasks["tasks"][number], "status" | "answeredBy">>;

const decisionTone: Record<Decision, "good" | "task" | "refused"> = {
  answered_from_ledger: "good",
  duplicate_absorbed: "good",
  task_created: "task",
  on_site_admitted: "task",
  on_site_emergency: "task",
  refused_off_list: "refused",
  refused_over_quota: "refused",
};

/** The demands page's state: the inspector's key in memory only, the form, the outcomes seen. */
interface DemandsState extends Redraw {
  mode: "inspector" | "unit";
  signing: KeySlot;
  department: string;
  unit: string;
  chosenTypes: Set<string>;
  from: string;
  to: string;
  purpose: string;
  onSite: boolean;
  emergencyReason: string;
  formError: string;
  sending: boolean;
  results: DemandResult[];
  unitQuery: string;
  unitLoading: boolean;
  unitError: string;
  unitView: { tasks: ListedDemand[]; demands: ListedDemand[] } | null;
}

async function send(state: DemandsState): Promise<void> {
  state.formError = "";
  const fromSeconds = chinaDateToSeconds(state.from);
  const toSeconds = chinaDateToSeconds(state.to);
  const key = state.signing.key;
  if (!key) state.formError = t("ws.needUnlock");
  else if (!state.unit.trim()) state.formError = t("ws.needUnit");
  else if (state.chosenTypes.size === 0) state.formError = t("dm.needTypes");
  else if (fromSeconds === undefined || toSeconds === undefined || toSeconds <= fromSeconds)
    state.formError = t("dm.needPeriod");
  else if (!state.purpose.trim()) state.formError = t("dm.needPurpose");
  if (state.formError || !key) return state.rerender();
  state.sending = true;
  state.rerender();
  try {
    const info = (await requestOk<GatewayInfo>("/v1/info")).body;
    const salt = new Uint8Array(32);
    crypto.getRandomValues(salt);
    // Version 2: the signature binds this gateway's log, so no other gateway takes the demand.
    const demand: DemandEnvelope = {
      version: 2,
      logId: info.logId,
      unitId: unitIdOf(state.unit),
      dutyTypeIds: [...state.chosenTypes].sort(),
      from: fromSeconds!,
      to: toSeconds!,
      purpose: state.purpose.trim(),
      department: state.department.trim(),
      inspector: key.address.toLowerCase(),
      onSite: state.onSite,
      ...(state.onSite && state.emergencyReason.trim() ? { emergency: { reason: state.emergencyReason.trim() } } : {}),
      issuedAt: Math.floor(Date.now() / 1000),
      salt: bytesToHex(salt),
    };
    const signature = key.sign(
      demandTypedDataDigest(eip712Domain(info.chainId, info.contracts.DutyLedger), demandMessageOf(demand)),
    );
    const { status, body } = await request<DemandResult & { detail?: string }>("/v1/demands?include=package", {
      body: { demand, signature },
    });
    if (status >= 400) throw new ApiError("problem", String(body.detail ?? status), { status, ...(body as object) });
    rememberUnitName(state.unit);
    state.results = [body, ...state.results.filter((r) => r.demandId !== body.demandId)].slice(0, 10);
  } catch (error) {
    state.formError = errorText(error);
  } finally {
    state.sending = false;
    state.rerender();
  }
}

async function loadUnit(state: DemandsState, token: string): Promise<void> {
  rememberToken(token);
  state.unitError = "";
  if (!state.unitQuery.trim()) {
    state.unitError = t("ws.needUnit");
    return state.rerender();
  }
  state.unitLoading = true;
  state.rerender();
  try {
    const id = unitIdOf(state.unitQuery);
    const [tasks, demands] = await Promise.all([
      requestOk<{ tasks: ListedDemand[] }>(`/v1/units/${id}/tasks?status=all`, { token }),
      requestOk<{ demands: ListedDemand[] }>(`/v1/units/${id}/demands`, { token }),
    ]);
    rememberUnitName(state.unitQuery);
    state.unitView = { tasks: tasks.body.tasks, demands: demands.body.demands };
  } catch (error) {
    state.unitView = null;
    state.unitError = errorText(error);
  } finally {
    state.unitLoading = false;
    state.rerender();
  }
}

export const demandsPage: Page<DemandsState> = {
  path: "demands",
  label: "nav.demands",
  createState: () => ({
    rerender: notMounted,
    mode: "inspector",
    signing: emptyKeySlot(),
    department: "",
    unit: "",
    chosenTypes: new Set<string>(),
    from: "",
    to: "",
    purpose: "",
    onSite: false,
    emergencyReason: "",
    formError: "",
    sending: false,
    results: [],
    unitQuery: "",
    unitLoading: false,
    unitError: "",
    unitView: null,
  }),
  mount: (main, state) => {
    let catalog: DutyTypeEntry[] = [];
    const body = h("div", { class: "demands" });
    const tabs = h("div", { class: "segmented", role: "group", "aria-label": t("dm.mode") });
    const renderTabs = () =>
      replace(
        tabs,
        (["inspector", "unit"] as const).map((m) =>
          h(
            "button",
            {
              type: "button",
              class: "segment",
              id: `dm-mode-${m}`,
              "aria-pressed": String(state.mode === m),
              onclick: () => {
                state.mode = m;
                state.rerender();
              },
            },
            t(m === "inspector" ? "dm.modeInspector" : "dm.modeUnit"),
          ),
        ),
      );
    state.rerender = () => {
      replace(body, state.mode === "inspector" ? renderInspector(state, catalog) : renderUnit(state, catalog));
      renderTabs();
    };
    replace(main, h("h1", null, t("demands.title")), h("p", { class: "intro" }, t("dm.intro")), tabs, body);
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

function typeTitle(catalog: DutyTypeEntry[], id: string): string {
  const entry = catalog.find((d) => d.id === id);
  return entry ? localTitle(entry.title) : shortHash(id);
}

function periodText(fromSeconds: number, toSeconds: number): string {
  return `${formatDate(fromSeconds)} – ${formatDate(toSeconds - 1)}`;
}

function renderInspector(state: DemandsState, catalog: DutyTypeEntry[]): Child {
  const { signing } = state;
  const keyArea = keyPanel(signing, {
    prefix: "dm",
    keystoreLabel: t("dm.keystore"),
    holder: () => state.department,
    check: () => (/^[a-z][a-z0-9-]{0,63}$/.test(state.department.trim()) ? "" : t("dm.needDepartment")),
    rerender: () => state.rerender(),
    fields: h(
      "div",
      { class: "field" },
      h("label", { for: "dm-department" }, t("dm.department")),
      h("input", {
        id: "dm-department",
        type: "text",
        value: state.department,
        spellcheck: "false",
        oninput: bindValue((v) => (state.department = v)),
      }),
      h("p", { class: "hint" }, t("dm.departmentHint")),
    ),
  });
  const form = h(
    "form",
    {
      class: "form-grid",
      id: "dm-form",
      novalidate: true,
      onsubmit: (event: Event) => {
        event.preventDefault();
        void send(state);
      },
    },
    h(
      "div",
      { class: "field" },
      h("label", { for: "dm-unit" }, t("field.unit")),
      h("input", {
        id: "dm-unit",
        type: "text",
        value: state.unit,
        spellcheck: "false",
        list: "unit-directory",
        oninput: bindValue((v) => (state.unit = v)),
      }),
      unitSuggestions(),
      h("p", { class: "hint" }, t("ws.unitHint")),
    ),
    dateRangeField(
      "dm",
      { from: state.from, to: state.to },
      (v) => (state.from = v),
      (v) => (state.to = v),
    ),
    h(
      "fieldset",
      { class: "field form-wide type-choices" },
      h("legend", null, t("dm.dutyTypes")),
      catalog.length === 0
        ? h("p", { class: "muted" }, t("common.loading"))
        : catalog.map((d) =>
            h(
              "label",
              { class: "choice" },
              h("input", {
                type: "checkbox",
                value: d.id,
                "data-code": d.code,
                checked: state.chosenTypes.has(d.id),
                onchange: (e: Event) => {
                  const box = e.target as HTMLInputElement;
                  if (box.checked) state.chosenTypes.add(d.id);
                  else state.chosenTypes.delete(d.id);
                },
              }),
              localTitle(d.title),
            ),
          ),
    ),
    h(
      "div",
      { class: "field form-wide" },
      h("label", { for: "dm-purpose" }, t("dm.purpose")),
      h("input", {
        id: "dm-purpose",
        type: "text",
        maxlength: "500",
        value: state.purpose,
        oninput: bindValue((v) => (state.purpose = v)),
      }),
    ),
    h(
      "div",
      { class: "field" },
      h(
        "span",
        { class: "checkbox" },
        h("input", {
          id: "dm-onsite",
          type: "checkbox",
          checked: state.onSite,
          onchange: (e: Event) => {
            state.onSite = (e.target as HTMLInputElement).checked;
            state.rerender();
            document.getElementById("dm-onsite")?.focus();
          },
        }),
        h("label", { for: "dm-onsite" }, t("dm.onSite")),
      ),
      h("p", { class: "hint" }, t("dm.onSiteHint")),
    ),
    state.onSite
      ? h(
          "div",
          { class: "field" },
          h("label", { for: "dm-emergency" }, t("dm.emergency")),
          h("input", {
            id: "dm-emergency",
            type: "text",
            maxlength: "500",
            value: state.emergencyReason,
            oninput: bindValue((v) => (state.emergencyReason = v)),
          }),
          h("p", { class: "hint" }, t("dm.emergencyHint")),
        )
      : null,
    h(
      "div",
      { class: "form-wide field-actions" },
      h(
        "button",
        { type: "submit", class: "button", id: "dm-submit", disabled: state.sending || !signing.key },
        t("dm.submit"),
      ),
      !signing.key ? h("span", { class: "hint" }, t("ws.needUnlock")) : null,
      state.formError ? h("p", { class: "error-text", role: "alert", id: "dm-error" }, state.formError) : null,
    ),
  );
  return h(
    "div",
    { class: "workstation" },
    h(
      "div",
      { class: "workstation-main" },
      h("section", { class: "panel" }, h("h2", null, t("dm.keySection")), keyArea),
      h("section", { class: "panel" }, h("h2", null, t("dm.formSection")), form),
    ),
    h(
      "section",
      { class: "panel receipt-panel demand-results", "aria-live": "polite" },
      h("h2", null, t("dm.resultSection")),
      state.sending
        ? h("p", { class: "muted" }, h("span", { class: "spinner", "aria-hidden": "true" }), t("dm.sending"))
        : null,
      state.results.length === 0 && !state.sending ? h("p", { class: "muted empty" }, t("dm.noResult")) : null,
      state.results.map((r, i) => outcomeCard(r, catalog, i === 0)),
    ),
  );
}

function outcomeCard(r: DemandResult, catalog: DutyTypeEntry[], latest: boolean): HTMLElement {
  const o = r.outcome;
  const tone = decisionTone[o.decision];
  const facts: Child[] = [];
  if (o.decision === "answered_from_ledger") facts.push(t("dm.factMatched", { n: o.matched }));
  if (o.duplicateOf) facts.push(t("dm.factDuplicate", { id: shortHash(o.duplicateOf) }));
  if (o.offList?.length)
    facts.push(
      o.offList
        .map((item) => `${typeTitle(catalog, item.dutyTypeId)}：${t(`offList.${item.reason}` as MessageKey)}`)
        .join("；"),
    );
  if (o.quota) facts.push(t("dm.factQuota", { year: o.quota.year, used: o.quota.used, limit: o.quota.limit }));
  if (o.decision === "task_created") facts.push(t("dm.factTask"));
  const pkg = r.evidence;
  return h(
    "article",
    { class: `outcome outcome-${tone}`, "data-decision": o.decision, id: latest ? "dm-latest" : undefined },
    h(
      "div",
      { class: "outcome-head" },
      h("span", { class: "outcome-title" }, t(`decision.${o.decision}` as MessageKey)),
      h(
        "span",
        { class: "outcome-meta" },
        `${unitText(r.demand.unitId)} · ${r.demand.dutyTypeIds.map((id) => typeTitle(catalog, id)).join("、")} · ${periodText(r.demand.from, r.demand.to)}`,
      ),
    ),
    facts.length
      ? h(
          "p",
          { class: "outcome-facts" },
          facts.map((f, i) => [i ? " " : "", f]),
        )
      : null,
    h(
      "p",
      { class: "hint" },
      t("dm.logged", { id: shortHash(r.demandId), leaf: r.leafIndex }),
      // The gateway states its reason in English; the facts above say it in the user's language.
      language() === "en" ? [" · ", o.reason] : null,
    ),
    pkg && pkg.items.length > 0
      ? h(
          "div",
          { class: "actions" },
          h(
            "button",
            {
              type: "button",
              class: "button",
              onclick: () => verifyFromElsewhere(pkg, `${t("dm.package")} ${shortHash(r.demandId)}`),
            },
            t("dm.verifyPackage", { n: pkg.items.length }),
          ),
          h(
            "button",
            {
              type: "button",
              class: "button button-secondary",
              onclick: () =>
                download(`dutyproof-demand-${r.demandId.slice(2, 14)}.json`, JSON.stringify(pkg, null, 2) + "\n"),
            },
            t("dm.downloadPackage"),
          ),
        )
      : null,
  );
}

function renderUnit(state: DemandsState, catalog: DutyTypeEntry[]): Child {
  const token = h("input", {
    id: "dm-token",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "dp_…",
    title: t("tl.tokenHint"),
    value: sessionToken(),
  });
  const form = h(
    "form",
    {
      class: "form-row",
      onsubmit: (event: Event) => {
        event.preventDefault();
        void loadUnit(state, token.value.trim());
      },
    },
    h(
      "div",
      { class: "field" },
      h("label", { for: "dm-unit-query" }, t("field.unit")),
      h("input", {
        id: "dm-unit-query",
        type: "text",
        value: state.unitQuery,
        spellcheck: "false",
        list: "unit-directory",
        oninput: (e: Event) => (state.unitQuery = (e.target as HTMLInputElement).value),
      }),
      unitSuggestions(),
    ),
    h("div", { class: "field" }, h("label", { for: "dm-token" }, t("tl.token")), token),
    h(
      "div",
      { class: "field field-actions" },
      h(
        "button",
        { type: "submit", class: "button", id: "dm-unit-search", disabled: state.unitLoading },
        t("common.search"),
      ),
    ),
  );
  let content: Child;
  if (state.unitLoading) content = h("p", { class: "muted" }, t("common.loading"));
  else if (state.unitError) content = h("div", { class: "notice notice-error", role: "alert" }, state.unitError);
  else if (!state.unitView) content = h("p", { class: "muted empty" }, t("tl.start"));
  else {
    const open = state.unitView.tasks.filter((task) => task.status === "open");
    content = [
      h("h2", null, t("dm.tasks", { n: open.length })),
      open.length === 0
        ? h("div", { class: "empty-state" }, h("p", null, t("dm.noTasks")))
        : demandTable(open, catalog, true),
      h("h2", null, t("dm.received", { n: state.unitView.demands.length })),
      state.unitView.demands.length === 0
        ? h("div", { class: "empty-state" }, h("p", null, t("dm.noDemands")))
        : demandTable(state.unitView.demands, catalog, false),
    ];
  }
  return [h("section", { class: "panel" }, form), h("section", { class: "results", "aria-live": "polite" }, content)];
}

function demandTable(list: ListedDemand[], catalog: DutyTypeEntry[], tasks: boolean): HTMLElement {
  return h(
    "table",
    { class: "data-table", id: tasks ? "dm-tasks" : "dm-received" },
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        h("th", { scope: "col" }, t("dm.decidedAt")),
        h("th", { scope: "col" }, t("dm.department")),
        h("th", { scope: "col" }, t("dm.dutyTypes")),
        h("th", { scope: "col" }, t("dm.period")),
        h("th", { scope: "col" }, t("dm.decision")),
        tasks ? h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, t("dm.answer"))) : null,
      ),
    ),
    h(
      "tbody",
      null,
      list.map((d) =>
        h(
          "tr",
          { "data-demand": d.demandId },
          h("td", { class: "nowrap" }, formatTime(d.decidedAt)),
          h("td", null, d.department),
          h("td", null, d.dutyTypeIds.map((id) => typeTitle(catalog, id)).join("、")),
          h("td", { class: "nowrap" }, periodText(d.from, d.to)),
          h(
            "td",
            null,
            h(
              "span",
              { class: `badge decision-${decisionTone[d.decision]}` },
              t(`decision.${d.decision}` as MessageKey),
            ),
            d.onSite ? h("span", { class: "tag" }, t("dm.onSiteShort")) : null,
          ),
          tasks
            ? h(
                "td",
                null,
                h(
                  "button",
                  { type: "button", class: "button button-small", onclick: () => answerDemand(d) },
                  t("dm.answer"),
                ),
              )
            : null,
        ),
      ),
    ),
  );
}
