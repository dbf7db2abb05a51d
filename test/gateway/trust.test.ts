/// <reference lib="dom" />
/**
 * Trust anchors (issue 18). On one external chain node (anvil as its own process), a county's
 * genuine ledger and gateway, and an attacker's look-alike: the same DutyLedger deployed from
 * the artifacts with the attacker's key, the victim unit's id registered with the attacker's
 * key, a log of the same name, and a gateway of the attacker's that anchors a forged record with
 * a correct Merkle proof and hands out its receipt. Every verifier (CLI, /v1/verify, the
 * console in real Chromium, replay of a gateway or a bundle) refuses it, because it checks
 * evidence against the deployments it trusts, never against the deployment the evidence names;
 * the genuine receipt of the same unit still verifies. Also: a stored checkpoint root overwritten
 * with anvil_setStorageAt is reported, and a contract that is not DutyLedger gets a verdict.
 */
import { expect } from "chai";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AbiCoder, type BaseWallet, Contract, JsonRpcProvider, Wallet, id, keccak256 } from "ethers";
import { chromium } from "playwright-core";
import { UntrustedDeploymentError, replayFromGateway } from "../../server/audit/replayFromGateway.ts";
import { replayFromBundle } from "../../server/audit/replayFromBundle.ts";
import { loadCatalog } from "../../server/catalog/loadCatalog.ts";
import { fetchChainFacts } from "../../server/chain/chainFacts.ts";
import { type Deployment, deployDutyLedger } from "../../server/chain/deployment.ts";
import { loadDutyLedgerArtifact } from "../../server/chain/dutyLedgerArtifact.ts";
import { ownTrustAnchor } from "../../server/chain/trustAnchors.ts";
import { configFromEnvironment } from "../../server/config.ts";
import { bundleSchema, reasonText, type Receipt, verifyEvidence } from "../../server/core/verifier.ts";
import { recoverSigner } from "../../server/crypto/recoverSigner.ts";
import { issueToken } from "../../server/gateway/AccessTokens.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { buildConsole } from "../../scripts/build-console.ts";
import { type ExternalChain, handOverLog, runCli, startExternalChain } from "../helpers/externalChain.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { type Eip712Info, newEnvelope, signEnvelope } from "../helpers/unitClient.ts";
import { sleep } from "../helpers/gatewayFixture.ts";
import { chromiumFlags, chromiumPath } from "../helpers/browser.ts";

const CHAIN_ID = 4243;
// anvil's first two funded development accounts: the county's operator and the attacker.
const countyKey = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const attackerKey = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const victim = id("unit:qingshui-town");

describe("trust anchors: a look-alike ledger on the same chain is refused by every verifier", function () {
  this.timeout(300_000);
  const county = tempDir("trust-county");
  const shadow = tempDir("trust-shadow");
  const files = tempDir("trust-files");
  let chain: ExternalChain;
  const closers: Array<() => void> = [];
  let genuine: RunningGateway;
  let attacker: RunningGateway;
  const victimKey = Wallet.createRandom();
  const attackerUnitKey = Wallet.createRandom();
  let honest: { receipt: Receipt; envelope: ReturnType<typeof newEnvelope>; signature: string };
  let forged: { receipt: Receipt; envelope: ReturnType<typeof newEnvelope>; signature: string };
  const honestPath = join(files.path, "honest.json");
  const forgedPath = join(files.path, "forged.json");
  const emptyDataDir = join(files.path, "no-data-dir");

  const countyTrust = () => [ownTrustAnchor(genuine.deployment, "county")];
  const cliEnv = (dataDir: string, extra: NodeJS.ProcessEnv = {}) => ({
    ...process.env,
    LANG: "",
    DATA_DIR: dataDir,
    RPC_URL: "",
    ...extra,
  });

  /** Admin-side handles of each gateway's ledger (registrations need the admin, not the hot key). */
  const admins = new Map<RunningGateway, Contract>();

  /**
   * A gateway of its own DATA_DIR on the external chain, on a ledger deployed with the admin
   * `key`; the gateway runs with an operator key of its own, as production requires.
   */
  async function gatewayOn(dataDir: string, key: string): Promise<RunningGateway> {
    const provider = new JsonRpcProvider(chain.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
    const admin = new Wallet(key, provider);
    const deployment: Deployment = await deployDutyLedger(admin, {
      logName: "county",
      catalog: loadCatalog().map((e) => e.document),
    });
    const operatorKey = await handOverLog(admin, deployment);
    const ledger = new Contract(deployment.address, loadDutyLedgerArtifact().abi as never, admin);
    writeFileSync(join(dataDir, "deployment.json"), JSON.stringify(deployment));
    const gateway = await startGateway(
      configFromEnvironment(
        {},
        {
          dataDir,
          port: 0,
          rpcUrl: chain.rpcUrl,
          operatorKey,
          logName: "county",
          anchorIntervalMs: 200,
          anchorMaxLeaves: 1000,
        },
      ),
      () => {},
    );
    admins.set(gateway, ledger);
    closers.push(() => provider.destroy());
    return gateway;
  }

  /** Registers `unitKey` for the victim's id on `gateway`'s ledger and has it anchor one record. */
  async function anchoredRecord(gateway: RunningGateway, unitKey: BaseWallet, worker: string) {
    const admin = admins.get(gateway)!;
    await (await admin.getFunction("registerUnit")(victim, "0x" + "00".repeat(32), 3, unitKey.address)).wait();
    const info = (await (await fetch(`${gateway.url}/v1/info`)).json()) as { eip712: Eip712Info };
    const catalog = (
      (await (await fetch(`${gateway.url}/v1/duty-types`)).json()) as { dutyTypes: Array<{ id: string; code: string }> }
    ).dutyTypes;
    const patrol = catalog.find((d) => d.code === "grid-patrol")!.id;
    const envelope = newEnvelope(gateway.deployment.logId, victim, patrol, {
      gridCode: "QS-1",
      durationMinutes: 45,
      issuesFound: 0,
      gridWorker: worker,
    });
    const signature = await signEnvelope(unitKey, info.eip712, envelope);
    const ack = (await (
      await fetch(`${gateway.url}/v1/attestations`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ envelope, signature }),
      })
    ).json()) as { receipt: string };
    for (let i = 0; i < 300; i++) {
      const res = await fetch(gateway.url + ack.receipt);
      if (res.status === 200) return { receipt: (await res.json()) as Receipt, envelope, signature };
      await sleep(100);
    }
    throw new Error("the record was not anchored");
  }

  const verifyAt = async (gateway: RunningGateway, body: unknown) =>
    (await (
      await fetch(`${gateway.url}/v1/verify`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      })
    ).json()) as { valid: boolean; reason?: string };

  before(async () => {
    mkdirSync(emptyDataDir);
    chain = await startExternalChain(testPort("trust"), ["--chain-id", String(CHAIN_ID)]);
    genuine = await gatewayOn(county.path, countyKey);
    attacker = await gatewayOn(shadow.path, attackerKey);
    honest = await anchoredRecord(genuine, victimKey, "网格员甲");
    forged = await anchoredRecord(attacker, attackerUnitKey, "网格员乙");
    writeFileSync(honestPath, JSON.stringify(honest));
    writeFileSync(forgedPath, JSON.stringify(forged));
  });

  after(async () => {
    await attacker?.close();
    await genuine?.close();
    for (const close of closers) close();
    await chain?.stop();
    for (const dir of [county, shadow, files]) dir.remove();
  });

  it("builds a forgery that is internally sound: same chain, same unit id, valid proof, anchored", async () => {
    expect(forged.receipt).to.include({ chainId: CHAIN_ID, unitId: victim, logId: honest.receipt.logId });
    expect(forged.receipt.contract).to.not.equal(honest.receipt.contract);
    // Against the look-alike's own trust, every check passes: only the trust anchor tells them apart.
    const trustingAttacker = [ownTrustAnchor(attacker.deployment, "the look-alike")];
    const facts = await fetchChainFacts(chain.rpcUrl, forged.receipt, trustingAttacker);
    expect(verifyEvidence(forged, facts, recoverSigner, trustingAttacker).valid).to.equal(true);
  });

  it("dutyproof verify refuses the look-alike's receipt and accepts the genuine one", async () => {
    const refused = await runCli(["verify", forgedPath, "--rpc", chain.rpcUrl, "--lang", "en"], cliEnv(county.path));
    expect([refused.status, refused.stdout.split("\n")[0]]).to.deep.equal([
      1,
      `INVALID: ${reasonText["receipt.untrusted_deployment"]!.en}`,
    ]);
    expect(refused.stdout).to.include("✗ deployment: receipt.untrusted_deployment");
    const zh = await runCli(["verify", forgedPath, "--rpc", chain.rpcUrl], cliEnv(county.path));
    expect([zh.status, zh.stdout.split("\n")[0]]).to.deep.equal([
      1,
      `无效：${reasonText["receipt.untrusted_deployment"]!["zh-CN"]}`,
    ]);
    const ok = await runCli(["verify", honestPath, "--rpc", chain.rpcUrl, "--lang", "en"], cliEnv(county.path));
    expect([ok.status, ok.stdout.split("\n")[0]]).to.deep.equal([0, `VALID: record ${honest.receipt.recordId}`]);
  });

  it("an inspector with only the county's trust file (dutyproof trust export) verifies the same way", async () => {
    const exported = await runCli(["trust", "export", "--name", "qingshui county"], cliEnv(county.path));
    expect(exported.status, exported.stderr).to.equal(0);
    const trustFile = JSON.parse(exported.stdout);
    expect(trustFile).to.deep.equal({
      format: "dutyproof/trust/v1",
      deployments: [
        {
          name: "qingshui county",
          chainId: CHAIN_ID,
          contract: genuine.deployment.address,
          logIds: [genuine.deployment.logId],
          deployBlock: genuine.deployment.deployBlock,
          // The log's checkpoint key, as /v1/info publishes it.
          tlogKeys: [((await (await fetch(`${genuine.url}/v1/info`)).json()) as any).tlog.verifierKey],
        },
      ],
    });
    // The gateway serves the same file.
    expect(((await (await fetch(`${genuine.url}/v1/trust`)).json()) as typeof trustFile).deployments).to.deep.equal([
      { ...trustFile.deployments[0], name: "county" },
    ]);
    const trustPath = join(files.path, "county.trust.json");
    writeFileSync(trustPath, exported.stdout);
    const inspector = (file: string) =>
      runCli(["verify", file, "--trust", trustPath, "--rpc", chain.rpcUrl, "--lang", "en", "--json"], {
        ...cliEnv(emptyDataDir),
      });
    const [good, bad] = await Promise.all([inspector(honestPath), inspector(forgedPath)]);
    expect([good.status, JSON.parse(good.stdout).valid]).to.deep.equal([0, true]);
    expect([bad.status, JSON.parse(bad.stdout).reason]).to.deep.equal([1, "receipt.untrusted_deployment"]);
    // No trust anchors at all is a usage error, not a verdict on the evidence's own say-so.
    const none = await runCli(["verify", forgedPath, "--rpc", chain.rpcUrl], cliEnv(emptyDataDir));
    expect([none.status, none.stderr]).to.deep.equal([2, `dutyproof: ${noAnchors}\n`]);
    const broken = join(files.path, "broken.trust.json");
    writeFileSync(broken, JSON.stringify({ format: "dutyproof/trust/v1", deployments: [{ name: "x", chainId: 1 }] }));
    const unreadable = await runCli(["verify", forgedPath, "--trust", broken], cliEnv(emptyDataDir));
    expect(unreadable.status).to.equal(2);
    expect(unreadable.stderr).to.match(/^dutyproof: .*broken\.trust\.json is not a dutyproof\/trust\/v1 file: /);
  });

  it("POST /v1/verify and /v1/chain-facts refuse the look-alike; the genuine receipt verifies", async () => {
    expect(await verifyAt(genuine, forged)).to.include({ valid: false, reason: "receipt.untrusted_deployment" });
    expect(await verifyAt(genuine, honest)).to.include({ valid: true });
    const r = forged.receipt;
    const query = new URLSearchParams({
      chainId: String(r.chainId),
      contract: r.contract,
      logId: r.logId,
      treeSize: String(r.treeSize),
      unitId: r.unitId,
    });
    const res = await fetch(`${genuine.url}/v1/chain-facts?${query}`);
    expect(res.status).to.equal(422);
    expect(await res.json()).to.include({ code: "receipt.untrusted_deployment" });
  });

  it("gives a verdict, not a 500, for an address whose code is not DutyLedger", async () => {
    const notLedger = "0x" + "5a".repeat(20);
    await chain.rpc("anvil_setCode", [notLedger, "0x60006000f3"]); // returns empty data to every call
    const receipt = { ...honest.receipt, contract: notLedger };
    const trusted = [...countyTrust(), { name: "mistyped", chainId: CHAIN_ID, contract: notLedger }];
    const facts = await fetchChainFacts(chain.rpcUrl, receipt, trusted);
    const verdict = verifyEvidence({ receipt }, facts, recoverSigner, trusted);
    expect([verdict.valid, verdict.reason]).to.deep.equal([false, "receipt.no_contract"]);
    const res = await fetch(`${genuine.url}/v1/verify`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ receipt }),
    });
    expect(res.status).to.equal(200);
    expect(await res.json()).to.include({ valid: false, reason: "receipt.untrusted_deployment" });
  });

  it("the web console (real Chromium) refuses the look-alike's receipt with its reason", async () => {
    if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: apt-get install chromium`);
    await buildConsole();
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: chromiumFlags,
    });
    try {
      const page = await browser.newPage({ locale: "zh-CN" });
      await page.goto(genuine.url + "/console/#/verify");
      await page.setInputFiles("#verify-file", forgedPath);
      await page.locator("#verdict[data-verdict=invalid]").waitFor();
      expect(await page.locator("#verdict").innerText()).to.include(
        reasonText["receipt.untrusted_deployment"]!["zh-CN"],
      );
      expect(await page.locator(".checks li.check-bad[data-check=deployment]").count()).to.equal(1);
      await page.goto(genuine.url + "/console/#/verify");
      await page.setInputFiles("#verify-file", honestPath);
      await page.locator("#verdict[data-verdict=valid]").waitFor();
    } finally {
      await browser.close();
    }
  });

  it("replay refuses a gateway, or a bundle, anchored in a ledger the auditor does not trust", async () => {
    const token = issueToken(join(shadow.path, "tokens.json"), "auditor", "audit bureau");
    let refused: unknown;
    await replayFromGateway({ gatewayUrl: attacker.url, token, rpcUrl: chain.rpcUrl, trust: countyTrust() }).catch(
      (e: unknown) => (refused = e),
    );
    expect(refused).to.be.instanceOf(UntrustedDeploymentError);
    expect((refused as Error).message).to.include(attacker.deployment.address);
    const cli = await runCli(
      ["replay", "--token", token, "--rpc", chain.rpcUrl],
      cliEnv(county.path, { GATEWAY_URL: attacker.url }),
    );
    expect([cli.status, cli.stderr]).to.deep.equal([
      1,
      `dutyproof: the gateway anchors to chain ${CHAIN_ID}, contract ${attacker.deployment.address}, log ${attacker.deployment.logId}, which is not among this auditor's trust anchors (--trust FILE)\n`,
    ]);
    const unitToken = issueToken(join(shadow.path, "tokens.json"), `unit:${victim}`, "the town");
    const bundle = bundleSchema.parse(
      await (
        await fetch(`${attacker.url}/v1/export?unitId=${victim}`, { headers: { authorization: `Bearer ${unitToken}` } })
      ).json(),
    );
    let bundleRefused: unknown;
    await replayFromBundle({ bundle, rpcUrl: chain.rpcUrl, trust: countyTrust() }).catch(
      (e: unknown) => (bundleRefused = e),
    );
    expect(bundleRefused).to.be.instanceOf(UntrustedDeploymentError);
  });

  it("replay and verify report a stored checkpoint root overwritten behind the contract's back", async () => {
    const token = issueToken(join(county.path, "tokens.json"), "auditor", "audit bureau");
    const replay = () =>
      replayFromGateway({ gatewayUrl: genuine.url, token, rpcUrl: chain.rpcUrl, trust: countyTrust() });
    expect((await replay()).clean).to.equal(true);
    const { contract, logId, treeSize, root } = honest.receipt;
    const slot = await checkpointRootSlot(contract, logId, treeSize, root);
    const overwritten = "0x" + "ee".repeat(32);
    await chain.rpc("anvil_setStorageAt", [contract, slot, overwritten]);
    try {
      const report = await replay();
      expect(report.clean).to.equal(false);
      expect(report.findings.filter((f) => f.kind === "checkpoint.stored_root_disagrees")).to.deep.equal([
        {
          kind: "checkpoint.stored_root_disagrees",
          checkpointSize: treeSize,
          detail: `the contract stores ${overwritten} for size ${treeSize}, its event recorded ${root}`,
        },
      ]);
      expect(await verifyAt(genuine, honest)).to.include({
        valid: false,
        reason: "checkpoint.stored_root_disagrees",
      });
    } finally {
      await chain.rpc("anvil_setStorageAt", [contract, slot, root]);
    }
    expect((await replay()).clean).to.equal(true);
  });

  /**
   * The storage slot of `_checkpoints[logId][size].root`, found by trying the mapping's base slot
   * (Solidity's layout: keccak256(key . slot), nested) until it holds the anchored root.
   */
  async function checkpointRootSlot(contract: string, logId: string, size: number, root: string): Promise<string> {
    const coder = AbiCoder.defaultAbiCoder();
    for (let base = 0; base < 64; base++) {
      const inner = keccak256(coder.encode(["bytes32", "uint256"], [logId, base]));
      const slot = keccak256(coder.encode(["uint256", "bytes32"], [size, inner]));
      if ((await chain.rpc("eth_getStorageAt", [contract, slot, "latest"])) === root) return slot;
    }
    throw new Error("no storage slot holds the checkpoint's root");
  }
});

const noAnchors =
  "no trust anchors: give --trust FILE (a county's trust file), or run where DATA_DIR holds the gateway's deployment";
