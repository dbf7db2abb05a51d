/**
 * 填报 Workstation: a unit fills in a duty record from its duty type's form (generated from the
 * schema document), signs it here with its encrypted keystore (the key is decrypted in this
 * browser and never sent), submits it and follows it to its anchored receipt.
 */
import { bytesToHex } from "../../../server/core/bytes.ts";
import { type DutyTypeDocument, validateFields } from "../../../server/core/dutyType.ts";
import { eip712Domain, typedDataDigest } from "../../../server/core/eip712.ts";
import { type RecordEnvelope, signedMessageOf } from "../../../server/core/record.ts";
import {
  ApiError,
  type DutyTypeEntry,
  type FieldDefinition,
  type GatewayInfo,
  dutyTypes,
  errorText,
  request,
  requestOk,
} from "../api.ts";
import { type Child, download, h, replace } from "../dom.ts";
import { formatTime, shortHash } from "../format.ts";
import { localTitle, t } from "../i18n.ts";
import { type UnlockedKey, unlockKeystore } from "../keystore.ts";
import type { Page } from "../page.ts";
import { rememberUnitName, unitIdOf } from "../units.ts";
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

// Page state survives a language switch (the page is re-rendered), never a reload: the key
// lives in this module's memory only.
let key: UnlockedKey | null = null;
let unitInput = "";
let keystoreFile: File | null = null;
let unlockError = "";
let unlocking = 0; // progress 0..1 while decrypting, 0 otherwise
let dutyTypeId = "";
let performedAt = "";
let values: Values = {};
let fieldIssues: Record<string, string> = {};
let formError = "";
let submitting = false;
let submission: Submission | null = null;
let answering: { demandId: string; unitId: string } | null = null;
let rerender: (() => void) | null = null;
let pollTimer: ReturnType<typeof setTimeout> | null = null;

function localDateTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

async function unlock(password: string): Promise<void> {
  unlockError = "";
  if (!unitInput.trim()) unlockError = t("ws.needUnit");
  else if (!keystoreFile) unlockError = t("ws.needKeystore");
  if (unlockError) return rerender?.();
  unlocking = 0.01;
  rerender?.();
  try {
    key = await unlockKeystore(keystoreFile!, password, (progress) => {
      unlocking = Math.max(0.01, progress);
      const bar = document.getElementById("unlock-progress") as HTMLProgressElement | null;
      if (bar) bar.value = unlocking;
    });
    rememberUnitName(unitInput);
  } catch {
    unlockError = t("ws.badKeystore");
  } finally {
    unlocking = 0;
    rerender?.();
  }
}

function collectFields(entry: DutyTypeEntry): Record<string, string | number | boolean> {
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
  answering = { demandId: demand.demandId, unitId: demand.unitId };
  dutyTypeId = demand.dutyTypeIds[0] ?? "";
  values = {};
  fieldIssues = {};
  submission = null;
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

async function submit(): Promise<void> {
  formError = "";
  fieldIssues = {};
  const catalog = await dutyTypes();
  const entry = catalog.find((d) => d.id === dutyTypeId);
  if (!key) formError = t("ws.needUnlock");
  else if (!entry) fieldIssues.dutyType = t("fieldError.required");
  if (formError || !entry || !key) return rerender?.();
  const fields = collectFields(entry);
  // The catalog entry is the schema document plus its id; the core's field rules read the former.
  for (const issue of validateFields(entry as unknown as DutyTypeDocument, fields)) {
    fieldIssues[issue.path.replace(/^fields\./, "")] = localIssue(issue.message);
  }
  const performedMs = Date.parse(performedAt);
  if (!Number.isFinite(performedMs)) fieldIssues.performedAt = t("fieldError.date");
  if (Object.keys(fieldIssues).length > 0) {
    formError = t("ws.fixFields");
    rerender?.();
    document.querySelector<HTMLElement>("[aria-invalid=true]")?.focus();
    return;
  }
  submitting = true;
  rerender?.();
  try {
    const info = (await requestOk<GatewayInfo>("/v1/info")).body;
    const salt = new Uint8Array(32);
    crypto.getRandomValues(salt);
    // Version 2: the signature binds this gateway's log, so no other gateway takes the record.
    const envelope: RecordEnvelope = {
      version: 2,
      logId: info.logId,
      unitId: unitIdOf(unitInput),
      dutyTypeId: entry.id,
      performedAt: Math.floor(performedMs / 1000),
      fields,
      salt: bytesToHex(salt),
      ...(answering && answering.unitId === unitIdOf(unitInput) ? { demandId: answering.demandId } : {}),
    };
    const message = signedMessageOf(envelope);
    const signature = key.sign(typedDataDigest(eip712Domain(info.chainId, info.contracts.DutyLedger), message));
    submission = { envelope, signature, recordId: message.recordDigest };
    const { status, body } = await request<Record<string, unknown>>("/v1/attestations", {
      body: { envelope, signature },
    });
    if (status >= 400) {
      const problem = { status, ...body } as ConstructorParameters<typeof ApiError>[2];
      for (const e of problem?.errors ?? []) {
        const name = e.path.replace(/^envelope\.fields\./, "");
        if (entry.fields.some((f) => f.name === name)) fieldIssues[name] = localIssue(e.message);
      }
      submission = null;
      formError = errorText(new ApiError("problem", String(body.detail ?? status), problem));
      return;
    }
    submission.leafIndex = Number(body.leafIndex);
    if (envelope.demandId) answering = null;
    submission.duplicate = body.duplicate === true;
    void pollReceipt(submission, Date.now());
  } catch (error) {
    submission = null;
    formError = errorText(error);
  } finally {
    submitting = false;
    rerender?.();
  }
}

async function pollReceipt(target: Submission, started: number): Promise<void> {
  if (submission !== target) return;
  try {
    const { status, body } = await request<Record<string, unknown>>(`/v1/attestations/${target.recordId}/receipt`);
    if (status === 200) {
      target.receipt = body;
      rerender?.();
      return;
    }
  } catch {
    // the gateway may restart; keep asking
  }
  if (Date.now() - started > 60_000 && !target.slow) {
    target.slow = true;
    rerender?.();
  }
  pollTimer = setTimeout(() => void pollReceipt(target, started), 1000);
}

export const workstationPage: Page = (main) => {
  if (!performedAt) performedAt = localDateTime(new Date());
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
    replace(keySection, renderKeySection());
    replace(formSection, renderForm(catalog, catalogError));
    replace(receiptSection, renderReceipt());
  };
  rerender = render;
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
  dutyTypes().then(
    (list) => {
      catalog = list;
      render();
    },
    (error: unknown) => {
      catalogError = errorText(error);
      render();
    },
  );
  return () => {
    rerender = null;
  };
};

function renderKeySection(): Child {
  const title = h("h2", { id: "ws-key" }, t("ws.keySection"));
  if (key) {
    return [
      title,
      h(
        "div",
        { class: "unlocked" },
        h("span", { class: "badge badge-ok" }, "✓"),
        h(
          "div",
          { class: "unlocked-text" },
          h("strong", { class: "unit-name" }, unitInput),
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
      ),
    ];
  }
  const password = h("input", { type: "password", id: "ws-password", autocomplete: "off", disabled: unlocking > 0 });
  return [
    title,
    h(
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
        h("label", { for: "ws-unit" }, t("ws.unit")),
        h("input", {
          id: "ws-unit",
          type: "text",
          value: unitInput,
          autocomplete: "off",
          spellcheck: "false",
          oninput: (e: Event) => (unitInput = (e.target as HTMLInputElement).value),
        }),
        h("p", { class: "hint" }, t("ws.unitHint")),
      ),
      h(
        "div",
        { class: "field" },
        h("label", { for: "ws-keystore" }, t("ws.keystore")),
        h("input", {
          id: "ws-keystore",
          type: "file",
          accept: ".json,application/json",
          onchange: (e: Event) => (keystoreFile = (e.target as HTMLInputElement).files?.[0] ?? null),
        }),
        keystoreFile ? h("p", { class: "hint" }, keystoreFile.name) : null,
      ),
      h("div", { class: "field" }, h("label", { for: "ws-password" }, t("ws.password")), password),
      h(
        "div",
        { class: "field field-actions" },
        h("button", { type: "submit", class: "button", id: "ws-unlock", disabled: unlocking > 0 }, t("ws.unlock")),
        unlocking > 0
          ? h(
              "span",
              { class: "progress-line" },
              h("progress", { id: "unlock-progress", max: "1", value: unlocking }),
              t("ws.unlocking"),
            )
          : null,
        unlockError ? h("p", { class: "error-text", role: "alert" }, unlockError) : null,
      ),
    ),
  ];
}

function renderForm(catalog: DutyTypeEntry[] | null, catalogError: string): Child {
  const title = h("h2", { id: "ws-form" }, t("ws.formSection"));
  if (catalogError) return [title, h("p", { class: "error-text", role: "alert" }, catalogError)];
  if (!catalog) return [title, h("p", { class: "muted" }, t("common.loading"))];
  const entry = catalog.find((d) => d.id === dutyTypeId);
  return [
    title,
    answering
      ? h(
          "p",
          { class: "notice notice-info", id: "ws-answering" },
          t("ws.answering", { id: shortHash(answering.demandId) }),
          " ",
          h(
            "button",
            {
              type: "button",
              class: "button button-link",
              onclick: () => {
                answering = null;
                rerender?.();
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
          void submit();
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
              dutyTypeId = (e.target as HTMLSelectElement).value;
              values = {};
              fieldIssues = {};
              rerender?.();
              document.getElementById("ws-dutyType")?.focus();
            },
          },
          h("option", { value: "" }, t("ws.choose")),
          catalog.map((d) => h("option", { value: d.id, selected: d.id === dutyTypeId }, localTitle(d.title))),
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
          value: performedAt,
          "aria-invalid": fieldIssues.performedAt ? "true" : false,
          oninput: (e: Event) => (performedAt = (e.target as HTMLInputElement).value),
        }),
        fieldIssues.performedAt,
      ),
      entry ? entry.fields.map((f) => fieldControl(f)) : null,
      entry && entry.fields.some((f) => f.personal) ? h("p", { class: "hint form-wide" }, t("ws.personalNote")) : null,
      h(
        "div",
        { class: "form-wide field-actions" },
        h("button", { type: "submit", class: "button", id: "ws-submit", disabled: submitting || !key }, t("ws.submit")),
        !key ? h("span", { class: "hint" }, t("ws.needUnlock")) : null,
        formError ? h("p", { class: "error-text", role: "alert", id: "ws-error" }, formError) : null,
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
    issue ? h("p", { class: "error-text", id: `${id}-error` }, issue) : null,
  );
}

function fieldControl(f: FieldDefinition): HTMLElement {
  const id = `ws-f-${f.name}`;
  const issue = fieldIssues[f.name];
  const current = values[f.name];
  const common = {
    id,
    name: f.name,
    "aria-invalid": issue ? "true" : false,
    "aria-describedby": issue ? `${id}-error` : false,
    required: f.required,
  };
  const onInput = (e: Event) => {
    const target = e.target as HTMLInputElement;
    values[f.name] = target.type === "checkbox" ? target.checked : target.value;
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
        (f.values ?? []).map((v) => h("option", { value: v, selected: current === v }, v)),
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

function renderReceipt(): Child {
  const title = h("h2", { id: "ws-receipt" }, t("ws.receiptSection"));
  const s = submission;
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
          if (pollTimer) clearTimeout(pollTimer);
          submission = null;
          values = {};
          performedAt = localDateTime(new Date());
          rerender?.();
          document.getElementById("ws-dutyType")?.focus();
        },
      },
      t("ws.newRecord"),
    ),
  ];
}
