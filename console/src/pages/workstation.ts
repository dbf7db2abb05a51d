/**
 * 填报 Workstation: a unit fills in a duty record from its duty type's form (generated from the
 * schema document), signs it here with its encrypted keystore (the key is decrypted in this
 * browser and never sent), submits it and follows it to its anchored receipt.
 */
import { bytesToHex, hexToBytes } from "../../../server/core/bytes.ts";
import { validateFields } from "../../../server/core/dutyType.ts";
import { eip712Domain, typedDataDigest } from "../../../server/core/eip712.ts";
import { smSigningBytes } from "../../../server/core/smSuite.ts";
import { type RecordEnvelope, signedMessageOf } from "../../../server/core/record.ts";
import {
  ApiError,
  type DutyTypeEntry,
  type FieldDefinition,
  type GatewayInfo,
  type ProblemAnswer,
  dutyTypes,
  errorText,
  request,
  requestOk,
} from "../api.ts";
import { type Child, download, h, replace } from "../dom.ts";
import { chinaDateTimeInput, chinaDateTimeToSeconds, formatTime, shortHash } from "../format.ts";
import { localTitle, t, valueText } from "../i18n.ts";
import { type KeySlot, emptyKeySlot, keyPanel } from "../keystore.ts";
import { type Page, type Redraw, notMounted, stateOf } from "../page.ts";
import { loadUnitNames, rememberUnitName, unitIdOf, unitNameOf, unitSuggestions } from "../units.ts";
import { verifyFromElsewhere } from "./verify.ts";

type Values = Record<string, string | boolean>;

interface Submission {
  envelope: RecordEnvelope;
  signature: string;
  recordId: string;
  leafIndex?: number;
  duplicate?: boolean;
  receipt?: Record<string, unknown>;
  error?: string;
  slow?: boolean;
}

/** The workstation's state: the key in memory only, the form as entered, the last submission. */
interface WorkstationState extends Redraw {
  signing: KeySlot;
  unitInput: string;
  dutyTypeId: string;
  /** A datetime-local value, read as UTC+8. */
  performedAt: string;
  values: Values;
  fieldIssues: Record<string, string>;
  formError: string;
  submitting: boolean;
  submission: Submission | null;
  answering: { demandId: string; unitId: string } | null;
  pollTimer: ReturnType<typeof setTimeout> | null;
}

const nowInCounty = () => chinaDateTimeInput(Math.floor(Date.now() / 1000));

function collectFields(entry: DutyTypeEntry, values: Values): Record<string, string | number | boolean> {
  const fields: Record<string, string | number | boolean> = {};
  for (const f of entry.fields) {
    const value = values[f.name];
    if (f.type === "boolean") {
      fields[f.name] = value === true;
      continue;
    }
    if (typeof value !== "string" || value.trim() === "") continue;
    // A decimal goes as a string: JSON numbers in a record are integers (docs/protocol.md §3).
    const number = Number(value);
    fields[f.name] =
      f.type === "integer" || (f.type === "number" && Number.isSafeInteger(number))
        ? number
        : f.type === "number"
          ? value.trim()
          : f.type === "string"
            ? value.trim()
            : value;
  }
  return fields;
}

/** Opens the workstation to answer an evidence demand: the record will name the demand. */
export function answerDemand(demand: { demandId: string; unitId: string; dutyTypeIds: string[] }): void {
  const state = stateOf(workstationPage);
  state.answering = { demandId: demand.demandId, unitId: demand.unitId };
  state.dutyTypeId = demand.dutyTypeIds[0] ?? "";
  state.values = {};
  state.fieldIssues = {};
  state.submission = null;
  location.hash = "#/workstation";
}

/** The core's English field messages, said in the user's language. */
function localIssue(message: string): string {
  let m: RegExpMatchArray | null;
  if (message === "required") return t("fieldError.required");
  if (message === "must not be empty") return t("fieldError.notEmpty");
  if ((m = message.match(/^must be at most (\d+) characters$/))) return t("fieldError.maxLength", { n: m[1]! });
  if (message === "must be a number") return t("fieldError.number");
  if (message === "must be an integer") return t("fieldError.integer");
  if ((m = message.match(/^must be at least (.+)$/))) return t("fieldError.min", { n: m[1]! });
  if ((m = message.match(/^must be at most (.+)$/))) return t("fieldError.max", { n: m[1]! });
  if (message.startsWith("must be a date")) return t("fieldError.date");
  if (message.startsWith("must be one of")) return t("fieldError.enum");
  return message;
}

async function submit(state: WorkstationState): Promise<void> {
  state.formError = "";
  state.fieldIssues = {};
  const catalog = await dutyTypes();
  const entry = catalog.find((d) => d.id === state.dutyTypeId);
  const key = state.signing.key;
  if (!key) state.formError = t("ws.needUnlock");
  else if (!entry) state.fieldIssues.dutyType = t("fieldError.required");
  if (state.formError || !entry || !key) return state.rerender();
  const fields = collectFields(entry, state.values);
  // The catalog entry is the schema document plus its id; the core's field rules read the former.
  for (const issue of validateFields(entry, fields)) {
    state.fieldIssues[issue.path.replace(/^fields\./, "")] = localIssue(issue.message);
  }
  // The time is the county's (UTC+8) whatever time zone this browser is set to.
  const performedAt = chinaDateTimeToSeconds(state.performedAt);
  if (performedAt === undefined) state.fieldIssues.performedAt = t("fieldError.date");
  if (Object.keys(state.fieldIssues).length > 0) {
    state.formError = t("ws.fixFields");
    state.rerender();
    document.querySelector<HTMLElement>("[aria-invalid=true]")?.focus();
    return;
  }
  state.submitting = true;
  state.rerender();
  try {
    const info = (await requestOk<GatewayInfo>("/v1/info")).body;
    const salt = new Uint8Array(32);
    crypto.getRandomValues(salt);
    const unitId = unitIdOf(state.unitInput);
    // Version 2: the signature binds this gateway's log, so no other gateway takes the record.
    const envelope: RecordEnvelope = {
      version: 2,
      logId: info.logId,
      unitId,
      dutyTypeId: entry.id,
      performedAt: performedAt!,
      fields,
      salt: bytesToHex(salt),
      ...(state.answering && state.answering.unitId === unitId ? { demandId: state.answering.demandId } : {}),
      // An SM2 key signs records of the 国密 suite, whose digest is SM3.
      ...(key.suite ? { suite: key.suite } : {}),
    };
    const message = signedMessageOf(envelope);
    const signature = key.signSm
      ? key.signSm(
          smSigningBytes(
            { ...envelope, logId: info.logId, chainId: info.chainId, contract: info.contracts.DutyLedger },
            hexToBytes(message.recordDigest),
          ),
        )
      : key.sign(typedDataDigest(eip712Domain(info.chainId, info.contracts.DutyLedger), message));
    const submission: Submission = { envelope, signature, recordId: message.recordDigest };
    state.submission = submission;
    const { status, body } = await request<Record<string, unknown>>("/v1/attestations", {
      body: { envelope, signature },
    });
    if (status >= 400) {
      const problem = { status, ...body } as ProblemAnswer;
      for (const e of (problem.errors as Array<{ path: string; message: string }> | undefined) ?? []) {
        const name = e.path.replace(/^envelope\.fields\./, "");
        if (entry.fields.some((f) => f.name === name)) state.fieldIssues[name] = localIssue(e.message);
      }
      state.submission = null;
      state.formError = errorText(new ApiError("problem", String(body.detail ?? status), problem));
      return;
    }
    submission.leafIndex = Number(body.leafIndex);
    if (envelope.demandId) state.answering = null;
    submission.duplicate = body.duplicate === true;
    void pollReceipt(state, submission, Date.now());
  } catch (error) {
    state.submission = null;
    state.formError = errorText(error);
  } finally {
    state.submitting = false;
    state.rerender();
  }
}

async function pollReceipt(state: WorkstationState, target: Submission, started: number): Promise<void> {
  if (state.submission !== target) return;
  try {
    const { status, body } = await request<Record<string, unknown>>(`/v1/attestations/${target.recordId}/receipt`);
    if (status === 200) {
      target.receipt = body;
      state.rerender();
      return;
    }
  } catch {
    // the gateway may restart; keep asking
  }
  if (Date.now() - started > 60_000 && !target.slow) {
    target.slow = true;
    state.rerender();
  }
  state.pollTimer = setTimeout(() => void pollReceipt(state, target, started), 1000);
}

export const workstationPage: Page<WorkstationState> = {
  path: "workstation",
  label: "nav.workstation",
  createState: () => ({
    rerender: notMounted,
    signing: emptyKeySlot(),
    unitInput: "",
    dutyTypeId: "",
    performedAt: nowInCounty(),
    values: {},
    fieldIssues: {},
    formError: "",
    submitting: false,
    submission: null,
    answering: null,
    pollTimer: null,
  }),
  mount: (main, state) => {
    const keySection = h("section", { class: "panel", "aria-labelledby": "ws-key" });
    const formSection = h("section", { class: "panel", "aria-labelledby": "ws-form" });
    const receiptSection = h("section", {
      class: "panel receipt-panel",
      "aria-labelledby": "ws-receipt",
      "aria-live": "polite",
    });
    let catalog: DutyTypeEntry[] | null = null;
    let catalogError = "";
    const render = () => {
      replace(keySection, renderKeySection(state));
      replace(formSection, renderForm(state, catalog, catalogError));
      replace(receiptSection, renderReceipt(state));
    };
    state.rerender = render;
    replace(
      main,
      h("h1", null, t("ws.title")),
      h("p", { class: "intro" }, t("ws.intro")),
      h(
        "div",
        { class: "workstation" },
        h("div", { class: "workstation-main" }, keySection, formSection),
        receiptSection,
      ),
    );
    render();
    void loadUnitNames().then(() => state.rerender());
    dutyTypes().then(
      (list) => {
        catalog = list;
        state.rerender();
      },
      (error: unknown) => {
        catalogError = errorText(error);
        state.rerender();
      },
    );
    return () => {
      state.rerender = notMounted;
    };
  },
};

function renderKeySection(state: WorkstationState): Child {
  return [
    h("h2", { id: "ws-key" }, t("ws.keySection")),
    keyPanel(state.signing, {
      prefix: "ws",
      keystoreLabel: t("ws.keystore"),
      holder: () => unitNameOf(unitIdOf(state.unitInput)) ?? state.unitInput,
      check: () => (state.unitInput.trim() ? "" : t("ws.needUnit")),
      onUnlocked: () => rememberUnitName(state.unitInput),
      rerender: () => state.rerender(),
      fields: h(
        "div",
        { class: "field" },
        h("label", { for: "ws-unit" }, t("ws.unit")),
        h("input", {
          id: "ws-unit",
          type: "text",
          value: state.unitInput,
          autocomplete: "off",
          spellcheck: "false",
          list: "unit-directory",
          oninput: (e: Event) => (state.unitInput = (e.target as HTMLInputElement).value),
        }),
        unitSuggestions(),
        h("p", { class: "hint" }, t("ws.unitHint")),
      ),
    }),
  ];
}

function renderForm(state: WorkstationState, catalog: DutyTypeEntry[] | null, catalogError: string): Child {
  const title = h("h2", { id: "ws-form" }, t("ws.formSection"));
  if (catalogError) return [title, h("p", { class: "error-text", role: "alert" }, catalogError)];
  if (!catalog) return [title, h("p", { class: "muted" }, t("common.loading"))];
  const entry = catalog.find((d) => d.id === state.dutyTypeId);
  const { fieldIssues } = state;
  return [
    title,
    state.answering
      ? h(
          "p",
          { class: "notice notice-info", id: "ws-answering" },
          t("ws.answering", { id: shortHash(state.answering.demandId) }),
          " ",
          h(
            "button",
            {
              type: "button",
              class: "button button-link",
              onclick: () => {
                state.answering = null;
                state.rerender();
              },
            },
            t("ws.notAnswering"),
          ),
        )
      : null,
    h(
      "form",
      {
        class: "form-grid",
        id: "ws-record-form",
        novalidate: true,
        onsubmit: (event: Event) => {
          event.preventDefault();
          void submit(state);
        },
      },
      fieldWrapper(
        "ws-dutyType",
        t("ws.dutyType"),
        true,
        false,
        h(
          "select",
          {
            id: "ws-dutyType",
            "aria-invalid": fieldIssues.dutyType ? "true" : false,
            onchange: (e: Event) => {
              state.dutyTypeId = (e.target as HTMLSelectElement).value;
              state.values = {};
              state.fieldIssues = {};
              state.rerender();
              document.getElementById("ws-dutyType")?.focus();
            },
          },
          h("option", { value: "" }, t("ws.choose")),
          catalog.map((d) => h("option", { value: d.id, selected: d.id === state.dutyTypeId }, localTitle(d.title))),
        ),
        fieldIssues.dutyType,
      ),
      fieldWrapper(
        "ws-performedAt",
        t("ws.performedAt"),
        true,
        false,
        h("input", {
          id: "ws-performedAt",
          type: "datetime-local",
          value: state.performedAt,
          "aria-invalid": fieldIssues.performedAt ? "true" : false,
          "aria-describedby": "ws-performedAt-zone",
          oninput: (e: Event) => (state.performedAt = (e.target as HTMLInputElement).value),
        }),
        fieldIssues.performedAt,
        false,
        h("p", { class: "hint", id: "ws-performedAt-zone" }, t("ws.countyTime")),
      ),
      entry ? entry.fields.map((f) => fieldControl(state, f)) : null,
      entry && entry.fields.some((f) => f.personal) ? h("p", { class: "hint form-wide" }, t("ws.personalNote")) : null,
      h(
        "div",
        { class: "form-wide field-actions" },
        h(
          "button",
          { type: "submit", class: "button", id: "ws-submit", disabled: state.submitting || !state.signing.key },
          t("ws.submit"),
        ),
        !state.signing.key ? h("span", { class: "hint" }, t("ws.needUnlock")) : null,
        state.formError ? h("p", { class: "error-text", role: "alert", id: "ws-error" }, state.formError) : null,
      ),
    ),
  ];
}

function fieldWrapper(
  id: string,
  label: string,
  required: boolean,
  personal: boolean,
  control: HTMLElement,
  issue: string | undefined,
  wide = false,
  hint: Child = null,
): HTMLElement {
  return h(
    "div",
    { class: `field${wide ? " form-wide" : ""}${issue ? " has-error" : ""}` },
    h(
      "label",
      { for: id },
      label,
      required ? h("span", { class: "required", title: t("common.required") }, " *") : null,
      personal ? h("span", { class: "tag" }, t("common.personal")) : null,
    ),
    control,
    hint,
    issue ? h("p", { class: "error-text", id: `${id}-error` }, issue) : null,
  );
}

function fieldControl(state: WorkstationState, f: FieldDefinition): HTMLElement {
  const id = `ws-f-${f.name}`;
  const issue = state.fieldIssues[f.name];
  const current = state.values[f.name];
  const common = {
    id,
    name: f.name,
    "aria-invalid": issue ? "true" : false,
    "aria-describedby": issue ? `${id}-error` : false,
    required: f.required,
  };
  const onInput = (e: Event) => {
    const target = e.target as HTMLInputElement;
    state.values[f.name] = target.type === "checkbox" ? target.checked : target.value;
  };
  let control: HTMLElement;
  switch (f.type) {
    case "text":
      control = h("textarea", {
        ...common,
        rows: "3",
        maxlength: f.maxLength ?? 4000,
        value: String(current ?? ""),
        oninput: onInput,
      });
      break;
    case "integer":
    case "number":
      control = h("input", {
        ...common,
        type: "number",
        inputmode: f.type === "integer" ? "numeric" : "decimal",
        step: f.type === "integer" ? "1" : "any",
        min: f.minimum,
        max: f.maximum,
        value: String(current ?? ""),
        oninput: onInput,
      });
      break;
    case "boolean":
      control = h(
        "span",
        { class: "checkbox" },
        h("input", { ...common, type: "checkbox", required: false, checked: current === true, onchange: onInput }),
        h("label", { for: id }, t("common.yes")),
      );
      break;
    case "date":
      control = h("input", { ...common, type: "date", value: String(current ?? ""), oninput: onInput });
      break;
    case "enum":
      control = h(
        "select",
        { ...common, onchange: onInput },
        h("option", { value: "" }, t("ws.choose")),
        (f.values ?? []).map((v) => h("option", { value: v, selected: current === v }, valueText(f, v))),
      );
      break;
    default:
      control = h("input", {
        ...common,
        type: "text",
        maxlength: f.maxLength ?? 200,
        value: String(current ?? ""),
        oninput: onInput,
      });
  }
  return fieldWrapper(id, localTitle(f.title), f.required, f.personal, control, issue, f.type === "text");
}

function renderReceipt(state: WorkstationState): Child {
  const title = h("h2", { id: "ws-receipt" }, t("ws.receiptSection"));
  const s = state.submission;
  if (!s) return [title, h("p", { class: "muted empty" }, t("ws.noReceipt"))];
  const receipt = s.receipt;
  const steps: Array<[boolean, string]> = [
    [true, t("ws.signed")],
    [s.leafIndex !== undefined, s.duplicate ? t("ws.duplicate") : t("ws.accepted", { leaf: s.leafIndex ?? "…" })],
    [receipt !== undefined, receipt ? t("ws.anchored", { block: String(receipt.blockNumber) }) : t("ws.anchoring")],
  ];
  const evidence = receipt ? { envelope: s.envelope, signature: s.signature, receipt } : null;
  return [
    title,
    h(
      "ol",
      { class: "steps", id: "ws-steps" },
      steps.map(([done, label]) =>
        h(
          "li",
          { class: done ? "step-done" : "step-waiting" },
          h("span", { class: "step-mark", "aria-hidden": "true" }, done ? "✓" : "…"),
          label,
        ),
      ),
    ),
    s.slow && !receipt ? h("p", { class: "hint" }, t("ws.anchorSlow")) : null,
    h(
      "table",
      { class: "kv" },
      h(
        "tbody",
        null,
        h(
          "tr",
          null,
          h("th", { scope: "row" }, t("field.record")),
          h("td", null, h("code", { class: "hash", id: "ws-record-id" }, s.recordId)),
        ),
        h(
          "tr",
          null,
          h("th", { scope: "row" }, t("field.performedAt")),
          h("td", null, formatTime(s.envelope.performedAt)),
        ),
        receipt
          ? [
              h(
                "tr",
                null,
                h("th", { scope: "row" }, t("field.leaf")),
                h(
                  "td",
                  null,
                  t("value.leaf", { hash: shortHash(String(receipt.leafHash)), index: String(receipt.leafIndex) }),
                ),
              ),
              h(
                "tr",
                null,
                h("th", { scope: "row" }, t("field.transaction")),
                h("td", null, h("code", { class: "hash" }, String(receipt.transactionHash ?? "—"))),
              ),
              h(
                "tr",
                null,
                h("th", { scope: "row" }, t("field.checkpoint")),
                h(
                  "td",
                  null,
                  t("value.checkpoint", {
                    size: String(receipt.treeSize),
                    time: formatTime(Number(receipt.anchoredAt)),
                  }),
                ),
              ),
            ]
          : null,
      ),
    ),
    evidence
      ? h(
          "div",
          { class: "actions" },
          h(
            "button",
            {
              type: "button",
              class: "button",
              id: "ws-download",
              onclick: () =>
                download(`dutyproof-${s.recordId.slice(2, 14)}.json`, JSON.stringify(evidence, null, 2) + "\n"),
            },
            t("ws.downloadEvidence"),
          ),
          h(
            "button",
            {
              type: "button",
              class: "button button-secondary",
              id: "ws-verify",
              onclick: () => verifyFromElsewhere(evidence, `${t("nav.workstation")} ${shortHash(s.recordId)}`),
            },
            t("ws.verifyNow"),
          ),
        )
      : null,
    h(
      "button",
      {
        type: "button",
        class: "button button-link",
        onclick: () => {
          if (state.pollTimer) clearTimeout(state.pollTimer);
          state.submission = null;
          state.values = {};
          state.performedAt = nowInCounty();
          state.rerender();
          document.getElementById("ws-dutyType")?.focus();
        },
      },
      t("ws.newRecord"),
    ),
  ];
}
