/**
 * The verify page's witness policy (as `dutyproof verify --witness KEY… --quorum K`): witness
 * verifier keys and a quorum the person pastes, kept in this browser's localStorage, checked by
 * the core's `witnessPolicyOf`; and the gateway's latest cosigned checkpoint with consistency
 * proofs, read when a receipt's own note lacks the cosignatures. Without a page setting, the
 * witnesses of the gateway's trust file (if it lists any) apply.
 */
import { hexToBytes } from "../../server/core/bytes.ts";
import {
  type CheckpointSource,
  type PolicyProblem,
  type WitnessPolicy,
  witnessPolicyOf,
} from "../../server/core/witnessQuorum.ts";
import type { QuorumVerdict } from "../../server/core/witnessQuorum.ts";
import { ApiError, request } from "./api.ts";
import { type Child, h, replace } from "./dom.ts";
import { type Language, language, t } from "./i18n.ts";

/** This file's texts, [zh-CN, en], kept here so the shared message table grows by one line. */
const texts = {
  title: ["见证方策略", "Witness policy"],
  none: [
    "未设置：按网关信任文件中的见证方（如有）核验",
    "not set: the gateway's trust file's witnesses (if any) apply",
  ],
  active: [
    "已设置：须有 {quorum} 个见证方联署（共列 {count} 个）",
    "set: {quorum} of the {count} witnesses listed must cosign",
  ],
  intro: [
    "与命令行 dutyproof verify --witness … --quorum K 相同：只有当回执所在检查点带有所列见证方中至少 K 个有效联署时才判为有效。设置仅保存在本浏览器中，并取代信任文件中的见证方。",
    "As dutyproof verify --witness … --quorum K: a receipt is valid only if its checkpoint carries at least K valid cosignatures of the witnesses listed. Kept in this browser only; it replaces the trust file's witnesses.",
  ],
  keys: ["见证方验证密钥（每行一个，类型 0x04）", "Witness verifier keys (one per line, type 0x04)"],
  quorum: ["联署门槛 K（留空：全部）", "Quorum K (empty: all)"],
  save: ["保存", "Save"],
  clear: ["清除", "Clear"],
  saved: ["已保存", "Saved"],
  cleared: ["已清除", "Cleared"],
  notStored: ["本浏览器不允许保存设置", "This browser does not let the page store the setting"],
  unreadable: [
    "本浏览器中保存的见证方策略无法读取：请重新设置或清除",
    "The witness policy stored in this browser cannot be read: set it again or clear it",
  ],
  witnesses: ["见证方联署", "Witness cosignatures"],
  count: ["{count} 个有效联署，要求 {quorum} 个", "{count} valid cosignatures, {quorum} required"],
} as const satisfies Record<string, readonly [string, string]>;

function say(key: keyof typeof texts, values: Record<string, string | number> = {}): string {
  const text: string = texts[key][language() === "zh-CN" ? 0 : 1];
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(values[name] ?? ""));
}

const storageKey = "dutyproof.witnessPolicy";

/** The policy as stored: the keys as pasted (one per line) and the quorum, if one was given. */
export interface StoredWitnessPolicy {
  witnesses: string[];
  quorum?: number;
}

/** The stored setting, or null when there is none (or it was written by something else). */
export function storedWitnessPolicy(): StoredWitnessPolicy | null {
  try {
    const raw = JSON.parse(localStorage.getItem(storageKey) ?? "null") as unknown;
    if (!raw || typeof raw !== "object") return null;
    const { witnesses, quorum } = raw as { witnesses?: unknown; quorum?: unknown };
    if (!Array.isArray(witnesses) || !witnesses.every((w) => typeof w === "string")) return null;
    return { witnesses, ...(typeof quorum === "number" ? { quorum } : {}) };
  } catch {
    return null;
  }
}

/**
 * The page setting's policy; undefined when none is set. A stored setting that no longer makes a
 * policy throws: verifying as if no witnesses were asked for would pass what the person meant to
 * refuse.
 */
export function pageWitnessPolicy(): WitnessPolicy | undefined {
  let item: string | null;
  try {
    item = localStorage.getItem(storageKey);
  } catch {
    return undefined; // no storage in this browser: nothing was ever saved
  }
  if (item === null) return undefined;
  const stored = storedWitnessPolicy();
  const made = stored ? witnessPolicyOf(stored.witnesses, stored.quorum) : undefined;
  if (!made?.ok) throw new Error(say("unreadable"));
  return made.policy;
}

/**
 * Saves what the person typed: keys one per line, a quorum (empty: all). Returns null when
 * saved (an empty key list clears the setting), else why it cannot be a policy, in the page's
 * language.
 */
export function saveWitnessPolicy(keysText: string, quorumText: string): string | null {
  const witnesses = keysText
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
  const quorum = quorumText.trim() === "" ? undefined : /^[0-9]{1,3}$/.test(quorumText.trim()) ? Number(quorumText) : 0;
  const made = witnessPolicyOf(witnesses, quorum);
  if (!made.ok) return problemText(made);
  try {
    if (witnesses.length === 0) localStorage.removeItem(storageKey);
    else localStorage.setItem(storageKey, JSON.stringify({ witnesses, ...(quorum ? { quorum } : {}) }));
  } catch {
    return say("notStored");
  }
  return null;
}

const problems: Record<PolicyProblem["problem"], Record<Language, string>> = {
  key_malformed: {
    "zh-CN": "不是签名文本（signed-note）格式的验证密钥：{key}",
    en: "not a signed-note verifier key: {key}",
  },
  not_witness_key: {
    "zh-CN": "不是见证方密钥（类型 0x04）：{key}",
    en: "not a witness's key (type 0x04): {key}",
  },
  quorum_out_of_range: {
    "zh-CN": "联署门槛须在 1 到所列见证方数量 {count} 之间",
    en: "the quorum must be between 1 and the {count} witnesses listed",
  },
  quorum_without_witnesses: {
    "zh-CN": "设置联署门槛需至少列出一个见证方密钥",
    en: "a quorum needs at least one witness key",
  },
};

function problemText(problem: PolicyProblem): string {
  const text = problems[problem.problem][language()];
  const key = "key" in problem ? problem.key : "";
  const count = "witnesses" in problem ? String(problem.witnesses) : "";
  return text.replace("{key}", key).replace("{count}", count);
}

/** Each witness status in the page's language. */
export function witnessStatusText(status: "cosigned" | "missing" | "bad_signature"): string {
  const texts = {
    cosigned: { "zh-CN": "已联署", en: "cosigned" },
    missing: { "zh-CN": "未联署", en: "missing" },
    bad_signature: { "zh-CN": "联署签名无效", en: "bad signature" },
  } as const;
  return texts[status][language()];
}

/** The gateway's latest cosigned checkpoint and consistency proofs (same origin). */
export const gatewayCheckpoints: CheckpointSource = {
  latestNote: async () => {
    let response: Response;
    try {
      response = await fetch("/tlog/checkpoint", { cache: "no-store" });
    } catch {
      throw new ApiError("network", t("error.gatewayDown"));
    }
    return response.status === 200 ? await response.text() : undefined;
  },
  consistency: async (from, to) => {
    const { status, body } = await request<{ proof?: unknown }>(`/v1/proofs/consistency?from=${from}&to=${to}`);
    const hashes = body.proof;
    if (status !== 200 || !Array.isArray(hashes)) return undefined;
    if (!hashes.every((h) => typeof h === "string" && /^0x[0-9a-f]{64}$/.test(h))) return undefined;
    return (hashes as string[]).map((h) => hexToBytes(h));
  },
};

/** The policy panel of the verify page: the keys and quorum, saved in this browser. */
export function witnessPolicyPanel(): HTMLElement {
  const stored = storedWitnessPolicy();
  const status = h("p", { class: "hint", id: "witness-policy-status", "aria-live": "polite" });
  let policy: WitnessPolicy | undefined;
  try {
    policy = pageWitnessPolicy();
  } catch (error) {
    status.classList.add("is-error");
    replace(status, (error as Error).message);
  }
  const summary = h("span", { id: "witness-policy-summary" });
  const showSummary = (active: WitnessPolicy | undefined) =>
    replace(summary, active ? say("active", { quorum: active.quorum, count: active.witnesses.length }) : say("none"));
  showSummary(policy);
  const keys = h("textarea", {
    id: "witness-keys",
    rows: "3",
    spellcheck: "false",
    value: stored?.witnesses.join("\n") ?? "",
  });
  const quorum = h("input", {
    id: "witness-quorum",
    type: "text",
    inputmode: "numeric",
    size: "3",
    value: stored?.quorum === undefined ? "" : String(stored.quorum),
  });
  const save = (keysText: string, quorumText: string, done: keyof typeof texts) => {
    const problem = saveWitnessPolicy(keysText, quorumText);
    status.classList.toggle("is-error", problem !== null);
    replace(status, problem ?? say(done));
    if (problem === null) showSummary(pageWitnessPolicy());
  };
  return h(
    "details",
    {
      class: "panel witness-policy",
      id: "witness-policy",
      open: policy !== undefined || status.classList.contains("is-error"),
    },
    h("summary", null, say("title"), language() === "zh-CN" ? "：" : ": ", summary),
    h("p", { class: "hint" }, say("intro")),
    h("label", { for: "witness-keys" }, say("keys")),
    keys,
    h("label", { for: "witness-quorum" }, say("quorum")),
    h(
      "div",
      { class: "inline-field" },
      quorum,
      h(
        "button",
        { type: "button", class: "button", id: "witness-save", onclick: () => save(keys.value, quorum.value, "saved") },
        say("save"),
      ),
      h(
        "button",
        {
          type: "button",
          class: "button button-secondary",
          id: "witness-clear",
          onclick: () => {
            keys.value = "";
            quorum.value = "";
            save("", "", "cleared");
          },
        },
        say("clear"),
      ),
    ),
    status,
  );
}

/** Each witness of the policy applied to an item, with its status. */
export function witnessList(quorum: QuorumVerdict): Child {
  return [
    h("h3", null, say("witnesses")),
    h("p", { class: "hint" }, say("count", { count: quorum.cosigners.length, quorum: quorum.quorum })),
    h(
      "ul",
      { class: "checks", id: "witness-list" },
      quorum.witnesses.map((w) =>
        h(
          "li",
          {
            class: w.status === "cosigned" ? "check-ok" : "check-bad",
            "data-witness": w.name,
            "data-status": w.status,
          },
          h("span", { class: "check-mark", "aria-hidden": "true" }, w.status === "cosigned" ? "✓" : "✗"),
          h("span", { class: "check-name" }, w.name),
          h("span", { class: "check-reason" }, witnessStatusText(w.status)),
        ),
      ),
    ),
  ];
}

/** The witness lines of a text report. */
export function witnessReportLines(quorum: QuorumVerdict): string[] {
  return [
    `  ${say("witnesses")}: ${say("count", { count: quorum.cosigners.length, quorum: quorum.quorum })}`,
    ...quorum.witnesses.map((w) => `    ${w.name}: ${witnessStatusText(w.status)}`),
  ];
}
