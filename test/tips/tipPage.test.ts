/// <reference lib="dom" />
/**
 * The tip page in real headless Chromium at phone size (375×667), served by a real gateway with
 * its anvil chain and LevelDB: the identity made in the browser is registered by its unit, a
 * tip is proved in the browser with the circuit files the gateway serves and sent anonymously,
 * and a second tip in the same category and month is refused. Nothing leaves the gateway, and
 * only the tip page may compile WebAssembly.
 */
import { expect } from "chai";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { id } from "ethers";
import { Identity } from "@semaphore-protocol/identity";
import { type BrowserContext, type Page, chromium } from "playwright-core";
import { configFromEnvironment } from "../../server/config.ts";
import { issueToken } from "../../server/gateway/AccessTokens.ts";
import { consoleContentSecurityPolicy, tipPageContentSecurityPolicy } from "../../server/http/consoleRoutes.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { buildConsole } from "../../scripts/build-console.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { chromiumFlags, chromiumPath, cspViolationsOf, recordCspViolations } from "../helpers/browser.ts";

const village = id("unit:tip-page-village");

describe("the tip page (real Chromium at 375×667, real gateway, chain and LevelDB)", function () {
  this.timeout(300_000);
  const dir = tempDir("tip-page");
  const profile = tempDir("tip-page-profile");
  let gateway: RunningGateway;
  let context: BrowserContext;
  let page: Page;
  let unitToken: string;
  const outsideRequests: string[] = [];
  const pageErrors: string[] = [];

  const register = async (commitment: string) => {
    const res = await fetch(`${gateway.url}/v1/tips/members`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${unitToken}` },
      body: JSON.stringify({ unitId: village, commitment }),
    });
    expect(res.status, await res.text()).to.equal(201);
  };

  before(async () => {
    if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: apt-get install chromium`);
    await buildConsole();
    gateway = await startGateway(
      configFromEnvironment(
        {},
        { dataDir: dir.path, port: 0, chainPort: testPort("tips"), anchorIntervalMs: 300, logName: "tip-page" },
      ),
      () => {},
    );
    unitToken = issueToken(join(dir.path, "tokens.json"), `unit:${village}`, "the village");
    for (let i = 0; i < 4; i++) await register(new Identity().commitment.toString());
    context = await chromium.launchPersistentContext(profile.path, {
      executablePath: chromiumPath,
      headless: true,
      args: chromiumFlags,
      viewport: { width: 375, height: 667 },
      locale: "zh-CN",
    });
    context.on("request", (request) => {
      const url = request.url();
      if (!url.startsWith(gateway.url) && !url.startsWith("blob:") && !url.startsWith("data:"))
        outsideRequests.push(url);
    });
    await recordCspViolations(context);
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (error) => pageErrors.push(error.message));
  });

  after(async () => {
    await context?.close();
    await gateway?.close();
    dir.remove();
    profile.remove();
  });

  afterEach(async () => {
    const violations = await cspViolationsOf(page);
    expect(violations, "CSP violations").to.deep.equal([]);
    expect(pageErrors, "page errors").to.deep.equal([]);
    expect(outsideRequests, "requests leaving the gateway").to.deep.equal([]);
  });

  it("serves the tip page alone with 'wasm-unsafe-eval', and the rest of the console without it", async () => {
    const tip = await fetch(`${gateway.url}/console/tip.html`);
    expect(tip.headers.get("content-security-policy")).to.equal(tipPageContentSecurityPolicy);
    expect(tipPageContentSecurityPolicy).to.include("script-src 'self' 'wasm-unsafe-eval'");
    const index = await fetch(`${gateway.url}/console/`);
    expect(index.headers.get("content-security-policy")).to.equal(consoleContentSecurityPolicy);
    expect(consoleContentSecurityPolicy).to.not.include("wasm");
    const zkey = await fetch(`${gateway.url}/console/semaphore/semaphore-16.zkey`);
    expect(zkey.status).to.equal(200);
    // Read to the end: an unread 5 MB body holds its connection open and the test process alive.
    expect((await zkey.arrayBuffer()).byteLength).to.be.above(1_000_000);
  });

  it("sends a tip proved in the browser, and refuses a second in the same category and month", async () => {
    await page.goto(`${gateway.url}/console/tip.html`);
    const commitment = (await page.getByTestId("tip-commitment").innerText()).trim();
    await page.getByTestId("tip-group-status").filter({ hasText: "尚未登记" }).waitFor();
    await register(commitment);
    await page.reload();
    // The identity stays in the browser across a reload: the same commitment, now a member.
    expect((await page.getByTestId("tip-commitment").innerText()).trim()).to.equal(commitment);
    await page.getByTestId("tip-group-status").filter({ hasText: "5 名成员" }).waitFor();
    await page.getByTestId("tip-category").selectOption("meetings");
    await page.getByTestId("tip-target").fill("civil-affairs");
    await page.getByTestId("tip-text").fill("一周开了五个布置会，每个都要求拍照留痕");
    await page.getByTestId("tip-send").click();
    await page.getByTestId("tip-sent").waitFor({ timeout: 180_000 });
    const code = (await page.getByTestId("tip-code").innerText()).trim();
    expect(code).to.match(/^0x[0-9a-f]{64}$/);
    const summary = (await (await fetch(`${gateway.url}/v1/tips/summary`)).json()) as { total: number };
    expect(summary.total).to.equal(1);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(overflow).to.be.at.most(375);

    await page.getByTestId("tip-text").fill("又开了一个会");
    await page.getByTestId("tip-send").click();
    await page.getByTestId("tip-refused").filter({ hasText: "本月该类别已发送过线索" }).waitFor({ timeout: 180_000 });
    const after = (await (await fetch(`${gateway.url}/v1/tips/summary`)).json()) as { total: number };
    expect(after.total).to.equal(1);

    await page.getByTestId("tip-follow-up").click();
    await page.getByTestId("tip-replies").filter({ hasText: "暂无回复" }).waitFor();
  });
});
