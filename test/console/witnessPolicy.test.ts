/// <reference lib="dom" />
/**
 * The witness policy of a verifier, end to end: a real gateway (anvil, LevelDB) sends its signed
 * checkpoints to one real witness; a second witness of the verifier's policy never sees them
 * unless the test shows it the checkpoint. `dutyproof verify --hash` (a bare leaf or a record id)
 * and `verify --trust FILE` refuse a receipt whose checkpoint carries fewer cosignatures than the
 * policy's quorum (exit 1, each witness named), and the console's verify page, configured with
 * the same policy in the browser, refuses it with the reason and each witness's status in real
 * Chromium — and accepts the receipt once both witnesses have cosigned.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { Wallet, id } from "ethers";
import { type Browser, type Page, chromium } from "playwright-core";
import { configFromEnvironment } from "../../server/config.ts";
import { ManualClock } from "../../server/core/clock.ts";
import {
  type NoteVerifier,
  NOTE_COSIGNATURE_V1,
  formatNote,
  formatVerifierKey,
  noteSigner,
  parseNote,
  parseVerifierKey,
} from "../../server/core/note.ts";
import { reasonText } from "../../server/core/verifier.ts";
import { formatAddCheckpointRequest } from "../../server/core/witness.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { WitnessStateDir } from "../../server/witness/WitnessStateDir.ts";
import { createWitnessServer } from "../../server/witness/WitnessServer.ts";
import { buildConsole } from "../../scripts/build-console.ts";
import { runCli } from "../helpers/externalChain.ts";
import { sleep } from "../helpers/gatewayFixture.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { type Eip712Info, newEnvelope, signEnvelope } from "../helpers/unitClient.ts";
import { addCheckpoint } from "../tlog/witnessSupport.ts";
import { chromiumFlags, chromiumPath } from "../helpers/browser.ts";

interface Receipt {
  status: string;
  recordId: string;
  leafHash: string;
  checkpointNote: string;
  [key: string]: unknown;
}

describe("witness policy: verify --hash, trust files and the console's verify page (real witnesses and Chromium)", function () {
  this.timeout(240_000);
  const dir = tempDir("witness-policy");
  // a cosigns every checkpoint (the gateway lists it); b is in the verifiers' policy only.
  const [a, b] = ["a", "b"].map((n) =>
    noteSigner(`witness.${n}.example`, NOTE_COSIGNATURE_V1, new Uint8Array(randomBytes(32))),
  ) as [ReturnType<typeof noteSigner>, ReturnType<typeof noteSigner>];
  const keyA = formatVerifierKey(a);
  const keyB = formatVerifierKey(b);
  const witnessPorts = [testPort("wconsole"), testPort("wconsole")];
  const followed: NoteVerifier[] = [];
  const servers: Server[] = [];
  let gateway: RunningGateway;
  let browser: Browser;
  let page: Page;
  let receipt: Receipt;
  /** The receipt with b's cosignature added to its checkpoint note. */
  let twice: Receipt;
  const pageErrors: string[] = [];
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => runCli(args, env, 60_000);
  const file = (name: string, content: unknown) => {
    const path = join(dir.path, name);
    writeFileSync(path, JSON.stringify(content));
    return path;
  };

  before(async function () {
    if (!existsSync(chromiumPath))
      throw new Error(`${chromiumPath} is missing: apt-get install chromium (.ci/run does)`);
    for (const [i, signer] of [a, b].entries()) {
      const server = createWitnessServer({
        signer,
        logs: followed,
        state: new WitnessStateDir(join(dir.path, `witness-${i}`)),
        clock: new ManualClock(1_767_000_000_000),
      });
      await new Promise<void>((resolve) => server.listen(witnessPorts[i], "127.0.0.1", resolve));
      servers.push(server);
    }
    await buildConsole();
    gateway = await startGateway(
      configFromEnvironment(
        { WITNESSES: `${keyA}@http://127.0.0.1:${witnessPorts[0]}`, WITNESS_QUORUM: "1" },
        {
          dataDir: join(dir.path, "data"),
          port: 0,
          chainPort: testPort("wconsole"),
          anchorIntervalMs: 300,
          anchorMaxLeaves: 1000,
          logName: "wconsole",
        },
      ),
      () => {},
    );
    env = { ...process.env, DATA_DIR: join(dir.path, "data"), GATEWAY_URL: gateway.url };
    delete env.RPC_URL;
    const info = (await (await fetch(`${gateway.url}/v1/info`)).json()) as {
      tlog: { verifierKey: string };
      eip712: Eip712Info;
      logId: string;
    };
    followed.push(parseVerifierKey(info.tlog.verifierKey));

    const unitKey = Wallet.createRandom();
    const unitId = id("unit:witness-policy-village");
    await (await gateway.ledger.getFunction("registerUnit")(unitId, "0x" + "00".repeat(32), 3, unitKey.address)).wait();
    const catalog = (await (await fetch(`${gateway.url}/v1/duty-types`)).json()) as {
      dutyTypes: Array<{ id: string; code: string }>;
    };
    const outreach = catalog.dutyTypes.find((d) => d.code === "policy-outreach")!.id;
    const envelope = newEnvelope(info.logId, unitId, outreach, {
      policy: "防汛知识",
      channel: "loudspeaker",
      audience: 30,
      staff: "宣传员",
    });
    const submitted = await fetch(`${gateway.url}/v1/attestations`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ envelope, signature: await signEnvelope(unitKey, info.eip712, envelope) }),
    });
    expect(submitted.status, await submitted.clone().text()).to.equal(201);
    const { recordId } = (await submitted.json()) as { recordId: string };
    // Anchored, then cosigned by a: the receipt carries the note with a's line.
    for (let i = 0; i < 300; i++) {
      const answer = await fetch(`${gateway.url}/v1/receipts/${recordId}`);
      if (answer.status === 200) {
        receipt = (await answer.json()) as Receipt;
        if (receipt.checkpointNote && parseNote(receipt.checkpointNote).signatures.length >= 2) break;
      }
      await sleep(100);
    }
    expect(parseNote(receipt.checkpointNote).signatures.map((s) => s.name)).to.deep.equal([followed[0]!.name, a.name]);
    // b is shown the log's checkpoint by the test and cosigns it.
    const { text, signatures } = parseNote(receipt.checkpointNote);
    const shown = formatNote({ text, signatures: [signatures[0]!] });
    const cosigned = await addCheckpoint(
      `http://127.0.0.1:${witnessPorts[1]}`,
      formatAddCheckpointRequest({ oldSize: 0, proof: [], note: shown }),
    );
    expect(cosigned.status, cosigned.body).to.equal(200);
    const byB = parseNote(text + "\n" + cosigned.body).signatures;
    twice = { ...receipt, checkpointNote: formatNote({ text, signatures: [...signatures, ...byB] }) };

    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumFlags });
    const context = await browser.newContext({ locale: "zh-CN", timezoneId: "Asia/Shanghai" });
    page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
  });

  after(async function () {
    await browser?.close();
    if (gateway) await Promise.race([gateway.close(), sleep(30_000)]);
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    dir.remove();
  });

  afterEach(function () {
    expect(pageErrors, "page errors").to.deep.equal([]);
  });

  it("verify --hash of a bare leaf refuses a checkpoint with fewer cosignatures than the quorum, naming each witness", async function () {
    const refused = await cli(
      "verify",
      "--hash",
      receipt.leafHash,
      "--witness",
      keyA,
      "--witness",
      keyB,
      "--lang",
      "en",
    );
    expect([refused.status, refused.stdout.trim().split("\n")], refused.stderr).to.deep.equal([
      1,
      [
        `INVALID: ${reasonText["checkpoint.not_cosigned"]!.en}`,
        "  witnesses: 1 valid cosignatures, 2 required",
        "    witness.a.example: cosigned",
        "    witness.b.example: missing",
      ],
    ]);
    const one = await cli("verify", "--hash", receipt.leafHash, "--witness", keyA, "--witness", keyB, "--quorum", "1");
    expect([one.status, one.stdout], one.stderr).to.satisfy(
      ([status, out]: [number, string]) =>
        status === 0 && out.startsWith("已锚定") && out.includes("已获所要求的见证方联署"),
    );
    // The record id takes the receipt path, with the same policy.
    const byId = await cli("verify", "--hash", receipt.recordId, "--witness", keyA, "--witness", keyB, "--lang", "en");
    expect([byId.status, byId.stdout.split("\n")[0]]).to.deep.equal([
      1,
      `INVALID: ${reasonText["checkpoint.not_cosigned"]!.en}`,
    ]);
    expect(byId.stdout).to.include("witness.b.example: missing");
  });

  it("verify --trust FILE applies the trust file's witnesses and quorum, to a bare leaf and to a receipt", async function () {
    const served = (await (await fetch(`${gateway.url}/v1/trust`)).json()) as { deployments: object[] };
    const trust = file("trust.json", {
      ...served,
      deployments: [{ ...served.deployments[0]!, witnesses: [keyA, keyB], witnessQuorum: 2 }],
    });
    const leaf = await cli("verify", "--hash", receipt.leafHash, "--trust", trust, "--lang", "en");
    expect([leaf.status, leaf.stdout.split("\n")[0]], leaf.stderr).to.deep.equal([
      1,
      `INVALID: ${reasonText["checkpoint.not_cosigned"]!.en}`,
    ]);
    const once = await cli("verify", file("once.json", receipt), "--trust", trust, "--json");
    expect(once.status, once.stderr).to.equal(1);
    expect(JSON.parse(once.stdout)).to.deep.include({
      valid: false,
      reason: "checkpoint.not_cosigned",
      witnesses: [
        { name: "witness.a.example", key: keyA, status: "cosigned" },
        { name: "witness.b.example", key: keyB, status: "missing" },
      ],
    });
    const both = await cli("verify", file("twice.json", twice), "--trust", trust, "--lang", "en");
    expect([both.status, both.stdout.split("\n")[0]], both.stderr).to.deep.equal([
      0,
      `VALID: record ${receipt.recordId}`,
    ]);
    expect(both.stdout).to.include("witness.b.example: cosigned");
    // The flags replace the trust file's policy.
    const flagged = await cli("verify", file("once.json", receipt), "--trust", trust, "--witness", keyA);
    expect(flagged.status, flagged.stdout).to.equal(0);
    // Too few cosignatures is a verdict (1); a gateway that does not answer when the receipt has
    // no note and the witnesses' checkpoint must be fetched is not (3).
    const bare: Partial<Receipt> = { ...receipt };
    delete bare.checkpointNote;
    const away = await runCli(
      [
        ...["verify", file("bare.json", bare), "--witness", keyA, "--rpc", `${gateway.url}/v1/rpc`],
        ...["--lang", "en"],
      ],
      { ...env, GATEWAY_URL: "http://127.0.0.1:9" },
      60_000,
    );
    expect([away.status, away.stderr]).to.deep.equal([
      3,
      "dutyproof: the gateway at http://127.0.0.1:9 does not answer\n",
    ]);
  });

  it("the console's verify page, with a policy of quorum 2 set in the browser, refuses a receipt with one cosignature and accepts it with two", async function () {
    await page.goto(`${gateway.url}/console/#/verify`);
    await page.locator("#witness-policy summary").click();
    // A log's key is not a witness's: the setting says so and is not saved.
    await page.fill("#witness-keys", formatVerifierKey(followed[0]!));
    await page.click("#witness-save");
    await page.locator("#witness-policy-status.is-error >> text=不是见证方密钥").waitFor();
    await page.fill("#witness-keys", `${keyA}\n${keyB}`);
    await page.fill("#witness-quorum", "2");
    await page.click("#witness-save");
    await page.locator("#witness-policy-summary >> text=须有 2 个见证方联署").waitFor();

    const verifyFile = async (name: string, content: unknown) => {
      await page.goto(`${gateway.url}/console/#/verify`);
      await page.reload(); // a fresh page: no earlier verdict to mistake for this one
      await page.setInputFiles("#verify-file", file(name, content));
      await page.locator("#verdict[data-verdict]").waitFor();
      return page.locator("#verdict").getAttribute("data-verdict");
    };
    const status = (name: string) =>
      page.locator(`#witness-list li[data-witness="${name}"]`).getAttribute("data-status");

    expect(await verifyFile("page-once.json", receipt)).to.equal("invalid");
    expect(await page.locator("#verdict").innerText()).to.include(reasonText["checkpoint.not_cosigned"]!["zh-CN"]);
    expect(await page.locator(".checks li.check-bad[data-check=witnesses]").count()).to.equal(1);
    expect([await status("witness.a.example"), await status("witness.b.example")]).to.deep.equal([
      "cosigned",
      "missing",
    ]);
    expect(await page.locator("#witness-list").innerText())
      .to.include("已联署")
      .and.include("未联署");

    expect(await verifyFile("page-twice.json", twice)).to.equal("valid");
    expect(await page.locator(".checks li.check-ok[data-check=witnesses]").count()).to.equal(1);
    expect([await status("witness.a.example"), await status("witness.b.example")]).to.deep.equal([
      "cosigned",
      "cosigned",
    ]);

    // b's line altered: the note is refused, and b is named as the bad signature.
    const parsed = parseNote(twice.checkpointNote);
    parsed.signatures[2]!.signature[40]! ^= 1;
    expect(await verifyFile("page-bad.json", { ...twice, checkpointNote: formatNote(parsed) })).to.equal("invalid");
    expect(await page.locator("#verdict").innerText()).to.include(reasonText["checkpoint.note_invalid"]!["zh-CN"]);
    expect(await status("witness.b.example")).to.equal("bad_signature");
    await page.locator("#witness-list >> text=联署签名无效").waitFor();

    // In English too.
    await page.evaluate(() => localStorage.setItem("dutyproof.language", "en"));
    expect(await verifyFile("page-once-en.json", receipt)).to.equal("invalid");
    expect(await page.locator("#verdict").innerText()).to.include(reasonText["checkpoint.not_cosigned"]!.en);
    expect(await page.locator("#witness-list").innerText())
      .to.include("cosigned")
      .and.include("missing");

    // Cleared, the gateway's trust (no witnesses) applies again: one cosignature is enough.
    await page.click("#witness-clear");
    expect(await verifyFile("page-once-cleared.json", receipt)).to.equal("valid");
    expect(await page.locator("#witness-list").count()).to.equal(0);

    // A stored setting that no longer makes a policy stops verification instead of being ignored.
    await page.evaluate(() => localStorage.setItem("dutyproof.witnessPolicy", '{"witnesses":["not a key"]}'));
    await page.reload();
    await page.locator("#witness-policy-status.is-error >> text=cannot be read").waitFor();
    await page.setInputFiles("#verify-file", file("page-unreadable.json", twice));
    await page.locator("#verdict >> text=cannot be read").waitFor();
  });
});
