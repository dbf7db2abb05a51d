/// <reference lib="dom" />
/**
 * The web console in real headless Chromium (Debian's, driven by playwright-core), served by a
 * real gateway with its anvil chain and LevelDB in a temp dir. With CONSOLE_SCREENSHOTS=DIR the
 * suite also saves 1366×768 screenshots of the main pages there (docs/screenshots/).
 */
import { expect } from "chai";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type HDNodeWallet, Wallet, id } from "ethers";
import { type BrowserContext, type Page, chromium } from "playwright-core";
import { reasonText } from "../../server/core/verifier.ts";
import { configFromEnvironment } from "../../server/config.ts";
import { issueToken } from "../../server/gateway/AccessTokens.ts";
import { consoleContentSecurityPolicy } from "../../server/http/consoleRoutes.ts";
import { departmentIdOf } from "../../server/chain/deployment.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { buildConsole } from "../../scripts/build-console.ts";
import { testPort } from "../helpers/ports.ts";
import { step } from "../helpers/steps.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { type Eip712Info, newEnvelope, signEnvelope } from "../helpers/unitClient.ts";
import { sleep } from "../helpers/gatewayFixture.ts";
import { chromiumFlags, chromiumPath, cspViolationsOf, recordCspViolations } from "../helpers/browser.ts";

const screenshotDir = process.env.CONSOLE_SCREENSHOTS;
const password = "村委会 keystore 密码";
const villageName = "qingshui-1";
const village = id(`unit:${villageName}`);
const township = id("unit:qingshui");

describe("web console (real Chromium, real gateway, chain and LevelDB)", function () {
  this.timeout(180_000);
  const dir = tempDir("console");
  const profile = tempDir("console-profile");
  let gateway: RunningGateway;
  let context: BrowserContext;
  let page: Page;
  let token: string;
  let evidencePath: string;
  let unitKey: HDNodeWallet;
  let inspectorToken: string;
  const outsideRequests: string[] = [];
  const gatewayLog: string[] = [];
  const pageErrors: string[] = [];

  const screenshot = async (name: string) => {
    if (!screenshotDir) return;
    mkdirSync(screenshotDir, { recursive: true });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(screenshotDir, `${name}.png`) });
  };
  const verdict = () => page.locator("#verdict");

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
          chainPort: testPort("console"),
          anchorIntervalMs: 300,
          anchorMaxLeaves: 1000,
          logName: "console",
        },
      ),
      (message) => gatewayLog.push(message),
    );
    unitKey = Wallet.createRandom();
    const ledger = gateway.ledger;
    await (
      await ledger.getFunction("registerUnit")(township, "0x" + "00".repeat(32), 2, Wallet.createRandom().address)
    ).wait();
    await (await ledger.getFunction("registerUnit")(village, township, 3, unitKey.address)).wait();
    writeFileSync(join(dir.path, "village.json"), await unitKey.encrypt(password));
    token = issueToken(join(dir.path, "tokens.json"), `unit:${village}`, "console test");
    const inspectorKey = Wallet.createRandom();
    await (await ledger.getFunction("registerInspector")(inspectorKey.address, departmentIdOf("civil-affairs"))).wait();
    writeFileSync(join(dir.path, "inspector.json"), await inspectorKey.encrypt(password));
    inspectorToken = issueToken(join(dir.path, "tokens.json"), "inspector:civil-affairs", "console test inspector");

    context = await chromium.launchPersistentContext(profile.path, {
      executablePath: chromiumPath,
      headless: true,
      args: chromiumFlags,
      viewport: { width: 1366, height: 768 },
      locale: "zh-CN",
      timezoneId: "Asia/Shanghai",
      acceptDownloads: true,
    });
    context.on("request", (request) => {
      const url = request.url();
      if (!url.startsWith(gateway.url) && !url.startsWith("blob:") && !url.startsWith("data:"))
        outsideRequests.push(url);
    });
    // Any Content-Security-Policy violation is recorded where the test can read it.
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

  /** No CSP violation on the page, no page error, no request leaving the gateway: after every test and step. */
  const pageIsClean = async () => {
    if (!page || page.isClosed()) return;
    const violations = await cspViolationsOf(page);
    expect(violations, "CSP violations").to.deep.equal([]);
    expect(pageErrors, "page errors").to.deep.equal([]);
    expect(outsideRequests, "requests leaving the gateway").to.deep.equal([]);
  };
  afterEach(pageIsClean);
  /** A step of the console's story, with the page checked as after a test. */
  const checkedStep = (name: string, body: () => Promise<void>) =>
    step(name, async () => {
      await body();
      await pageIsClean();
    });

  it("is served by the gateway under a strict Content-Security-Policy, in Chinese by default", async () => {
    const response = await page.goto(gateway.url + "/");
    expect(page.url()).to.equal(gateway.url + "/console/");
    const headers = response!.headers();
    expect(headers["content-security-policy"]).to.equal(consoleContentSecurityPolicy);
    expect(headers["content-security-policy"]).to.include("script-src 'self'").and.not.include("unsafe-inline");
    const html = await (await fetch(gateway.url + "/console/")).text();
    expect(html).to.not.match(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    expect(html).to.not.match(/\bstyle=|<style/);
    expect(await page.getAttribute("html", "lang")).to.equal("zh-CN");
    await page.locator("nav a[data-route=verify]").waitFor();
    expect(await page.locator("nav").innerText())
      .to.include("核验")
      .and.include("减负看板");
    // The font is the bundled Noto Sans SC, loaded from the gateway.
    await page.evaluate(() => document.fonts.ready);
    expect(await page.evaluate(() => document.fonts.check("16px 'Noto Sans SC Variable'", "核验"))).to.equal(true);
    await page.locator("[data-health=ok]").waitFor();
    // Keyboard first: the first Tab reaches the skip link, which moves focus to the page.
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.className)).to.equal("skip-link");
    await page.keyboard.press("Enter");
    expect(await page.evaluate(() => document.activeElement?.id)).to.equal("main");
  });

  it("answers bad input on the console's API routes with problems, and records only to a token", async () => {
    const facts = await fetch(`${gateway.url}/v1/chain-facts?chainId=x&contract=0x12`);
    expect(facts.status).to.equal(422);
    expect(facts.headers.get("content-type")).to.include("application/problem+json");
    const problem = (await facts.json()) as { errors: Array<{ path: string }> };
    expect(problem.errors.map((e) => e.path)).to.include.members(["query.chainId", "query.contract", "query.logId"]);
    expect((await fetch(`${gateway.url}/v1/units/${village}/records`)).status).to.equal(401);
    const other = issueToken(join(dir.path, "tokens.json"), `unit:${township}`, "another unit");
    const forbidden = await fetch(`${gateway.url}/v1/units/${village}/records`, {
      headers: { authorization: `Bearer ${other}` },
    });
    expect(forbidden.status).to.equal(403);
  });

  it("walks through the console as its users do: a record signed, verified, looked up and corrected, demands made and answered, the dashboard, the language, and a chain and a gateway gone", async function () {
    this.timeout(900_000);
    await checkedStep(
      "signs a record in the browser with the unit's keystore, submits it and sees it anchored",
      async () => {
        await page.goto(gateway.url + "/console/#/workstation");
        await page.fill("#ws-unit", villageName);
        await page.setInputFiles("#ws-keystore", join(dir.path, "village.json"));
        await page.fill("#ws-password", "wrong password");
        await page.click("#ws-unlock");
        await page.locator("text=无法打开密钥文件").waitFor({ timeout: 60_000 });
        await page.fill("#ws-password", password);
        await page.click("#ws-unlock");
        await page.locator(".unlocked").waitFor({ timeout: 60_000 });

        const catalog = (await (await fetch(gateway.url + "/v1/duty-types")).json()) as {
          dutyTypes: Array<{ id: string; code: string }>;
        };
        const household = catalog.dutyTypes.find((d) => d.code === "household-visit")!.id;
        await page.selectOption("#ws-dutyType", household);
        // The submit button checks the form first: every required field is named.
        await page.click("#ws-submit");
        await page.locator("#ws-error").waitFor();
        expect(await page.locator(".field.has-error").count()).to.be.greaterThan(2);

        await page.fill("#ws-f-householdName", "欧阳娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜");
        await page.fill("#ws-f-address", "青石镇青石村第三村民小组十二号院内东侧厢房（原村集体仓库改建）");
        await page.selectOption("#ws-f-visitPurpose", "elderly-care");
        await page.fill("#ws-f-needsFound", "独居老人，需定期上门查看身体状况并协助代购生活用品。");
        await page.check("#ws-f-followUpRequired");
        await page.fill("#ws-f-visitors", "李某、张某");
        await page.click("#ws-submit");
        await page.locator("#ws-steps .step-done >> nth=2").waitFor({ timeout: 30_000 });
        expect(await page.locator("#ws-steps").innerText()).to.include("已锚定");
        const recordId = await page.locator("#ws-record-id").innerText();
        expect(recordId).to.match(/^0x[0-9a-f]{64}$/);
        await screenshot("workstation");

        const [download] = await Promise.all([page.waitForEvent("download"), page.click("#ws-download")]);
        evidencePath = join(dir.path, "evidence.json");
        await download.saveAs(evidencePath);
        const evidence = JSON.parse(readFileSync(evidencePath, "utf8"));
        expect(evidence.receipt).to.include({ status: "anchored", recordId, unitId: village });
        expect(evidence.envelope.fields.householdName).to.equal("欧阳娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜");
        // The gateway holds exactly what the browser signed.
        expect((await gateway.store.getRecord(recordId))?.signature).to.equal(evidence.signature);
      },
    );
    await checkedStep("verifies a valid evidence file, hashing it in the browser, and downloads a report", async () => {
      await page.goto(gateway.url + "/console/#/verify");
      await page.setInputFiles("#verify-file", evidencePath);
      await verdict().waitFor();
      expect(await verdict().getAttribute("data-verdict")).to.equal("valid");
      const text = await page.locator(".results").innerText();
      expect(text).to.include("有效").and.include("已核对记录内容").and.include(village);
      expect(text).to.include("入户走访").and.include("欧阳娜娜");
      const fileHash = createHash("sha256").update(readFileSync(evidencePath)).digest("hex");
      expect(text).to.include(`0x${fileHash}`).and.include("WebCrypto");
      // Nine checks, and the tenth: the receipt's checkpoint signed with the log's key.
      expect(await page.locator(".checks li.check-ok").count()).to.equal(10);
      expect(await page.locator(".checks li.check-ok[data-check=note]").count()).to.equal(1);
      await screenshot("verify");

      const [download] = await Promise.all([page.waitForEvent("download"), page.click("#report-text")]);
      const report = readFileSync(await download.path(), "utf8");
      expect(report).to.include("有效").and.include(village).and.include(`0x${fileHash}`);
    });
    await checkedStep("finds a tampered record invalid with the CLI's reason", async () => {
      const evidence = JSON.parse(readFileSync(evidencePath, "utf8"));
      evidence.envelope.fields.visitors = "李某";
      const tampered = join(dir.path, "tampered.json");
      writeFileSync(tampered, JSON.stringify(evidence));
      await page.goto(gateway.url + "/console/#/verify");
      await page.setInputFiles("#verify-file", tampered);
      await verdict().waitFor();
      expect(await verdict().getAttribute("data-verdict")).to.equal("invalid");
      expect(await verdict().innerText()).to.include(reasonText["record.altered"]!["zh-CN"]);
      expect(await page.locator(".checks li.check-bad[data-check=record]").count()).to.equal(1);
      await screenshot("verify-tampered");
    });
    await checkedStep("hashes with pure JavaScript where WebCrypto is missing (plain-HTTP intranets)", async () => {
      const plain = await context.newPage();
      try {
        await plain.addInitScript(() => Object.defineProperty(window.crypto, "subtle", { value: undefined }));
        await plain.goto(gateway.url + "/console/#/verify");
        expect(await plain.evaluate(() => window.crypto.subtle)).to.equal(undefined);
        await plain.setInputFiles("#verify-file", evidencePath);
        await plain.locator("#verdict").waitFor();
        expect(await plain.locator("#verdict").getAttribute("data-verdict")).to.equal("valid");
        const fileHash = createHash("sha256").update(readFileSync(evidencePath)).digest("hex");
        expect(await plain.locator(".results").innerText())
          .to.include(`0x${fileHash}`)
          .and.include("纯 JavaScript");
      } finally {
        await plain.close();
      }
    });
    await checkedStep(
      "looks up a pasted record id, says what a leaf hash alone shows, and when a hash is unknown",
      async () => {
        const evidence = JSON.parse(readFileSync(evidencePath, "utf8"));
        await page.goto(gateway.url + "/console/#/verify");
        await page.fill("#verify-paste", evidence.receipt.recordId);
        await page.click("#verify-submit");
        await page.locator("#verdict[data-verdict=valid]").waitFor();
        expect(await page.locator(".results").innerText()).to.include("仅核验回执");
        // A leaf hash is public (proofs carry it): the gateway says only where it was anchored.
        await page.fill("#verify-paste", evidence.receipt.leafHash);
        await page.click("#verify-submit");
        await page.locator("#verdict >> text=这是叶子哈希").waitFor();

        await page.fill("#verify-paste", "0x" + "ab".repeat(32));
        await page.keyboard.press("Enter");
        await page.locator("#verdict >> text=未找到").waitFor();

        await page.fill("#verify-paste", "not a hash");
        await page.click("#verify-submit");
        await page.locator("#verdict >> text=0x 开头").waitFor();
      },
    );
    await checkedStep("verifies an export bundle record by record", async () => {
      const response = await fetch(`${gateway.url}/v1/export?unitId=${village}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const bundlePath = join(dir.path, "bundle.json");
      writeFileSync(bundlePath, await response.text());
      await page.goto(gateway.url + "/console/#/verify");
      await page.setInputFiles("#verify-file", bundlePath);
      await page.locator("#verdict[data-verdict=valid]").waitFor();
      expect(await verdict().innerText()).to.include("导出包中 1 条记录全部核验通过");
    });
    await checkedStep("shows the unit's timeline to a holder of its token, and refuses a wrong token", async () => {
      // A correction of the first record, made by the unit's own system: the original is superseded.
      const first = JSON.parse(readFileSync(evidencePath, "utf8"));
      const info = (await (await fetch(gateway.url + "/v1/info")).json()) as { eip712: Eip712Info; logId: string };
      const correction = {
        ...newEnvelope(info.logId, village, first.envelope.dutyTypeId, {
          ...first.envelope.fields,
          visitors: "李某、张某、王某",
        }),
        amends: { recordId: first.receipt.recordId, kind: "correction" as const, reason: "补记走访人员" },
      };
      const submitted = await fetch(gateway.url + "/v1/attestations", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ envelope: correction, signature: await signEnvelope(unitKey, info.eip712, correction) }),
      });
      expect(submitted.status).to.equal(201);

      await page.goto(gateway.url + "/console/#/timeline");
      await page.fill("#tl-unit", villageName);
      await page.fill("#tl-token", "dp_not-a-token");
      await page.click("#tl-search");
      await page.locator(".notice-error").waitFor();
      expect(await page.locator(".notice-error").innerText()).to.include("无权");

      await page.fill("#tl-token", token);
      await page.click("#tl-search");
      await page.locator(".timeline-table tbody tr").first().waitFor();
      const text = await page.locator(".results").innerText();
      expect(text).to.include("已更正").and.include("入户走访").and.include("老人").and.include("王某");
      expect(await page.locator(".timeline-table tbody tr").count()).to.equal(2);
      expect(text, "personal fields stay out of the list").to.not.include("欧阳娜娜");
      await screenshot("timeline");

      await page.click(`tr[data-record="${first.receipt.recordId}"] button >> text=核验`);
      await page.locator("#verdict[data-verdict=valid]").waitFor();
    });
    await checkedStep("shows the chain's status: health, log size and the latest checkpoints", async () => {
      await page.goto(gateway.url + "/console/#/chain");
      await page.locator("#checkpoints tbody tr").first().waitFor();
      expect(await page.locator("#chain-log-size").innerText()).to.equal("2");
      await page.locator("#chain-anchored-size >> text=2").waitFor();
      expect(await page.locator(".health-card.health-ok").count()).to.equal(4);
      expect(await page.locator("#checkpoints").innerText()).to.include("已锚定");
      await screenshot("chain");
    });
    await checkedStep(
      "answers an inspector's demand from the ledger and absorbs the same demand made again",
      async () => {
        await page.goto(gateway.url + "/console/#/demands");
        await page.setInputFiles("#dm-keystore", join(dir.path, "inspector.json"));
        await page.fill("#dm-password", password);
        await page.fill("#dm-department", "civil-affairs");
        await page.click("#dm-unlock");
        await page.locator(".unlocked").waitFor({ timeout: 60_000 });

        const year = new Date().getUTCFullYear();
        await page.fill("#dm-unit", villageName);
        await page.check("input[data-code=household-visit]");
        await page.fill("#dm-from", `${year - 1}-01-01`);
        await page.fill("#dm-to", `${year + 1}-01-01`);
        await page.fill("#dm-purpose", "季度入户走访抽查");
        await page.click("#dm-submit");
        await page.locator("#dm-latest[data-decision=answered_from_ledger]").waitFor({ timeout: 30_000 });
        expect(await page.locator("#dm-latest").innerText())
          .to.include("已由账本答复")
          .and.include("2 条相符的记录");

        // The same unit, duty type and period again (another purpose): absorbed, no new task.
        await page.fill("#dm-purpose", "民政局年度考核");
        await page.click("#dm-submit");
        await page.locator("#dm-latest[data-decision=duplicate_absorbed]").waitFor({ timeout: 30_000 });
        expect(await page.locator("#dm-latest").innerText()).to.include("重复调阅，已合并");
        await screenshot("demands");

        // The package answering it verifies in the browser, record by record.
        await page.click("#dm-latest button >> text=核验证据包");
        await page.locator("#verdict[data-verdict=valid]").waitFor({ timeout: 30_000 });
        expect(await verdict().innerText()).to.include("导出包中 2 条记录全部核验通过");
      },
    );
    await checkedStep(
      "refuses another department's and an off-list demand, and turns an unanswerable one into a task the unit answers",
      async () => {
        await page.evaluate(() => (location.hash = "#/demands"));
        await page.locator("#dm-form").waitFor();
        const year = new Date().getUTCFullYear();
        // Grid patrols are political-legal's: a civil-affairs inspector may not ask for them.
        await page.fill("#dm-unit", villageName);
        await page.uncheck("input[data-code=household-visit]");
        await page.check("input[data-code=grid-patrol]");
        await page.fill("#dm-purpose", "网格巡查情况");
        await page.click("#dm-submit");
        await page.locator("#dm-error >> text=不属于本部门").waitFor({ timeout: 30_000 });
        // Household visits are a village's duty, not a township's.
        await page.fill("#dm-unit", "qingshui");
        await page.uncheck("input[data-code=grid-patrol]");
        await page.check("input[data-code=household-visit]");
        await page.fill("#dm-purpose", "入户走访情况");
        await page.click("#dm-submit");
        await page.locator("#dm-latest[data-decision=refused_off_list]").waitFor({ timeout: 30_000 });
        expect(await page.locator("#dm-latest").innerText()).to.include("清单外事项");

        await page.fill("#dm-unit", villageName);
        await page.uncheck("input[data-code=household-visit]");
        await page.check("input[data-code=subsistence-allowance-check]");
        await page.fill("#dm-from", `${year - 1}-01-01`);
        await page.click("#dm-submit");
        await page.locator("#dm-latest[data-decision=task_created]").waitFor({ timeout: 30_000 });

        await page.click("#dm-mode-unit");
        await page.fill("#dm-unit-query", villageName);
        await page.fill("#dm-token", token);
        await page.click("#dm-unit-search");
        await page.locator("#dm-tasks tbody tr").first().waitFor();
        expect(await page.locator("#dm-tasks tbody tr").count()).to.equal(1);
        expect(await page.locator("#dm-received tbody tr").count()).to.equal(3);
        await page.click("#dm-tasks button >> text=去填报");
        await page.locator("#ws-answering").waitFor();
        expect(await page.locator("#ws-dutyType option:checked").innerText()).to.equal("低保入户核查");
      },
    );
    await checkedStep("loads the burden dashboard with its figures and charts", async () => {
      await page.goto(gateway.url + "/console/#/dashboard");
      await page.fill("#db-token", inspectorToken);
      await page.click("#db-search");
      await page.locator("#db-demands").waitFor();
      expect(await page.locator("#db-demands").innerText()).to.equal("4");
      expect(await page.locator("#db-duplicates").innerText()).to.equal("1");
      expect(await page.locator("#db-over-quota").innerText()).to.equal("0");
      await page.locator("#chart-quota canvas").waitFor();
      expect(await page.locator(".chart canvas").count()).to.equal(4);
      await page.waitForTimeout(1200); // the charts' entry animation
      await screenshot("dashboard");
    });
    await checkedStep("switches to English and back, keeping the choice across a reload", async () => {
      await page.goto(gateway.url + "/console/#/verify");
      await page.setInputFiles("#verify-file", evidencePath);
      await page.locator("#verdict[data-verdict=valid]").waitFor();
      await page.click("#lang-toggle");
      expect(await page.getAttribute("html", "lang")).to.equal("en");
      expect(await page.locator("nav").innerText())
        .to.include("Verify")
        .and.include("Burden dashboard");
      // The verdict already shown is re-rendered in English.
      expect(await verdict().innerText()).to.include("VALID");
      expect(await page.locator(".results").innerText()).to.include("Household visit");
      await page.reload();
      await page.locator("nav a[data-route=verify]").waitFor();
      expect(await page.locator("nav").innerText()).to.include("Unit timeline");
      // Keyboard only: the toggle is reachable and works with Enter.
      await page.focus("#lang-toggle");
      await page.keyboard.press("Enter");
      expect(await page.locator("nav").innerText()).to.include("履职记录");
    });
    await checkedStep("says plainly when the chain is down", async () => {
      // The gateway's own chain node (started by this test's gateway) is stopped by its pid.
      const pid = Number(readFileSync(join(dir.path, "chain", "anvil.pid"), "utf8"));
      process.kill(pid, "SIGKILL");
      await page.goto(gateway.url + "/console/#/chain");
      await page.locator(".health-banner >> text=区块链节点无响应").waitFor({ timeout: 20_000 });
      await page.locator(".health-card.health-bad >> text=无响应").waitFor({ timeout: 20_000 });
      await screenshot("chain-down");
      await page.evaluate(() => (location.hash = "#/verify"));
      await page.setInputFiles("#verify-file", evidencePath);
      await page.locator("#verdict >> text=区块链节点无响应").waitFor({ timeout: 30_000 });
    });
    await checkedStep("says plainly when the gateway is down", async () => {
      await page.goto(gateway.url + "/console/#/chain");
      await page.locator("#checkpoints").waitFor();
      const closed = await Promise.race([gateway.close().then(() => true), sleep(30_000).then(() => false)]);
      expect(closed, `the gateway stops within 30 s with its chain gone; its log:\n${gatewayLog.join("\n")}`).to.equal(
        true,
      );
      await page.evaluate(() => (location.hash = "#/verify"));
      await page.locator(".health-banner >> text=无法连接网关").waitFor({ timeout: 20_000 });
      await page.fill("#verify-paste", "0x" + "cd".repeat(32));
      await page.click("#verify-submit");
      await page.locator("#verdict >> text=无法连接网关").waitFor();
    });
  });
});
