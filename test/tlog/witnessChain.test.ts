/**
 * A witness with its own view of the chain (`--rpc`): it cosigns only checkpoints whose root the
 * log's DutyLedger anchored, and notices a chain node that was rolled back (a state restored from
 * an older snapshot) or rewritten (a storage slot overwritten) because the checkpoint it cosigned
 * before is no longer anchored as it was. anvil as its own process, reached over JSON-RPC.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { AbiCoder, Contract, JsonRpcProvider, Wallet, keccak256 } from "ethers";
import { bytesToHex } from "../../server/core/bytes.ts";
import { ManualClock } from "../../server/core/clock.ts";
import { NOTE_COSIGNATURE_V1, noteSigner } from "../../server/core/note.ts";
import { tlogOrigin } from "../../server/core/tlog.ts";
import { type Deployment, deployDutyLedger } from "../../server/chain/deployment.ts";
import { loadDutyLedgerArtifact } from "../../server/chain/dutyLedgerArtifact.ts";
import { chainAnchorReader } from "../../server/witness/chainAnchors.ts";
import { createWitnessServer } from "../../server/witness/WitnessServer.ts";
import { WitnessStateDir } from "../../server/witness/WitnessStateDir.ts";
import { type ExternalChain, startExternalChain } from "../helpers/externalChain.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { SimulatedLog, addCheckpoint } from "./witnessSupport.ts";

/** anvil's first dev account (its well-known test mnemonic); the chain is a throwaway. */
const DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

describe("witness with --rpc: the chain as a second opinion", function () {
  this.timeout(120_000);
  let chain: ExternalChain;
  let deployment: Deployment;
  let ledger: Contract;
  let operator: string;
  let dir: ReturnType<typeof tempDir>;
  const servers: Server[] = [];

  before(async function () {
    chain = await startExternalChain(testPort("witness"));
    const provider = new JsonRpcProvider(chain.rpcUrl, undefined, {
      staticNetwork: true,
      pollingInterval: 50,
      cacheTimeout: -1,
    });
    const wallet = new Wallet(DEV_KEY, provider);
    operator = wallet.address;
    deployment = await deployDutyLedger(wallet, { logName: "witness-chain", catalog: [] });
    ledger = new Contract(deployment.address, loadDutyLedgerArtifact().abi as never, wallet);
  });
  after(async function () {
    await chain?.stop();
  });
  beforeEach(() => (dir = tempDir("witness-chain")));
  afterEach(async function () {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
    dir.remove();
  });

  /** A witness of `log` checking it against the chain at `rpcUrl`; returns its URL. */
  async function startWitness(log: SimulatedLog, rpcUrl: string): Promise<string> {
    const server = createWitnessServer({
      signer: noteSigner("witness.chain.example", NOTE_COSIGNATURE_V1, randomBytes(32)),
      logs: [log.signer],
      state: new WitnessStateDir(`${dir.path}/${servers.length}`),
      clock: new ManualClock(1_767_000_000_000),
      anchoredRoot: chainAnchorReader(rpcUrl),
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(testPort("witness"), "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** A fresh log (its own log id on the shared ledger) and a witness checking it against anvil. */
  async function setUp(rpcUrl = chain.rpcUrl) {
    const logId = keccak256(randomBytes(32));
    await (await ledger.getFunction("createLog")(logId, operator)).wait();
    const log = new SimulatedLog(tlogOrigin(deployment.chainId, deployment.address, logId));
    const url = await startWitness(log, rpcUrl);
    let anchored = 0;
    const anchor = async (size: number) => {
      const proof = anchored === 0 ? [] : log.tree.consistencyProof(anchored, size).map(bytesToHex);
      await (await ledger.getFunction("anchor")(logId, size, bytesToHex(log.tree.root(size)), proof)).wait();
      anchored = size;
    };
    return { logId, log, url, anchor, resetAnchored: (size: number) => (anchored = size) };
  }

  it("cosigns an anchored checkpoint, and refuses a signed one the chain does not anchor or anchors with another root", async function () {
    const { log, url, anchor } = await setUp();
    log.grow(4);
    await anchor(4);
    expect((await addCheckpoint(url, log.request(0))).status).to.equal(200);
    log.grow(4);
    const notAnchored = await addCheckpoint(url, log.request(4));
    expect(notAnchored.status).to.equal(409);
    expect(notAnchored.body).to.match(/^witness\.chain_disagrees: the chain anchors no checkpoint of this checkpoint/);
    await anchor(8);
    expect((await addCheckpoint(url, log.request(4))).status).to.equal(200);

    // A fresh witness of the same log is shown a rewritten tree of size 8: signed, not what is anchored.
    const fresh = await startWitness(log, chain.rpcUrl);
    const rewritten = log.fork(0);
    rewritten.grow(8, "DPLX");
    const answer = await addCheckpoint(fresh, rewritten.request(0));
    expect(answer.status).to.equal(409);
    expect(answer.body).to.match(/^witness\.chain_disagrees: the chain anchors another root for this checkpoint/);
    expect((await addCheckpoint(fresh, log.request(0))).status).to.equal(200);
  });

  it("refuses to go on after the chain node was rolled back to a snapshot before the checkpoint it cosigned", async function () {
    const { log, url, anchor, resetAnchored } = await setUp();
    const snapshot = await chain.rpc("evm_snapshot");
    log.grow(4);
    await anchor(4);
    expect((await addCheckpoint(url, log.request(0))).status).to.equal(200);
    // The chain's state is restored from the older snapshot; the log anchors on from there.
    expect(await chain.rpc("evm_revert", [snapshot])).to.equal(true);
    resetAnchored(0);
    log.grow(4);
    await anchor(8);
    const answer = await addCheckpoint(url, log.request(4));
    expect(answer.status).to.equal(409);
    expect(answer.body).to.match(/no checkpoint of the checkpoint this witness cosigned before \(size 4\)/);
  });

  it("refuses to go on after the stored root of the checkpoint it cosigned was overwritten", async function () {
    const { logId, log, url, anchor } = await setUp();
    log.grow(4);
    await anchor(4);
    expect((await addCheckpoint(url, log.request(0))).status).to.equal(200);
    log.grow(4);
    await anchor(8);
    // Find the storage slot of _checkpoints[logId][4].root by its content, then overwrite it.
    const coder = AbiCoder.defaultAbiCoder();
    const root4 = bytesToHex(log.tree.root(4));
    let slot: string | undefined;
    for (let base = 0; base < 64 && !slot; base++) {
      const inner = keccak256(coder.encode(["bytes32", "uint256"], [logId, base]));
      const candidate = keccak256(coder.encode(["uint256", "bytes32"], [4, inner]));
      if ((await chain.rpc("eth_getStorageAt", [deployment.address, candidate, "latest"])) === root4) slot = candidate;
    }
    expect(slot, "the checkpoint's storage slot").to.be.a("string");
    await chain.rpc("anvil_setStorageAt", [deployment.address, slot, keccak256(randomBytes(32))]);
    const answer = await addCheckpoint(url, log.request(4));
    expect(answer.status).to.equal(409);
    expect(answer.body).to.match(/another root for the checkpoint this witness cosigned before \(size 4\)/);
  });

  it("handles one request per log at a time: of two extensions from one size racing through the chain check, one wins", async function () {
    const { log, url, anchor } = await setUp();
    log.grow(4);
    await anchor(4);
    expect((await addCheckpoint(url, log.request(0))).status).to.equal(200);
    log.grow(4);
    await anchor(8);
    log.grow(4);
    await anchor(12);
    // Without the lock both pass the check against size 4, and the slower one's write rolls the state back.
    const answers = await Promise.all([addCheckpoint(url, log.request(4, 12)), addCheckpoint(url, log.request(4, 8))]);
    expect(answers.map((a) => a.status).sort()).to.deep.equal([200, 409]);
  });

  it("answers 503 when its chain endpoint does not answer, and cosigns nothing", async function () {
    const { log, url, anchor } = await setUp(`http://127.0.0.1:${testPort("witness")}`);
    log.grow(2);
    await anchor(2);
    expect((await addCheckpoint(url, log.request(0))).status).to.equal(503);
  });
});
