/**
 * Tampering at scale: a log stored in LevelDB on disk and anchored in DutyLedger (Hardhat's
 * in-process EVM), then 1,000 random single-byte changes to stored records, each read back from
 * disk and found by replay at its leaf; records deleted, reordered and inserted; and an insider
 * who rewrites history, whose checkpoint the contract refuses and whose log replay flags.
 */
import { expect } from "chai";
import { Level } from "level";
import { network } from "hardhat";
import { Wallet, id } from "ethers";
import { bytesToHex, hexToBytes } from "../../server/core/bytes.ts";
import { eip712Domain, typedDataDigest } from "../../server/core/eip712.ts";
import { type RecordEnvelope, leafHashOf, recordDigest, signedMessageOf } from "../../server/core/record.ts";
import { type AnchoredCheckpoint, type AuditRecord, type ReplayReport, replay } from "../../server/core/replay.ts";
import { readStoredLog } from "../../server/audit/readStoredLog.ts";
import { fetchCheckpoints, fetchUnitHistory } from "../../server/chain/chainHistory.ts";
import { recoverSigner } from "../../server/crypto/recoverSigner.ts";
import { LedgerStore } from "../../server/store/LedgerStore.ts";
import { MemoryTree } from "../../server/core/merkle/index.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { newEnvelope } from "../helpers/unitClient.ts";

const RECORDS = 24;
const MUTATIONS = 1000;

describe("tamper detection at scale", function () {
  this.timeout(180_000);
  const dir = tempDir("tamper");
  const location = `${dir.path}/ledger`;
  const unitKey = Wallet.createRandom();
  const unitId = id("unit:tamper-village");
  const logId = id("log:tamper");
  let ledger: Awaited<ReturnType<typeof deploy>>["ledger"];
  let domain: ReturnType<typeof eip712Domain>;
  let checkpoints: AnchoredCheckpoint[];
  let history: Awaited<ReturnType<typeof fetchUnitHistory>>;
  let db: Level<string, string>;

  async function deploy() {
    // A chain of its own, so that no other suite's clock changes affect it.
    const { ethers } = await network.create();
    const [admin] = await ethers.getSigners();
    const ledger = await ethers.deployContract("DutyLedger", [admin!.address]);
    await (await ledger.getFunction("grantRole")(id("REGISTRAR_ROLE"), admin!.address)).wait();
    return { ethers, ledger };
  }

  const sign = (envelope: RecordEnvelope) => {
    const digest = recordDigest(envelope);
    const signature = unitKey.signingKey.sign(typedDataDigest(domain, signedMessageOf(envelope))).serialized;
    return { recordId: bytesToHex(digest), envelope, signature, signer: unitKey.address.toLowerCase(), digest };
  };
  const fields = (i: number) => ({
    gridCode: `T-${i}`,
    durationMinutes: 10 + i,
    issuesFound: i % 3,
    gridWorker: "网格员",
  });
  const run = async (): Promise<ReplayReport> =>
    replay({
      domain,
      checkpoints,
      records: await readStoredLog(db),
      unitHistory: () => history,
      recover: recoverSigner,
    });
  const recordSublevel = () => db.sublevel<string, Uint8Array>("record", { valueEncoding: "view" });
  const leafSublevel = () => db.sublevel<string, string>("leaf", { valueEncoding: "utf8" });
  const key = (i: number) => i.toString().padStart(16, "0");

  before(async () => {
    const deployed = await deploy();
    ledger = deployed.ledger;
    const address = await ledger.getAddress();
    const chainId = Number((await deployed.ethers.provider.getNetwork()).chainId);
    domain = eip712Domain(chainId, address);
    const [admin] = await deployed.ethers.getSigners();
    await (await ledger.getFunction("registerUnit")(unitId, "0x" + "00".repeat(32), 3, unitKey.address)).wait();
    await (await ledger.getFunction("createLog")(logId, admin!.address)).wait();
    // Records accepted after the registration (store clock) and before the anchoring (chain
    // clock). The two clocks differ: Hardhat's simulated chain starts its clock when the test
    // process starts, not when the chain is created, and then gives every block at least one more
    // second. So the store waits until its clock has passed the registration, and each anchor is
    // timed after the records it covers.
    const provider = deployed.ethers.provider;
    const registeredAt = (await provider.getBlock("latest"))!.timestamp;
    while (Date.now() / 1000 < registeredAt + 1) await new Promise((r) => setTimeout(r, 100));
    const anchorAfterNow = async () => {
      const latest = (await provider.getBlock("latest"))!.timestamp;
      await provider.send("evm_setNextBlockTimestamp", [Math.max(latest + 1, Math.ceil(Date.now() / 1000) + 1)]);
    };
    const store = new LedgerStore(location);
    await store.open();
    for (let i = 0; i < RECORDS; i++) {
      const r = sign(newEnvelope(logId, unitId, "0x" + "22".repeat(32), fields(i)));
      await store.append({ ...r, leafHash: leafHashOf(r.digest, r.signature) });
      if (i === 9) {
        await anchorAfterNow();
        await (await ledger.getFunction("anchor")(logId, 10, bytesToHex(await store.rootAt(10)), [])).wait();
      }
    }
    const proof = (await store.consistencyProof(10, RECORDS)).map(bytesToHex);
    await anchorAfterNow();
    await (await ledger.getFunction("anchor")(logId, RECORDS, bytesToHex(store.currentRoot()), proof)).wait();
    await store.close();
    checkpoints = await fetchCheckpoints(ledger as never, logId, 0);
    history = await fetchUnitHistory(ledger as never, unitId);
    db = new Level<string, string>(location, { valueEncoding: "utf8", compression: false } as never);
    await db.open();
  });

  after(async () => {
    await db?.close();
    dir.remove();
  });

  it("replays the stored log clean", async () => {
    const report = await run();
    expect(report.clean, JSON.stringify(report.findings)).to.equal(true);
    expect(report).to.include({ records: RECORDS, checkpoints: 2, anchoredSize: RECORDS });
  });

  it(`finds each of ${MUTATIONS} random single-byte changes to stored records at its leaf`, async () => {
    const records = recordSublevel();
    const ids = (await readStoredLog(db)).map((r) => r.recordId);
    // Deterministic, so a failure can be reproduced: xorshift32 from a fixed seed.
    let seed = 0x2545f491;
    const random = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const missed: string[] = [];
    for (let m = 0; m < MUTATIONS; m++) {
      const leaf = random(ids.length);
      const recordId = ids[leaf]!;
      const original = (await records.get(recordId))!;
      const text = new TextDecoder().decode(original);
      // receivedAt is the gateway's unsigned clock, bounded by the chain's anchoring time, not by
      // any signature: a change to it that stays plausible is not tampering replay can prove.
      const clock = text.indexOf('"receivedAt":') + '"receivedAt":'.length;
      const clockEnd = clock + /^\d+/.exec(text.slice(clock))![0].length;
      let at = random(original.length);
      while (at >= clock && at < clockEnd) at = random(original.length);
      const changed = Uint8Array.from(original);
      changed[at] = (original[at]! + 1 + random(255)) % 256;
      await records.put(recordId, changed);
      const report = await run();
      const found = report.findings.some((f) => f.leafIndex === leaf && f.kind !== "record.unanchored");
      if (!found)
        missed.push(`leaf ${leaf} byte ${at} ${original[at]}→${changed[at]}: ${JSON.stringify(report.findings)}`);
      await records.put(recordId, original);
    }
    expect(missed, missed.slice(0, 3).join("\n")).to.deep.equal([]);
    expect((await run()).clean).to.equal(true);
  });

  it("finds records deleted, reordered and inserted", async () => {
    const leaves = leafSublevel();
    const ids = (await readStoredLog(db)).map((r) => r.recordId);
    const at = (report: ReplayReport, kind: string) =>
      report.findings.filter((f) => f.kind === kind).map((f) => f.leafIndex ?? f.checkpointSize);

    await leaves.del(key(4));
    const deleted = await run();
    expect(at(deleted, "record.missing")).to.deep.equal([4]);
    // The checkpoint holding it no longer has its root; the one after cannot be rebuilt at all.
    expect(at(deleted, "checkpoint.root_mismatch")).to.deep.equal([10]);
    await leaves.put(key(4), ids[4]!);

    await leaves.put(key(12), ids[13]!);
    await leaves.put(key(13), ids[12]!);
    const reordered = await run();
    expect(at(reordered, "record.misplaced")).to.deep.equal([12, 13]);
    expect(at(reordered, "checkpoint.root_mismatch")).to.deep.equal([RECORDS]);
    await leaves.put(key(12), ids[12]!);
    await leaves.put(key(13), ids[13]!);

    // A validly signed record of the unit slipped in at leaf 6, the rest moved up one.
    const extra = sign(newEnvelope(logId, unitId, "0x" + "22".repeat(32), fields(99)));
    const stored = JSON.parse(new TextDecoder().decode((await recordSublevel().get(ids[6]!))!)) as Record<
      string,
      unknown
    >;
    const inserted = {
      ...stored,
      recordId: extra.recordId,
      envelope: extra.envelope,
      signature: extra.signature,
      leafHash: bytesToHex(leafHashOf(extra.digest, extra.signature)),
    };
    await db
      .sublevel<string, string>("record", { valueEncoding: "utf8" })
      .put(extra.recordId, JSON.stringify(inserted));
    for (let i = ids.length; i > 6; i--) await leaves.put(key(i), ids[i - 1]!);
    await leaves.put(key(6), extra.recordId);
    const report = await run();
    expect(report.clean).to.equal(false);
    expect(at(report, "record.misplaced")).to.deep.equal([...Array(ids.length - 6).keys()].map((i) => i + 7));
    expect(at(report, "checkpoint.root_mismatch")).to.deep.equal([10, RECORDS]);
    for (let i = 6; i < ids.length; i++) await leaves.put(key(i), ids[i]!);
    await leaves.del(key(ids.length));
    expect((await run()).clean).to.equal(true);
  });

  it("refuses a checkpoint from a gateway that rewrote history, and replay reports the rewrite", async () => {
    // The insider replaces leaf 3 with another signed record and rebuilds the tree from it.
    const records = await readStoredLog(db);
    const replacement = sign(newEnvelope(logId, unitId, "0x" + "22".repeat(32), fields(3)));
    const tree = new MemoryTree();
    records.forEach((r, i) =>
      tree.appendLeafHash(
        i === 3 ? leafHashOf(replacement.digest, replacement.signature) : hexToBytes(r.leafHash as string),
      ),
    );
    const next = sign(newEnvelope(logId, unitId, "0x" + "22".repeat(32), fields(RECORDS)));
    tree.appendLeafHash(leafHashOf(next.digest, next.signature));
    // Decoded from the revert data against the contract's ABI, not read from the node's message,
    // whose wording depends on whether the node recognises the contract's bytecode.
    await expect(
      ledger
        .getFunction("anchor")
        .staticCall(
          logId,
          RECORDS + 1,
          bytesToHex(tree.root()),
          tree.consistencyProof(RECORDS, RECORDS + 1).map(bytesToHex),
        ),
    )
      .to.be.revertedWithCustomError(ledger, "DutyLedgerInconsistentCheckpoint")
      .withArgs(logId, RECORDS, RECORDS + 1);

    const recordsUtf8 = db.sublevel<string, string>("record", { valueEncoding: "utf8" });
    const original = (await recordsUtf8.get(records[3]!.recordId))!;
    const rewritten = {
      ...(JSON.parse(original) as Record<string, unknown>),
      recordId: replacement.recordId,
      envelope: replacement.envelope,
      signature: replacement.signature,
      leafHash: bytesToHex(leafHashOf(replacement.digest, replacement.signature)),
    };
    await recordsUtf8.put(replacement.recordId, JSON.stringify(rewritten));
    await leafSublevel().put(key(3), replacement.recordId);
    const report = await run();
    // Every record is well-formed and validly signed; the anchored roots give the rewrite away.
    expect(report.counts).to.deep.equal({ "checkpoint.root_mismatch": 2 });
    expect(report.findings.map((f) => f.checkpointSize)).to.deep.equal([10, RECORDS]);
    await leafSublevel().put(key(3), records[3]!.recordId);
    expect((await run()).clean).to.equal(true);
  });

  it("accepts a record signed before its unit's suspension and flags one signed after", () => {
    const t0 = 1_800_000_000;
    const keys = [{ signer: unitKey.address, validFrom: t0, validUntil: 0 }];
    const statuses = [
      { status: "active" as const, since: t0 },
      { status: "suspended" as const, since: t0 + 1000 },
    ];
    const before = sign(newEnvelope(logId, unitId, "0x" + "22".repeat(32), fields(1), t0 + 10));
    const after = sign(newEnvelope(logId, unitId, "0x" + "22".repeat(32), fields(2), t0 + 1100));
    const tree = new MemoryTree();
    const audit: AuditRecord[] = [before, after].map((r, i) => {
      tree.appendLeafHash(leafHashOf(r.digest, r.signature));
      return { leafIndex: i, ...r, acceptedAt: r.envelope.performedAt + 5 };
    });
    const report = replay({
      domain,
      checkpoints: [{ size: 2, root: bytesToHex(tree.root()), previousSize: 0, blockNumber: 1, anchoredAt: t0 + 1200 }],
      records: audit,
      unitHistory: () => ({ keys, statuses }),
      recover: recoverSigner,
    });
    expect(report.findings.map((f) => [f.kind, f.leafIndex])).to.deep.equal([["record.key_not_valid", 1]]);
    // The same two records anchored two days late: the gateway's acceptance time is no longer
    // believed, by replay as by verify.
    const late = replay({
      domain,
      checkpoints: [
        { size: 2, root: bytesToHex(tree.root()), previousSize: 0, blockNumber: 1, anchoredAt: t0 + 200_000 },
      ],
      records: audit,
      unitHistory: () => ({ keys, statuses }),
      recover: recoverSigner,
    });
    expect(late.counts).to.deep.equal({ "record.implausible_time": 2 });
  });
});
