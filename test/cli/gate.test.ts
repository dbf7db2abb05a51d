/**
 * The gate's CLI against a real `dutyproof serve` process: the operator sets a lead department
 * and the data list; a department signs meetings, a data request and an evaluation from a
 * keystore; the unit lists its tasks and the meeting combined; bad input is one line, exit 2.
 */
import { expect } from "chai";
import { type ChildProcess, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Wallet } from "ethers";
import { cliPath as cli, startServe } from "../helpers/serve.ts";
import { tempDir } from "../helpers/tempDir.ts";

describe("dutyproof CLI: burden requests of every kind through the gate", function () {
  this.timeout(180_000);
  const dir = tempDir("cli-gate");
  const port = 33_000 + Math.floor(Math.random() * 400); // the "gate" band; the chain 500 above
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
  const office = join(dir.path, "office.json");
  // Next Wednesday and Thursday, China time: one week, both in the future.
  const day = (offset: number) => {
    const now = new Date(Date.now() + 8 * 3600_000);
    const toWednesday = (3 - now.getUTCDay() + 7) % 7 || 7;
    return new Date(now.getTime() + (toWednesday + offset) * 86_400_000).toISOString().slice(0, 10);
  };
  const request = (kind: string, ...extra: string[]) =>
    run(
      ...["burden", "request", "--kind", kind, "--keystore", office, "--unit", "hexi-1"],
      ...["--department", "general-office", ...extra],
    );

  before(async () => {
    server = await startServe(`http://127.0.0.1:${port}`, env, { timeoutMs: 60_000 });
    expect(run("unit", "keygen", "--out", office).status).to.equal(0);
    expect(run("unit", "register", "hexi", "--level", "2", "--signer", Wallet.createRandom().address).status).to.equal(
      0,
    );
    const village = Wallet.createRandom().address;
    expect(run("unit", "register", "hexi-1", "--level", "3", "--parent", "hexi", "--signer", village).status).to.equal(
      0,
    );
    const address = JSON.parse(readFileSync(office, "utf8")).address as string;
    const registered = run(
      "inspector",
      "register",
      "0x" + address.replace(/^0x/, ""),
      "--department",
      "general-office",
    );
    expect(registered.status, registered.stderr).to.equal(0);
  });

  after(async () => {
    server.kill("SIGTERM");
    await new Promise((resolve) => server.once("exit", resolve));
    dir.remove();
  });

  it("combines two meetings of one week and shows the unit its one meeting to attend", () => {
    const meeting = (topic: string, date: string) =>
      request(
        "meeting",
        "--topic",
        topic,
        "--agenda",
        "通报;部署",
        "--decisions",
        "分工",
        "--start",
        `${date} 09:00`,
        "--minutes",
        "60",
        "--roles",
        "secretary",
      );
    const first = meeting("防汛部署", day(0));
    expect(first.status, first.stderr).to.equal(0);
    expect(first.stdout).to.match(/: admitted \(admitted\)/);
    const second = meeting("秋收准备", day(1));
    expect(second.stdout).to.match(/merged \(merged\.combined_meeting\)/);
    const refused = request(
      "meeting",
      "--topic",
      "务虚会",
      "--start",
      `${day(7)} 09:00`,
      "--minutes",
      "60",
      "--roles",
      "secretary",
    );
    expect(refused.stdout).to.match(/refused \(refused\.meeting_without_agenda\)/);
    const listed = run("burden", "requests", "--token", tokenFor("unit:hexi-1"), "--unit", "hexi-1");
    expect(listed.status, listed.stderr).to.equal(0);
    expect(listed.stdout).to.match(/combined meetings \(1\)/);
    expect(listed.stdout).to.match(/with general-office, general-office/);
  });

  it("refuses a data item off the data list until the operator lists it", () => {
    const ask = () =>
      request(
        "data",
        "--items",
        "catalog:population.households",
        "--from",
        "2020-01-01",
        "--to",
        day(0),
        "--deadline",
        day(7),
      );
    expect(ask().stdout).to.match(/refused \(refused\.off_list\)/);
    const operator = tokenFor("operator");
    const listed = run("burden", "data-list", "--add", "population.households", "--token", operator);
    expect(listed.status, listed.stderr).to.equal(0);
    expect(listed.stdout).to.contain("population.households");
    const again = ask();
    expect(again.stdout).to.match(/task_created \(task\.data_missing\)/);
    expect(again.stdout).to.match(/the unit provides: catalog:population\.households/);
  });

  it("refuses an evaluation by a department that does not lead the domain", () => {
    const operator = tokenFor("operator");
    const lead = run("burden", "lead", "party-building=organization", "--token", operator);
    expect(lead.status, lead.stderr).to.equal(0);
    expect(lead.stdout).to.contain("party-building: organization");
    const evaluation = request(
      "evaluation",
      "--domain",
      "party-building",
      "--title",
      "党建考核",
      "--from",
      day(0),
      "--to",
      day(1),
    );
    expect(evaluation.stdout).to.match(/refused \(refused\.not_lead_department\)/);
    expect(evaluation.stdout).to.contain("organization");
  });

  it("answers bad input with one line and exit code 2, and documents every kind in --help", () => {
    const kind = request("party");
    expect(kind.status).to.equal(2);
    expect(kind.stderr.trim().split("\n")).to.have.length(1);
    const missing = request("secondment", "--role", "clerk");
    expect(missing.status).to.equal(2);
    expect(missing.stderr).to.match(/needs --from/);
    const help = run("burden", "request", "--help");
    for (const k of ["meeting:", "data:", "inspection:", "evaluation:", "secondment:"])
      expect(help.stdout).to.contain(k);
  });
});
