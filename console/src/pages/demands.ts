/** 调阅 Evidence demands: built on the burden API (issue #5). */
import { h, replace } from "../dom.ts";
import { t } from "../i18n.ts";
import type { Page } from "../page.ts";

export const demandsPage: Page = (main) => {
  replace(main, h("h1", null, t("demands.title")), h("div", { class: "empty-state" }, h("p", null, "…")));
};
