/// <reference lib="dom" />
/**
 * The burden requests page in real headless Chromium, served by a real gateway (anvil chain,
 * LevelDB): departments sign requests in the browser with their keystores; a second department's
 * meeting in the same week is merged into one combined meeting, which the unit then sees; an
 * evaluation by a department that does not lead the domain is refused and names the lead; a data
 * request is answered from the ledger field by field.
 */
import { expect } from "chai";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Wallet, encryptKeystoreJson, id } from "ethers";
import { type BrowserContext, type Page, chromium } from "playwright-core";
import { buildConsole } from "../../scripts/build-console.ts";
import { departmentIdOf } from "../../server/chain/deployment.ts";
import { configFromEnvironment } from "../../server/config.ts";
import { issueToken } from "../../server/gateway/AccessTokens.ts";
import { chinaDateTimeInput } from "../../console/src/format.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { sleep, submitRecord } from "../helpers/gatewayFixture.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { chromiumFlags, chromiumPath } from "../helpers/browser.ts";

const DAY = 86_400;
const password = "部门 keystore 密码";
const townshipName = "rq-township";
const villageName = "rq-village";
const township = id(`unit:${townshipName}`);
const village = id(`unit:${villageName}`);

describe("burden requests page (real Chromium, real gateway)", function () {
  this.timeout(240_000);
  const dir = tempDir("requests-console");
  const profile = tempDir("requests-console-profile");
  const office = Wallet.createRandom();
  const civil = Wallet.createRandom();
  const villageKey = Wallet.createRandom();
  let gateway: RunningGateway;
  let context: BrowserContext;
  let page: Page;
  let villageToken = "";
  const pageErrors: string[] = [];
  const now = Math.floor(Date.now() / 1000);

  const unlockAs = async (department: string, keystore: string) => {
    if (await page.locator(".unlocked").count()) await page.click(".unlocked button");
    await page.fill("#rq-department", department);
    await page.setInputFiles("#rq-keystore", join(dir.path, keystore));
    await page.fill("#rq-password", password);
    await page.click("#rq-unlock");
    await page.locator(".unlocked").waitFor({ timeout: 90_000 });
  };
  const sendAndRead = async () => {
    const before = await page.locator("#rq-results > li").count();
    await page.click("#rq-send");
    await page.waitForFunction(
      (n) => document.querySelectorAll("#rq-results > li").length > n || document.querySelector("#rq-error"),
      before,
    );
    const error = page.locator("#rq-error");
    if ((await error.count()) > 0) throw new Error(`the page refused: ${await error.textContent()}`);
    return page.locator("#rq-results > li").first();
  };
  const meeting = async (topic: string, start: number) => {
    await page.selectOption("#rq-kind", "meeting");
    await page.fill("#rq-unit", villageName);
    await page.fill("#rq-topic", topic);
    await page.fill("#rq-agenda", "通报进展\n部署任务");
    await page.fill("#rq-decisionsSought", "确定分工");
    await page.fill("#rq-start", chinaDateTimeInput(start));
    await page.fill("#rq-durationMinutes", "60");
    await page.fill("#rq-roles", "secretary");
    return sendAndRead();
  };

  before(async () => {
    if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: apt-get install chromium`);
    await buildConsole();
    gateway = await startGateway(
      configFromEnvironment(
        {},
        {
          dataDir: dir.path,
          port: 0,
          chainPort: testPort("live"),
          anchorIntervalMs: 300,
          anchorMaxLeaves: 1000,
          logName: "requests-console",
        },
      ),
      () => {},
    );
    const send = async (name: string, ...args: unknown[]) => (await gateway.ledger.getFunction(name)(...args)).wait();
    await send("registerUnit", township, "0x" + "00".repeat(32), 2, Wallet.createRandom().address);
    await send("registerUnit", village, township, 3, villageKey.address);
    await send("registerInspector", office.address, departmentIdOf("general-office"));
    await send("registerInspector", civil.address, departmentIdOf("civil-affairs"));
    // Light scrypt: the browser decrypts two keystores, and the test is about the requests.
    const light = { scrypt: { N: 1024 } };
    for (const [file, wallet] of [
      ["office.json", office],
      ["civil.json", civil],
    ] as const)
      writeFileSync(
        join(dir.path, file),
        await encryptKeystoreJson({ address: wallet.address, privateKey: wallet.privateKey }, password, light),
      );
    const tokens = join(dir.path, "tokens.json");
    villageToken = issueToken(tokens, `unit:${village}`, "the village");
    const operator = issueToken(tokens, "operator", "county IT");
    const lead = await fetch(gateway.url + "/v1/burden/lead-departments", {
      method: "PATCH",
      headers: { "content-type": "application/json", authorization: `Bearer ${operator}` },
      body: JSON.stringify({ leads: { "grassroots-governance": "general-office" } }),
    });
    expect(lead.status, await lead.clone().text()).to.equal(200);
    await submitRecord(gateway.url, { key: villageKey, unitId: village }, "household-visit", {
      householdName: "王某",
      address: "一组",
      visitPurpose: "routine",
      followUpRequired: false,
      visitors: "李某",
    });

    context = await chromium.launchPersistentContext(profile.path, {
      executablePath: chromiumPath,
      headless: true,
      args: chromiumFlags,
      viewport: { width: 1366, height: 900 },
      locale: "zh-CN",
      timezoneId: "Asia/Shanghai",
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(gateway.url + "/console/#/requests");
  });

  after(async () => {
    await context?.close();
    await Promise.race([gateway?.close(), sleep(30_000)]);
    dir.remove();
    profile.remove();
  });

  afterEach(() => expect(pageErrors, "page errors").to.deep.equal([]));

  it("merges a second department's meeting of the same week into one combined meeting the unit sees", async () => {
    await unlockAs("general-office", "office.json");
    const first = await meeting("季度工作部署", now + 2 * DAY);
    expect(await first.locator(".rq-decision").textContent()).to.include("admitted");
    await unlockAs("civil-affairs", "civil.json");
    const second = await meeting("低保工作推进", now + 2 * DAY + 1800);
    expect(await second.locator(".rq-decision").textContent()).to.include("merged");
    expect(await second.locator(".rq-reason").textContent()).to.include("merged.combined_meeting");
    expect(await second.locator(".rq-merged").count()).to.equal(1);

    await page.fill("#rq-unit-token", villageToken);
    await page.fill("#rq-unit-query", villageName);
    await page.click("#rq-unit-load");
    await page.locator("#rq-unit-view").waitFor();
    expect(await page.locator("#rq-merged-meetings li").allTextContents()).to.deep.equal([
      "general-office + civil-affairs",
    ]);
  });

  it("refuses an evaluation by a department that does not lead the domain, naming the lead", async () => {
    await page.selectOption("#rq-kind", "evaluation");
    await page.fill("#rq-unit", villageName);
    await page.fill("#rq-domain", "grassroots-governance");
    await page.fill("#rq-title", "年度基层治理考核");
    await page.fill("#rq-from", chinaDateTimeInput(now - 30 * DAY));
    await page.fill("#rq-to", chinaDateTimeInput(now + 30 * DAY));
    const result = await sendAndRead();
    expect(await result.getAttribute("class")).to.include("notice-error");
    expect(await result.locator(".rq-reason").textContent()).to.include("refused.not_lead_department");
    expect(await result.locator(".rq-lead").textContent()).to.include("general-office");
  });

  it("answers a data request from the ledger field by field", async () => {
    await page.selectOption("#rq-kind", "data");
    await page.fill("#rq-unit", villageName);
    await page.fill("#rq-items", "household-visit.visitPurpose\nhousehold-visit.followUpRequired");
    await page.fill("#rq-from", chinaDateTimeInput(now - 30 * DAY));
    await page.fill("#rq-to", chinaDateTimeInput(now + 3600));
    await page.fill("#rq-deadline", chinaDateTimeInput(now + 7 * DAY));
    const result = await sendAndRead();
    expect(await result.locator(".rq-reason").textContent()).to.include("answered.ledger");
    const items = await result.locator(".rq-answered li").allTextContents();
    expect(items).to.have.length(2);
    expect(items[0]).to.match(/\.visitPurpose：账本已有 1 条记录$/);
    expect(items[1]).to.match(/\.followUpRequired：账本已有 1 条记录$/);
  });
});
