/**
 * A stolen operator key, end to end on the production path (anvil as its own process, Ignition's
 * deployment, the admin CLI): the thief anchors a valid extension with a foreign leaf; the
 * gateway stops anchoring and says so in /readyz, /metrics and its log; the admin seals the log
 * at its last honest checkpoint and names a successor with a new operator; the gateway restarted
 * on the same DATA_DIR with the successor's name and key anchors what was pending; every honest
 * receipt verifies with `dutyproof verify`, one for the thief's checkpoint is refused, and replay
 * follows the succession and reports the foreign checkpoint. Also: a production gateway whose hot
 * key holds the admin or registrar role refuses to start.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Contract, JsonRpcProvider, Wallet, id } from "ethers";
import { bytesToHex, hexToBytes } from "../../server/core/bytes.ts";
import { MemoryTree } from "../../server/core/merkle/index.ts";
import { loadDutyLedgerArtifact } from "../../server/chain/dutyLedgerArtifact.ts";
import { logIdOf } from "../../server/chain/ignitionDeployment.ts";
import { operatorWallet } from "../../server/chain/operatorWallet.ts";
import { configFromEnvironment } from "../../server/config.ts";
import { issueToken } from "../../server/gateway/AccessTokens.ts";
import { replayFromGateway } from "../../server/audit/replayFromGateway.ts";
import { ownTrustAnchor } from "../../server/chain/trustAnchors.ts";
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

const CHAIN_ID = 4343;

interface ReceiptBody {
  status: string;
  logId?: string;
  signedLogId?: string;
  treeSize?: number;
  leafIndex?: number;
  leafHash?: string;
  root?: string;
  inclusionProof?: string[];
}

describe("production: a stolen operator key is detected, the log sealed and succeeded", function () {
  this.timeout(300_000);
  const dirs = ["project", "admin", "gateway", "files", "hot"].map((name) => tempDir(`succession-${name}`));
  const [projectDir, adminDir, dataDir, filesDir, hotDir] = dirs.map((d) => d.path) as [
    string,
    string,
    string,
    string,
    string,
  ];
  const deploymentId = `test-${randomBytes(6).toString("hex")}`;
  const ignitionDir = join(projectDir, "ignition", "deployments", deploymentId);
  const admin = Wallet.createRandom();
  const stolen = Wallet.createRandom(); // the first operator key, which a thief copies
  const successorKey = Wallet.createRandom();
  const registrar = Wallet.createRandom();
  const unitKey = Wallet.createRandom();
  let chain: ExternalChain;
  let adminEnv: NodeJS.ProcessEnv;
  let gateway: RunningGateway | undefined;
  const printed: string[] = [];
  const receipts: Record<string, ReceiptBody> = {};

  const start = (key: string, logName: string, dir = dataDir) =>
    startGateway(
      configFromEnvironment(
        {},
        {
          dataDir: dir,
          port: 0,
          rpcUrl: chain.rpcUrl,
          operatorKey: key,
          expectedChainId: CHAIN_ID,
          ignitionDir,
          logName,
          anchorIntervalMs: 200,
        },
      ),
      (line) => printed.push(line),
    );
  const cli = async (args: string[], env: NodeJS.ProcessEnv = adminEnv) => {
    const result = await runCli(args, env);
    printed.push(result.stdout, result.stderr);
    return result;
  };

  const submit = (g: RunningGateway, gridCode: string) =>
    submitRecord(g.url, { key: unitKey, unitId: id("unit:succession-village") }, "grid-patrol", {
      gridCode,
      durationMinutes: 30,
      issuesFound: 0,
      gridWorker: "巡查员乙",
    });
  const anchored = (g: RunningGateway, recordId: string) => anchoredReceipt<ReceiptBody>(g.url, recordId);

  const ledgerAs = async (key: string, address: string) => {
    const provider = new JsonRpcProvider(chain.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
    const wallet = await operatorWallet(key, provider);
    return { ledger: new Contract(address, loadDutyLedgerArtifact().abi as never, wallet), provider };
  };

  // The inspector trusts the deployment of the gateway's DATA_DIR, which names the sealed log too.
  const verify = (file: string) =>
    cli(["verify", file, "--rpc", chain.rpcUrl, "--lang", "en"], { ...process.env, DATA_DIR: dataDir });

  before(async () => {
    ({ chain, adminEnv } = await productionDeployment({
      chainPort: testPort("production"),
      chainId: CHAIN_ID,
      admin,
      adminDir,
      projectDir,
      deploymentId,
      printed,
    }));
    for (const args of [
      ["log", "create", "county", "--operator", stolen.address],
      ["unit", "register", "succession-village", "--level", "3", "--signer", unitKey.address],
    ]) {
      const done = await cli(args);
      expect(done.status, done.stderr).to.equal(0);
    }
  });

  after(async () => {
    await gateway?.close();
    await chain?.stop();
    for (const dir of dirs) dir.remove();
  });

  it("refuses to start a production gateway whose hot key holds the admin or the registrar role", async () => {
    const created = await cli(["log", "create", "county-admin", "--operator", admin.address]);
    expect(created.status, created.stderr).to.equal(0);
    const error = await start(admin.privateKey, "county-admin", hotDir).then(
      async (started) => {
        await started.close();
        return null;
      },
      (e: Error) => e.message,
    );
    expect(error).to.equal(
      `the gateway's key ${admin.address} holds DEFAULT_ADMIN_ROLE on the ledger; a production gateway's hot key must hold no admin or registrar role (revoke it, or give the gateway its own operator key)`,
    );

    const info = JSON.parse(
      (await import("node:fs")).readFileSync(join(ignitionDir, "deployed_addresses.json"), "utf8"),
    ) as Record<string, string>;
    const { ledger, provider } = await ledgerAs(admin.privateKey, info["DutyLedger#DutyLedger"]!);
    await (await ledger.getFunction("grantRole")(id("REGISTRAR_ROLE"), registrar.address)).wait();
    provider.destroy();
    expect((await cli(["log", "create", "county-registrar", "--operator", registrar.address])).status).to.equal(0);
    const refused = await cli(["serve"], {
      ...process.env,
      DATA_DIR: join(hotDir, "registrar"),
      PORT: "0",
      RPC_URL: chain.rpcUrl,
      CHAIN_ID: String(CHAIN_ID),
      IGNITION_DEPLOYMENT_DIR: ignitionDir,
      LOG_NAME: "county-registrar",
      OPERATOR_KEY: registrar.privateKey,
    });
    expect([refused.status, refused.stderr]).to.deep.equal([
      1,
      `dutyproof: the gateway's key ${registrar.address} holds REGISTRAR_ROLE on the ledger; a production gateway's hot key must hold no admin or registrar role (revoke it, or give the gateway its own operator key)\n`,
    ]);
  });

  it("goes through theft, seal and succession: the thief's anchor stops the gateway, the successor anchors what was pending, verify and replay follow the succession", async function () {
    this.timeout(600_000);
    await step("stops anchoring and goes not-ready when the thief anchors a foreign leaf", async () => {
      gateway = await start(stolen.privateKey, "county");
      const honest = [await submit(gateway, "S-01"), await submit(gateway, "S-02")];
      for (const r of honest) receipts[r] = await anchored(gateway, r);
      expect(receipts[honest[1]!]!.treeSize).to.equal(2);
      expect((await fetch(`${gateway.url}/readyz`)).status).to.equal(200);

      // The thief: the operator key and the public leaf hashes are enough for a valid extension.
      const tree = new MemoryTree();
      for (const r of honest) tree.appendLeafHash(hexToBytes(receipts[r]!.leafHash!));
      tree.appendLeafData(new TextEncoder().encode("a record no unit ever signed"));
      const { ledger, provider } = await ledgerAs(stolen.privateKey, gateway.deployment.address);
      await (
        await ledger.getFunction("anchor")(
          logIdOf("county"),
          3,
          bytesToHex(tree.root()),
          tree.consistencyProof(2, 3).map(bytesToHex),
        )
      ).wait();
      provider.destroy();
      // The thief's receipt for a record of the honest log, moved to the foreign checkpoint: valid today.
      const forged: Record<string, unknown> = { ...receipts[honest[1]!]!, treeSize: 3, root: bytesToHex(tree.root()) };
      forged.inclusionProof = tree.inclusionProof(1, 3).map(bytesToHex);
      // The signed checkpoint of size 2 would give the forgery away (note.other_checkpoint): the
      // thief leaves it out, and a receipt without one is judged by the chain alone.
      delete forged.checkpointNote;
      writeFileSync(join(filesDir, "forged.json"), JSON.stringify(forged));
      expect((await verify(join(filesDir, "forged.json"))).status).to.equal(0);

      await waitFor("the foreign checkpoint detected", async () => gateway!.anchorer.foreignCheckpoint, {
        timeoutMs: 15_000,
      });
      const ready = await fetch(`${gateway.url}/readyz`);
      expect(ready.status).to.equal(503);
      expect(((await ready.json()) as { checks: Record<string, string> }).checks.log).to.equal(
        "foreign checkpoint of size 3 on chain; anchoring stopped",
      );
      const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
      expect(/^dutyproof_foreign_checkpoint_size_leaves (\d+)$/m.exec(metrics)?.[1]).to.equal("3");
      const alarm = printed.find((line) => line.includes("foreign checkpoint on chain"));
      expect(alarm).to.contain('"level":50');
      expect(alarm).to.contain(
        `log ${logIdOf("county")} size 3 has root ${bytesToHex(tree.root())} on chain, but the store has only 2 leaves`,
      );
      expect(alarm).to.contain("the last checkpoint this gateway anchored is size 2");

      // Records keep coming in; their receipts stay pending until the succession.
      const pending = await submit(gateway, "S-03");
      await sleep(600);
      expect((await receiptOf(gateway.url, pending)).status).to.equal(202);
      receipts[pending] = { status: "pending" };
      expect((await gateway.store.listCheckpoints()).every((c) => c.size <= 2)).to.equal(true);
    });
    await step("seals the log with the admin CLI and continues in the successor on the same DATA_DIR", async () => {
      await gateway!.close();
      gateway = undefined;
      for (const args of [
        ["log", "create", "county-2", "--operator", successorKey.address],
        ["log", "seal", "county", "--size", "2", "--successor", "county-2"],
      ]) {
        const done = await cli(args);
        expect(done.status, done.stderr).to.equal(0);
      }
      expect((await cli(["log", "seal", "county", "--size", "2", "--successor", "county-2"])).stderr).to.equal(
        `dutyproof: the ledger refused: DutyLedgerLogSealed(${logIdOf("county")}, 2)\n`,
      );
      // The old key (and the old name) cannot serve any more.
      const old = await start(stolen.privateKey, "county", join(hotDir, "old")).then(
        async (started) => {
          await started.close();
          return null;
        },
        (e: Error) => e.message,
      );
      expect(old).to.match(/^log county \(0x[0-9a-f]{64}\) was sealed at size 2; it continues as log 0x/);

      gateway = await start(successorKey.privateKey, "county-2");
      expect(gateway.deployment.logId).to.equal(logIdOf("county-2"));
      expect((await fetch(`${gateway.url}/readyz`)).status).to.equal(200);
      const [pending] = Object.keys(receipts).filter((r) => receipts[r]!.status === "pending");
      receipts[pending!] = await anchored(gateway, pending!);
      expect([receipts[pending!]!.logId, receipts[pending!]!.treeSize]).to.deep.equal([logIdOf("county-2"), 3]);
      // Honest receipts of the sealed log are served as before.
      for (const [recordId, receipt] of Object.entries(receipts)) {
        const now = await anchored(gateway, recordId);
        expect(now).to.deep.equal(receipt);
      }
      expect(Object.values(receipts).map((r) => r.logId)).to.deep.equal([
        logIdOf("county"),
        logIdOf("county"),
        logIdOf("county-2"),
      ]);
    });
    await step("verifies every honest receipt with `dutyproof verify` and refuses the thief's checkpoint", async () => {
      for (const [recordId, receipt] of Object.entries(receipts)) {
        const file = join(filesDir, `${recordId}.json`);
        writeFileSync(file, JSON.stringify(receipt));
        const verified = await verify(file);
        expect(verified.status, verified.stdout + verified.stderr).to.equal(0);
      }
      // The record accepted before the seal but anchored by the successor names the log it was
      // signed for; that log must have been sealed with this one as successor.
      const [carried] = Object.values(receipts).filter((r) => r.logId === logIdOf("county-2"));
      expect(carried!.signedLogId).to.equal(logIdOf("county"));
      for (const [name, relabelled, reason] of [
        ["unsealed", { ...carried, signedLogId: logIdOf("elsewhere") }, "signature.other_log"],
        ["unnamed", { ...carried, signedLogId: undefined }, "signature.invalid"],
      ] as const) {
        const file = join(filesDir, `carried-${name}.json`);
        writeFileSync(file, JSON.stringify(relabelled));
        const result = await verify(file);
        expect([result.status, result.stdout.includes(`✗ signature: ${reason}`)], result.stdout).to.deep.equal([
          1,
          true,
        ]);
      }
      const refused = await verify(join(filesDir, "forged.json"));
      expect(refused.status).to.equal(1);
      expect(refused.stdout).to.contain(
        "the log was sealed below this checkpoint's size: it was anchored with a stolen operator key and is not part of the log",
      );
    });
    await step(
      "replays the sealed log's honest prefix and the successor, reporting the foreign checkpoint",
      async () => {
        const token = issueToken(join(dataDir, "tokens.json"), "auditor", "audit bureau");
        const trust = [ownTrustAnchor(gateway!.deployment, "the county's ledger")];
        const report = await replayFromGateway({ gatewayUrl: gateway!.url, token, rpcUrl: chain.rpcUrl, trust });
        // Every checkpoint a receipt names: the sealed log's up to 2, then the successor's at 3.
        const checkpoints = new Set(Object.values(receipts).map((r) => r.treeSize)).size;
        expect([report.clean, report.records, report.checkpoints, report.anchoredSize]).to.deep.equal([
          true,
          3,
          checkpoints,
          3,
        ]);
        const foreign = report.findings.filter((f) => f.kind === "checkpoint.after_seal");
        expect(foreign).to.have.length(1);
        expect(foreign[0]!.checkpointSize).to.equal(3);
        expect(foreign[0]!.detail).to.match(/of sealed log 0x[0-9a-f]{64} lies above its seal .* a foreign leaf$/);

        const cliReplay = await cli(["replay", "--token", token, "--rpc", chain.rpcUrl], {
          ...process.env,
          DATA_DIR: dataDir,
          GATEWAY_URL: gateway!.url,
        });
        expect(cliReplay.status, cliReplay.stdout + cliReplay.stderr).to.equal(0);
        expect(cliReplay.stdout).to.contain("checkpoint.after_seal: 1");
      },
    );
    await step("replays an export bundle that spans the sealed log and its successor as one log", async () => {
      const token = issueToken(join(dataDir, "tokens.json"), "auditor", "audit bureau, exports");
      const res = await fetch(`${gateway!.url}/v1/export?unitId=${id("unit:succession-village")}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).to.equal(200);
      const bundle = (await res.json()) as { items: Array<{ receipt: { logId: string } }> };
      // The bundle names both logs: the sealed one's receipts and the successor's.
      expect(new Set(bundle.items.map((i) => i.receipt.logId))).to.deep.equal(
        new Set([logIdOf("county"), logIdOf("county-2")]),
      );
      const file = join(filesDir, "export-across-seal.json");
      writeFileSync(file, JSON.stringify(bundle));
      const replayed = await cli(["replay", "--bundle", file, "--rpc", chain.rpcUrl, "--json"], {
        ...process.env,
        DATA_DIR: dataDir,
      });
      expect(replayed.status, replayed.stdout + replayed.stderr).to.equal(0);
      const report = JSON.parse(replayed.stdout) as { clean: boolean; records: number; logId: string };
      expect([report.clean, report.records, report.logId]).to.deep.equal([true, 3, logIdOf("county-2")]);

      // A bundle whose receipts name a log outside that line of succession is refused.
      const stray = {
        ...bundle,
        items: [
          ...bundle.items,
          { ...bundle.items[0]!, receipt: { ...bundle.items[0]!.receipt, logId: logIdOf("elsewhere") } },
        ],
      };
      writeFileSync(file, JSON.stringify(stray));
      const refused = await cli(["replay", "--bundle", file, "--rpc", chain.rpcUrl], {
        ...process.env,
        DATA_DIR: dataDir,
      });
      expect(refused.status).to.not.equal(0);
      expect(refused.stderr).to.match(/not one line of succession/);
    });
  });
});
