/**
 * 调阅 Evidence demands. An inspector signs a demand in the browser with their keystore (EIP-712
 * EvidenceDemand, server/burden/demand.ts bundled) and sees what became of it: answered from the
 * ledger, absorbed as a duplicate, refused as off-list or over quota, or turned into a task, with
 * the evidence package to verify. A unit sees the demands made on it and its open tasks.
 */
import { bytesToHex } from "../../../server/core/bytes.ts";
import { demandMessageOf, demandTypedDataDigest, type DemandEnvelope } from "../../../server/burden/demand.ts";
import { eip712Domain } from "../../../server/core/eip712.ts";
import { ApiError, type DutyTypeEntry, type GatewayInfo, dutyTypes, errorText, request, requestOk } from "../api.ts";
import { type Child, download, h, replace } from "../dom.ts";
import { bindValue, dateRangeField, rememberToken, sessionToken } from "../fields.ts";
import { chinaDateToSeconds, formatTime, shortHash } from "../format.ts";
import { type MessageKey, language, localTitle, t } from "../i18n.ts";
import { type UnlockedKey, unlockKeystore } from "../keystore.ts";
import type { Page } from "../page.ts";
import { rememberUnitName, unitIdOf, unitNameOf } from "../units.ts";
import { verifyFromElsewhere } from "./verify.ts";
import { answerDemand } from "./workstation.ts";
import type { Decision } from "../../../server/burden/demand.ts";

interface Outcome {
  decision: Decision;
  reason: string;
  decidedAt: number;
  matched: number;
  duplicateOf?: string;
  offList?: Array<{ dutyTypeId: string; reason: string }>;
  quota?: { year: number; used: number; limit: number };
}

interface DemandResult {
  demandId: string;
  demand: DemandEnvelope;
  outcome: Outcome;
  leafIndex: number;
  answeredBy: string[];
  evidence?: { items: unknown[]; pending: number };
}

interface ListedDemand {
  demandId: string;
  unitId: string;
  dutyTypeIds: string[];
  from: number;
  to: number;
  onSite: boolean;
  emergency: boolean;
  department: string;
  decision: Decision;
  duplicateOf?: string;
  decidedAt: number;
  status?: "open" | "answered";
  answeredBy?: string[];
}

const decisionTone: Record<Decision, "good" | "task" | "refused"> = {
  answered_from_ledger: "good",
  duplicate_absorbed: "good",
  task_created: "task",
  on_site_admitted: "task",
  on_site_emergency: "task",
  refused_off_list: "refused",
  refused_over_quota: "refused",
};

// Page state (kept across a language switch; the key in memory only).
let mode: "inspector" | "unit" = "inspector";
let key: UnlockedKey | null = null;
let keystoreFile: File | null = null;
let department = "";
let unlocking = false;
let unlockError = "";
let unit = "";
const chosenTypes = new Set<string>();
let from = "";
let to = "";
let purpose = "";
let onSite = false;
let emergencyReason = "";
let formError = "";
let sending = false;
let results: DemandResult[] = [];
let unitQuery = "";
let unitLoading = false;
let unitError = "";
let unitView: { tasks: ListedDemand[]; demands: ListedDemand[] } | null = null;
let rerender: (() => void) | null = null;

async function unlock(password: string): Promise<void> {
  unlockError = "";
  if (!keystoreFile) unlockError = t("ws.needKeystore");
  else if (!/^[a-z][a-z0-9-]{0,63}$/.test(department.trim())) unlockError = t("dm.needDepartment");
  if (unlockError) return rerender?.();
  unlocking = true;
  rerender?.();
  try {
    key = await unlockKeystore(keystoreFile!, password, () => {});
  } catch {
    unlockError = t("ws.badKeystore");
  } finally {
    unlocking = false;
    rerender?.();
  }
}

async function send(): Promise<void> {
  formError = "";
  const fromSeconds = chinaDateToSeconds(from);
  const toSeconds = chinaDateToSeconds(to);
  if (!key) formError = t("ws.needUnlock");
  else if (!unit.trim()) formError = t("ws.needUnit");
  else if (chosenTypes.size === 0) formError = t("dm.needTypes");
  else if (fromSeconds === undefined || toSeconds === undefined || toSeconds <= fromSeconds)
    formError = t("dm.needPeriod");
  else if (!purpose.trim()) formError = t("dm.needPurpose");
  if (formError || !key) return rerender?.();
  sending = true;
  rerender?.();
  try {
    const info = (await requestOk<GatewayInfo>("/v1/info")).body;
    const salt = new Uint8Array(32);
    crypto.getRandomValues(salt);
    // Version 2: the signature binds this gateway's log, so no other gateway takes the demand.
    const demand: DemandEnvelope = {
      version: 2,
      logId: info.logId,
      unitId: unitIdOf(unit),
      dutyTypeIds: [...chosenTypes].sort(),
      from: fromSeconds!,
      to: toSeconds!,
      purpose: purpose.trim(),
      department: department.trim(),
      inspector: key.address.toLowerCase(),
      onSite,
      ...(onSite && emergencyReason.trim() ? { emergency: { reason: emergencyReason.trim() } } : {}),
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
    rememberUnitName(unit);
    results = [body, ...results.filter((r) => r.demandId !== body.demandId)].slice(0, 10);
  } catch (error) {
    formError = errorText(error);
  } finally {
    sending = false;
    rerender?.();
  }
}

async function loadUnit(token: string): Promise<void> {
  rememberToken(token);
  unitError = "";
  if (!unitQuery.trim()) {
    unitError = t("ws.needUnit");
    return rerender?.();
  }
  unitLoading = true;
  rerender?.();
  try {
    const id = unitIdOf(unitQuery);
    const [tasks, demands] = await Promise.all([
      requestOk<{ tasks: ListedDemand[] }>(`/v1/units/${id}/tasks?status=all`, { token }),
      requestOk<{ demands: ListedDemand[] }>(`/v1/units/${id}/demands`, { token }),
    ]);
    rememberUnitName(unitQuery);
    unitView = { tasks: tasks.body.tasks, demands: demands.body.demands };
  } catch (error) {
    unitView = null;
    unitError = errorText(error);
  } finally {
    unitLoading = false;
    rerender?.();
  }
}

export const demandsPage: Page = (main) => {
  let catalog: DutyTypeEntry[] = [];
  const body = h("div", { class: "demands" });
  const render = () => replace(body, mode === "inspector" ? renderInspector(catalog) : renderUnit(catalog));
  rerender = () => {
    render();
    renderTabs();
  };
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
            "aria-pressed": String(mode === m),
            onclick: () => {
              mode = m;
              rerender?.();
            },
          },
          t(m === "inspector" ? "dm.modeInspector" : "dm.modeUnit"),
        ),
      ),
    );
  replace(main, h("h1", null, t("demands.title")), h("p", { class: "intro" }, t("dm.intro")), tabs, body);
  rerender();
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

function typeTitle(catalog: DutyTypeEntry[], id: string): string {
  const entry = catalog.find((d) => d.id === id);
  return entry ? localTitle(entry.title) : shortHash(id);
}

function unitLabel(unitId: string): string {
  return unitNameOf(unitId) ?? shortHash(unitId);
}

function periodText(fromSeconds: number, toSeconds: number): string {
  return `${formatTime(fromSeconds).slice(0, 10)} – ${formatTime(toSeconds - 1).slice(0, 10)}`;
}

function renderInspector(catalog: DutyTypeEntry[]): Child {
  const password = h("input", { type: "password", id: "dm-password", autocomplete: "off", disabled: unlocking });
  const keyPanel = key
    ? h(
        "div",
        { class: "unlocked" },
        h("span", { class: "badge badge-ok" }, "✓"),
        h(
          "div",
          { class: "unlocked-text" },
          h("strong", null, department),
          h("div", null, t("ws.unlocked", { address: key.address })),
        ),
        h(
          "button",
          {
            type: "button",
            class: "button button-secondary",
            onclick: () => {
              key = null;
              rerender?.();
            },
          },
          t("ws.lock"),
        ),
      )
    : h(
        "form",
        {
          class: "form-grid",
          onsubmit: (event: Event) => {
            event.preventDefault();
            void unlock(password.value);
          },
        },
        h(
          "div",
          { class: "field" },
          h("label", { for: "dm-keystore" }, t("dm.keystore")),
          h("input", {
            id: "dm-keystore",
            type: "file",
            accept: ".json,application/json",
            onchange: (e: Event) => (keystoreFile = (e.target as HTMLInputElement).files?.[0] ?? null),
          }),
        ),
        h("div", { class: "field" }, h("label", { for: "dm-password" }, t("ws.password")), password),
        h(
          "div",
          { class: "field" },
          h("label", { for: "dm-department" }, t("dm.department")),
          h("input", {
            id: "dm-department",
            type: "text",
            value: department,
            spellcheck: "false",
            oninput: bindValue((v) => (department = v)),
          }),
          h("p", { class: "hint" }, t("dm.departmentHint")),
        ),
        h(
          "div",
          { class: "field field-actions" },
          h("button", { type: "submit", class: "button", id: "dm-unlock", disabled: unlocking }, t("ws.unlock")),
          unlocking
            ? h(
                "span",
                { class: "progress-line" },
                h("span", { class: "spinner", "aria-hidden": "true" }),
                t("ws.unlocking"),
              )
            : null,
          unlockError ? h("p", { class: "error-text", role: "alert" }, unlockError) : null,
        ),
      );
  const form = h(
    "form",
    {
      class: "form-grid",
      id: "dm-form",
      novalidate: true,
      onsubmit: (event: Event) => {
        event.preventDefault();
        void send();
      },
    },
    h(
      "div",
      { class: "field" },
      h("label", { for: "dm-unit" }, t("field.unit")),
      h("input", {
        id: "dm-unit",
        type: "text",
        value: unit,
        spellcheck: "false",
        oninput: bindValue((v) => (unit = v)),
      }),
      h("p", { class: "hint" }, t("ws.unitHint")),
    ),
    dateRangeField(
      "dm",
      { from, to },
      (v) => (from = v),
      (v) => (to = v),
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
                checked: chosenTypes.has(d.id),
                onchange: (e: Event) => {
                  const box = e.target as HTMLInputElement;
                  if (box.checked) chosenTypes.add(d.id);
                  else chosenTypes.delete(d.id);
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
        value: purpose,
        oninput: bindValue((v) => (purpose = v)),
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
          checked: onSite,
          onchange: (e: Event) => {
            onSite = (e.target as HTMLInputElement).checked;
            rerender?.();
            document.getElementById("dm-onsite")?.focus();
          },
        }),
        h("label", { for: "dm-onsite" }, t("dm.onSite")),
      ),
      h("p", { class: "hint" }, t("dm.onSiteHint")),
    ),
    onSite
      ? h(
          "div",
          { class: "field" },
          h("label", { for: "dm-emergency" }, t("dm.emergency")),
          h("input", {
            id: "dm-emergency",
            type: "text",
            maxlength: "500",
            value: emergencyReason,
            oninput: bindValue((v) => (emergencyReason = v)),
          }),
          h("p", { class: "hint" }, t("dm.emergencyHint")),
        )
      : null,
    h(
      "div",
      { class: "form-wide field-actions" },
      h("button", { type: "submit", class: "button", id: "dm-submit", disabled: sending || !key }, t("dm.submit")),
      !key ? h("span", { class: "hint" }, t("ws.needUnlock")) : null,
      formError ? h("p", { class: "error-text", role: "alert", id: "dm-error" }, formError) : null,
    ),
  );
  return h(
    "div",
    { class: "workstation" },
    h(
      "div",
      { class: "workstation-main" },
      h("section", { class: "panel" }, h("h2", null, t("dm.keySection")), keyPanel),
      h("section", { class: "panel" }, h("h2", null, t("dm.formSection")), form),
    ),
    h(
      "section",
      { class: "panel receipt-panel demand-results", "aria-live": "polite" },
      h("h2", null, t("dm.resultSection")),
      sending
        ? h("p", { class: "muted" }, h("span", { class: "spinner", "aria-hidden": "true" }), t("dm.sending"))
        : null,
      results.length === 0 && !sending ? h("p", { class: "muted empty" }, t("dm.noResult")) : null,
      results.map((r, i) => outcomeCard(r, catalog, i === 0)),
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
        `${unitLabel(r.demand.unitId)} · ${r.demand.dutyTypeIds.map((id) => typeTitle(catalog, id)).join("、")} · ${periodText(r.demand.from, r.demand.to)}`,
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

function renderUnit(catalog: DutyTypeEntry[]): Child {
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
        void loadUnit(token.value.trim());
      },
    },
    h(
      "div",
      { class: "field" },
      h("label", { for: "dm-unit-query" }, t("field.unit")),
      h("input", {
        id: "dm-unit-query",
        type: "text",
        value: unitQuery,
        spellcheck: "false",
        oninput: (e: Event) => (unitQuery = (e.target as HTMLInputElement).value),
      }),
    ),
    h("div", { class: "field" }, h("label", { for: "dm-token" }, t("tl.token")), token),
    h(
      "div",
      { class: "field field-actions" },
      h("button", { type: "submit", class: "button", id: "dm-unit-search", disabled: unitLoading }, t("common.search")),
    ),
  );
  let content: Child;
  if (unitLoading) content = h("p", { class: "muted" }, t("common.loading"));
  else if (unitError) content = h("div", { class: "notice notice-error", role: "alert" }, unitError);
  else if (!unitView) content = h("p", { class: "muted empty" }, t("tl.start"));
  else {
    const open = unitView.tasks.filter((task) => task.status === "open");
    content = [
      h("h2", null, t("dm.tasks", { n: open.length })),
      open.length === 0
        ? h("div", { class: "empty-state" }, h("p", null, t("dm.noTasks")))
        : demandTable(open, catalog, true),
      h("h2", null, t("dm.received", { n: unitView.demands.length })),
      unitView.demands.length === 0
        ? h("div", { class: "empty-state" }, h("p", null, t("dm.noDemands")))
        : demandTable(unitView.demands, catalog, false),
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
