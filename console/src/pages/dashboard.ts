/** 减负看板 Burden dashboard: built on the burden API (issue #5). */
import { h, replace } from "../dom.ts";
import { t } from "../i18n.ts";
import type { Page } from "../page.ts";

export const dashboardPage: Page = (main) => {
  replace(main, h("h1", null, t("dashboard.title")), h("div", { class: "empty-state" }, h("p", null, "…")));
};
