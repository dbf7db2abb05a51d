/// <reference lib="dom" />
/**
 * What a cadre sees is in the page's language, whatever the browser is set to: enum values by
 * their titles, units by name, every date in UTC+8 formatted for the page's language. Real
 * headless Chromium set to another locale and time zone (en-US, Los Angeles) than the county's,
 * served by a real gateway with its chain and LevelDB in a temp dir.
 */
import { expect } from "chai";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type HDNodeWallet, Wallet, id } from "ethers";
import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";
import { unitRecordsResponseSchema } from "../../server/core/apiResponses.ts";
import { unitNamesResponseSchema } from "../../server/core/unitDirectory.ts";
import { configFromEnvironment } from "../../server/config.ts";
import { issueToken } from "../../server/gateway/AccessTokens.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { buildConsole } from "../../scripts/build-console.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { type Eip712Info, newEnvelope, signEnvelope } from "../helpers/unitClient.ts";
import { chromiumFlags, chromiumPath } from "../helpers/browser.ts";

const password = "keystore password";
const villageName = "qingshui-1";
const village = id(`unit:${villageName}`);
const township = id("unit:qingshui");

/**
 * Unix seconds of a minute in UTC+8 two days ago (a plausible time performed), and how that
 * minute reads in a datetime-local input, in zh-CN and in en as the console must show it.
 */
function countyMinute(): { seconds: number; input: string; zh: string; en: string } {
  const seconds = Math.floor(Date.now() / 60_000) * 60 - 2 * 86_400;
  const local = new Date((seconds + 8 * 3600) * 1000); // its UTC fields are the county's wall clock
  const pad = (n: number) => String(n).padStart(2, "0");
  const [y, mo, d, h, mi] = [
    local.getUTCFullYear(),
    pad(local.getUTCMonth() + 1),
    pad(local.getUTCDate()),
    pad(local.getUTCHours()),
    pad(local.getUTCMinutes()),
  ];
  return {
    seconds,
    input: `${y}-${mo}-${d}T${h}:${mi}`,
    zh: `${y}/${mo}/${d} ${h}:${mi}:00`,
    en: `${mo}/${d}/${y}, ${h}:${mi}:00`,
  };
}

describe("web console in the page's language (real Chromium set to en-US in Los Angeles)", function () {
  this.timeout(180_000);
  const dir = tempDir("console-language");
  let gateway: RunningGateway;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let unitKey: HDNodeWallet;
  let token: string;
  let householdVisit: string;
  /** When the record every test may read was performed (submitted in `before`). */
  let routineVisitAt: ReturnType<typeof countyMinute>;
  const pageErrors: string[] = [];

  /** A fresh tab in a fresh profile: no name typed before, no language chosen before. */
  const freshPage = async () => {
    await context?.close();
    context = await browser.newContext({
      viewport: { width: 1366, height: 768 },
      locale: "en-US",
      timezoneId: "America/Los_Angeles",
      acceptDownloads: true,
    });
    page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    return page;
  };

  const submitRecord = async (fields: Record<string, string | number | boolean>, performedAt?: number) => {
    const info = (await (await fetch(gateway.url + "/v1/info")).json()) as { eip712: Eip712Info; logId: string };
    const envelope = newEnvelope(info.logId, village, householdVisit, fields, performedAt);
    const response = await fetch(gateway.url + "/v1/attestations", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ envelope, signature: await signEnvelope(unitKey, info.eip712, envelope) }),
    });
    expect(response.status).to.equal(201);
  };

  const openTimeline = async (unit: string) => {
    await page.goto(gateway.url + "/console/#/timeline");
    await page.fill("#tl-unit", unit);
    await page.fill("#tl-token", token);
    await page.click("#tl-search");
    await page.locator(".timeline-table tbody tr").first().waitFor();
  };

  before(async () => {
    if (!existsSync(chromiumPath))
      throw new Error(`${chromiumPath} is missing: apt-get install chromium (.ci/run does)`);
    await buildConsole();
    // The operator's unit directory: the village by its name and what people call it.
    writeFileSync(
      join(dir.path, "units.json"),
      JSON.stringify({
        units: [{ name: villageName, title: { "zh-CN": "青石村村民委员会", en: "Qingshi Village Committee" } }],
      }),
    );
    gateway = await startGateway(
      configFromEnvironment(
        {},
        {
          dataDir: dir.path,
          port: 0,
          chainPort: testPort("consoleState"),
          anchorIntervalMs: 300,
          anchorMaxLeaves: 1000,
          logName: "console-language",
        },
      ),
      () => {},
    );
    unitKey = Wallet.createRandom();
    const ledger = gateway.ledger;
    await (
      await ledger.getFunction("registerUnit")(township, "0x" + "00".repeat(32), 2, Wallet.createRandom().address)
    ).wait();
    await (await ledger.getFunction("registerUnit")(village, township, 3, unitKey.address)).wait();
    writeFileSync(join(dir.path, "village.json"), await unitKey.encrypt(password));
    token = issueToken(join(dir.path, "tokens.json"), `unit:${village}`, "console language test");
    const catalog = (await (await fetch(gateway.url + "/v1/duty-types")).json()) as {
      dutyTypes: Array<{ id: string; code: string }>;
    };
    householdVisit = catalog.dutyTypes.find((d) => d.code === "household-visit")!.id;
    routineVisitAt = countyMinute();
    await submitRecord(
      {
        householdName: "王某",
        address: "青石村二组",
        visitPurpose: "routine",
        followUpRequired: false,
        visitors: "李某",
      },
      routineVisitAt.seconds,
    );
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumFlags });
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await gateway?.close();
    dir.remove();
  });

  afterEach(() => {
    expect(pageErrors, "page errors").to.deep.equal([]);
  });

  it("offers an enum field's values by their Chinese titles on a Chinese form, and English ones in English", async () => {
    await freshPage();
    await page.goto(gateway.url + "/console/#/workstation");
    expect(await page.getAttribute("html", "lang")).to.equal("zh-CN");
    await page.locator(`#ws-dutyType option[value="${householdVisit}"]`).waitFor({ state: "attached" });
    await page.selectOption("#ws-dutyType", householdVisit);
    const options = () =>
      page.$$eval("#ws-f-visitPurpose option", (list) =>
        list.map((o) => [(o as HTMLOptionElement).value, o.textContent ?? ""]),
      );
    const zh = await options();
    expect(zh).to.deep.include(["elderly-care", "关爱老人"]);
    expect(zh).to.deep.include(["routine", "日常走访"]);
    expect(zh.map(([, text]) => text).join(" "), "no raw value shown").to.not.match(/elderly-care|routine/);
    await page.click("#lang-toggle");
    await page.locator("#ws-f-visitPurpose").waitFor();
    expect(await options()).to.deep.include(["elderly-care", "Elderly care"]);
  });

  it("reads the time performed as the county's (UTC+8) and shows it so, in a browser set to Los Angeles", async () => {
    await freshPage();
    const minute = countyMinute();
    await page.goto(gateway.url + "/console/#/workstation");
    await page.fill("#ws-unit", villageName);
    await page.setInputFiles("#ws-keystore", join(dir.path, "village.json"));
    await page.fill("#ws-password", password);
    await page.click("#ws-unlock");
    await page.locator(".unlocked").waitFor({ timeout: 60_000 });
    await page.selectOption("#ws-dutyType", householdVisit);
    await page.fill("#ws-performedAt", minute.input);
    await page.fill("#ws-f-householdName", "张某");
    await page.fill("#ws-f-address", "青石村一组");
    await page.selectOption("#ws-f-visitPurpose", "elderly-care");
    await page.fill("#ws-f-visitors", "李某");
    await page.click("#ws-submit");
    const recordId = await page.locator("#ws-record-id").innerText();
    const stored = await gateway.store.getRecord(recordId);
    expect(stored?.envelope.performedAt, "performedAt read as UTC+8, not as the browser's zone").to.equal(
      minute.seconds,
    );
    expect(await page.locator(".receipt-panel").innerText()).to.include(minute.zh);
    // The unlocked key names its unit as the directory does.
    expect(await page.locator(".unlocked .unit-name").innerText()).to.equal("青石村村民委员会");
  });

  it("shows units by the directory's name, and dates as the page's language writes them in UTC+8", async () => {
    const minute = routineVisitAt;
    // A fresh profile: the browser has never been told the unit's name; the id is typed.
    await freshPage();
    await openTimeline(village);
    expect(await page.locator("#tl-unit-name").innerText()).to.equal("青石村村民委员会");
    const zhText = await page.locator(".results").innerText();
    expect(zhText).to.include(minute.zh).and.include("日常走访").and.not.include("routine");
    expect(zhText, "not the browser's en-US format").to.not.include(minute.en);

    await page.click("#lang-toggle");
    await page.locator(".timeline-table tbody tr").first().waitFor();
    await page.locator("#tl-unit-name >> text=Qingshi Village Committee").waitFor();
    const enText = await page.locator(".results").innerText();
    expect(enText).to.include(minute.en).and.include("Routine visit");
  });

  it("serves the unit directory with ids anyone can check, and the console ignores a name that is not the id's", async () => {
    const answer = unitNamesResponseSchema.parse(await (await fetch(gateway.url + "/v1/unit-names")).json());
    expect(answer.units).to.deep.equal([
      {
        unitId: village,
        name: villageName,
        title: { "zh-CN": "青石村村民委员会", en: "Qingshi Village Committee" },
      },
    ]);
    // The timeline's answer has the shape the console's types (server/core) say.
    const records = await fetch(`${gateway.url}/v1/units/${village}/records`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(unitRecordsResponseSchema.safeParse(await records.json()).success).to.equal(true);

    // Something between the browser and the gateway names the village after another unit.
    await freshPage();
    await page.route("**/v1/unit-names", (route) =>
      route.fulfill({
        contentType: "application/json",
        body: JSON.stringify({ units: [{ unitId: village, name: "qingshui", title: { "zh-CN": "青石镇", en: "x" } }] }),
      }),
    );
    await openTimeline(village);
    const label = await page.locator("#tl-unit-name").innerText();
    expect(label).to.not.include("青石镇");
    expect(label).to.equal(`${village.slice(0, 10)}…${village.slice(-6)}`);
  });
});
