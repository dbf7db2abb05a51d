/**
 * 核验 Verify: a file (receipt, record with receipt, export bundle) dropped or chosen, or a hash
 * or record id pasted. A big verdict first, then the details and every check, with the CLI's
 * reason texts; a report to download or print.
 */
import { reasonText } from "../../../server/core/verifier.ts";
import { type DutyTypeEntry, dutyTypes, errorText, request } from "../api.ts";
import { type Child, download, h, readFileBytes, replace } from "../dom.ts";
import { chinaDateTimeInput, formatTime, shortHash } from "../format.ts";
import { type HashMethod, sha256Hex } from "../hash.ts";
import { type MessageKey, language, localTitle, t, valueText } from "../i18n.ts";
import { type Page, type Redraw, notMounted, stateOf } from "../page.ts";
import { loadUnitNames, unitNameOf } from "../units.ts";
import {
  type ItemResult,
  type VerificationResult,
  gatewayFacts,
  gatewayTrust,
  loadRecover,
  verifyDocument,
} from "../verification.ts";
import {
  gatewayCheckpoints,
  pageWitnessPolicy,
  witnessList,
  witnessPolicyPanel,
  witnessReportLines,
} from "../witnessPolicy.ts";

type Source =
  | { kind: "file"; name: string; sha256: string; method: HashMethod }
  | { kind: "hash"; hash: string }
  | { kind: "paste" };

type Outcome =
  | VerificationResult
  | { kind: "notFound"; hash: string }
  | { kind: "pending"; leafIndex: number }
  | { kind: "error"; message: string };

/** One verification: what was verified, its outcome and when. */
interface Verification {
  source: Source;
  outcome: Outcome;
  verifiedAt: number;
}

/** The verify page's state: the text pasted, the last verification and the catalog it named. */
interface VerifyState extends Redraw {
  pasted: string;
  busy: boolean;
  shown: Verification | null;
  catalog: DutyTypeEntry[];
}

const MAX_FILE_BYTES = 50 * 1024 * 1024;

/** Verifies evidence another page holds (the workstation's receipt, a timeline entry). */
export function verifyFromElsewhere(evidence: unknown, label: string): void {
  const state = stateOf(verifyPage);
  state.pasted = "";
  state.shown = null;
  location.hash = "#/verify";
  void run(state, { kind: "file", name: label, sha256: "", method: "purejs" }, async () => evidence);
}

async function run(state: VerifyState, source: Source, load: () => Promise<unknown>): Promise<void> {
  state.busy = true;
  state.rerender();
  let outcome: Outcome;
  try {
    state.catalog = await dutyTypes().catch(() => state.catalog);
    await loadUnitNames();
    const raw = await load();
    if (raw === undefined) return;
    outcome = await verifyDocument(raw, gatewayFacts(), await loadRecover(), await gatewayTrust(), {
      policy: pageWitnessPolicy(),
      source: gatewayCheckpoints,
    });
  } catch (error) {
    outcome =
      error instanceof LocalError
        ? { kind: "error", message: error.message }
        : { kind: "error", message: errorText(error) };
  } finally {
    state.busy = false;
  }
  state.shown = { source, outcome, verifiedAt: Math.floor(Date.now() / 1000) };
  state.rerender();
  document.getElementById("verdict")?.focus();
}

/** An input problem found here, before anything is asked of the gateway. */
class LocalError extends Error {}

async function verifyFile(state: VerifyState, file: File): Promise<void> {
  if (file.size > MAX_FILE_BYTES) {
    state.shown = {
      source: { kind: "paste" },
      outcome: { kind: "error", message: t("verify.tooLarge") },
      verifiedAt: 0,
    };
    state.rerender();
    return;
  }
  const bytes = await readFileBytes(file);
  const { hex, method } = await sha256Hex(bytes);
  await run(state, { kind: "file", name: file.name, sha256: hex, method }, async () => {
    try {
      return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    } catch {
      throw new LocalError(t("verify.notJson"));
    }
  });
}

async function verifyPasted(state: VerifyState): Promise<void> {
  const text = state.pasted.trim();
  if (/^0x[0-9a-fA-F]{64}$/.test(text)) {
    const hash = text.toLowerCase();
    await run(state, { kind: "hash", hash }, async () => {
      const { status, body } = await request<Record<string, unknown>>(`/v1/receipts/${hash}`);
      if (status === 404) {
        state.shown = { source: { kind: "hash", hash }, outcome: { kind: "notFound", hash }, verifiedAt: now() };
        return undefined;
      }
      if (status === 202) {
        state.shown = {
          source: { kind: "hash", hash },
          outcome: { kind: "pending", leafIndex: Number(body.leafIndex) },
          verifiedAt: now(),
        };
        return undefined;
      }
      if (status >= 400) throw new LocalError(String(body.detail ?? `HTTP ${status}`));
      // A leaf hash learns only where the leaf was anchored; the record needs its record id.
      if (body.recordId === undefined)
        throw new LocalError(
          t("verify.leafOnly", { leafIndex: String(body.leafIndex), treeSize: String(body.treeSize) }),
        );
      return body;
    });
    state.busy = false;
    state.rerender();
    return;
  }
  if (text.startsWith("{")) {
    await run(state, { kind: "paste" }, async () => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new LocalError(t("verify.notJson"));
      }
    });
    return;
  }
  state.shown = { source: { kind: "paste" }, outcome: { kind: "error", message: t("verify.badInput") }, verifiedAt: 0 };
  state.rerender();
}

const now = () => Math.floor(Date.now() / 1000);

export const verifyPage: Page<VerifyState> = {
  path: "verify",
  label: "nav.verify",
  createState: () => ({ rerender: notMounted, pasted: "", busy: false, shown: null, catalog: [] }),
  mount: (main, state) => {
    const results = h("section", { class: "results", "aria-live": "polite", "aria-busy": "false" });
    const fileInput = h("input", {
      type: "file",
      id: "verify-file",
      class: "visually-hidden",
      accept: ".json,application/json",
      onchange: () => {
        const file = fileInput.files?.[0];
        if (file) void verifyFile(state, file);
        fileInput.value = "";
      },
    });
    const dropzone = h(
      "div",
      {
        class: "dropzone",
        id: "dropzone",
        ondragover: (event: DragEvent) => {
          event.preventDefault();
          dropzone.classList.add("is-over");
        },
        ondragleave: () => dropzone.classList.remove("is-over"),
        ondrop: (event: DragEvent) => {
          event.preventDefault();
          dropzone.classList.remove("is-over");
          const file = event.dataTransfer?.files?.[0];
          if (file) void verifyFile(state, file);
        },
      },
      h("div", { class: "dropzone-icon", "aria-hidden": "true" }, "⇩"),
      h(
        "p",
        null,
        t("verify.drop"),
        " ",
        fileInput,
        h(
          "label",
          { for: "verify-file", class: "button button-secondary", tabindex: "0", onkeydown: openOnKey },
          t("verify.choose"),
        ),
      ),
      h("p", { class: "hint" }, t("verify.dropHint")),
    );
    function openOnKey(event: KeyboardEvent): void {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        fileInput.click();
      }
    }
    const pasteArea = h("textarea", {
      id: "verify-paste",
      rows: "2",
      spellcheck: "false",
      placeholder: t("verify.pastePlaceholder"),
      value: state.pasted,
      oninput: () => (state.pasted = pasteArea.value),
      onkeydown: (event: KeyboardEvent) => {
        if (event.key === "Enter" && !event.shiftKey && pasteArea.value.trim().startsWith("0x")) {
          event.preventDefault();
          void verifyPasted(state);
        }
      },
    });
    const form = h(
      "form",
      {
        class: "paste-form",
        onsubmit: (event: Event) => {
          event.preventDefault();
          void verifyPasted(state);
        },
      },
      h("label", { for: "verify-paste" }, t("verify.pasteLabel")),
      h(
        "div",
        { class: "inline-field" },
        pasteArea,
        h("button", { type: "submit", class: "button", id: "verify-submit" }, t("verify.submit")),
      ),
    );

    const render = () => {
      results.setAttribute("aria-busy", String(state.busy));
      if (state.busy) {
        replace(
          results,
          h(
            "div",
            { class: "verdict verdict-working" },
            h("span", { class: "spinner", "aria-hidden": "true" }),
            t("verify.working"),
          ),
        );
        return;
      }
      replace(results, state.shown ? renderVerification(state.shown, state.catalog) : null);
    };
    state.rerender = render;
    replace(
      main,
      h("h1", null, t("verify.title")),
      h("p", { class: "intro" }, t("verify.intro")),
      h("div", { class: "verify-inputs" }, dropzone, form),
      witnessPolicyPanel(),
      results,
    );
    render();
    return () => {
      state.rerender = notMounted;
    };
  },
};

function renderVerification(s: Verification, catalog: DutyTypeEntry[]): Child {
  const o = s.outcome;
  switch (o.kind) {
    case "error":
      return h(
        "div",
        { class: "verdict verdict-error", id: "verdict", tabindex: "-1", role: "alert" },
        h("p", { class: "verdict-detail" }, o.message),
      );
    case "notFound":
      return verdictBox("invalid", t("verify.notFound"), t("verify.notFoundDetail"), [sourceLine(s.source)]);
    case "pending":
      return verdictBox("pending", t("verify.pending"), t("verify.pendingDetail", { leaf: o.leafIndex }), [
        sourceLine(s.source),
      ]);
    case "unreadable":
      return verdictBox("invalid", t("verify.invalid"), t("verify.unreadable"), [sourceLine(s.source)]);
    case "single": {
      const { verdict } = o.item;
      const detail = verdict.valid
        ? verdict.recordChecked
          ? t("verify.validDetail")
          : t("verify.validReceiptOnly")
        : reasonOf(verdict.reason);
      return [
        verdictBox(
          verdict.valid ? "valid" : "invalid",
          verdict.valid ? t("verify.valid") : t("verify.invalid"),
          detail,
          [sourceLine(s.source)],
        ),
        reportButtons(s, catalog),
        itemDetails(o.item, s.source, catalog),
      ];
    }
    case "bundle": {
      const failed = o.items.filter((i) => !i.verdict.valid);
      const valid = failed.length === 0 && o.items.length > 0;
      const detail =
        o.items.length === 0
          ? t("verify.bundleEmpty")
          : valid
            ? t("verify.bundleValid", { count: o.items.length, pending: o.bundle.pending })
            : t("verify.bundleInvalid", { count: o.items.length, failed: failed.length });
      return [
        verdictBox(valid ? "valid" : "invalid", valid ? t("verify.valid") : t("verify.invalid"), detail, [
          sourceLine(s.source),
        ]),
        reportButtons(s, catalog),
        h("h2", null, t("verify.records")),
        h(
          "div",
          { class: "bundle-list" },
          // Failures first: they are what an inspector came for.
          [...failed, ...o.items.filter((i) => i.verdict.valid)].map((item) =>
            h(
              "details",
              {
                class: `bundle-item ${item.verdict.valid ? "is-valid" : "is-invalid"}`,
                open: !item.verdict.valid && failed.length <= 3,
              },
              h(
                "summary",
                null,
                h(
                  "span",
                  { class: `badge ${item.verdict.valid ? "badge-ok" : "badge-bad"}` },
                  item.verdict.valid ? t("verify.valid") : t("verify.invalid"),
                ),
                h("span", { class: "bundle-item-type" }, dutyTypeTitle(catalog, item.evidence.receipt.dutyTypeId)),
                h("span", { class: "bundle-item-time" }, formatTime(item.evidence.receipt.performedAt)),
                h("code", { class: "hash" }, shortHash(item.evidence.receipt.recordId)),
                item.verdict.valid ? null : h("span", { class: "bundle-item-reason" }, reasonOf(item.verdict.reason)),
              ),
              itemDetails(item, null, catalog),
            ),
          ),
        ),
      ];
    }
  }
}

function verdictBox(kind: "valid" | "invalid" | "pending", title: string, detail: string, extra: Child[]): HTMLElement {
  return h(
    "div",
    { class: `verdict verdict-${kind}`, id: "verdict", tabindex: "-1", "data-verdict": kind },
    h("div", { class: "verdict-mark", "aria-hidden": "true" }, kind === "valid" ? "✓" : kind === "pending" ? "…" : "✗"),
    h(
      "div",
      { class: "verdict-body" },
      h("p", { class: "verdict-title" }, title),
      h("p", { class: "verdict-detail" }, detail),
      extra,
    ),
  );
}

function sourceLine(source: Source): Child {
  if (source.kind === "file") return h("p", { class: "verdict-source" }, `${t("verify.source")}：${source.name}`);
  if (source.kind === "hash")
    return h("p", { class: "verdict-source" }, `${t("verify.source")}：`, h("code", { class: "hash" }, source.hash));
  return null;
}

function reasonOf(reason: string | undefined): string {
  if (!reason) return "";
  return reasonText[reason]?.[language()] ?? reason;
}

function dutyTypeTitle(catalog: DutyTypeEntry[], id: string): string {
  const entry = catalog.find((d) => d.id === id);
  return entry ? localTitle(entry.title) : shortHash(id);
}

function unitLabel(unitId: string): Child {
  const name = unitNameOf(unitId);
  return name
    ? [h("span", { class: "unit-name" }, name), " ", h("code", { class: "hash" }, unitId)]
    : h("code", { class: "hash" }, unitId);
}

function row(label: MessageKey, value: Child): HTMLElement {
  return h("tr", null, h("th", { scope: "row" }, t(label)), h("td", null, value));
}

function itemDetails(item: ItemResult, source: Source | null, catalog: DutyTypeEntry[]): HTMLElement {
  const { receipt: r, envelope } = item.evidence;
  const v = item.verdict;
  const code = (value: string | undefined) => (value ? h("code", { class: "hash" }, value) : "—");
  const fields = envelope ? fieldsTable(catalog, envelope.dutyTypeId, envelope.fields) : null;
  return h(
    "div",
    { class: "details-grid" },
    h(
      "section",
      { class: "panel" },
      h("h2", null, t("verify.details")),
      h(
        "table",
        { class: "kv" },
        h(
          "tbody",
          null,
          row("field.unit", unitLabel(r.unitId)),
          row("field.dutyType", dutyTypeTitle(catalog, r.dutyTypeId)),
          row("field.performedAt", formatTime(r.performedAt)),
          row("field.acceptedAt", formatTime(r.acceptedAt)),
          row("field.signer", code(r.signer)),
          row("field.record", code(r.recordId)),
          row("field.leaf", t("value.leaf", { hash: r.leafHash, index: r.leafIndex })),
          row("field.root", t("value.root", { hash: r.root, size: r.treeSize })),
          row(
            "field.checkpoint",
            t("value.checkpoint", { size: r.treeSize, time: formatTime(v.anchoredAt ?? r.anchoredAt) }),
          ),
          row("field.transaction", code(r.transactionHash)),
          row("field.block", String(v.blockNumber ?? r.blockNumber ?? "—")),
          row("field.chain", t("value.chain", { chain: r.chainId, contract: r.contract })),
          row("field.content", v.recordChecked ? t("value.contentChecked") : t("value.receiptOnly")),
          source?.kind === "file" && source.sha256
            ? row("verify.fileHash", [
                code(source.sha256),
                h(
                  "span",
                  { class: "hint" },
                  ` ${t("verify.hashedWith", { how: source.method === "webcrypto" ? t("verify.webcrypto") : t("verify.purejs") })}`,
                ),
              ])
            : null,
        ),
      ),
      fields,
    ),
    h(
      "section",
      { class: "panel" },
      h("h2", null, t("verify.checks")),
      h(
        "ul",
        { class: "checks" },
        v.checks.map((c) =>
          h(
            "li",
            { class: c.ok ? "check-ok" : "check-bad", "data-check": c.name },
            h("span", { class: "check-mark", "aria-hidden": "true" }, c.ok ? "✓" : "✗"),
            h("span", { class: "check-name" }, t(`check.${c.name}` as MessageKey)),
            h("span", { class: "visually-hidden" }, c.ok ? t("check.passed") : t("check.failed")),
            c.ok ? null : h("span", { class: "check-reason" }, reasonOf(c.reason)),
          ),
        ),
      ),
      item.witnesses ? witnessList(item.witnesses) : null,
    ),
  );
}

function fieldsTable(
  catalog: DutyTypeEntry[],
  dutyTypeId: string,
  fields: Record<string, string | number | boolean>,
): Child {
  const entry = catalog.find((d) => d.id === dutyTypeId);
  const names = Object.keys(fields);
  if (names.length === 0) return null;
  return [
    h("h3", null, t("field.fields")),
    h(
      "table",
      { class: "kv" },
      h(
        "tbody",
        null,
        names.map((name) => {
          const def = entry?.fields.find((f) => f.name === name);
          const value = fields[name];
          return h(
            "tr",
            null,
            h(
              "th",
              { scope: "row" },
              def ? localTitle(def.title) : name,
              def?.personal ? h("span", { class: "tag" }, t("common.personal")) : null,
            ),
            h(
              "td",
              null,
              typeof value === "boolean"
                ? value
                  ? t("common.yes")
                  : t("common.no")
                : def?.type === "enum"
                  ? valueText(def, String(value))
                  : String(value),
            ),
          );
        }),
      ),
    ),
  ];
}

function reportButtons(s: Verification, catalog: DutyTypeEntry[]): HTMLElement {
  // Named by the county time of the check, as everything the console shows.
  const base = `dutyproof-verification-${chinaDateTimeInput(s.verifiedAt).replace("T", "-").replace(":", "")}`;
  return h(
    "div",
    { class: "actions" },
    h(
      "button",
      {
        type: "button",
        class: "button",
        id: "report-text",
        onclick: () => download(`${base}.txt`, reportText(s, catalog), "text/plain"),
      },
      t("verify.reportText"),
    ),
    h(
      "button",
      {
        type: "button",
        class: "button button-secondary",
        id: "report-json",
        onclick: () => download(`${base}.json`, JSON.stringify(reportJson(s), null, 2) + "\n"),
      },
      t("verify.reportJson"),
    ),
    h("button", { type: "button", class: "button button-secondary", onclick: () => window.print() }, t("verify.print")),
  );
}

function itemsOf(s: Verification): ItemResult[] {
  return s.outcome.kind === "single" ? [s.outcome.item] : s.outcome.kind === "bundle" ? s.outcome.items : [];
}

function reportJson(s: Verification) {
  const items = itemsOf(s);
  return {
    report: "dutyproof/verification-report/v1",
    verifiedAt: s.verifiedAt,
    verifiedBy: "dutyproof web console (server/core/verifier.ts in the browser, chain facts through the gateway)",
    input: s.source,
    valid: items.length > 0 && items.every((i) => i.verdict.valid),
    ...(s.outcome.kind === "bundle" ? { pending: s.outcome.bundle.pending } : {}),
    results: items.map((i) => ({
      recordId: i.evidence.receipt.recordId,
      unitId: i.evidence.receipt.unitId,
      dutyTypeId: i.evidence.receipt.dutyTypeId,
      performedAt: i.evidence.receipt.performedAt,
      leafHash: i.evidence.receipt.leafHash,
      leafIndex: i.evidence.receipt.leafIndex,
      treeSize: i.evidence.receipt.treeSize,
      root: i.evidence.receipt.root,
      chainId: i.evidence.receipt.chainId,
      contract: i.evidence.receipt.contract,
      transactionHash: i.evidence.receipt.transactionHash,
      ...i.verdict,
      reasonText: i.verdict.reason ? reasonText[i.verdict.reason] : undefined,
      ...(i.witnesses ? { witnesses: i.witnesses.witnesses, witnessQuorum: i.witnesses.quorum } : {}),
    })),
  };
}

function reportText(s: Verification, catalog: DutyTypeEntry[]): string {
  const items = itemsOf(s);
  const valid = items.length > 0 && items.every((i) => i.verdict.valid);
  const lines = [
    `${t("app.title")} — ${t("verify.title")}`,
    `${t("verify.checkedAt")}: ${formatTime(s.verifiedAt)}`,
    s.source.kind === "file"
      ? `${t("verify.source")}: ${s.source.name}`
      : s.source.kind === "hash"
        ? `${t("verify.source")}: ${s.source.hash}`
        : "",
    s.source.kind === "file" && s.source.sha256 ? `${t("verify.fileHash")}: ${s.source.sha256}` : "",
    "",
    `${valid ? t("verify.valid") : t("verify.invalid")}`,
  ];
  for (const item of items) {
    const r = item.evidence.receipt;
    const v = item.verdict;
    lines.push(
      "",
      `${t("field.record")}: ${r.recordId} — ${v.valid ? t("verify.valid") : `${t("verify.invalid")}: ${reasonOf(v.reason)}`}`,
      `  ${t("field.unit")}: ${unitNameOf(r.unitId) ?? ""} ${r.unitId}`,
      `  ${t("field.dutyType")}: ${dutyTypeTitle(catalog, r.dutyTypeId)} (${r.dutyTypeId})`,
      `  ${t("field.performedAt")}: ${formatTime(r.performedAt)}`,
      `  ${t("field.signer")}: ${r.signer}`,
      `  ${t("field.leaf")}: ${t("value.leaf", { hash: r.leafHash, index: r.leafIndex })}`,
      `  ${t("field.root")}: ${t("value.root", { hash: r.root, size: r.treeSize })}`,
      `  ${t("field.checkpoint")}: ${t("value.checkpoint", { size: r.treeSize, time: formatTime(v.anchoredAt ?? r.anchoredAt) })}`,
      `  ${t("field.transaction")}: ${r.transactionHash ?? "—"}`,
      `  ${t("field.block")}: ${v.blockNumber ?? r.blockNumber ?? "—"}`,
      `  ${t("field.chain")}: ${t("value.chain", { chain: r.chainId, contract: r.contract })}`,
      `  ${t("field.content")}: ${v.recordChecked ? t("value.contentChecked") : t("value.receiptOnly")}`,
      ...v.checks.map(
        (c) => `  ${c.ok ? "✓" : "✗"} ${t(`check.${c.name}` as MessageKey)}${c.ok ? "" : `: ${reasonOf(c.reason)}`}`,
      ),
      ...(item.witnesses ? witnessReportLines(item.witnesses) : []),
    );
  }
  return lines.filter((l, i) => l !== "" || lines[i - 1] !== "").join("\n") + "\n";
}
