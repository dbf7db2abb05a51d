/**
 * 负担请求 Burden requests: a department signs a request of any kind the gate decides (meeting,
 * data request, on-site inspection, evaluation, secondment) in the browser with its keystore
 * (EIP-712 BurdenRequest, docs/protocol.md) and sees the gate's outcome: admitted, merged into a
 * combined meeting or joint visit, absorbed, answered from the ledger item by item, refused with
 * its reason (a non-lead evaluation names the lead department). A unit, with its token, sees its
 * tasks, combined meetings, joint visits and the conflicts flagged to it.
 */
import { bytesToHex } from "../../../server/core/bytes.ts";
import { eip712Domain } from "../../../server/core/eip712.ts";
import {
  type RequestEnvelope,
  type RequestKind,
  requestMessageOf,
  requestTypedDataDigest,
} from "../../../server/core/request.ts";
import { type GatewayInfo, errorText, request, requestOk } from "../api.ts";
import { type Child, h, replace } from "../dom.ts";
import { bindValue, rememberToken, sessionToken } from "../fields.ts";
import { chinaDateTimeToSeconds, formatTime } from "../format.ts";
import { type MessageKey, t } from "../i18n.ts";
import { type KeySlot, emptyKeySlot, keyPanel } from "../keystore.ts";
import { type Page, type Redraw, notMounted } from "../page.ts";
import { rememberUnitName, unitIdOf, unitSuggestions } from "../units.ts";

const KINDS: RequestKind[] = ["meeting", "data", "inspection", "evaluation", "secondment"];

/** A field of a kind's form: its id, label, and how its text becomes the envelope's value. */
interface FieldSpec {
  name: string;
  label: MessageKey;
  kind: "text" | "lines" | "time" | "number";
  hint?: MessageKey;
}

const FIELDS: Record<RequestKind, FieldSpec[]> = {
  meeting: [
    { name: "topic", label: "rq.topic", kind: "text" },
    { name: "agenda", label: "rq.agenda", kind: "lines", hint: "rq.linesHint" },
    { name: "decisionsSought", label: "rq.decisions", kind: "lines", hint: "rq.linesHint" },
    { name: "start", label: "rq.start", kind: "time" },
    { name: "durationMinutes", label: "rq.minutes", kind: "number" },
    { name: "roles", label: "rq.roles", kind: "lines", hint: "rq.linesHint" },
  ],
  data: [
    { name: "items", label: "rq.items", kind: "lines", hint: "rq.itemsHint" },
    { name: "from", label: "rq.from", kind: "time" },
    { name: "to", label: "rq.to", kind: "time" },
    { name: "deadline", label: "rq.deadline", kind: "time" },
    { name: "approvalRef", label: "rq.approval", kind: "text" },
  ],
  inspection: [
    { name: "domain", label: "rq.domain", kind: "text" },
    { name: "dutyTypeIds", label: "rq.dutyTypes", kind: "lines", hint: "rq.linesHint" },
    { name: "from", label: "rq.from", kind: "time" },
    { name: "to", label: "rq.to", kind: "time" },
  ],
  evaluation: [
    { name: "domain", label: "rq.domain", kind: "text" },
    { name: "title", label: "rq.title2", kind: "text" },
    { name: "from", label: "rq.from", kind: "time" },
    { name: "to", label: "rq.to", kind: "time" },
  ],
  secondment: [
    { name: "role", label: "rq.role", kind: "text" },
    { name: "from", label: "rq.from", kind: "time" },
    { name: "days", label: "rq.days", kind: "number" },
    { name: "approvalRef", label: "rq.approval", kind: "text" },
  ],
};

interface Outcome {
  decision: string;
  reasonCode: string;
  reason: string;
  mergedWith?: string;
  leadDepartment?: string;
  answered?: Array<{ item: string; records: number }>;
  missing?: string[];
}

interface RequestResult {
  requestId: string;
  request: { kind: string };
  outcome: Outcome;
}

interface UnitRequests {
  tasks: Array<{ requestId: string; kind: string; department: string; decidedAt: number }>;
  mergedMeetings: Array<{ requestId: string; departments: string[] }>;
  jointVisits: Array<{ requestId: string; departments: string[] }>;
  conflicts: Array<{ requestId: string; department: string; otherDepartment: string; item: string }>;
}

interface RequestsState extends Redraw {
  kind: RequestKind;
  department: string;
  unit: string;
  values: Record<string, string>;
  signing: KeySlot;
  sending: boolean;
  formError: string;
  results: RequestResult[];
  unitQuery: string;
  unitView: UnitRequests | null;
  unitError: string;
}

/** Duty type codes on a line become ids from the catalog; data items are `code.field` or `catalog:code`. */
async function envelopeFields(state: RequestsState): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const needsCatalog = state.kind === "inspection" || state.kind === "data";
  const catalog = needsCatalog
    ? (await requestOk<{ dutyTypes: Array<{ id: string; code: string }> }>("/v1/duty-types")).body.dutyTypes
    : [];
  const dutyTypeId = (code: string) => {
    const found = catalog.find((d) => d.code === code || d.id === code);
    if (!found) throw new Error(t("rq.unknownType", { code }));
    return found.id;
  };
  for (const field of FIELDS[state.kind]) {
    const raw = (state.values[`${state.kind}.${field.name}`] ?? "").trim();
    if (raw === "" && field.name === "approvalRef") continue;
    if (field.kind === "text") out[field.name] = raw;
    else if (field.kind === "number") out[field.name] = Number(raw);
    else if (field.kind === "time") {
      const seconds = chinaDateTimeToSeconds(raw);
      if (seconds === undefined) throw new Error(t("rq.needTime", { field: t(field.label) }));
      out[field.name] = seconds;
    } else {
      const lines = raw
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "");
      if (field.name === "dutyTypeIds") out[field.name] = lines.map(dutyTypeId).sort();
      else if (field.name === "items")
        out[field.name] = lines.map((l) =>
          l.startsWith("catalog:")
            ? { catalogItem: l.slice("catalog:".length) }
            : { dutyTypeId: dutyTypeId(l.slice(0, l.lastIndexOf("."))), field: l.slice(l.lastIndexOf(".") + 1) },
        );
      else out[field.name] = lines;
    }
  }
  return out;
}

async function send(state: RequestsState): Promise<void> {
  state.formError = "";
  const key = state.signing.key;
  if (!key) state.formError = t("ws.needUnlock");
  else if (!state.unit.trim()) state.formError = t("ws.needUnit");
  if (state.formError || !key) return state.rerender();
  state.sending = true;
  state.rerender();
  try {
    const info = (await requestOk<GatewayInfo>("/v1/info")).body;
    const salt = new Uint8Array(32);
    crypto.getRandomValues(salt);
    const envelope = {
      version: 1,
      logId: info.logId,
      unitId: unitIdOf(state.unit),
      department: state.department.trim(),
      inspector: key.address.toLowerCase(),
      issuedAt: Math.floor(Date.now() / 1000),
      salt: bytesToHex(salt),
      kind: state.kind,
      ...(await envelopeFields(state)),
    } as RequestEnvelope;
    const signature = key.sign(
      requestTypedDataDigest(eip712Domain(info.chainId, info.contracts.DutyLedger), requestMessageOf(envelope)),
    );
    const { status, body } = await request<RequestResult & { detail?: string }>("/v1/requests", {
      body: { request: envelope, signature },
    });
    if (status >= 400) throw new Error(String(body.detail ?? status));
    rememberUnitName(state.unit);
    state.results = [body, ...state.results.filter((r) => r.requestId !== body.requestId)].slice(0, 10);
  } catch (error) {
    state.formError = errorText(error);
  } finally {
    state.sending = false;
    state.rerender();
  }
}

async function loadUnit(state: RequestsState, token: string): Promise<void> {
  rememberToken(token);
  state.unitError = "";
  try {
    state.unitView = (await requestOk<UnitRequests>(`/v1/units/${unitIdOf(state.unitQuery)}/requests`, { token })).body;
  } catch (error) {
    state.unitView = null;
    state.unitError = errorText(error);
  }
  state.rerender();
}

function fieldInput(state: RequestsState, field: FieldSpec): Child {
  const id = `rq-${field.name}`;
  const key = `${state.kind}.${field.name}`;
  const common = { id, value: state.values[key] ?? "", oninput: bindValue((v) => (state.values[key] = v)) };
  const input =
    field.kind === "lines"
      ? h("textarea", { ...common, rows: 3 })
      : h("input", {
          ...common,
          type: field.kind === "number" ? "number" : field.kind === "time" ? "datetime-local" : "text",
        });
  if (field.kind === "lines") (input as HTMLTextAreaElement).value = state.values[key] ?? "";
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, t(field.label)),
    input,
    field.hint ? h("span", { class: "hint" }, t(field.hint)) : null,
  );
}

function resultItem(r: RequestResult): Child {
  const o = r.outcome;
  const bad = o.decision === "refused";
  return h(
    "li",
    { class: `notice ${bad ? "notice-error" : "notice-info"}`, "data-request-id": r.requestId },
    h("strong", { class: "rq-decision" }, `${t(`live.kind.${r.request.kind}` as MessageKey)} · ${o.decision}`),
    h("div", { class: "rq-reason" }, `${o.reasonCode}: ${o.reason}`),
    o.mergedWith ? h("div", { class: "rq-merged" }, t("rq.mergedWith", { id: o.mergedWith.slice(0, 12) })) : null,
    o.leadDepartment ? h("div", { class: "rq-lead" }, t("rq.lead", { department: o.leadDepartment })) : null,
    o.answered?.length
      ? h(
          "ul",
          { class: "rq-answered" },
          o.answered.map((a) => h("li", null, t("rq.answeredItem", { item: a.item, n: a.records }))),
        )
      : null,
    o.missing?.length ? h("div", { class: "rq-missing" }, t("rq.missing", { items: o.missing.join(", ") })) : null,
  );
}

function unitSection(state: RequestsState): Child {
  const token = h("input", { id: "rq-unit-token", type: "password", autocomplete: "off", value: sessionToken() });
  const view = state.unitView;
  return h(
    "section",
    { class: "panel" },
    h("h2", null, t("rq.unitTitle")),
    h(
      "form",
      {
        class: "form-row",
        onsubmit: (event: Event) => {
          event.preventDefault();
          void loadUnit(state, token.value.trim());
        },
      },
      h("div", { class: "field" }, h("label", { for: "rq-unit-token" }, t("tl.token")), token),
      h(
        "div",
        { class: "field" },
        h("label", { for: "rq-unit-query" }, t("db.unit")),
        h("input", {
          id: "rq-unit-query",
          value: state.unitQuery,
          list: "unit-directory",
          oninput: bindValue((v) => (state.unitQuery = v)),
        }),
      ),
      h(
        "div",
        { class: "field-actions" },
        h("button", { type: "submit", class: "button", id: "rq-unit-load" }, t("common.search")),
      ),
    ),
    state.unitError ? h("div", { class: "notice notice-error", role: "alert" }, state.unitError) : null,
    view
      ? h(
          "div",
          { id: "rq-unit-view" },
          h("h3", null, t("rq.tasks", { n: view.tasks.length })),
          h(
            "ul",
            { id: "rq-tasks" },
            view.tasks.map((task) =>
              h(
                "li",
                null,
                `${t(`live.kind.${task.kind}` as MessageKey)} · ${task.department} · ${formatTime(task.decidedAt)}`,
              ),
            ),
          ),
          h("h3", null, t("rq.combined", { n: view.mergedMeetings.length })),
          h(
            "ul",
            { id: "rq-merged-meetings" },
            view.mergedMeetings.map((m) => h("li", null, m.departments.join(" + "))),
          ),
          h("h3", null, t("rq.joint", { n: view.jointVisits.length })),
          h(
            "ul",
            { id: "rq-joint-visits" },
            view.jointVisits.map((m) => h("li", null, m.departments.join(" + "))),
          ),
          view.conflicts.length
            ? h(
                "div",
                { class: "notice notice-error", role: "alert" },
                view.conflicts.map((c) => h("div", null, `${c.department} ↔ ${c.otherDepartment}: ${c.item}`)),
              )
            : null,
        )
      : null,
  );
}

export const requestsPage: Page<RequestsState> = {
  path: "requests",
  label: "nav.requests",
  createState: () => ({
    rerender: notMounted,
    kind: "meeting",
    department: "",
    unit: "",
    values: {},
    signing: emptyKeySlot(),
    sending: false,
    formError: "",
    results: [],
    unitQuery: "",
    unitView: null,
    unitError: "",
  }),
  mount: (main, state) => {
    const render = () => {
      replace(
        main,
        h("h1", null, t("rq.title")),
        h("p", { class: "intro" }, t("rq.intro")),
        h(
          "section",
          { class: "panel" },
          keyPanel(state.signing, {
            prefix: "rq",
            keystoreLabel: t("dm.keystore"),
            fields: [
              h(
                "div",
                { class: "field" },
                h("label", { for: "rq-department" }, t("dm.department")),
                h("input", {
                  id: "rq-department",
                  value: state.department,
                  oninput: bindValue((v) => (state.department = v)),
                }),
              ),
            ],
            holder: () => state.department,
            check: () => (state.department.trim() ? "" : t("rq.needDepartment")),
            rerender: () => state.rerender(),
          }),
          h(
            "form",
            {
              class: "form-grid",
              id: "rq-form",
              onsubmit: (event: Event) => {
                event.preventDefault();
                void send(state);
              },
            },
            h(
              "div",
              { class: "field" },
              h("label", { for: "rq-kind" }, t("rq.kind")),
              h(
                "select",
                {
                  id: "rq-kind",
                  onchange: bindValue((v) => {
                    state.kind = v as RequestKind;
                    state.rerender();
                  }),
                },
                KINDS.map((k) =>
                  h("option", { value: k, selected: k === state.kind }, t(`live.kind.${k}` as MessageKey)),
                ),
              ),
            ),
            h(
              "div",
              { class: "field" },
              h("label", { for: "rq-unit" }, t("rq.unit")),
              h("input", {
                id: "rq-unit",
                value: state.unit,
                list: "unit-directory",
                oninput: bindValue((v) => (state.unit = v)),
              }),
              unitSuggestions(),
            ),
            FIELDS[state.kind].map((field) => fieldInput(state, field)),
            state.formError
              ? h("div", { class: "notice notice-error", role: "alert", id: "rq-error" }, state.formError)
              : null,
            h(
              "div",
              { class: "field-actions" },
              h("button", { type: "submit", class: "button", id: "rq-send", disabled: state.sending }, t("rq.send")),
            ),
          ),
          h("ul", { class: "rq-results", id: "rq-results" }, state.results.map(resultItem)),
        ),
        unitSection(state),
      );
    };
    state.rerender = render;
    render();
    return () => {
      state.rerender = notMounted;
    };
  },
};
