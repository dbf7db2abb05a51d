/**
 * The console's shell: header with navigation, language switch and gateway health, and a
 * hash router that mounts one page at a time. Each page's state is one object the shell keeps
 * (page.ts), so switching language re-renders a page without losing what was entered or verified.
 */
import "./zodConfig.ts";
import { request } from "./api.ts";
import { h, replace } from "./dom.ts";
import { type MessageKey, language, onLanguageChange, setLanguage, t } from "./i18n.ts";
import { type Page, mountPage } from "./page.ts";
import { chainPage } from "./pages/chain.ts";
import { dashboardPage } from "./pages/dashboard.ts";
import { demandsPage } from "./pages/demands.ts";
import { requestsPage } from "./pages/requests.ts";
import { timelinePage } from "./pages/timeline.ts";
import { verifyPage } from "./pages/verify.ts";
import { workstationPage } from "./pages/workstation.ts";

interface Route {
  path: string;
  label: MessageKey;
  mount: (main: HTMLElement) => (() => void) | void;
}

/** A page as the router sees it: each page's state type stays the page's own. */
const routeOf = <S>(page: Page<S>): Route => ({
  path: page.path,
  label: page.label,
  mount: (main) => mountPage(page, main),
});

const routes: Route[] = [
  routeOf(verifyPage),
  routeOf(workstationPage),
  routeOf(timelinePage),
  routeOf(demandsPage),
  routeOf(requestsPage),
  routeOf(dashboardPage),
  routeOf(chainPage),
];

type Health = "unknown" | "ok" | "gatewayDown" | "chainDown" | "draining";
let health: Health = "unknown";
let disposeCurrent: (() => void) | null = null;

const root = document.getElementById("app")!;
const header = h("header", { class: "topbar" });
const banner = h("div", { class: "health-banner", role: "status", "aria-live": "polite" });
const main = h("main", { id: "main", tabindex: "-1" });

function currentRoute() {
  const path = location.hash.replace(/^#\/?/, "").split("?")[0];
  return routes.find((r) => r.path === path) ?? routes[0]!;
}

function renderHeader(): void {
  const active = currentRoute();
  replace(
    header,
    h("a", { class: "skip-link", href: "#main", onclick: skipToMain }, t("app.skip")),
    h(
      "div",
      { class: "brand" },
      h("span", { class: "brand-mark", "aria-hidden": "true" }, "✓"),
      h("span", { class: "brand-text" }, h("strong", null, t("app.title")), h("small", null, t("app.subtitle"))),
    ),
    h(
      "nav",
      { "aria-label": t("app.title") },
      h(
        "ul",
        null,
        routes.map((r) =>
          h(
            "li",
            null,
            h(
              "a",
              { href: `#/${r.path}`, "aria-current": r === active ? "page" : false, "data-route": r.path },
              t(r.label),
            ),
          ),
        ),
      ),
    ),
    h(
      "div",
      { class: "topbar-tools" },
      h(
        "span",
        { class: `health-dot health-${health}`, title: healthText() ?? t("health.ok"), "data-health": health },
        h("span", { class: "visually-hidden" }, healthText() ?? t("health.ok")),
      ),
      h(
        "button",
        {
          type: "button",
          class: "lang-toggle",
          id: "lang-toggle",
          lang: language() === "zh-CN" ? "en" : "zh-CN",
          "aria-label": t("app.languageLabel"),
          onclick: () => setLanguage(language() === "zh-CN" ? "en" : "zh-CN"),
        },
        t("app.language"),
      ),
    ),
  );
}

function skipToMain(event: Event): void {
  event.preventDefault();
  main.focus();
}

function healthText(): string | null {
  if (health === "gatewayDown") return t("health.gatewayDown");
  if (health === "chainDown") return t("health.chainDown");
  if (health === "draining") return t("health.draining");
  return null;
}

function renderBanner(): void {
  const text = healthText();
  banner.hidden = text === null;
  replace(banner, text);
  banner.className = `health-banner ${health === "gatewayDown" ? "is-error" : "is-warning"}`;
}

/** Asks /readyz; a gateway that does not answer and a chain that does not are told apart. */
export async function checkHealth(): Promise<Health> {
  let next: Health;
  try {
    const { body } = await request<{ status: string; checks: Record<string, string> }>("/readyz", { timeoutMs: 8000 });
    next =
      body.checks?.gateway === "draining"
        ? "draining"
        : body.checks?.chain && body.checks.chain !== "ok"
          ? "chainDown"
          : "ok";
  } catch {
    next = "gatewayDown";
  }
  if (next !== health) {
    health = next;
    renderHeader();
    renderBanner();
  }
  return health;
}

function showPage(): void {
  disposeCurrent?.();
  const route = currentRoute();
  document.title = `${t(route.label)} · ${t("app.title")}`;
  main.replaceChildren();
  disposeCurrent = route.mount(main) ?? null;
}

function start(): void {
  document.documentElement.lang = language();
  replace(root, header, banner, main);
  renderHeader();
  renderBanner();
  showPage();
  window.addEventListener("hashchange", () => {
    renderHeader();
    showPage();
    void checkHealth();
  });
  onLanguageChange(() => {
    renderHeader();
    renderBanner();
    showPage();
    document.getElementById("lang-toggle")?.focus();
  });
  void checkHealth();
  setInterval(() => void checkHealth(), 15_000);
}

start();
