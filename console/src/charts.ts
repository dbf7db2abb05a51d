/**
 * ECharts, bundled from the npm package (loaded with the dashboard only): bar, line and pie
 * charts on canvas, with ECharts' own Chinese or English locale. Tooltips are drawn on the
 * canvas too (renderMode "richText"): HTML tooltips would carry inline styles the console's
 * Content-Security-Policy refuses.
 */
import { BarChart, LineChart, PieChart } from "echarts/charts";
import {
  AriaComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
} from "echarts/components";
import { type EChartsCoreOption, type EChartsType, init, use } from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";
import type { Language } from "./i18n.ts";

use([
  BarChart,
  LineChart,
  PieChart,
  AriaComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
  CanvasRenderer,
]);

export const palette = ["#1d3b63", "#17683a", "#3f7fbf", "#d7a53a", "#8a5a00", "#a8231b", "#7a8794"];

/** Draws `option` into `element` in the language's ECharts locale; returns the chart. */
export function drawChart(element: HTMLElement, option: EChartsCoreOption, language: Language): EChartsType {
  const chart = init(element, undefined, { locale: language === "zh-CN" ? "ZH" : "EN", renderer: "canvas" });
  const { tooltip, series, ...rest } = option as { tooltip?: object; series?: Array<Record<string, unknown>> };
  chart.setOption({
    color: palette,
    aria: { enabled: true },
    textStyle: { fontFamily: "Noto Sans SC Variable, Microsoft YaHei, sans-serif" },
    ...rest,
    // A month or two of data must not become one bar as wide as the chart.
    series: series?.map((s) => (s.type === "bar" ? { barMaxWidth: 36, ...s } : s)),
    tooltip: { ...tooltip, renderMode: "richText", confine: true },
  });
  return chart;
}
