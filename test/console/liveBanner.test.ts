/// <reference lib="dom" />
/**
 * The live alert on the burden dashboard in real headless Chromium, served by a real gateway
 * (anvil chain, LevelDB): with the dashboard open and nothing reloaded, a department's second
 * request to a unit in the month (threshold 1) raises the banner within a few polls; polls that
 * find nothing new are answered 304; the unit's own token sees its alert, another department's
 * token sees none.
 */
import { expect } from "chai";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type BaseWallet, Wallet, id } from "ethers";
import { type BrowserContext, type Page, chromium } from "playwright-core";
import { buildConsole } from "../../scripts/build-console.ts";
import { type DemandDefinition, demandOf, signDemand } from "../../server/burden/demandClient.ts";
import { departmentIdOf } from "../../server/chain/deployment.ts";
import { configFromEnvironment } from "../../server/config.ts";
import { issueToken } from "../../server/gateway/AccessTokens.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { sleep } from "../helpers/gatewayFixture.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { chromiumFlags, chromiumPath } from "../helpers/browser.ts";

const DAY = 86_400;
const township = id("unit:live-console-township");
const village = id("unit:live-console-village");

describe("live alert banner on the burden dashboard (real Chromium, real gateway)", function () {
  this.timeout(180_000);
  const dir = tempDir("live-console");
  const profile = tempDir("live-console-profile");
  const civil = Wallet.createRandom();
  let gateway: RunningGateway;
  let context: BrowserContext;
  let page: Page;
  let definition: DemandDefinition;
  let householdVisit = "";
  const tokens: Record<string, string> = {};
  const pageErrors: string[] = [];
  const livePolls: number[] = [];

  let serial = 0;
  const demand = async (wallet: BaseWallet, department: string) => {
    const now = Math.floor(Date.now() / 1000);
    const envelope = demandOf(
      wallet.address,
      {
        unitId: village,
        dutyTypeIds: [householdVisit],
        from: now - (40 + serial++) * DAY,
        to: now - serial * 3600,
        purpose: "入户走访核查",
        issuedAt: now,
        department,
      },
      definition.logId,
    );
    const res = await fetch(gateway.url + "/v1/demands", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ demand: envelope, signature: await signDemand(wallet, definition, envelope) }),
    });
    expect(res.status, await res.clone().text()).to.equal(201);
  };

  before(async () => {
    if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: apt-get install chromium`);
    await buildConsole();
    process.env.BURDEN_ALERT_PER_UNIT_MONTH = "1";
    try {
      gateway = await startGateway(
        configFromEnvironment(
          {},
          {
            dataDir: dir.path,
            port: 0,
            chainPort: testPort("live"),
            anchorIntervalMs: 300,
            anchorMaxLeaves: 1000,
            logName: "live-console",
          },
        ),
        () => {},
      );
    } finally {
      delete process.env.BURDEN_ALERT_PER_UNIT_MONTH;
    }
    const send = async (name: string, ...args: unknown[]) => (await gateway.ledger.getFunction(name)(...args)).wait();
    await send("registerUnit", township, "0x" + "00".repeat(32), 2, Wallet.createRandom().address);
    await send("registerUnit", village, township, 3, Wallet.createRandom().address);
    await send("registerInspector", civil.address, departmentIdOf("civil-affairs"));
    definition = (await (await fetch(gateway.url + "/v1/demands/eip712")).json()) as DemandDefinition;
    const catalog = (await (await fetch(gateway.url + "/v1/duty-types")).json()) as {
      dutyTypes: Array<{ id: string; code: string }>;
    };
    householdVisit = catalog.dutyTypes.find((d) => d.code === "household-visit")!.id;
    const file = join(dir.path, "tokens.json");
    tokens.auditor = issueToken(file, "auditor", "audit bureau");
    tokens.safety = issueToken(file, "inspector:emergency-management", "emergency management");
    tokens.village = issueToken(file, `unit:${village}`, "the village");

    context = await chromium.launchPersistentContext(profile.path, {
      executablePath: chromiumPath,
      headless: true,
      args: chromiumFlags,
      viewport: { width: 1366, height: 768 },
      locale: "zh-CN",
      timezoneId: "Asia/Shanghai",
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (error) => pageErrors.push(error.message + (process.env.LIVE_STACKS ? error.stack : "")));
    page.on("response", (response) => {
      if (response.url().includes("/v1/burden/live")) livePolls.push(response.status());
    });
  });

  after(async () => {
    await context?.close();
    await Promise.race([gateway?.close(), sleep(30_000)]);
    dir.remove();
    profile.remove();
  });

  afterEach(() => expect(pageErrors, "page errors").to.deep.equal([]));

  it("raises the banner live when a department passes its threshold, without a reload", async () => {
    await demand(civil, "civil-affairs");
    await page.goto(gateway.url + "/console/#/dashboard");
    await page.fill("#db-token", tokens.auditor!);
    await page.click("#db-search");
    await page.locator("#db-live").waitFor();
    expect(await page.locator("#db-live").textContent()).to.include("共 1 项请求");
    expect(await page.locator("#db-live-alerts").count()).to.equal(0);
    // Nothing changes: the next polls are answered 304.
    const polled = livePolls.length;
    while (livePolls.length < polled + 2) await sleep(200);
    expect(livePolls.slice(polled)).to.include(304);

    await demand(civil, "civil-affairs");
    const banner = page.locator("#db-live-alerts");
    await banner.waitFor({ timeout: 15_000 });
    expect(await banner.getAttribute("role")).to.equal("alert");
    const text = (await banner.textContent()) ?? "";
    expect(text).to.include("实时监测预警（1）");
    expect(text).to.include("civil-affairs 本月向");
    expect(text).to.include("发出 2 项请求，超过阈值 1");
    expect(await page.locator("#db-live").textContent()).to.include("共 2 项请求");
    expect(page.url()).to.equal(gateway.url + "/console/#/dashboard"); // no reload, no navigation
  });

  it("shows the English banner, the unit its own alert, and another department none", async () => {
    await page.click("#lang-toggle");
    await page.locator("#db-live-alerts").waitFor();
    await page.waitForFunction(() =>
      document.querySelector("#db-live-alerts")?.textContent?.includes("above the threshold"),
    );
    await page.fill("#db-token", tokens.safety!);
    await page.click("#db-search");
    await page.waitForFunction(() => document.querySelector("#db-live")?.textContent?.includes("Live: 0 requests"));
    expect(await page.locator("#db-live-alerts").count()).to.equal(0);
    await page.fill("#db-unit", village);
    await page.fill("#db-token", tokens.village!);
    await page.click("#db-search");
    await page.locator("#db-live-alerts").waitFor();
    expect(await page.locator("#db-live-alerts li").count()).to.equal(1);
  });
});
