/**
 * The inspector's verifier against a real chain, with honest receipts and with forged ones: a
 * malicious gateway that hands out a forged proof, a root for the wrong size, a receipt from
 * another chain or contract, a record with one changed byte, and signatures by a rotated-out or
 * suspended key that the malicious gateway anchored in a log of its own.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type BaseWallet, Wallet, id } from "ethers";
import { bytesToHex, hexToBytes } from "../../server/core/bytes.ts";
import { MemoryTree } from "../../server/core/merkle/index.ts";
import { leafHashOf, recordDigest } from "../../server/core/record.ts";
import { type Receipt, verifyEvidence } from "../../server/core/verifier.ts";
import { fetchChainFacts } from "../../server/chain/chainFacts.ts";
import { configFromEnvironment } from "../../server/config.ts";
import { recoverSigner } from "../../server/crypto/recoverSigner.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { type Eip712Info, newEnvelope, signEnvelope } from "../helpers/unitClient.ts";

describe("verifier: honest and forged evidence against a real chain", function () {
  this.timeout(120_000);
  const dir = tempDir("verify");
  const chainPort = testPort("verify");
  let gateway: RunningGateway;
  let info: { eip712: Eip712Info; logId: string; chainId: number; contracts: { DutyLedger: string } };
  const village = id("unit:verify-village");
  const villageKey = Wallet.createRandom();
  let patrol: string;
  let honest: { receipt: Receipt; envelope: ReturnType<typeof newEnvelope>; signature: string };
  const fields = { gridCode: "V-1", durationMinutes: 30, issuesFound: 1, gridWorker: "网格员甲" };

  // The test's ledger with every log on it: the forgeries below anchor in logs of their own there.
  const trust = () => [{ name: "the test ledger", chainId: info.chainId, contract: info.contracts.DutyLedger }];
  const verify = async (evidence: { receipt: Receipt; envelope?: ReturnType<typeof newEnvelope> }) =>
    verifyEvidence(evidence, await fetchChainFacts(gateway.rpcUrl, evidence.receipt, trust()), recoverSigner, trust());
  const post = async (body: unknown) =>
    (await (
      await fetch(`${gateway.url}/v1/attestations`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      })
    ).json()) as { recordId: string; receipt: string };
  const anchoredReceipt = async (path: string): Promise<Receipt> => {
    for (let i = 0; i < 200; i++) {
      const res = await fetch(gateway.url + path);
      if (res.status === 200) return (await res.json()) as Receipt;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("no receipt");
  };

  /** A malicious gateway: anchors whatever leaves it likes in a log of its own, and writes receipts. */
  async function forgeAnchoredReceipt(
    key: BaseWallet,
    unitId: string,
    acceptedAtShift = 0,
    signedFor?: string,
  ): Promise<Receipt> {
    // By default the key's holder signs for the malicious log itself: a record signed for
    // another log (`signedFor`) does not verify in this one.
    const logId = id(`log:evil:${Math.random()}`);
    const envelope = newEnvelope(signedFor ?? logId, unitId, patrol, fields);
    const signature = await signEnvelope(key, info.eip712, envelope);
    const digest = recordDigest(envelope);
    const tree = new MemoryTree();
    tree.appendLeafHash(leafHashOf(digest, signature));
    tree.appendLeafData(new TextEncoder().encode("padding"));
    await (await gateway.ledger.getFunction("createLog")(logId, gateway.wallet.address)).wait();
    const tx = await (await gateway.ledger.getFunction("anchor")(logId, 2, bytesToHex(tree.root()), [])).wait();
    const block = await gateway.wallet.provider!.getBlock(tx.blockNumber);
    return {
      status: "anchored",
      version: 2,
      recordId: bytesToHex(digest),
      unitId,
      dutyTypeId: patrol,
      performedAt: envelope.performedAt,
      signer: key.address.toLowerCase(),
      signature,
      leafHash: bytesToHex(tree.leafHash(0)),
      leafIndex: 0,
      treeSize: 2,
      root: bytesToHex(tree.root()),
      inclusionProof: tree.inclusionProof(0).map(bytesToHex),
      logId,
      chainId: info.chainId,
      contract: info.contracts.DutyLedger,
      transactionHash: tx.hash,
      blockNumber: tx.blockNumber,
      anchoredAt: block!.timestamp,
      acceptedAt: block!.timestamp + acceptedAtShift,
    };
  }

  before(async () => {
    gateway = await startGateway(
      configFromEnvironment(
        {},
        { dataDir: dir.path, port: 0, chainPort, anchorIntervalMs: 200, anchorMaxLeaves: 1000, logName: "verify" },
      ),
      () => {},
    );
    info = (await (await fetch(`${gateway.url}/v1/info`)).json()) as typeof info;
    await (
      await gateway.ledger.getFunction("registerUnit")(village, "0x" + "00".repeat(32), 3, villageKey.address)
    ).wait();
    const catalog = (
      (await (await fetch(`${gateway.url}/v1/duty-types`)).json()) as { dutyTypes: Array<{ id: string; code: string }> }
    ).dutyTypes;
    patrol = catalog.find((d) => d.code === "grid-patrol")!.id;
    for (let i = 0; i < 5; i++) {
      const e = newEnvelope(info.logId, village, patrol, { ...fields, gridCode: `pad-${i}` });
      await post({ envelope: e, signature: await signEnvelope(villageKey, info.eip712, e) });
    }
    const envelope = newEnvelope(info.logId, village, patrol, fields);
    const signature = await signEnvelope(villageKey, info.eip712, envelope);
    const ack = await post({ envelope, signature });
    honest = { receipt: await anchoredReceipt(ack.receipt), envelope, signature };
  });

  after(async () => {
    await gateway?.close();
    dir.remove();
  });

  it("accepts an honest receipt alone and with its record, and says when it was anchored", async () => {
    expect(honest.receipt.inclusionProof.length).to.be.greaterThan(0);
    for (const evidence of [{ receipt: honest.receipt }, { receipt: honest.receipt, envelope: honest.envelope }]) {
      const verdict = await verify(evidence);
      expect(verdict.valid, JSON.stringify(verdict.checks)).to.equal(true);
      expect(verdict.anchoredAt).to.equal(honest.receipt.anchoredAt);
      expect(verdict.recordChecked).to.equal(evidence.envelope !== undefined);
    }
  });

  const forgeries: Array<
    [string, () => Promise<{ receipt: Receipt; envelope?: ReturnType<typeof newEnvelope> }>, string]
  > = [
    [
      "a forged proof",
      async () => ({
        receipt: {
          ...honest.receipt,
          inclusionProof: honest.receipt.inclusionProof.map((h, i) =>
            i === 0 ? bytesToHex(hexToBytes(h).map((b, j) => (j === 0 ? b ^ 1 : b))) : h,
          ),
        },
      }),
      "proof.invalid",
    ],
    [
      "a proof and root for another tree size",
      async () => ({ receipt: { ...honest.receipt, treeSize: honest.receipt.treeSize + 1 } }),
      "proof.invalid",
    ],
    [
      "a root the ledger never anchored",
      async () => {
        const tree = new MemoryTree();
        tree.appendLeafHash(hexToBytes(honest.receipt.leafHash));
        for (let i = 1; i < honest.receipt.treeSize; i++) tree.appendLeafData(Uint8Array.of(i));
        return {
          receipt: {
            ...honest.receipt,
            leafIndex: 0,
            root: bytesToHex(tree.root()),
            inclusionProof: tree.inclusionProof(0).map(bytesToHex),
          },
        };
      },
      "checkpoint.root_mismatch",
    ],
    [
      "a receipt from another chain",
      async () => ({ receipt: { ...honest.receipt, chainId: 1 } }),
      "receipt.wrong_chain",
    ],
    [
      "a receipt naming another contract",
      async () => ({ receipt: { ...honest.receipt, contract: "0x" + "12".repeat(20) } }),
      "receipt.untrusted_deployment",
    ],
    [
      "a record with one changed byte",
      async () => ({
        receipt: honest.receipt,
        envelope: { ...honest.envelope, fields: { ...honest.envelope.fields, gridWorker: "网格员乙" } },
      }),
      "record.altered",
    ],
    [
      "a signature by another key",
      async () => ({ receipt: { ...honest.receipt, signer: Wallet.createRandom().address.toLowerCase() } }),
      "signature.invalid",
    ],
  ];
  for (const [name, build, reason] of forgeries) {
    it(`rejects ${name}: ${reason}`, async () => {
      const verdict = await verify(await build());
      expect([verdict.valid, verdict.reason]).to.deep.equal([false, reason]);
    });
  }

  it("rejects a record signed by a rotated-out key, even when anchored by the gateway", async () => {
    const rotating = id("unit:verify-rotating");
    const oldKey = Wallet.createRandom();
    await (
      await gateway.ledger.getFunction("registerUnit")(rotating, "0x" + "00".repeat(32), 3, oldKey.address)
    ).wait();
    await (await gateway.ledger.getFunction("rotateUnitKey")(rotating, Wallet.createRandom().address)).wait();
    const verdict = await verify({ receipt: await forgeAnchoredReceipt(oldKey, rotating) });
    expect([verdict.valid, verdict.reason]).to.deep.equal([false, "key.not_valid_then"]);
    // The same forgery, claiming acceptance two days before its anchoring, is refused as implausible.
    const backdated = await verify({ receipt: await forgeAnchoredReceipt(oldKey, rotating, -2 * 86_400) });
    expect([backdated.valid, backdated.reason]).to.deep.equal([false, "receipt.implausible_time"]);
  });

  it("rejects a record signed by a suspended unit's key", async () => {
    const suspended = id("unit:verify-suspended");
    const key = Wallet.createRandom();
    await (await gateway.ledger.getFunction("registerUnit")(suspended, "0x" + "00".repeat(32), 3, key.address)).wait();
    await (await gateway.ledger.getFunction("setUnitStatus")(suspended, 2)).wait();
    const verdict = await verify({ receipt: await forgeAnchoredReceipt(key, suspended) });
    expect([verdict.valid, verdict.reason]).to.deep.equal([false, "key.not_valid_then"]);
    // Control: the same malicious path with a valid key verifies, so the checks above are what refuse.
    const control = await verify({ receipt: await forgeAnchoredReceipt(villageKey, village) });
    expect(control.valid, JSON.stringify(control.checks)).to.equal(true);
  });

  it("rejects a record its unit signed for the honest log, anchored by a malicious gateway in its own", async () => {
    const moved = await forgeAnchoredReceipt(villageKey, village, 0, info.logId);
    const verdict = await verify({ receipt: moved });
    expect([verdict.valid, verdict.reason]).to.deep.equal([false, "signature.invalid"]);
    // Nor does calling the receipt a version 1 one (no log in the message) make it verify.
    const asVersion1 = await verify({ receipt: { ...moved, version: 1 } });
    expect([asVersion1.valid, asVersion1.reason]).to.deep.equal([false, "signature.invalid"]);
  });

  it("serves the same verdicts at POST /v1/verify", async () => {
    const ask = async (body: unknown) =>
      fetch(`${gateway.url}/v1/verify`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const ok = (await (await ask({ receipt: honest.receipt, envelope: honest.envelope })).json()) as { valid: boolean };
    expect(ok.valid).to.equal(true);
    const altered = { receipt: honest.receipt, envelope: { ...honest.envelope, salt: "0x" + "00".repeat(32) } };
    expect(await (await ask(altered)).json()).to.include({ valid: false, reason: "record.altered" });
    expect((await ask({ receipt: { status: "anchored" } })).status).to.equal(422);
  });

  it("dutyproof verify: exit 0 valid, 1 tampered, 2 usage, 3 chain unreachable; zh-CN by default", async () => {
    const cli = join(import.meta.dirname, "..", "..", "scripts", "dutyproof.ts");
    // The gateway runs in this process and its chain endpoint is its own /v1/rpc, so no child may
    // block the event loop.
    const run = (...args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [cli, "verify", ...args], {
          env: { ...process.env, LANG: "", DATA_DIR: dir.path },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.on("close", (status) => resolve({ status, stdout, stderr }));
      });
    const good = join(dir.path, "evidence.json");
    writeFileSync(
      good,
      JSON.stringify({ receipt: honest.receipt, envelope: honest.envelope, signature: honest.signature }),
    );
    const ok = await run(good, "--rpc", gateway.rpcUrl);
    expect([ok.status, ok.stdout.split("\n")[0]]).to.deep.equal([0, `有效：记录 ${honest.receipt.recordId}`]);
    const english = await run(good, "--rpc", gateway.rpcUrl, "--lang", "en", "--json");
    expect(english.status).to.equal(0);
    expect(JSON.parse(english.stdout)).to.include({ valid: true, recordChecked: true });
    const bad = join(dir.path, "tampered.json");
    writeFileSync(
      bad,
      JSON.stringify({
        receipt: honest.receipt,
        envelope: { ...honest.envelope, performedAt: honest.envelope.performedAt - 1 },
      }),
    );
    const tampered = await run(bad, "--rpc", gateway.rpcUrl, "--lang", "en");
    expect([tampered.status, tampered.stdout.split("\n")[0]]).to.deep.equal([
      1,
      "INVALID: the record does not match the receipt (altered)",
    ]);
    expect((await run(join(dir.path, "missing.json"))).status).to.equal(2);
    // The gateway runs in this process, so this child must not block the event loop.
    const byHash = (hash: string) =>
      new Promise<{ status: number | null; stdout: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          [cli, "verify", "--hash", hash, "--rpc", gateway.rpcUrl, "--lang", "en"],
          {
            env: { ...process.env, GATEWAY_URL: gateway.url, DATA_DIR: dir.path },
          },
        );
        let stdout = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.on("close", (status) => resolve({ status, stdout }));
      });
    const found = await byHash(honest.receipt.recordId);
    expect([found.status, found.stdout.split("\n")[0]]).to.deep.equal([0, `VALID: record ${honest.receipt.recordId}`]);
    // A leaf hash alone proves only where the leaf was anchored, never whose record it is.
    const leafOnly = await byHash(honest.receipt.leafHash);
    expect(leafOnly.status).to.equal(0);
    expect(leafOnly.stdout).to.match(
      new RegExp(`^ANCHORED: leaf ${honest.receipt.leafIndex} anchored at .* \\(leaf hash only;`),
    );
    expect(leafOnly.stdout).to.not.include(honest.receipt.recordId);
    const unknown = await byHash("0x" + "ab".repeat(32));
    expect([unknown.status, unknown.stdout.trim()]).to.deep.equal([
      1,
      "NOT FOUND: this gateway's log has no such hash",
    ]);
    const down = await run(good, "--rpc", "http://127.0.0.1:9");
    expect([down.status, down.stderr.trim()]).to.deep.equal([
      3,
      "dutyproof: the chain at http://127.0.0.1:9 does not answer",
    ]);
  });
});
