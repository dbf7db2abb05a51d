/**
 * The production path end to end: a chain node running as its own process (anvil, free gas like
 * a Besu network with min-gas-price 0), DutyLedger deployed by Hardhat Ignition on the `external`
 * network, logs created by the admin CLI, and two gateways with their own DATA_DIRs and keys on
 * that one deployment. Every key is fresh and holds no ether: each transaction must go through at
 * gas price zero.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { Contract, JsonRpcProvider, Wallet, id } from "ethers";
import { loadDutyLedgerArtifact } from "../../server/chain/dutyLedgerArtifact.ts";
import { logIdOf } from "../../server/chain/ignitionDeployment.ts";
import { operatorWallet } from "../../server/chain/operatorWallet.ts";
import { configFromEnvironment, type GatewayConfig } from "../../server/config.ts";
import { issueToken } from "../../server/gateway/AccessTokens.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { type ExternalChain, runCli } from "../helpers/externalChain.ts";
import {
  anchoredReceipt,
  productionDeployment,
  receiptOf,
  sleep,
  submitRecord,
  waitFor,
} from "../helpers/gatewayFixture.ts";
import { testPort } from "../helpers/ports.ts";
import { step } from "../helpers/steps.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { type Eip712Info, newEnvelope, signEnvelope } from "../helpers/unitClient.ts";
import { type DemandDefinition, demandOf, signDemand } from "../../server/burden/demandClient.ts";
import { operatorMessage } from "../../server/app/erase.ts";

const CHAIN_ID = 4242;

describe("production: several gateways on one Ignition deployment over JSON-RPC", function () {
  this.timeout(300_000);
  const dirs = ["project", "admin", "a", "b", "c", "wrong", "stale"].map((name) => tempDir(`prod-${name}`));
  const [projectDir, adminDir, dirA, dirB, dirC, dirWrong, dirStale] = dirs.map((d) => d.path) as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const deploymentId = `test-${randomBytes(6).toString("hex")}`;
  const ignitionDir = join(projectDir, "ignition", "deployments", deploymentId);
  const admin = Wallet.createRandom();
  const operatorA = Wallet.createRandom();
  const operatorB = Wallet.createRandom();
  const operatorC = Wallet.createRandom();
  const unitKey = Wallet.createRandom();
  let chain: ExternalChain;
  let adminEnv: NodeJS.ProcessEnv;
  const gateways: RunningGateway[] = [];
  /** Every line any gateway or CLI run printed, to prove what never appears in them. */
  const printed: string[] = [];

  const gatewayConfig = (dataDir: string, key: string, logName: string, extra: Partial<GatewayConfig> = {}) =>
    configFromEnvironment(
      {},
      {
        dataDir,
        port: 0,
        rpcUrl: chain.rpcUrl,
        operatorKey: key,
        expectedChainId: CHAIN_ID,
        ignitionDir,
        logName,
        anchorIntervalMs: 200,
        ...extra,
      },
    );
  const start = async (config: GatewayConfig) => {
    const gateway = await startGateway(config, (line) => printed.push(line));
    gateways.push(gateway);
    return gateway;
  };
  const cli = async (args: string[], env: NodeJS.ProcessEnv = adminEnv) => {
    const result = await runCli(args, env);
    printed.push(result.stdout, result.stderr);
    return result;
  };

  const submit = (gateway: RunningGateway, gridCode: string) =>
    submitRecord(gateway.url, { key: unitKey, unitId: id("unit:prod-village") }, "grid-patrol", {
      gridCode,
      durationMinutes: 45,
      issuesFound: 1,
      gridWorker: "巡查员甲",
    });
  const anchored = (gateway: RunningGateway, recordId: string, timeoutMs?: number) =>
    anchoredReceipt<{ status: string; logId?: string }>(gateway.url, recordId, timeoutMs);

  before(async () => {
    // The admin's key from a file (Ignition's `external` network and the CLI read it); the
    // gateways below get theirs as OPERATOR_KEY.
    ({ chain, adminEnv } = await productionDeployment({
      chainPort: testPort("production"),
      chainId: CHAIN_ID,
      admin,
      adminDir,
      projectDir,
      deploymentId,
      printed,
    }));
  });

  after(async () => {
    for (const gateway of gateways) await gateway.close();
    await chain?.stop();
    for (const dir of dirs) dir.remove();
  });

  it("deploys with Ignition at gas price zero from an account without ether", async () => {
    const provider = new JsonRpcProvider(chain.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
    expect(await provider.getBalance(admin.address)).to.equal(0n);
    provider.destroy();
  });

  it("runs gateways of several logs on one deployment, from creating the logs to refusing a wrong CHAIN_ID, each step on what the steps before it left", async function () {
    this.timeout(900_000);
    await step("creates a log per gateway with the admin command, recorded in the audit log", async () => {
      for (const [name, operator] of [
        ["county-a", operatorA],
        ["county-b", operatorB],
        ["county-c", operatorC],
      ] as const) {
        const created = await cli(["log", "create", name, "--operator", operator.address]);
        expect(created.status, created.stderr).to.equal(0);
        expect(created.stdout).to.contain(`log ${name} created as ${logIdOf(name)}, operated by ${operator.address}`);
      }
      const again = await cli(["log", "create", "county-a", "--operator", operatorA.address]);
      expect([again.status, again.stderr]).to.deep.equal([
        1,
        `dutyproof: the ledger refused: DutyLedgerLogExists(${logIdOf("county-a")})\n`,
      ]);
      const unit = await cli(["unit", "register", "prod-village", "--level", "3", "--signer", unitKey.address]);
      expect(unit.status, unit.stderr).to.equal(0);

      const shown = await cli(["audit-log", "show"]);
      const entries = shown.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { action: string; outcome: string; actor: { address: string } });
      expect(entries.map((e) => [e.action, e.outcome])).to.deep.equal([
        ["log.create", "ok"],
        ["log.create", "ok"],
        ["log.create", "ok"],
        ["log.create", "failed"],
        ["unit.register", "ok"],
      ]);
      expect(entries.every((e) => e.actor.address === admin.address)).to.equal(true);
      const verified = await cli(["audit-log", "verify"]);
      expect(verified.status).to.equal(0);
      expect(verified.stdout).to.match(/^intact: 5 entries, head [0-9a-f]{64}\n$/);
    });
    await step("runs two gateways that both anchor their own log, and each log replays clean", async () => {
      const a = await start(gatewayConfig(dirA, operatorA.privateKey, "county-a"));
      const b = await start(gatewayConfig(dirB, operatorB.privateKey, "county-b"));
      expect(a.deployment.address).to.equal(b.deployment.address);
      expect(a.deployment.logId).to.equal(logIdOf("county-a"));
      expect(b.deployment.logId).to.equal(logIdOf("county-b"));
      const recordsA = [await submit(a, "A-01"), await submit(a, "A-02")];
      const recordsB = [await submit(b, "B-01"), await submit(b, "B-02"), await submit(b, "B-03")];
      for (const r of recordsA) expect((await anchored(a, r)).logId).to.equal(logIdOf("county-a"));
      for (const r of recordsB) expect((await anchored(b, r)).logId).to.equal(logIdOf("county-b"));

      const ledger = new Contract(a.deployment.address, loadDutyLedgerArtifact().abi as never, a.wallet);
      expect(Number((await ledger.getFunction("logHead")(logIdOf("county-a"))).size)).to.equal(2);
      expect(Number((await ledger.getFunction("logHead")(logIdOf("county-b"))).size)).to.equal(3);

      for (const [gateway, dir, count] of [
        [a, dirA, 2],
        [b, dirB, 3],
      ] as const) {
        const token = issueToken(join(dir, "tokens.json"), "auditor", "audit bureau");
        const replayed = await cli(["replay", "--token", token, "--rpc", chain.rpcUrl], {
          ...process.env,
          GATEWAY_URL: gateway.url,
          DATA_DIR: dir,
        });
        expect(replayed.status, replayed.stdout + replayed.stderr).to.equal(0);
        expect(replayed.stdout).to.match(
          new RegExp(`^clean: ${count} records, \\d+ checkpoints \\(anchored size ${count}\\)`),
        );
      }
    });
    await step("refuses to start a gateway whose key is not its log's operator", async () => {
      let error: Error | undefined;
      try {
        await start(gatewayConfig(dirWrong, operatorA.privateKey, "county-b"));
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message).to.equal(
        `log county-b is operated by ${operatorB.address}, not by this gateway's key ${operatorA.address}; it cannot anchor that log`,
      );
      // A DATA_DIR that already serves another log.
      error = undefined;
      try {
        await start(gatewayConfig(dirA, operatorB.privateKey, "county-b"));
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message).to.equal(
        `DATA_DIR/deployment.json is for log ${logIdOf("county-a")}, but LOG_NAME county-b is ${logIdOf("county-b")}; one DATA_DIR serves one log`,
      );
      // The right key but a DATA_DIR without the log's anchored history (a lost or old directory):
      // appending would fork what the chain holds.
      error = undefined;
      try {
        await start(gatewayConfig(dirStale, operatorA.privateKey, "county-a"));
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message).to.equal(
        'the chain holds a checkpoint of size 2 for this log but DATA_DIR has 0 leaves; DATA_DIR is older than the chain (see "Backups" in docs/operations.md)',
      );
    });
    await step("lets no gateway take a record or demand signed for another log, even one erased there", async () => {
      const [a, b] = gateways as [RunningGateway, RunningGateway];
      const post = async (gateway: RunningGateway, path: string, body: unknown) => {
        const res = await fetch(`${gateway.url}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        return {
          status: res.status,
          body: (await res.json()) as { code?: string; recordId?: string; demandId?: string },
        };
      };
      const infoA = (await (await fetch(`${a.url}/v1/info`)).json()) as { eip712: Eip712Info; logId: string };
      const patrol = (
        (await (await fetch(`${a.url}/v1/duty-types`)).json()) as { dutyTypes: Array<{ id: string; code: string }> }
      ).dutyTypes.find((d) => d.code === "grid-patrol")!.id;
      const village = id("unit:prod-village");
      const envelope = newEnvelope(infoA.logId, village, patrol, {
        gridCode: "A-09",
        durationMinutes: 30,
        issuesFound: 0,
        gridWorker: "巡查员甲",
      });
      const submission = { envelope, signature: await signEnvelope(unitKey, infoA.eip712, envelope) };
      const accepted = await post(a, "/v1/attestations", submission);
      expect(accepted.status).to.equal(201);
      const logA = logIdOf("county-a");
      const wrongLog = await post(b, "/v1/attestations", submission);
      expect([wrongLog.status, wrongLog.body.code]).to.deep.equal([422, "record.wrong_log"]);

      // Erased on A by its operator: the plaintext the unit still holds is refused by B all the same.
      await anchored(a, accepted.body.recordId!);
      const signedAt = Math.floor(Date.now() / 1000);
      const order = "PIPL-2026-042";
      const erasure = await fetch(`${a.url}/v1/admin/erasures`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `DutyproofOperator ${await operatorA.signMessage(
            operatorMessage("erase", logA, accepted.body.recordId!, order, signedAt),
          )}`,
        },
        body: JSON.stringify({ recordId: accepted.body.recordId, order, signedAt }),
      });
      expect(erasure.status, await erasure.clone().text()).to.equal(200);
      const afterErasure = await post(b, "/v1/attestations", submission);
      expect([afterErasure.status, afterErasure.body.code]).to.deep.equal([422, "record.wrong_log"]);

      // Version 1 named no log, so nothing stopped this move: B takes it no longer.
      const v1 = newEnvelope(null, village, patrol, {
        gridCode: "A-10",
        durationMinutes: 30,
        issuesFound: 0,
        gridWorker: "巡查员甲",
      });
      const v1Submission = { envelope: v1, signature: await signEnvelope(unitKey, infoA.eip712, v1) };
      const retired = await post(b, "/v1/attestations", v1Submission);
      expect([retired.status, retired.body.code]).to.deep.equal([422, "record.version_retired"]);

      // A demand A accepted, sent to B by whoever saw it (A's public view no longer shows it):
      // refused before B decides anything.
      const inspector = Wallet.createRandom();
      const registered = await cli(["inspector", "register", inspector.address, "--department", "political-legal"]);
      expect(registered.status, registered.stderr).to.equal(0);
      const definition = (await (await fetch(`${a.url}/v1/demands/eip712`)).json()) as DemandDefinition;
      expect(definition.logId).to.equal(logA);
      const now = Math.floor(Date.now() / 1000);
      const demand = demandOf(
        inspector.address,
        {
          unitId: village,
          dutyTypeIds: [patrol],
          from: now - 86_400,
          to: now,
          purpose: "季度督查",
          department: "political-legal",
          issuedAt: now,
        },
        definition.logId,
      );
      const demandSubmission = { demand, signature: await signDemand(inspector, definition, demand) };
      const taken = await post(a, "/v1/demands", demandSubmission);
      expect(taken.status, JSON.stringify(taken.body)).to.equal(201);
      const published = (await (await fetch(`${a.url}/v1/demands/${taken.body.demandId}`)).json()) as {
        demand?: unknown;
      };
      expect(published.demand).to.equal(undefined);
      const replayed = await post(b, "/v1/demands", demandSubmission);
      expect([replayed.status, replayed.body.code]).to.deep.equal([422, "demand.wrong_log"]);
    });
    await step(
      "lets the contract refuse one gateway's anchor on the other's log, and the gateway report it",
      async () => {
        const [a, b] = gateways as [RunningGateway, RunningGateway];
        // Gateway A's key, sending an anchor for B's log directly: the contract reverts.
        const ledgerAsA = new Contract(a.deployment.address, loadDutyLedgerArtifact().abi as never, a.wallet);
        const root = "0x" + "11".repeat(32);
        let revert: { name: string; args: unknown[] } | null = null;
        try {
          await ledgerAsA.getFunction("anchor").estimateGas(logIdOf("county-b"), 10, root, []);
        } catch (error) {
          const data = (error as { data?: string }).data;
          revert = data ? ledgerAsA.interface.parseError(data) : null;
        }
        expect(revert?.name).to.equal("DutyLedgerNotLogOperator");
        expect([...revert!.args]).to.deep.equal([logIdOf("county-b"), a.wallet.address]);

        // The admin hands B's log to another key while B runs: B's next anchor is refused, and B
        // says so in /readyz, /metrics and its log, while it keeps accepting records.
        const provider = new JsonRpcProvider(chain.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
        const adminWallet = await operatorWallet(admin.privateKey, provider);
        const ledgerAsAdmin = new Contract(b.deployment.address, loadDutyLedgerArtifact().abi as never, adminWallet);
        await (await ledgerAsAdmin.getFunction("setLogOperator")(logIdOf("county-b"), operatorA.address)).wait();
        provider.destroy();
        const pending = await submit(b, "B-04");
        await waitFor("the refused anchor reported", async () => b.anchorer.lastError, { timeoutMs: 15_000 });
        const expected = `the ledger refused the anchor: DutyLedgerNotLogOperator(${logIdOf("county-b")}, ${operatorB.address})`;
        expect(b.anchorer.lastError).to.equal(expected);
        const ready = (await (await fetch(`${b.url}/readyz`)).json()) as { checks: Record<string, string> };
        expect(ready.checks.anchoring).to.equal(expected);
        const metrics = await (await fetch(`${b.url}/metrics`)).text();
        expect(Number(/^dutyproof_anchor_failures_total (\d+)$/m.exec(metrics)?.[1])).to.be.greaterThan(0);
        expect(printed.join("\n")).to.contain(expected);
        expect((await receiptOf(b.url, pending)).status).to.equal(202);
      },
    );
    await step("counts a checkpoint as anchored only after CONFIRMATIONS blocks", async () => {
      for (const gateway of gateways.splice(0)) await gateway.close();
      const c = await start(gatewayConfig(dirC, operatorC.privateKey, "county-c", { confirmations: 3 }));
      const recordId = await submit(c, "C-01");
      // The anchor transaction is mined at once (anvil mines on demand) but has one confirmation.
      await waitFor(
        "the anchor transaction mined",
        async () => {
          const [latest] = await c.store.listCheckpoints({ reverse: true, limit: 1 });
          return latest?.txHash ? c.wallet.provider!.getTransactionReceipt(latest.txHash) : undefined;
        },
        { timeoutMs: 15_000 },
      );
      await sleep(1_000);
      expect((await receiptOf(c.url, recordId)).status).to.equal(202);
      await chain.rpc("anvil_mine", ["0x1"]);
      await sleep(800);
      expect((await receiptOf(c.url, recordId)).status).to.equal(202);
      await chain.rpc("anvil_mine", ["0x1"]);
      await anchored(c, recordId, 10_000);
    });
    await step("refuses a wrong CHAIN_ID or a malformed key in one line, and never prints a key", async () => {
      const base = { ...process.env, DATA_DIR: dirWrong, PORT: "0", RPC_URL: chain.rpcUrl };
      const wrongChain = await cli(["serve"], { ...base, CHAIN_ID: "1", OPERATOR_KEY: operatorA.privateKey });
      expect([wrongChain.status, wrongChain.stderr]).to.deep.equal([
        1,
        `dutyproof: the RPC endpoint serves chain ${CHAIN_ID}, but CHAIN_ID is 1\n`,
      ]);
      const badKey = await cli(["serve"], { ...base, OPERATOR_KEY: operatorA.privateKey.slice(0, 40) });
      expect([badKey.status, badKey.stderr]).to.deep.equal([
        1,
        "dutyproof: OPERATOR_KEY is not a private key (0x and 64 hex digits)\n",
      ]);
      const everything = printed.join("\n");
      for (const key of [admin, operatorA, operatorB, operatorC, unitKey]) {
        expect(everything).not.to.contain(key.privateKey.slice(2));
        expect(everything).not.to.contain(key.privateKey.slice(2, 40));
      }
      // Record contents stay out of the logs too.
      expect(everything).not.to.contain("巡查员甲");
      expect(everything).not.to.contain("A-01");
    });
  });
});
