/**
 * The burden dashboard's feed of anonymous tips (匿名线索): this month's counts by target and
 * category, from GET /v1/tips/summary. Counts only: the tips themselves go to the departments
 * they name.
 */
import { request } from "../api.ts";
import { h, replace } from "../dom.ts";
import { language } from "../i18n.ts";

const labels = {
  title: ["本月匿名线索（按对象和类别）", "This month's anonymous tips (by target and category)"],
  none: ["本月暂无线索", "No tips this month"],
  send: ["发送匿名线索", "Send an anonymous tip"],
  app_checkins: ["强制打卡", "App check-ins"],
  ledgers_demanded: ["索要台账", "Ledgers demanded"],
  repeated_forms: ["重复填报", "Repeated forms"],
  meetings: ["会议过多", "Meetings"],
  inspections_over_quota: ["督查超量", "Inspections over quota"],
  other: ["其他", "Other"],
} as const;

const say = (key: string) => {
  const pair = (labels as Record<string, readonly [string, string]>)[key];
  return pair ? pair[language() === "en" ? 1 : 0] : key;
};

interface Summary {
  period: string;
  total: number;
  rows: Array<{ target: { kind: string; id: string }; category: string; count: number }>;
}

/** A panel that fills itself with the month's tip counts. */
export function tipFeedPanel(): HTMLElement {
  const body = h("div", { "data-testid": "tip-feed" });
  const panel = h(
    "section",
    { class: "panel" },
    h("h2", null, say("title")),
    body,
    h("a", { href: "tip.html" }, say("send")),
  );
  void request<Summary>("/v1/tips/summary")
    .then(({ status, body: summary }) => {
      if (status !== 200) return;
      if (summary.rows.length === 0) replace(body, h("p", null, say("none")));
      else
        replace(
          body,
          h(
            "table",
            null,
            summary.rows.map((row) =>
              h("tr", null, h("td", null, row.target.id), h("td", null, say(row.category)), h("td", null, row.count)),
            ),
          ),
        );
    })
    .catch(() => undefined);
  return panel;
}
