/**
 * The resident's confirmation page (群众评价): opened from a one-time link (/confirm/<token>) or by
 * typing the short code at /confirm. No account, no app, zh-CN first; a bundle of its own, far
 * smaller than the console's, with system fonts, for phones on slow networks.
 */

type Lang = "zh-CN" | "en";
type Title = Record<Lang, string>;

const text = {
  heading: { "zh-CN": "服务确认与评价", en: "Confirm and rate a service" },
  other: { "zh-CN": "English", en: "中文" },
  codePrompt: { "zh-CN": "请输入短信中的确认码", en: "Enter the code from your message" },
  open: { "zh-CN": "打开", en: "Open" },
  service: { "zh-CN": "服务事项", en: "Service" },
  unit: { "zh-CN": "办理单位", en: "Unit" },
  date: { "zh-CN": "办理日期", en: "Date" },
  happenedQuestion: { "zh-CN": "这项服务是否确实为您办理了？", en: "Did this service take place?" },
  happened: { "zh-CN": "是，确实办理了", en: "Yes, it took place" },
  notHappened: { "zh-CN": "没有，未办理", en: "No, it did not" },
  satisfaction: { "zh-CN": "满意度（1 很不满意，5 很满意）", en: "Satisfaction (1 very poor, 5 very good)" },
  comment: { "zh-CN": "意见建议（选填，500 字以内）", en: "Comment (optional, up to 500 characters)" },
  submit: { "zh-CN": "提交", en: "Submit" },
  thanks: {
    "zh-CN": "感谢您的评价。您的回答已记入不可篡改的履职存证链。",
    en: "Thank you. Your answer is recorded in the tamper-evident duty ledger.",
  },
  chooseHappened: { "zh-CN": "请选择服务是否办理。", en: "Please say whether the service took place." },
  chooseSatisfaction: { "zh-CN": "请选择满意度。", en: "Please rate your satisfaction." },
  "confirmation.link_used": {
    "zh-CN": "此链接已使用过，每个链接只能评价一次。",
    en: "This link was used already; each link takes one answer.",
  },
  "confirmation.link_expired": { "zh-CN": "此链接已过期。", en: "This link has expired." },
  "confirmation.link_unknown": {
    "zh-CN": "链接或确认码无效，请核对后重试。",
    en: "This link or code is not valid; please check it.",
  },
  "request.rate_limited": { "zh-CN": "请求过于频繁，请稍后再试。", en: "Too many attempts; please try later." },
  failed: { "zh-CN": "提交未成功，请稍后再试。", en: "Something went wrong; please try again later." },
} satisfies Record<string, Title>;

let lang: Lang = navigator.language.toLowerCase().startsWith("en") ? "en" : "zh-CN";
const t = (key: keyof typeof text) => text[key][lang];
const app = document.getElementById("app")!;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** The secret this page was opened with: the token in the path, or none (the code form). */
const tokenInPath = decodeURIComponent(location.pathname.replace(/^\/confirm\/?/, "").split("/")[0] ?? "");
let secret = tokenInPath;
let view: { service: Title | null; unit: Title | null; performedAt: number | null } | null = null;
let done = false;
let problem: string | null = null;

async function call(method: "GET" | "POST", body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`/v1/public/confirmations/${encodeURIComponent(secret)}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? null : JSON.stringify(body),
    credentials: "omit",
    referrerPolicy: "no-referrer",
  });
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) throw new Error(typeof json.code === "string" && json.code in text ? json.code : "failed");
  return json;
}

async function load(): Promise<void> {
  problem = null;
  try {
    view = (await call("GET")) as typeof view;
  } catch (error) {
    problem = (error as Error).message;
  }
  render();
}

function heading(): HTMLElement {
  const toggle = el("a", { href: "#", class: "lang", id: "lang" }, t("other"));
  toggle.addEventListener("click", (event) => {
    event.preventDefault();
    lang = lang === "zh-CN" ? "en" : "zh-CN";
    document.documentElement.lang = lang;
    render();
  });
  return el("h1", {}, toggle, t("heading"));
}

function codeForm(): HTMLElement {
  const input = el("input", { type: "text", id: "code", autocomplete: "one-time-code", maxlength: "64" });
  const form = el("form", { class: "card" }, el("label", { for: "code" }, t("codePrompt")), input, el("p"));
  form.append(el("button", { type: "submit" }, t("open")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    secret = input.value.trim();
    if (secret) void load();
  });
  return form;
}

function answerForm(): HTMLElement {
  const facts = el("div", { class: "card", id: "service" });
  const date = view?.performedAt ? new Date(view.performedAt * 1000).toISOString().slice(0, 10) : "";
  for (const [label, value] of [
    [t("service"), view?.service?.[lang] ?? ""],
    [t("unit"), view?.unit?.[lang] ?? ""],
    [t("date"), date],
  ] as const)
    if (value) facts.append(el("div", {}, `${label}：${value}`));
  const choice = (value: string, label: string) =>
    el("label", { class: "choice" }, el("input", { type: "radio", name: "happened", value }), " ", label);
  const stars = el("div", { class: "stars" });
  for (let n = 1; n <= 5; n++)
    stars.append(el("label", {}, el("input", { type: "radio", name: "satisfaction", value: String(n) }), ` ${n}`));
  const comment = el("textarea", { name: "comment", rows: "3", maxlength: "500" });
  const message = el("p", { class: "error", id: "message", role: "alert" });
  const form = el(
    "form",
    { class: "card", id: "answer" },
    el(
      "fieldset",
      {},
      el("legend", {}, t("happenedQuestion")),
      choice("yes", t("happened")),
      choice("no", t("notHappened")),
    ),
    el("fieldset", {}, el("legend", {}, t("satisfaction")), stars),
    el("fieldset", {}, el("legend", {}, t("comment")), comment),
    message,
    el("button", { type: "submit" }, t("submit")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const happened = data.get("happened");
    const satisfaction = data.get("satisfaction");
    if (happened === null) return void (message.textContent = t("chooseHappened"));
    if (happened === "yes" && satisfaction === null) return void (message.textContent = t("chooseSatisfaction"));
    const body = {
      happened: happened === "yes",
      ...(satisfaction === null ? {} : { satisfaction: Number(satisfaction) }),
      ...(comment.value.trim() ? { comment: comment.value } : {}),
    };
    call("POST", body)
      .then(() => (done = true))
      .catch((error: Error) => (problem = error.message))
      .finally(render);
  });
  return el("div", {}, facts, form);
}

function render(): void {
  const body: HTMLElement[] = [heading()];
  if (done) body.push(el("p", { class: "card", id: "thanks" }, t("thanks")));
  else if (problem) {
    body.push(el("p", { class: "card error", id: "problem" }, t(problem as keyof typeof text)));
    if (!tokenInPath) body.push(codeForm());
  } else if (view) body.push(answerForm());
  else if (!secret) body.push(codeForm());
  app.replaceChildren(...body);
}

render();
if (secret) void load();
