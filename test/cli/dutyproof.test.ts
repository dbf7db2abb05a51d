/**
 * The dutyproof CLI as an operator and a unit use it, against a real `dutyproof serve` process.
 */
import { expect } from "chai";
import { type ChildProcess, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Wallet } from "ethers";
import { testPort } from "../helpers/ports.ts";
import { cliPath as cli, startServe } from "../helpers/serve.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { sleep } from "../helpers/gatewayFixture.ts";

describe("dutyproof CLI", function () {
  this.timeout(300_000); // each step is a CLI process; on a loaded machine they take seconds each
  const dir = tempDir("cli");
  const port = testPort("cli");
  const env = {
    ...process.env,
    DATA_DIR: dir.path,
    PORT: String(port),
    CHAIN_PORT: String(port + 6_000),
    ANCHOR_INTERVAL_MS: "200",
    DUTYPROOF_PASSWORD: "correct horse battery staple",
  };
  let server: ChildProcess;
  /** `submit` for the village registered in `before`, with its keystore. */
  const submitArgs = (dutyType: string, fields: string) => [
    ...["submit", "--keystore", join(dir.path, "village.json"), "--unit", "qingshui-1"],
    ...["--duty-type", dutyType, "--fields", fields],
  ];
  const run = (...args: string[]) => {
    const result = spawnSync(process.execPath, [cli, ...args], { env, encoding: "utf8", timeout: 60_000 });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  const keystore = join(dir.path, "village.json");
  /** The unit every test submits for: its key, then the township and the village registered. */
  let registration: { keygen: Ran; township: Ran; village: Ran };
  type Ran = ReturnType<typeof run>;

  before(async () => {
    server = await startServe(`http://127.0.0.1:${port}`, env, { timeoutMs: 60_000 });
    const keygen = run("unit", "keygen", "--out", keystore);
    const township = run("unit", "register", "qingshui", "--level", "2", "--signer", Wallet.createRandom().address);
    const village = run(
      "unit",
      "register",
      "qingshui-1",
      "--level",
      "3",
      "--parent",
      "qingshui",
      "--keystore",
      keystore,
    );
    registration = { keygen, township, village };
  });

  /** Submits a policy-outreach record for the village and waits until its receipt is anchored. */
  const anchoredRecord = async (fields: string): Promise<string> => {
    const submit = run(...submitArgs("policy-outreach", fields));
    expect(submit.status, submit.stderr).to.equal(0);
    const { recordId } = JSON.parse(submit.stdout) as { recordId: string };
    let receipt: { status: string; recordId: string } | undefined;
    for (let i = 0; i < 100 && receipt?.status !== "anchored"; i++) {
      await sleep(100);
      const r = run("receipt", recordId);
      expect(r.status, r.stderr).to.equal(0);
      receipt = JSON.parse(r.stdout);
    }
    expect(receipt).to.include({ status: "anchored", recordId });
    return recordId;
  };

  after(async () => {
    server.kill("SIGTERM");
    await new Promise((resolve) => server.once("exit", resolve));
    dir.remove();
  });

  it("takes a unit from key generation to an anchored receipt", async () => {
    // Key generation and registration ran in `before`, since every test submits for this unit.
    const { keygen, township, village } = registration;
    expect(keygen.status, keygen.stderr).to.equal(0);
    expect(run("unit", "keygen", "--out", keystore).status).to.equal(1); // never overwrites a key

    expect(township.status, township.stderr).to.equal(0);
    expect(village.status, village.stderr).to.equal(0);
    const again = run("unit", "register", "qingshui-1", "--level", "3", "--keystore", keystore);
    expect([again.status, again.stderr]).to.deep.equal([
      1,
      "dutyproof: the ledger refused: DutyLedgerUnitExists(0x" + village.stdout.trim().split("0x")[1] + ")\n",
    ]);

    const recordId = await anchoredRecord(
      '{"policy":"防汛知识","channel":"loudspeaker","audience":300,"staff":"宣传员"}',
    );

    const token = run("token", "issue", "--scope", "unit:qingshui-1", "--label", "village clerk");
    expect(token.status).to.equal(0);
    const bearer = token.stdout.trim().split("\n").at(-1)!;
    const res = await fetch(`http://127.0.0.1:${port}/v1/attestations/${recordId}`, {
      headers: { authorization: `Bearer ${bearer}` },
    });
    expect(res.status).to.equal(200);
  });

  it("exports a unit's records as a bundle that verifies, and catches a tampered bundle", async () => {
    await anchoredRecord('{"policy":"医保政策","channel":"meeting","audience":40,"staff":"宣传员"}');
    const token = run("token", "issue", "--scope", "unit:qingshui-1").stdout.trim().split("\n").at(-1)!;
    const file = join(dir.path, "bundle.json");
    const exported = run("export", "--token", token, "--unit", "qingshui-1", "--from", "2000-01-01", "--out", file);
    expect(exported.status, exported.stderr).to.equal(0);
    const bundle = JSON.parse(readFileSync(file, "utf8")) as {
      items: Array<{ envelope: { fields: Record<string, unknown> } }>;
    };
    expect(bundle.items.length).to.be.greaterThan(0);
    const ok = run("verify", file, "--lang", "en");
    expect([ok.status, ok.stdout.split("\n")[0]]).to.deep.equal([
      0,
      `VALID: all ${bundle.items.length} records of the bundle verify (0 more not anchored yet)`,
    ]);
    bundle.items[0]!.envelope.fields.audience = 3000;
    writeFileSync(file, JSON.stringify(bundle));
    const bad = run("verify", file, "--lang", "en");
    expect(bad.status).to.equal(1);
    expect(bad.stdout).to.match(
      /^INVALID: 1 of \d+ records fail\n {2}✗ 0x[0-9a-f]{64}: the record does not match the receipt \(altered\)/,
    );
    const other = run("token", "issue", "--scope", "unit:qingshui").stdout.trim().split("\n").at(-1)!;
    expect(run("export", "--token", other, "--unit", "qingshui-1", "--out", file).stderr).to.match(/refused \(403 /);
  });

  it("registers a new duty type from a schema file, which the gateway then accepts", async () => {
    const schema = {
      schema: "dutyproof/duty-type/v1",
      code: "flood-drill",
      title: { "zh-CN": "防汛演练", en: "Flood drill" },
      department: "emergency-management",
      fields: [
        {
          name: "participants",
          title: { "zh-CN": "参加人数", en: "Participants" },
          type: "integer",
          required: true,
          personal: false,
          minimum: 1,
        },
      ],
    };
    const file = join(dir.path, "flood-drill.json");
    writeFileSync(file, JSON.stringify(schema));
    const registered = run("duty-type", "register", file);
    expect(registered.status, registered.stderr).to.equal(0);
    const submit = run(...submitArgs("flood-drill", '{"participants":42}'));
    expect(submit.status, submit.stderr).to.equal(0);
  });

  it("fails with one line and exit 2 on usage errors, exit 1 on refusals", () => {
    const cases: Array<[string[], number, RegExp]> = [
      [[], 2, /^dutyproof: usage: dutyproof </],
      [["frobnicate"], 2, /^dutyproof: usage/],
      [["unit", "register", "x"], 2, /--level is required/],
      [["unit", "register", "x", "--level", "999", "--signer", Wallet.createRandom().address], 2, /--level must be/],
      [["receipt", "nope"], 2, /record id/],
      [submitArgs("grid-patrol", "{"), 2, /--fields must be a JSON object/],
      [submitArgs("grid-patrol", '{"gridCode":1}'), 1, /refused \(422 record.invalid_fields\)/],
      [["duty-type", "register", join(dir.path, "missing.json")], 1, /not readable JSON/],
      [["token", "issue", "--scope", "everyone"], 2, /--scope must be/],
    ];
    for (const [args, status, message] of cases) {
      const r = run(...args);
      expect(r.status, args.join(" ")).to.equal(status);
      expect(r.stderr.split("\n").filter(Boolean), args.join(" ")).to.have.length(1);
      expect(r.stderr, args.join(" ")).to.match(message);
    }
  });
});
