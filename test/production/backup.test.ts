/**
 * Backup and restore of DATA_DIR: refused while the gateway runs, taken when it is stopped,
 * restored into a fresh directory that starts and replays clean. Records acknowledged after the
 * backup are not in the restored log (embedded mode: the chain is restored with it, so its
 * receipts are gone too), as docs/operations.md says.
 */
import { expect } from "chai";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Wallet, id } from "ethers";
import { configFromEnvironment } from "../../server/config.ts";
import { issueToken } from "../../server/gateway/AccessTokens.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { verifyAuditLog } from "../../server/observability/AuditLog.ts";
import { runCli } from "../helpers/externalChain.ts";
import { testPort } from "../helpers/ports.ts";
import { step } from "../helpers/steps.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { type Eip712Info, newEnvelope, signEnvelope } from "../helpers/unitClient.ts";
import { sleep } from "../helpers/gatewayFixture.ts";

describe("backup and restore of DATA_DIR", function () {
  this.timeout(240_000);
  const work = tempDir("backup");
  const original = join(work.path, "original");
  const restored = join(work.path, "restored");
  const backupFile = join(work.path, "gateway.dpbackup");
  const chainPort = testPort("production");
  const unitKey = Wallet.createRandom();
  const unitId = id("unit:backup-village");
  // The restored gateway must anchor with the operator key: this backup includes it, encrypted.
  const withPassphrase = { ...process.env, DUTYPROOF_BACKUP_PASSPHRASE: "正确的备份口令 correct horse" };
  let gateway: RunningGateway | undefined;

  const start = async (dataDir: string) => {
    gateway = await startGateway(
      configFromEnvironment({}, { dataDir, port: 0, chainPort, anchorIntervalMs: 200 }),
      () => {},
    );
    return gateway;
  };
  const stop = async () => {
    await gateway?.close();
    gateway = undefined;
  };

  async function submitAnchored(g: RunningGateway, tags: string[]) {
    const info = (await (await fetch(`${g.url}/v1/info`)).json()) as { eip712: Eip712Info; logId: string };
    const types = (await (await fetch(`${g.url}/v1/duty-types`)).json()) as {
      dutyTypes: Array<{ id: string; code: string }>;
    };
    const patrol = types.dutyTypes.find((d) => d.code === "grid-patrol")!.id;
    const receipts = new Map<string, string>();
    for (const tag of tags) {
      const envelope = newEnvelope(info.logId, unitId, patrol, {
        gridCode: tag,
        durationMinutes: 5,
        issuesFound: 0,
        gridWorker: "网格员",
      });
      const res = await fetch(`${g.url}/v1/attestations`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ envelope, signature: await signEnvelope(unitKey, info.eip712, envelope) }),
      });
      expect(res.status).to.equal(201);
      receipts.set(((await res.json()) as { recordId: string }).recordId, "");
    }
    for (const recordId of receipts.keys()) {
      for (let i = 0; i < 200; i++) {
        const res = await fetch(`${g.url}/v1/attestations/${recordId}/receipt`);
        // The signed note of the checkpoint is stored just after the anchoring: a receipt
        // fetched in between lacks it, and would not equal the same receipt served later.
        const text = res.status === 200 ? await res.text() : undefined;
        if (text !== undefined && "checkpointNote" in (JSON.parse(text) as object)) {
          receipts.set(recordId, text);
          break;
        }
        if (text === undefined) await res.body?.cancel();
        await sleep(100);
      }
      expect(receipts.get(recordId), `receipt of ${recordId}`).not.to.equal("");
    }
    return receipts;
  }

  after(async () => {
    await stop();
    work.remove();
  });

  it("backs up a stopped gateway and restores it: refused while running, taken when stopped, restored, and a damaged file refused", async function () {
    this.timeout(600_000);
    let receiptsBefore = new Map<string, string>();
    let receiptsAfterBackup = new Map<string, string>();
    await step("refuses to back up under a running gateway, and backs up a stopped one", async () => {
      const g = await start(original);
      await (await g.ledger.getFunction("registerUnit")(unitId, "0x" + "00".repeat(32), 3, unitKey.address)).wait();
      receiptsBefore = await submitAnchored(g, ["before-1", "before-2", "before-3"]);
      const env = { ...withPassphrase, DATA_DIR: original };
      const refused = await runCli(["backup", "--out", backupFile, "--include-keys"], env);
      expect(refused.status).to.equal(1);
      expect(refused.stderr).to.equal(
        `dutyproof: the gateway is running (${join(original, "ledger")} is locked); stop it (SIGTERM), back up, then start it again\n`,
      );
      await stop();
      const taken = await runCli(["backup", "--out", backupFile, "--include-keys"], env);
      expect(taken.status, taken.stderr).to.equal(0);
      expect(taken.stdout).to.match(
        /^backup of .* written to .*: \d+ files, \d+ bytes, log size 3 \(anchored 3\); keys and tokens included, encrypted under the passphrase\n$/,
      );
      expect((await runCli(["backup", "--out", backupFile], env)).stderr).to.contain(
        "exists; refusing to overwrite it",
      );
      // The backup itself is an administrative action on the record.
      expect(readFileSync(join(original, "audit", "admin.log"), "utf8")).to.contain('"data-dir.backup"');
    });
    await step("keeps serving after the backup (records acknowledged later)", async () => {
      const g = await start(original);
      receiptsAfterBackup = await submitAnchored(g, ["after-1", "after-2"]);
      await stop();
    });
    await step(
      "restores into a fresh directory that starts, serves the receipts of before and replays clean",
      async () => {
        mkdirSync(join(work.path, "occupied"));
        writeFileSync(join(work.path, "occupied", "x"), "");
        const occupied = await runCli(
          ["restore", backupFile, "--data-dir", join(work.path, "occupied")],
          withPassphrase,
        );
        expect([occupied.status, occupied.stderr]).to.deep.equal([
          1,
          `dutyproof: ${join(work.path, "occupied")} is not empty; restore into a new directory\n`,
        ]);
        const done = await runCli(["restore", backupFile, "--data-dir", restored], withPassphrase);
        expect(done.status, done.stderr).to.equal(0);
        expect(done.stdout).to.match(/^restored \d+ files into .*: the log as of .*, 3 records \(3 anchored\);/);
        expect(verifyAuditLog(join(restored, "audit", "admin.log"))).to.include({ ok: true });

        const g = await start(restored);
        for (const [recordId, receipt] of receiptsBefore) {
          const res = await fetch(`${g.url}/v1/attestations/${recordId}/receipt`);
          expect([res.status, await res.text()]).to.deep.equal([200, receipt]);
        }
        // Acknowledged after the backup: not in the restored log (nor on the restored chain).
        for (const recordId of receiptsAfterBackup.keys()) {
          expect((await fetch(`${g.url}/v1/attestations/${recordId}/receipt`)).status).to.equal(404);
        }
        const token = issueToken(join(restored, "tokens.json"), "auditor", "audit bureau");
        const replay = await runCli(["replay", "--token", token, "--rpc", g.rpcUrl], {
          ...process.env,
          GATEWAY_URL: g.url,
          DATA_DIR: restored,
        });
        expect(replay.status, replay.stdout + replay.stderr).to.equal(0);
        expect(replay.stdout).to.match(/^clean: 3 records, \d+ checkpoints \(anchored size 3\)/);
        // The restored gateway takes new records after the restored ones.
        const more = await submitAnchored(g, ["restored-1"]);
        expect(JSON.parse([...more.values()][0]!)).to.include({ leafIndex: 3 });
        await stop();
      },
    );
    await step("refuses a damaged backup file, naming what is wrong", async () => {
      const bytes = readFileSync(backupFile);
      const truncated = join(work.path, "truncated.dpbackup");
      writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
      const cut = await runCli(["restore", truncated, "--data-dir", join(work.path, "r1")], withPassphrase);
      expect(cut.status).to.equal(1);
      expect(cut.stderr).to.match(/^dutyproof: .*(truncated|ends early).*\n$/);
      const notBackup = join(work.path, "not.dpbackup");
      writeFileSync(notBackup, "hello");
      const wrong = await runCli(["restore", notBackup, "--data-dir", join(work.path, "r2")], withPassphrase);
      expect([wrong.status, wrong.stderr]).to.deep.equal([1, `dutyproof: ${notBackup} is not a dutyproof backup\n`]);
    });
  });
});
