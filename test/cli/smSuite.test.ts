/**
 * The 国密 suite end to end, against a real `dutyproof serve` process: an SM2 unit and a
 * secp256k1 unit attest into one log; both receipts verify, the log replays and monitors clean,
 * the SM unit's bundle verifies and replays; forgeries and a wrong password are refused.
 */
import { expect } from "chai";
import { type ChildProcess, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Wallet } from "ethers";
import { bytesToHex, hexToBytes } from "../../server/core/bytes.ts";
import { eip712Domain, typedDataDigest } from "../../server/core/eip712.ts";
import { recordDigest, signedMessageOf } from "../../server/core/record.ts";
import { recordEnvelopeSchema } from "../../server/core/recordSchema.ts";
import { sm3 } from "../../server/core/sm3.ts";
import { testPort } from "../helpers/ports.ts";
import { cliPath as cli, startServe } from "../helpers/serve.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { sleep } from "../helpers/gatewayFixture.ts";

interface Receipt {
  status: string;
  recordId: string;
  suite?: string;
  signer: string;
  signature: string;
  chainId: number;
  contract: string;
}

describe("the 国密 (SM) suite, end to end", function () {
  this.timeout(400_000); // a shared machine under load runs each CLI process slowly
  const dir = tempDir("gm");
  const port = testPort("gm");
  const url = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    DATA_DIR: dir.path,
    PORT: String(port),
    CHAIN_PORT: String(port + 6_000),
    ANCHOR_INTERVAL_MS: "200",
    DUTYPROOF_PASSWORD: "雨水 correct horse",
  };
  let server: ChildProcess;
  const run = (...args: string[]) => {
    const result = spawnSync(process.execPath, [cli, ...args], { env, encoding: "utf8", timeout: 90_000 });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const smKeystore = join(dir.path, "sm-village.json");
  const ethKeystore = join(dir.path, "eth-village.json");
  const fields = '{"policy":"防汛知识","channel":"loudspeaker","audience":300,"staff":"宣传员"}';
  const submit = (keystore: string, unit: string) =>
    run("submit", "--keystore", keystore, "--unit", unit, "--duty-type", "policy-outreach", "--fields", fields);
  const anchored = async (recordId: string): Promise<Receipt> => {
    for (let i = 0; i < 300; i++) {
      // The CLI runs block this process longer than the server keeps an idle connection: a
      // request on a connection it has just closed fails and is sent again.
      const res = await fetch(`${url}/v1/attestations/${recordId}/receipt`).catch(() => null);
      if (res?.status === 200) return (await res.json()) as Receipt;
      await sleep(100);
    }
    throw new Error(`${recordId} was not anchored`);
  };
  const records: Record<string, { recordId: string; envelope: Record<string, unknown>; signature: string }> = {};

  before(async () => {
    server = await startServe(url, env, { timeoutMs: 60_000 });
  });

  after(async () => {
    server.kill("SIGTERM");
    await new Promise((resolve) => server.once("exit", resolve));
    dir.remove();
  });

  it("lists both suites in /v1/info", async () => {
    const info = (await (await fetch(`${url}/v1/info`)).json()) as { suites: Array<{ name: string; leaf: string }> };
    expect(info.suites.map((s) => s.name)).to.deep.equal(["eip712-secp256k1", "sm2-sm3"]);
    expect(info.suites[1]!.leaf).to.match(/^'DPG1'/);
  });

  it("makes an SM2 key in an SM4 + PBKDF2-SM3 keystore and registers its key id as the unit's signer", () => {
    const made = run("unit", "keygen", "--suite", "sm2", "--out", smKeystore);
    expect(made.status, made.stderr).to.equal(0);
    const keystore = JSON.parse(readFileSync(smKeystore, "utf8")) as {
      format: string;
      address: string;
      publicKey: string;
      kdf: { name: string };
      cipher: { name: string };
    };
    expect(keystore).to.include({ format: "dutyproof/sm2-keystore/v1" });
    expect([keystore.kdf.name, keystore.cipher.name]).to.deep.equal(["pbkdf2-hmac-sm3", "sm4-cbc"]);
    expect(keystore.address).to.equal(bytesToHex(sm3(hexToBytes(keystore.publicKey)).subarray(12)));
    expect(made.stdout).to.contain(keystore.address);
    expect(run("unit", "keygen", "--out", ethKeystore).status).to.equal(0);
    expect(run("unit", "keygen", "--suite", "rsa", "--out", join(dir.path, "x.json")).stderr).to.match(
      /^dutyproof: .*--suite must be secp256k1 or sm2\n$/,
    );

    expect(
      run("unit", "register", "qingshui", "--level", "2", "--signer", Wallet.createRandom().address).status,
    ).to.equal(0);
    for (const [name, keystoreFile] of [
      ["qingshui-sm", smKeystore],
      ["qingshui-eth", ethKeystore],
    ] as const) {
      const registered = run(
        "unit",
        "register",
        name,
        "--level",
        "3",
        "--parent",
        "qingshui",
        "--keystore",
        keystoreFile,
      );
      expect(registered.status, registered.stderr).to.equal(0);
    }
  });

  it("accepts a record of each suite into one log; the SM receipt names its suite and key id", async () => {
    for (const [unit, keystore] of [
      ["qingshui-sm", smKeystore],
      ["qingshui-eth", ethKeystore],
    ] as const) {
      const submitted = submit(keystore, unit);
      expect(submitted.status, submitted.stderr).to.equal(0);
      records[unit] = JSON.parse(submitted.stdout);
    }
    const sm = records["qingshui-sm"]!;
    expect(sm.envelope.suite).to.equal("sm2-sm3");
    expect(sm.signature).to.have.length(2 + 256);
    // The record id is SM3 of the canonical envelope, not SHA-256.
    expect(sm.recordId).to.equal(bytesToHex(recordDigest(recordEnvelopeSchema.parse(sm.envelope))));
    const receipt = await anchored(sm.recordId);
    const keystore = JSON.parse(readFileSync(smKeystore, "utf8")) as { address: string };
    expect(receipt).to.include({ status: "anchored", suite: "sm2-sm3", signer: keystore.address });
    const eth = await anchored(records["qingshui-eth"]!.recordId);
    expect(eth.suite).to.equal(undefined);
  });

  it("verifies both receipts with `dutyproof verify`, and names the fault in a forged SM receipt", async () => {
    for (const unit of ["qingshui-sm", "qingshui-eth"]) {
      const file = join(dir.path, `${unit}.receipt.json`);
      writeFileSync(file, JSON.stringify(await anchored(records[unit]!.recordId)));
      const verified = run("verify", file, "--lang", "en");
      expect(verified.status, verified.stdout + verified.stderr).to.equal(0);
      expect(verified.stdout).to.match(/^VALID/);
    }
    const receipt = await anchored(records["qingshui-sm"]!.recordId);
    const cases: Array<[string, Receipt, RegExp]> = [
      [
        "forged-s",
        { ...receipt, signature: receipt.signature.slice(0, -2) + (receipt.signature.endsWith("00") ? "01" : "00") },
        /the signature is invalid or not by the stated signer/,
      ],
      ["no-suite", { ...receipt, suite: undefined }, /different suites/],
      ["eip712-suite", { ...receipt, suite: "eip712-secp256k1" }, /different suites/],
    ];
    for (const [name, forged, reason] of cases) {
      const file = join(dir.path, `sm.${name}.json`);
      writeFileSync(file, JSON.stringify(forged));
      const verified = run("verify", file, "--lang", "en");
      expect(verified.status, name).to.equal(1);
      expect(verified.stdout, name)
        .to.match(/^INVALID/)
        .and.to.match(reason);
    }
    const zh = run("verify", join(dir.path, "sm.no-suite.json"), "--lang", "zh-CN");
    expect(zh.stdout).to.contain("密码套件不一致");
  });

  it("refuses an SM-suite envelope under an EIP-712 signature, and an SM keystore with a wrong password", async () => {
    const sm = records["qingshui-sm"]!;
    await anchored(sm.recordId); // after a CLI run: a fresh connection
    const info = (await (await fetch(`${url}/v1/info`)).json()) as {
      chainId: number;
      contracts: { DutyLedger: string };
    };
    const envelope = recordEnvelopeSchema.parse({ ...sm.envelope, salt: bytesToHex(new Uint8Array(32).fill(7)) });
    const wallet = Wallet.createRandom();
    const digest = typedDataDigest(
      eip712Domain(info.chainId, info.contracts.DutyLedger),
      signedMessageOf(envelope, recordDigest(envelope)),
    );
    const res = await fetch(`${url}/v1/attestations`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ envelope, signature: wallet.signingKey.sign(digest).serialized }),
    });
    expect(res.status).to.equal(422);
    expect(((await res.json()) as { code: string }).code).to.equal("record.bad_signature");

    const wrong = spawnSync(
      process.execPath,
      [
        cli,
        "submit",
        "--keystore",
        smKeystore,
        "--unit",
        "qingshui-sm",
        "--duty-type",
        "policy-outreach",
        "--fields",
        fields,
      ],
      { env: { ...env, DUTYPROOF_PASSWORD: "wrong" }, encoding: "utf8", timeout: 60_000 },
    );
    expect(wrong.status).to.equal(1);
    expect(wrong.stderr).to.equal("dutyproof: cannot open the keystore: wrong password or an altered SM keystore\n");
  });

  it("replays and monitors the mixed log clean, and exports the SM unit's bundle, which verifies and replays", async () => {
    const token = run("token", "issue", "--scope", "auditor", "--label", "audit bureau")
      .stdout.trim()
      .split("\n")
      .at(-1)!;
    const replayed = run("replay", "--token", token);
    expect(replayed.status, replayed.stdout + replayed.stderr).to.equal(0);
    expect(replayed.stdout).to.match(/^clean: 2 records/);

    const monitored = run(
      "monitor",
      ...["--state", join(dir.path, "monitor.json"), "--gateway", url, "--once"],
      ...["--token", token, "--rpc", `${url}/v1/rpc`],
    );
    expect(monitored.status, monitored.stdout + monitored.stderr).to.equal(0);

    const unitToken = run("token", "issue", "--scope", "unit:qingshui-sm").stdout.trim().split("\n").at(-1)!;
    const bundle = join(dir.path, "sm-bundle.json");
    const exported = run(
      "export",
      "--token",
      unitToken,
      "--unit",
      "qingshui-sm",
      "--from",
      "2000-01-01",
      "--out",
      bundle,
    );
    expect(exported.status, exported.stderr).to.equal(0);
    const verified = run("verify", bundle, "--lang", "en");
    expect(verified.status, verified.stdout).to.equal(0);
    expect(verified.stdout).to.match(/^VALID: all 1 records of the bundle verify/);
    const fromBundle = run("replay", "--bundle", bundle);
    expect(fromBundle.status, fromBundle.stdout + fromBundle.stderr).to.equal(0);
    expect(fromBundle.stdout).to.match(/^clean: the bundle's 1 records/);

    const parsed = JSON.parse(readFileSync(bundle, "utf8")) as {
      items: Array<{ envelope: { fields: Record<string, unknown> } }>;
    };
    parsed.items[0]!.envelope.fields.audience = 301;
    writeFileSync(bundle, JSON.stringify(parsed));
    const tampered = run("verify", bundle, "--lang", "en");
    expect(tampered.status).to.equal(1);
    expect(tampered.stdout).to.match(/the record does not match the receipt \(altered\)/);
  });
});
