/**
 * The burden-reduction CLI against a real `dutyproof serve` process: an inspector demands
 * evidence from a keystore and gets a package `verify` accepts; a unit lists its task and answers
 * it; an operator edits a duty list; reports and the monthly summary come out as files.
 */
import { expect } from "chai";
import { type ChildProcess, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Wallet } from "ethers";
import { cliPath as cli, startServe } from "../helpers/serve.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { waitFor } from "../helpers/gatewayFixture.ts";
import { step } from "../helpers/steps.ts";

describe("dutyproof CLI: demands, tasks, duty lists, reports", function () {
  this.timeout(180_000);
  const dir = tempDir("cli-burden");
  const port = 10_000 + Math.floor(Math.random() * 500); // the "burden" band; the chain 500 above
  const env = {
    ...process.env,
    DATA_DIR: dir.path,
    PORT: String(port),
    CHAIN_PORT: String(port + 500),
    ANCHOR_INTERVAL_MS: "200",
    DUTYPROOF_PASSWORD: "correct horse battery staple",
  };
  let server: ChildProcess;
  const run = (...args: string[]) => {
    const result = spawnSync(process.execPath, [cli, ...args], { env, encoding: "utf8", timeout: 60_000 });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const tokenFor = (scope: string) => run("token", "issue", "--scope", scope).stdout.trim().split("\n").at(-1)!;
  const village = join(dir.path, "village.json");
  const inspector = join(dir.path, "inspector.json");
  const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);

  before(async () => {
    server = await startServe(`http://127.0.0.1:${port}`, env, { timeoutMs: 60_000 });
    expect(run("unit", "keygen", "--out", village).status).to.equal(0);
    expect(run("unit", "keygen", "--out", inspector).status).to.equal(0);
    const township = Wallet.createRandom().address;
    expect(run("unit", "register", "hexi", "--level", "2", "--signer", township).status).to.equal(0);
    expect(
      run("unit", "register", "hexi-1", "--level", "3", "--parent", "hexi", "--keystore", village).status,
    ).to.equal(0);
    const address = JSON.parse(readFileSync(inspector, "utf8")).address as string;
    const registered = run(
      "inspector",
      "register",
      "0x" + address.replace(/^0x/, ""),
      "--department",
      "political-legal",
    );
    expect(registered.status, registered.stderr).to.equal(0);
  });

  after(async () => {
    server.kill("SIGTERM");
    await new Promise((resolve) => server.once("exit", resolve));
    dir.remove();
  });

  const demand = (...extra: string[]) =>
    run(
      ...["demand", "create", "--keystore", inspector, "--unit", "hexi-1", "--department", "political-legal"],
      ...["--from", "2020-01-01", "--to", "2099-01-01", "--purpose", "季度督查", ...extra],
    );

  it("takes demands through the CLI: answered from the ledger, turned into a task and answered, refused once off the unit's list, and counted in the report and the summary", async function () {
    this.timeout(600_000);
    await step("answers an inspector's demand from the ledger with a package that verifies", async () => {
      const fields = '{"gridCode":"HX-1","durationMinutes":45,"issuesFound":0,"gridWorker":"网格员"}';
      const submit = run(
        "submit",
        "--keystore",
        village,
        "--unit",
        "hexi-1",
        "--duty-type",
        "grid-patrol",
        "--fields",
        fields,
      );
      expect(submit.status, submit.stderr).to.equal(0);
      const { recordId } = JSON.parse(submit.stdout) as { recordId: string };
      await waitFor(
        "the patrol anchored",
        async () => JSON.parse(run("receipt", recordId).stdout).status === "anchored",
      );
      const file = join(dir.path, "package.json");
      const created = demand("--duty-type", "grid-patrol", "--out", file);
      expect(created.status, created.stderr).to.equal(0);
      expect(created.stdout).to.match(/answered_from_ledger/);
      expect(created.stdout).to.match(/1 anchored record/);
      const verified = run("verify", file);
      expect(verified.status, verified.stdout + verified.stderr).to.equal(0);
      expect(verified.stdout).to.match(/有效：导出包中 1 条记录全部核验通过/);
    });
    await step("turns a demand the ledger cannot answer into a task the unit lists and answers", async () => {
      const created = demand("--duty-type", "dispute-mediation");
      expect(created.stdout).to.match(/task_created/);
      const demandId = created.stdout.match(/demand (0x[0-9a-f]{64})/)![1]!;
      const token = tokenFor("unit:hexi-1");
      const open = run("tasks", "--token", token, "--unit", "hexi-1");
      expect(open.stdout).to.contain(demandId);
      expect(open.stdout).to.match(/open/);
      const fields =
        '{"caseNumber":"TJ-1","parties":"甲、乙","disputeKind":"land","outcome":"agreement-reached","mediator":"调解员"}';
      const answer = run(
        ...["submit", "--keystore", village, "--unit", "hexi-1", "--duty-type", "dispute-mediation"],
        ...["--fields", fields, "--demand", demandId],
      );
      expect(answer.status, answer.stderr).to.equal(0);
      expect(run("tasks", "--token", token, "--unit", "hexi-1", "--status", "answered").stdout).to.contain(demandId);
      const show = run("demand", "show", demandId, "--token", token);
      expect(JSON.parse(show.stdout).answeredBy).to.have.length(1);
      // Without a token: that it was logged and its decision, not who asked, why or what answered.
      const shown = JSON.parse(run("demand", "show", demandId).stdout);
      expect(shown).to.include({ demandId, decision: "task_created" });
      expect(shown).not.to.have.any.keys("demand", "answeredBy", "signature");
    });
    await step(
      "lets an operator take a duty type off a unit's list, after which demands for it are refused",
      async () => {
        const operator = tokenFor("operator");
        const inspectorToken = tokenFor("inspector:political-legal");
        expect(run("duty-list", "remove", "hexi-1", "dispute-mediation", "--token", inspectorToken).status).to.equal(1);
        const removed = run("duty-list", "remove", "hexi-1", "dispute-mediation", "--token", operator);
        expect(removed.status, removed.stderr).to.equal(0);
        expect(removed.stdout).to.match(/✗ dispute-mediation \(removed_from_unit_list\)/);
        expect(demand("--duty-type", "dispute-mediation").stdout).to.match(/refused_off_list/);
        expect(run("duty-list", "show", "hexi-1").stdout).to.match(/✓ grid-patrol/);
      },
    );
    await step("writes the burden report as CSV and the monthly summary with its records", async () => {
      const inspectorToken = tokenFor("inspector:political-legal");
      const csv = join(dir.path, "burden.csv");
      const report = run(
        "burden",
        "report",
        "--token",
        inspectorToken,
        "--group-by",
        "department",
        "--csv",
        "--out",
        csv,
      );
      expect(report.status, report.stderr).to.equal(0);
      const lines = readFileSync(csv, "utf8").trim().split("\r\n");
      expect(lines[1]).to.match(/^political-legal,3,1,0,1,0,1,1,/);
      const summaryFile = join(dir.path, "summary.json");
      const summary = run(
        "summary",
        "--token",
        tokenFor("unit:hexi-1"),
        "--unit",
        "hexi-1",
        "--month",
        today.slice(0, 7),
        "--out",
        summaryFile,
      );
      expect(summary.status, summary.stderr).to.equal(0);
      expect(summary.stdout).to.match(/月汇总: 2 条履职记录/);
      expect(
        run("summary", "--token", tokenFor("unit:hexi"), "--unit", "hexi-1", "--month", "2026-01").status,
      ).to.equal(1);
      expect(run("demand", "create", "--unit", "hexi-1").status).to.equal(2);
    });
  });

  it("refuses another department's duty type before any decision, with its reason code", () => {
    const foreign = demand("--duty-type", "meeting-held"); // general-office's, asked by political-legal
    expect(foreign.status).to.equal(1);
    expect(foreign.stderr).to.match(/refused \(403 demand\.not_entitled\)/);
  });

  it("rotates a unit's key, suspends and resumes it, and grants a supervising body, each in the audit log", () => {
    const next = Wallet.createRandom().address;
    for (const args of [
      ["unit", "rotate-key", "hexi", "--signer", next],
      ["unit", "suspend", "hexi"],
      ["unit", "resume", "hexi"],
      ["grant", "add", "discipline-inspection", "--over", "*", "--reason", "纪委监委专项监督"],
    ]) {
      const result = run(...args);
      expect(result.status, `${args.join(" ")}: ${result.stderr}`).to.equal(0);
    }
    const entries = readFileSync(join(dir.path, "audit", "admin.log"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { action: string; target: Record<string, unknown>; outcome: string });
    expect(entries.slice(-4).map((e) => [e.action, e.outcome])).to.deep.equal([
      ["unit.rotate-key", "ok"],
      ["unit.suspend", "ok"],
      ["unit.resume", "ok"],
      ["grant.add", "ok"],
    ]);
    expect(entries.at(-4)!.target).to.include({ unit: "hexi", signer: next });
    expect(entries.at(-1)!.target).to.include({ grantee: "discipline-inspection", over: "*" });
  });
});
