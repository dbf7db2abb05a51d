/// <reference lib="dom" />
/**
 * The 国密 suite in the web console, in real headless Chromium served by a real gateway: the
 * workstation opens an SM keystore and signs an SM-suite record in the browser; the verify page
 * verifies its evidence in the browser and finds a tampered copy invalid.
 */
import { expect } from "chai";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Wallet, id } from "ethers";
import { type BrowserContext, type Page, chromium } from "playwright-core";
import { configFromEnvironment } from "../../server/config.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { buildConsole } from "../../scripts/build-console.ts";
import { encryptSmKeystore } from "../../scripts/cli/smKeystore.ts";
import { reasonText } from "../../server/core/verifier.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { sleep } from "../helpers/gatewayFixture.ts";
import { chromiumFlags, chromiumPath } from "../helpers/browser.ts";

const password = "国密 口令";
const villageName = "shuikou-1";
const village = id(`unit:${villageName}`);

describe("web console: the 国密 (SM) suite (real Chromium, real gateway)", function () {
  this.timeout(300_000);
  const dir = tempDir("sm-console");
  const profile = tempDir("sm-console-profile");
  let gateway: RunningGateway;
  let context: BrowserContext;
  let page: Page;
  let keyId: string;
  let evidencePath: string;
  const pageErrors: string[] = [];
  const outsideRequests: string[] = [];

  before(async () => {
    if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: apt-get install chromium`);
    await buildConsole();
    gateway = await startGateway(
      configFromEnvironment(
        {},
        { dataDir: dir.path, port: 0, chainPort: testPort("gm"), anchorIntervalMs: 300, logName: "sm-console" },
      ),
      () => {},
    );
    // Few PBKDF2 iterations: the browser's pure SM3 is what is tested, not the default's cost.
    const keystore = encryptSmKeystore(password, undefined, 5_000);
    keyId = keystore.address;
    writeFileSync(join(dir.path, "sm-village.json"), JSON.stringify(keystore));
    const township = id("unit:shuikou");
    const ledger = gateway.ledger;
    await (
      await ledger.getFunction("registerUnit")(township, "0x" + "00".repeat(32), 2, Wallet.createRandom().address)
    ).wait();
    await (await ledger.getFunction("registerUnit")(village, township, 3, keyId)).wait();
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
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (error) => pageErrors.push(error.message));
  });

  after(async () => {
    await context?.close();
    await Promise.race([gateway?.close(), sleep(30_000)]);
    dir.remove();
    profile.remove();
  });

  afterEach(() => {
    expect(pageErrors, "page errors").to.deep.equal([]);
    expect(outsideRequests, "requests leaving the gateway").to.deep.equal([]);
  });

  it("unlocks an SM keystore and signs an SM-suite record in the browser, which the gateway anchors", async () => {
    await page.goto(gateway.url + "/console/#/workstation");
    await page.fill("#ws-unit", villageName);
    await page.setInputFiles("#ws-keystore", join(dir.path, "sm-village.json"));
    await page.fill("#ws-password", "wrong");
    await page.click("#ws-unlock");
    await page.locator("text=无法打开密钥文件").waitFor({ timeout: 120_000 });
    await page.fill("#ws-password", password);
    await page.click("#ws-unlock");
    await page.locator(".unlocked").waitFor({ timeout: 120_000 });
    expect(await page.locator(".unlocked").innerText()).to.include(keyId);

    const catalog = (await (await fetch(gateway.url + "/v1/duty-types")).json()) as {
      dutyTypes: Array<{ id: string; code: string }>;
    };
    await page.selectOption("#ws-dutyType", catalog.dutyTypes.find((d) => d.code === "household-visit")!.id);
    await page.fill("#ws-f-householdName", "王某");
    await page.fill("#ws-f-address", "水口村二组");
    await page.selectOption("#ws-f-visitPurpose", "elderly-care");
    await page.fill("#ws-f-needsFound", "代购药品");
    await page.fill("#ws-f-visitors", "网格员");
    await page.click("#ws-submit");
    await page.locator("#ws-steps .step-done >> nth=2").waitFor({ timeout: 120_000 });
    const recordId = await page.locator("#ws-record-id").innerText();

    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#ws-download")]);
    evidencePath = join(dir.path, "sm-evidence.json");
    await download.saveAs(evidencePath);
    const evidence = JSON.parse(readFileSync(evidencePath, "utf8"));
    expect(evidence.envelope.suite).to.equal("sm2-sm3");
    expect(evidence.signature).to.have.length(2 + 256);
    expect(evidence.receipt).to.include({ status: "anchored", recordId, suite: "sm2-sm3", signer: keyId });
    expect((await gateway.store.getRecord(recordId))?.signature).to.equal(evidence.signature);
  });

  it("verifies the SM-suite evidence in the browser, and finds a tampered copy invalid", async () => {
    await page.goto(gateway.url + "/console/#/verify");
    await page.setInputFiles("#verify-file", evidencePath);
    await page.locator("#verdict").waitFor({ timeout: 60_000 });
    expect(await page.locator("#verdict").getAttribute("data-verdict")).to.equal("valid");
    expect(await page.locator(".results").innerText()).to.include("已核对记录内容");

    const evidence = JSON.parse(readFileSync(evidencePath, "utf8"));
    evidence.receipt.suite = "eip712-secp256k1";
    const tampered = join(dir.path, "sm-evidence-tampered.json");
    writeFileSync(tampered, JSON.stringify(evidence));
    await page.goto(gateway.url + "/console/#/");
    await page.goto(gateway.url + "/console/#/verify");
    await page.setInputFiles("#verify-file", tampered);
    await page.locator("#verdict[data-verdict=invalid]").waitFor({ timeout: 60_000 });
    expect(await page.locator(".results").innerText()).to.include(reasonText["signature.suite_mismatch"]!["zh-CN"]);
  });
});
