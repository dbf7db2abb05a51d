/**
 * The residents' page in real Chromium at phone size (375×667), against a real gateway: a
 * resident confirms and rates from the link, a second use of the link is refused on the page, a
 * typed code opens a link, and a "did not happen" answer reaches the owning department's
 * inspector. The page loads nothing from elsewhere and breaks no rule of its CSP.
 */
import { expect } from "chai";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Wallet, id } from "ethers";
import { type BrowserContext, type Page, chromium } from "playwright-core";
import { configFromEnvironment } from "../../server/config.ts";
import { issueToken } from "../../server/gateway/AccessTokens.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { buildConsole } from "../../scripts/build-console.ts";
import { sleep, submitRecord } from "../helpers/gatewayFixture.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { chromiumFlags, chromiumPath, cspViolationsOf, recordCspViolations } from "../helpers/browser.ts";

const village = id("unit:resident-page-village");

describe("residents' page (real Chromium at 375×667, real gateway)", function () {
  this.timeout(180_000);
  const dir = tempDir("resident-page");
  const profile = tempDir("resident-page-profile");
  const unitKey = Wallet.createRandom();
  let gateway: RunningGateway;
  let context: BrowserContext;
  let page: Page;
  let unitToken: string;
  let inspectorToken: string;
  const outsideRequests: string[] = [];
  const pageErrors: string[] = [];

  /** A new record of the village and its link, shown to the caller (no delivery hook here). */
  const newLink = async () => {
    const recordId = await submitRecord(gateway.url, { key: unitKey, unitId: village }, "household-visit", {
      householdName: "赵某某",
      address: "青石村5组",
      visitPurpose: "routine",
      followUpRequired: false,
      visitors: "李某",
    });
    const res = await fetch(`${gateway.url}/v1/confirmations`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${unitToken}` },
      body: JSON.stringify({ recordId }),
    });
    expect(res.status).to.equal(201);
    const body = (await res.json()) as { link: string; code: string; delivery: string };
    expect(body.delivery).to.equal("shown");
    return { recordId, ...body };
  };

  before(async () => {
    if (!existsSync(chromiumPath))
      throw new Error(`${chromiumPath} is missing: apt-get install chromium (.ci/run does)`);
    await buildConsole();
    gateway = await startGateway(
      configFromEnvironment(
        {},
        {
          dataDir: dir.path,
          port: 0,
          chainPort: testPort("confirm"),
          anchorIntervalMs: 300,
          anchorMaxLeaves: 1000,
          logName: "resident-page",
        },
      ),
      () => {},
    );
    await (
      await gateway.ledger.getFunction("registerUnit")(village, "0x" + "00".repeat(32), 3, unitKey.address)
    ).wait();
    unitToken = issueToken(join(dir.path, "tokens.json"), `unit:${village}`, "the village");
    inspectorToken = issueToken(join(dir.path, "tokens.json"), "inspector:civil-affairs", "civil-affairs inspectors");
    context = await chromium.launchPersistentContext(profile.path, {
      executablePath: chromiumPath,
      headless: true,
      args: chromiumFlags,
      viewport: { width: 375, height: 667 },
      isMobile: true,
      hasTouch: true,
      locale: "zh-CN",
    });
    context.on("request", (request) => {
      if (!request.url().startsWith(gateway.url)) outsideRequests.push(request.url());
    });
    await recordCspViolations(context);
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (error) => pageErrors.push(error.message));
  });

  after(async () => {
    await context?.close();
    await Promise.race([gateway?.close(), sleep(30_000)]);
    dir.remove();
    profile.remove();
  });

  afterEach(async () => {
    const violations = await cspViolationsOf(page);
    expect(violations, "CSP violations").to.deep.equal([]);
    expect(outsideRequests, "requests to other origins").to.deep.equal([]);
    expect(pageErrors, "page errors").to.deep.equal([]);
    // Phone-sized: nothing wider than the screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).to.be.at.most(375);
  });

  it("confirms and rates from the link in zh-CN; opening the link again says it was used", async () => {
    const { link } = await newLink();
    const response = await page.goto(link);
    expect(response?.status()).to.equal(200);
    await page.locator("#service").getByText("入户走访").waitFor();
    await page.getByText("是，确实办理了").click();
    await page.locator('input[name="satisfaction"][value="4"]').check();
    await page.locator('textarea[name="comment"]').fill("工作人员很耐心");
    await page.getByRole("button", { name: "提交" }).click();
    await page.locator("#thanks").getByText("感谢您的评价").waitFor();

    await page.goto(link);
    await page.locator("#problem").getByText("此链接已使用过").waitFor();
    await page.locator("#lang").click();
    await page.locator("#problem").getByText("This link was used already").waitFor();
  });

  it("opens a link by its typed code", async () => {
    const { code } = await newLink();
    await page.goto(`${gateway.url}/confirm`);
    await page.locator("#code").fill(code.toLowerCase());
    await page.getByRole("button", { name: "打开" }).click();
    await page.getByText("没有，未办理").waitFor();
  });

  it('sends a "did not happen" answer that reaches the inspector of the owning department', async () => {
    const { link, recordId } = await newLink();
    await page.goto(link);
    await page.getByText("没有，未办理").click();
    await page.locator('textarea[name="comment"]').fill("没有人来过我家");
    await page.getByRole("button", { name: "提交" }).click();
    await page.locator("#thanks").waitFor();
    const res = await fetch(`${gateway.url}/v1/confirmations/findings?unitId=${village}`, {
      headers: { authorization: `Bearer ${inspectorToken}` },
    });
    const { findings } = (await res.json()) as { findings: Array<{ recordId: string; comment: string }> };
    expect(findings.map((f) => [f.recordId, f.comment])).to.deep.equal([[recordId, "没有人来过我家"]]);
  });
});
