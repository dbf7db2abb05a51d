/// <reference lib="dom" />
/**
 * What every browser test shares: Debian's Chromium (which `.ci/run` installs with apt-get; no
 * browser is downloaded), the flags it starts with, and a record of Content-Security-Policy
 * violations the test can read after each step.
 */
import type { BrowserContext, Page } from "playwright-core";

export const chromiumPath = "/usr/bin/chromium";

/** No sandbox (CI runs as root), no GPU, and no traffic of the browser's own. */
export const chromiumFlags = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** From now on, every page of `context` keeps its CSP violations for cspViolationsOf. */
export async function recordCspViolations(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const list: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = list;
    document.addEventListener("securitypolicyviolation", (e) => list.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
}

/** The CSP violations `page` recorded ("directive blocked-URI"), since its last navigation. */
export function cspViolationsOf(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { cspViolations?: string[] }).cspViolations ?? []);
}
