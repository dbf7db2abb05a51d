/**
 * The anonymous tip page (匿名线索), phone-sized: a Semaphore identity kept in this browser
 * (exportable), a tip whose membership proof is made here, with the circuit files this gateway
 * serves, and follow-up by a tracking code only this browser holds. A page of its own
 * (tip.html): it alone runs WebAssembly, so it alone is served with 'wasm-unsafe-eval'.
 *
 * snarkjs would otherwise start its prover threads from data: URLs, which the page's policy
 * refuses; a single-threaded curve, built first, is the one it then reuses.
 */
import "../zodConfig.ts";
import { Group } from "@semaphore-protocol/group";
import { Identity } from "@semaphore-protocol/identity";
import { generateProof } from "@semaphore-protocol/proof";
import * as snarkjs from "snarkjs";
import { bytesToHex } from "../../../server/core/bytes.ts";
import {
  TIP_CATEGORIES,
  TIP_PROOF_DEPTH,
  TIP_TEXT_MAX,
  type TipCategory,
  type TipContent,
  tipMessage,
  tipScope,
  trackingIdOf,
} from "../../../server/core/tip.ts";
import { request } from "../api.ts";
import { h, replace } from "../dom.ts";
import { language, setLanguage } from "../i18n.ts";

const messages = {
  title: ["匿名线索", "Anonymous tip"],
  intro: [
    "向上级反映形式主义问题。线索以零知识证明表明发送者是登记成员，不表明是谁；每类问题每人每月一条。",
    "Report formalism. A zero-knowledge proof shows the sender is a registered member, not which one; one tip per member per category per month.",
  ],
  identity: ["我的匿名身份", "My anonymous identity"],
  commitment: ["身份承诺（交给本单位登记）", "Identity commitment (give it to your unit to register)"],
  registered: ["已在线索群组中（{n} 名成员）", "In the tip group ({n} members)"],
  notRegistered: [
    "尚未登记：请本单位登记上面的承诺",
    "Not registered yet: ask your unit to register the commitment above",
  ],
  exportId: ["导出身份", "Export identity"],
  importId: ["导入身份", "Import identity"],
  importPlaceholder: ["粘贴导出的身份", "Paste an exported identity"],
  category: ["问题类别", "Category"],
  targetKind: ["反映对象", "About"],
  department: ["部门", "Department"],
  unit: ["单位", "Unit"],
  targetId: ["部门代码或单位编号", "Department code or unit id"],
  text: ["线索内容（请勿写入可识别自己的细节）", "What happened (leave out details that identify you)"],
  send: ["生成证明并发送", "Prove and send"],
  proving: ["正在本机生成证明…", "Making the proof on this device…"],
  sent: ["已发送。请保存跟踪码，它只保存在本浏览器：", "Sent. Keep the tracking code; only this browser has it:"],
  followUp: ["查看回复", "Read replies"],
  code: ["跟踪码", "Tracking code"],
  noReplies: ["暂无回复", "No replies yet"],
  refused: ["未发送：{reason}", "Not sent: {reason}"],
  language: ["English", "中文"],
  "cat.app_checkins": ["强制打卡、APP 考核", "Forced app check-ins"],
  "cat.ledgers_demanded": ["索要台账、留痕材料", "Ledgers demanded"],
  "cat.repeated_forms": ["重复填报", "Repeated forms"],
  "cat.meetings": ["会议过多", "Meetings"],
  "cat.inspections_over_quota": ["督查检查超量", "Inspections over quota"],
  "cat.other": ["其他", "Other"],
  "reason.tip.already_sent": ["本月该类别已发送过线索", "a tip in this category was already sent this month"],
  "reason.tip.unknown_root": ["群组已变化，请刷新后重试", "the group changed; reload and try again"],
  "reason.tip.group_too_small": ["群组成员太少，无法匿名", "the group is too small to be anonymous"],
  "reason.tip.bad_proof": ["证明无效", "the proof does not verify"],
  "reason.tip.not_found": ["没有此跟踪码的线索", "no tip has this tracking code"],
  "reason.notMember": ["本身份尚未登记", "this identity is not registered"],
} as const;
type MessageKey = keyof typeof messages;

function say(key: MessageKey, values: Record<string, string | number> = {}): string {
  const text: string = messages[key][language() === "en" ? 1 : 0];
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(values[name] ?? ""));
}

const identityKey = "dutyproof.tip.identity";
const codesKey = "dutyproof.tip.codes";

interface GroupView {
  depth: number;
  members: string[];
  active: number;
  logId: string;
  period: string;
}

function loadIdentity(): Identity {
  const saved = localStorage.getItem(identityKey);
  if (saved) return Identity.import(saved);
  const identity = new Identity();
  localStorage.setItem(identityKey, identity.export());
  return identity;
}

/** The group's tree from the served leaves (removed members are 0 leaves). */
function treeOf(members: string[]): Group {
  const group = new Group();
  for (const [i, member] of members.entries()) {
    if (member === "0") {
      group.addMember(1n);
      group.removeMember(i);
    } else group.addMember(BigInt(member));
  }
  return group;
}

let singleThreaded: Promise<unknown> | null = null;

async function prove(identity: Identity, view: GroupView, content: TipContent) {
  const { curves } = snarkjs as unknown as {
    curves: { getCurveFromName(name: string, options: { singleThread: boolean }): Promise<unknown> };
  };
  singleThreaded ??= curves.getCurveFromName("bn128", { singleThread: true }).then((curve) => {
    (globalThis as { curve_bn128?: unknown }).curve_bn128 = curve;
  });
  await singleThreaded;
  const group = treeOf(view.members);
  const index = group.indexOf(identity.commitment);
  if (index < 0) throw new Error(say("reason.notMember"));
  return generateProof(
    identity,
    group.generateMerkleProof(index),
    BigInt(tipMessage(content)),
    BigInt(tipScope(view.logId, content.category, content.period)),
    TIP_PROOF_DEPTH,
    { wasm: `semaphore/semaphore-${TIP_PROOF_DEPTH}.wasm`, zkey: `semaphore/semaphore-${TIP_PROOF_DEPTH}.zkey` },
  );
}

function reasonOf(body: { code?: string; detail?: string }): string {
  const key = `reason.${body.code ?? ""}` as MessageKey;
  return key in messages ? say(key) : (body.detail ?? body.code ?? "?");
}

function render(root: HTMLElement): void {
  const identity = loadIdentity();
  const status = h("p", { class: "tip-status", "data-testid": "tip-group-status" });
  const result = h("div", { class: "tip-result", role: "status", "aria-live": "polite", "data-testid": "tip-result" });
  const replies = h("div", { class: "tip-replies", "data-testid": "tip-replies" });
  let view: GroupView | undefined;

  const refresh = async () => {
    const answer = await request<GroupView>("/v1/tips/group");
    view = answer.body;
    const member = view.members.includes(identity.commitment.toString());
    status.textContent = member ? say("registered", { n: view.active }) : say("notRegistered");
  };

  const category = h(
    "select",
    { name: "category", "data-testid": "tip-category" },
    TIP_CATEGORIES.map((c) => h("option", { value: c }, say(`cat.${c}`))),
  );
  const targetKind = h(
    "select",
    { name: "targetKind" },
    h("option", { value: "department" }, say("department")),
    h("option", { value: "unit" }, say("unit")),
  );
  const targetId = h("input", { name: "targetId", required: true, maxlength: 100, "data-testid": "tip-target" });
  const text = h("textarea", {
    name: "text",
    required: true,
    maxlength: TIP_TEXT_MAX,
    rows: 5,
    "data-testid": "tip-text",
  });
  const sendButton = h("button", { type: "submit", "data-testid": "tip-send" }, say("send"));

  const send = async (event: Event) => {
    event.preventDefault();
    sendButton.disabled = true;
    replace(result, say("proving"));
    try {
      await refresh();
      const code = bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
      const content: TipContent = {
        category: category.value as TipCategory,
        period: view!.period,
        target: { kind: targetKind.value as "department" | "unit", id: targetId.value.trim() },
        text: text.value,
        trackingId: trackingIdOf(code),
      };
      const proof = await prove(identity, view!, content);
      const answer = await request<{ tipId?: string; code?: string; detail?: string }>("/v1/tips", {
        body: { content, proof },
        timeoutMs: 60_000,
      });
      if (answer.status !== 201) {
        replace(
          result,
          h("p", { class: "error", "data-testid": "tip-refused" }, say("refused", { reason: reasonOf(answer.body) })),
        );
        return;
      }
      const codes = JSON.parse(localStorage.getItem(codesKey) ?? "[]") as string[];
      localStorage.setItem(codesKey, JSON.stringify([...codes, code]));
      codeInput.value = code;
      replace(
        result,
        h("p", { "data-testid": "tip-sent" }, say("sent")),
        h("code", { "data-testid": "tip-code" }, code),
      );
    } catch (error) {
      replace(
        result,
        h(
          "p",
          { class: "error", "data-testid": "tip-refused" },
          say("refused", { reason: String((error as Error).message) }),
        ),
      );
    } finally {
      sendButton.disabled = false;
    }
  };

  const codeInput = h("input", { name: "code", "data-testid": "tip-code-input", autocomplete: "off" });
  const followUp = async (event: Event) => {
    event.preventDefault();
    const answer = await request<{
      replies?: Array<{ responder: string; text: string }>;
      code?: string;
      detail?: string;
    }>("/v1/tips/follow-up", { body: { code: codeInput.value.trim() } });
    if (answer.status !== 200) replace(replies, h("p", { class: "error" }, reasonOf(answer.body)));
    else if (answer.body.replies!.length === 0) replace(replies, h("p", null, say("noReplies")));
    else
      replace(
        replies,
        h(
          "ul",
          null,
          answer.body.replies!.map((r) => h("li", null, `${r.responder}：${r.text}`)),
        ),
      );
  };

  const exported = h("code", { class: "tip-export", hidden: true, "data-testid": "tip-export" });
  const importInput = h("input", { placeholder: say("importPlaceholder"), autocomplete: "off" });
  replace(
    root,
    h(
      "header",
      { class: "topbar" },
      h("h1", null, say("title")),
      h(
        "button",
        {
          type: "button",
          onclick: () => {
            setLanguage(language() === "en" ? "zh-CN" : "en");
            render(root);
          },
        },
        say("language"),
      ),
    ),
    h(
      "main",
      { class: "tip-page" },
      h("p", null, say("intro")),
      h(
        "section",
        null,
        h("h2", null, say("identity")),
        h("label", null, say("commitment")),
        h("code", { class: "tip-commitment", "data-testid": "tip-commitment" }, identity.commitment.toString()),
        status,
        h(
          "button",
          {
            type: "button",
            onclick: () => {
              exported.textContent = identity.export();
              exported.hidden = false;
            },
          },
          say("exportId"),
        ),
        exported,
        h(
          "form",
          {
            onsubmit: (event: Event) => {
              event.preventDefault();
              localStorage.setItem(identityKey, Identity.import(importInput.value.trim()).export());
              render(root);
            },
          },
          importInput,
          h("button", { type: "submit" }, say("importId")),
        ),
      ),
      h(
        "form",
        { onsubmit: send, "data-testid": "tip-form" },
        h("label", null, say("category"), category),
        h("label", null, say("targetKind"), targetKind),
        h("label", null, say("targetId"), targetId),
        h("label", null, say("text"), text),
        sendButton,
      ),
      result,
      h(
        "form",
        { onsubmit: followUp },
        h("h2", null, say("followUp")),
        h("label", null, say("code"), codeInput),
        h("button", { type: "submit", "data-testid": "tip-follow-up" }, say("followUp")),
      ),
      replies,
    ),
  );
  void refresh().catch(() => undefined);
}

document.documentElement.lang = language();
render(document.getElementById("tip")!);
