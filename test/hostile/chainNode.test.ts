/**
 * Issue 18: the embedded chain node is closed to everyone but the gateway. A real `dutyproof
 * serve` runs in its own process; this test process plays every other local process (and, in
 * Chromium, a web page on another origin) with nothing but the published rpcUrl and the old
 * chain port, and tries to change the chain: debug methods, impersonation, unlocked accounts,
 * relayed transactions of keys without a role.
 */
import { expect } from "chai";
import { type ChildProcess, spawn } from "node:child_process";
import { type Server, createServer } from "node:http";
import { Contract, JsonRpcProvider, Wallet, ZeroHash, id } from "ethers";
import { chromium } from "playwright-core";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { loadDutyLedgerArtifact } from "../../server/chain/dutyLedgerArtifact.ts";
import { departmentIdOf } from "../../server/chain/deployment.ts";
import { servedGatewayEnv, sleep } from "../helpers/gatewayFixture.ts";
import { testPort } from "../helpers/ports.ts";
import { cliPath, startServe } from "../helpers/serve.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { type Eip712Info, newEnvelope, signEnvelope } from "../helpers/unitClient.ts";
import { chromiumFlags, chromiumPath } from "../helpers/browser.ts";

/** The methods a local attacker used on the open node, each with arguments that would work there. */
const attackerCalls = (ledger: string, admin: string, attacker: string): Array<[string, unknown[]]> => [
  ["anvil_setStorageAt", [ledger, "0x0", "0x" + "11".repeat(32)]],
  ["anvil_impersonateAccount", [admin]],
  ["anvil_setBalance", [attacker, "0xffffffffffffffffffff"]],
  ["anvil_dumpState", []],
  ["anvil_mine", ["0x1"]],
  ["evm_mine", []],
  ["evm_snapshot", []],
  ["evm_setNextBlockTimestamp", ["0x1"]],
  ["hardhat_setStorageAt", [ledger, "0x0", "0x" + "11".repeat(32)]],
  ["hardhat_impersonateAccount", [admin]],
  ["debug_traceTransaction", [ZeroHash]],
  ["personal_sign", ["0x00", admin]],
  ["personal_unlockAccount", [admin, "", 0]],
  ["eth_sendTransaction", [{ from: admin, to: ledger, data: "0x" }]],
  ["eth_sign", [admin, "0x00"]],
  ["eth_signTransaction", [{ from: admin, to: ledger, data: "0x" }]],
  ["eth_signTypedData_v4", [admin, "{}"]],
];

describe("hostile: the embedded chain node is closed to every process but the gateway (issue 18)", function () {
  this.timeout(180_000);
  const dir = tempDir("chain-node");
  const port = testPort("hostile");
  const chainPort = port < 12_500 ? port + 300 : port - 300;
  const url = `http://127.0.0.1:${port}`;
  const adminKey = Wallet.createRandom();
  const attacker = Wallet.createRandom();
  const villageKey = Wallet.createRandom();
  const village = id("unit:chain-node-village");
  let child: ChildProcess | null = null;
  let rpcUrl: string;
  let ledgerAddress: string;
  let eip712: Eip712Info;
  let logId: string;
  let reader: JsonRpcProvider;
  let ledger: Contract;

  const rpc = async (method: string, params: unknown[] = [], headers: Record<string, string> = {}) => {
    const res = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ jsonrpc: "2.0", id: 7, method, params }),
    });
    return {
      status: res.status,
      allowOrigin: res.headers.get("access-control-allow-origin"),
      body: (await res.json()) as {
        id: unknown;
        result?: unknown;
        error?: { message: string; data?: { code: string } };
      },
    };
  };
  const receiptOf = async (path: string) => {
    for (let i = 0; i < 200; i++) {
      const res = await fetch(url + path);
      if (res.status === 200) return (await res.json()) as Record<string, unknown>;
      await sleep(100);
    }
    throw new Error("no anchored receipt");
  };

  before(async () => {
    child = await startServe(
      url,
      servedGatewayEnv(dir.path, port, chainPort, { OPERATOR_KEY: adminKey.privateKey }),
      // Its own process group, so that a failed test can stop the gateway and its node at once.
      { timeoutMs: 60_000, detached: true },
    );
    const info = (await (await fetch(`${url}/v1/info`)).json()) as {
      rpcUrl: string;
      contracts: { DutyLedger: string };
      eip712: Eip712Info;
      logId: string;
    };
    rpcUrl = info.rpcUrl;
    ledgerAddress = info.contracts.DutyLedger;
    eip712 = info.eip712;
    logId = info.logId;
    reader = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1, pollingInterval: 100 });
    ledger = new Contract(ledgerAddress, loadDutyLedgerArtifact().abi as never, reader);
    // The village several tests submit for or defend, registered by the admin's own transaction
    // relayed through the rpcUrl (the relay test checks that it took).
    const asAdmin = ledger.connect(adminKey.connect(reader)) as Contract;
    await (await asAdmin.getFunction("registerUnit")(village, ZeroHash, 3, villageKey.address)).wait();
  });

  after(async () => {
    reader?.destroy();
    if (child?.pid) {
      process.kill(-child.pid, "SIGKILL");
      await sleep(300);
    }
    dir.remove();
  });

  it("leaves nothing listening on the chain port: the node has no network but its own", async () => {
    const error = await fetch(`http://127.0.0.1:${chainPort}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    }).then(
      () => null,
      (e: Error) => e.cause as { code?: string },
    );
    expect(error?.code).to.equal("ECONNREFUSED");
  });

  it("publishes an rpcUrl that refuses every method that changes the chain or signs, by name", async () => {
    for (const [method, params] of attackerCalls(ledgerAddress, adminKey.address, attacker.address)) {
      const { status, body } = await rpc(method, params);
      expect(status, method).to.equal(200);
      expect(body.error, `${method} answered ${JSON.stringify(body)}`).to.not.equal(undefined);
      expect(body.error!.data?.code, method).to.equal("rpc.method_refused");
    }
    expect((await rpc("eth_accounts")).body.result).to.deep.equal([]);
    // A batch is checked element by element.
    const batch = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([
        { jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] },
        { jsonrpc: "2.0", id: 2, method: "anvil_setStorageAt", params: [ledgerAddress, "0x0", ZeroHash] },
      ]),
    });
    const answers = (await batch.json()) as Array<{ id: number; result?: string; error?: unknown }>;
    expect(answers.map((a) => a.id)).to.deep.equal([1, 2]);
    expect(answers[0]!.result).to.equal("0x7a69");
    expect(answers[1]!.error).to.not.equal(undefined);
  });

  it("sends no Access-Control-Allow-Origin, to a request or to a preflight", async () => {
    const origin = "http://attacker.example";
    expect((await rpc("eth_chainId", [], { origin })).allowOrigin).to.equal(null);
    const preflight = await fetch(rpcUrl, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    expect(preflight.headers.get("access-control-allow-origin")).to.equal(null);
    expect(preflight.headers.get("access-control-allow-methods")).to.equal(null);
    // A simple (no preflight) cross-origin POST is refused before the body is read.
    const simple = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "text/plain", origin },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    });
    expect(simple.status).to.equal(415);
  });

  it("relays the admin's own signed transaction, and refuses one signed by a key with no role", async () => {
    const admin = adminKey.connect(reader);
    const asAdmin = ledger.connect(admin) as Contract;
    // The village's registration, relayed in `before`, took.
    expect((await ledger.getFunction("unit")(village)).signer.toLowerCase()).to.equal(villageKey.address.toLowerCase());
    const inspector = Wallet.createRandom().address;
    await (await asAdmin.getFunction("registerInspector")(inspector, departmentIdOf("civil-affairs"))).wait();
    expect((await ledger.getFunction("inspector")(inspector)).active).to.equal(true);

    const forged = await attacker.signTransaction({
      to: ledgerAddress,
      data: ledger.interface.encodeFunctionData("registerInspector", [attacker.address, departmentIdOf("x")]),
      chainId: 31337,
      nonce: 0,
      gasLimit: 200_000,
      gasPrice: 0,
    });
    const refused = await rpc("eth_sendRawTransaction", [forged]);
    expect(refused.body.error?.data?.code).to.equal("rpc.transaction_refused");
    expect(refused.body.error?.message).to.contain("holds no role");
    // The admin's key, but not to the DutyLedger: not relayed either.
    const elsewhere = await adminKey.signTransaction({
      to: attacker.address,
      value: 1,
      chainId: 31337,
      nonce: 9,
      gasLimit: 21_000,
      gasPrice: 0,
    });
    expect((await rpc("eth_sendRawTransaction", [elsewhere])).body.error?.data?.code).to.equal(
      "rpc.transaction_refused",
    );
    expect((await rpc("eth_sendRawTransaction", ["0x1234"])).body.error?.data?.code).to.equal(
      "rpc.transaction_refused",
    );
  });

  it("answers what readers need: blocks, code, logs, receipts and verifyAnchoredInclusion by eth_call", async () => {
    const catalog = (
      (await (await fetch(`${url}/v1/duty-types`)).json()) as { dutyTypes: Array<{ id: string; code: string }> }
    ).dutyTypes;
    const patrol = catalog.find((d) => d.code === "grid-patrol")!.id;
    const envelope = newEnvelope(logId, village, patrol, {
      gridCode: "V-1",
      durationMinutes: 30,
      issuesFound: 0,
      gridWorker: "网格员乙",
    });
    const posted = await fetch(`${url}/v1/attestations`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ envelope, signature: await signEnvelope(villageKey, eip712, envelope) }),
    });
    expect(posted.status).to.equal(201);
    const receipt = await receiptOf(((await posted.json()) as { receipt: string }).receipt);

    expect(Number(await reader.send("eth_chainId", []))).to.equal(31337);
    expect(await reader.getBlockNumber()).to.be.greaterThan(0);
    expect(await reader.getCode(ledgerAddress)).to.not.equal("0x");
    const block = await reader.getBlock(Number(receipt.blockNumber));
    expect(block!.timestamp).to.equal(receipt.anchoredAt);
    const mined = await reader.getTransactionReceipt(String(receipt.transactionHash));
    expect(mined!.status).to.equal(1);
    expect((await reader.getTransaction(String(receipt.transactionHash)))!.to).to.equal(ledgerAddress);
    const logs = await reader.getLogs({ address: ledgerAddress, fromBlock: 0, toBlock: "latest" });
    expect(logs.length).to.be.greaterThan(0);
    const [included, anchoredAt] = await ledger.getFunction("verifyAnchoredInclusion")(
      receipt.logId,
      receipt.leafHash,
      receipt.leafIndex,
      receipt.treeSize,
      receipt.inclusionProof,
    );
    expect(included).to.equal(true);
    expect(Number(anchoredAt)).to.equal(receipt.anchoredAt);
    const { paths } = (await (await fetch(`${url}/openapi.json`)).json()) as {
      paths: Record<string, { post?: unknown }>;
    };
    expect(paths["/v1/rpc"]?.post, "documented in the OpenAPI document").to.be.an("object");
  });

  it("stops a local attacker from registering an inspector or rotating a unit's key via the rpcUrl", async () => {
    const calls: Array<[string, unknown[]]> = [
      ["registerInspector", [attacker.address, departmentIdOf("civil-affairs")]],
      ["rotateUnitKey", [village, attacker.address]],
    ];
    for (const [name, args] of calls) {
      const data = ledger.interface.encodeFunctionData(name, args);
      // What worked on the open node: impersonate the admin, then send as the admin.
      await rpc("anvil_impersonateAccount", [adminKey.address]);
      await rpc("hardhat_impersonateAccount", [adminKey.address]);
      const sent = await rpc("eth_sendTransaction", [{ from: adminKey.address, to: ledgerAddress, data }]);
      expect(sent.body.error, name).to.not.equal(undefined);
      // And with its own key, relayed as a raw transaction.
      const raw = await attacker.signTransaction({
        to: ledgerAddress,
        data,
        chainId: 31337,
        nonce: 0,
        gasLimit: 300_000,
        gasPrice: 0,
      });
      expect((await rpc("eth_sendRawTransaction", [raw])).body.error, name).to.not.equal(undefined);
    }
    expect((await ledger.getFunction("inspector")(attacker.address)).active).to.equal(false);
    expect(await ledger.getFunction("unitOfSigner")(attacker.address)).to.equal(ZeroHash);
    expect((await ledger.getFunction("unit")(village)).signer.toLowerCase()).to.equal(villageKey.address.toLowerCase());
  });

  it("refuses to start embedded mode, in one line, where the node cannot be isolated", async () => {
    // Without util-linux's unshare on PATH the isolation probe fails as it does on a host with
    // user namespaces disabled; the gateway must stop, not fall back to an open node.
    const other = tempDir("chain-node-open");
    try {
      const serve = spawn(process.execPath, [cliPath, "serve"], {
        env: {
          ...process.env,
          PATH: dirname(process.execPath),
          DATA_DIR: other.path,
          PORT: "0",
          CHAIN_PORT: String(chainPort),
        },
      });
      let stderr = "";
      serve.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      // A gateway that started anyway (an open node) is stopped rather than left running.
      const running = setTimeout(() => serve.kill("SIGKILL"), 60_000);
      const code = await new Promise<number | null>((resolve) => serve.on("close", resolve));
      clearTimeout(running);
      expect(code).to.not.equal(0);
      expect(stderr.trim().split("\n")).to.have.length(1);
      expect(stderr).to.contain("the embedded chain node cannot be closed off");
      expect(existsSync(join(other.path, "chain", "anvil.pid"))).to.equal(false);
    } finally {
      other.remove();
    }
  });

  it("keeps a page on another origin in a real browser from changing the chain", async function () {
    if (!existsSync(chromiumPath))
      throw new Error(`${chromiumPath} is missing: apt-get install chromium (.ci/run does)`);
    const before = await reader.getBalance(attacker.address);
    const pagePort = port < 12_500 ? port + 350 : port - 350;
    const page: Server = await new Promise((resolve) => {
      const s = createServer((_req, res) =>
        res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>x</title>"),
      );
      s.listen(pagePort, "127.0.0.1", () => resolve(s));
    });
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: chromiumFlags,
    });
    try {
      const tab = await browser.newPage();
      await tab.goto(`http://127.0.0.1:${pagePort}/`);
      const outcomes = await tab.evaluate(
        async ({ targets, attackerAddress }) => {
          const body = JSON.stringify({
            jsonrpc: "2.0",
            id: 1,
            method: "anvil_setBalance",
            params: [attackerAddress, "0xffffffffffffffffffff"],
          });
          const out: string[] = [];
          for (const target of targets) {
            for (const init of [
              { method: "POST", headers: { "content-type": "application/json" }, body },
              { method: "POST", headers: { "content-type": "text/plain" }, body, mode: "no-cors" as RequestMode },
            ]) {
              try {
                const res = await fetch(target, init);
                out.push(
                  `${target} ${init.headers["content-type"]}: ${res.type} ${res.type === "opaque" ? "" : await res.text()}`,
                );
              } catch (error) {
                out.push(`${target} ${init.headers["content-type"]}: failed ${String(error)}`);
              }
            }
          }
          return out;
        },
        { targets: [rpcUrl, `http://127.0.0.1:${chainPort}/`], attackerAddress: attacker.address },
      );
      // The page read no answer: the JSON request fails (no CORS), the simple one is opaque.
      for (const outcome of outcomes) expect(outcome, outcome).to.match(/failed|opaque/);
      expect(await reader.getBalance(attacker.address)).to.equal(before);
    } finally {
      await browser.close();
      page.close();
    }
  });
});
