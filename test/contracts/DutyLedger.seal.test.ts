/**
 * Sealing a log after its operator key was stolen: the thief's checkpoints above the seal stay on
 * chain but stop counting, nobody anchors in the sealed log again, and the successor log (a new
 * operator) continues the same tree.
 */
import { expect } from "chai";
import { bytesToHex } from "../../server/core/bytes.ts";
import { type Hash, MemoryTree } from "../../server/core/merkle/index.ts";
import { DEFAULT_ADMIN_ROLE, deployDutyLedger, ethers, idOf, networkHelpers } from "../helpers/fixture.ts";

const logA = idOf("log:county-gateway");
const successor = idOf("log:county-gateway-2");
const hex = (h: Hash) => bytesToHex(h);

function treeOf(leaves: string[]): MemoryTree {
  const tree = new MemoryTree();
  for (const leaf of leaves) tree.appendLeafData(new TextEncoder().encode(leaf));
  return tree;
}

const honestLeaves = ["a", "b", "c", "d", "e"];

/** logA anchored honestly at 3, then a thief with its operator key anchors a foreign leaf at 4. */
async function stolenKey() {
  const f = await deployDutyLedger();
  const { ledger, admin, operator, otherOperator } = f;
  await ledger.connect(admin).createLog(logA, operator.address);
  const honest = treeOf(honestLeaves);
  await ledger.connect(operator).anchor(logA, 3, hex(honest.root(3)), []);
  const foreign = treeOf([...honestLeaves.slice(0, 3), "thief's leaf"]);
  await ledger.connect(operator).anchor(logA, 4, hex(foreign.root()), foreign.consistencyProof(3, 4).map(hex));
  await ledger.connect(admin).createLog(successor, otherOperator.address);
  return { ...f, honest, foreign };
}

describe("DutyLedger log sealing and succession", () => {
  it("seals a log at an anchored size, names the successor and emits LogSealed", async () => {
    const { ledger, admin, honest } = await networkHelpers.loadFixture(stolenKey);
    await expect(ledger.connect(admin).sealLog(logA, 3, successor))
      .to.emit(ledger, "LogSealed")
      .withArgs(logA, successor, 3n, hex(honest.root(3)));
    const seal = await ledger.logSeal(logA);
    expect([seal.size, seal.sealedAt, seal.successorLogId]).to.deep.equal([
      3n,
      BigInt(await networkHelpers.time.latest()),
      successor,
    ]);
    const head = await ledger.logHead(logA);
    // The head keeps the thief's size as a fact; the operator is gone.
    expect([head.operator, head.size, head.checkpointCount]).to.deep.equal([ethers.ZeroAddress, 4n, 2n]);
  });

  it("refuses every anchor, operator change and re-creation of a sealed log", async () => {
    const { ledger, admin, operator, foreign } = await networkHelpers.loadFixture(stolenKey);
    await ledger.connect(admin).sealLog(logA, 3, successor);
    await expect(ledger.connect(operator).anchor(logA, 5, hex(foreign.root()), []))
      .to.be.revertedWithCustomError(ledger, "DutyLedgerLogSealed")
      .withArgs(logA, 3n);
    await expect(ledger.connect(admin).setLogOperator(logA, operator.address))
      .to.be.revertedWithCustomError(ledger, "DutyLedgerLogSealed")
      .withArgs(logA, 3n);
    await expect(ledger.connect(admin).createLog(logA, operator.address))
      .to.be.revertedWithCustomError(ledger, "DutyLedgerLogExists")
      .withArgs(logA);
    await expect(ledger.connect(admin).sealLog(logA, 3, successor))
      .to.be.revertedWithCustomError(ledger, "DutyLedgerLogSealed")
      .withArgs(logA, 3n);
  });

  it("verifies inclusion up to the seal and refuses the checkpoints above it", async () => {
    const { ledger, admin, honest, foreign } = await networkHelpers.loadFixture(stolenKey);
    const proofAt3 = honest.inclusionProof(1, 3).map(hex);
    const thiefProof = foreign.inclusionProof(3, 4).map(hex);
    const thiefLeaf = hex(foreign.leafHash(3));
    // Before the seal the thief's checkpoint verifies like any other.
    expect((await ledger.verifyAnchoredInclusion(logA, thiefLeaf, 3, 4, thiefProof))[0]).to.equal(true);
    await ledger.connect(admin).sealLog(logA, 3, successor);
    const [included, anchoredAt] = await ledger.verifyAnchoredInclusion(logA, hex(honest.leafHash(1)), 1, 3, proofAt3);
    expect(included).to.equal(true);
    expect(anchoredAt).to.equal((await ledger.checkpointAt(logA, 3))[1].anchoredAt);
    expect(await ledger.verifyAnchoredInclusion(logA, thiefLeaf, 3, 4, thiefProof)).to.deep.equal([false, 0n]);
    // The checkpoint stays on chain as evidence.
    expect((await ledger.checkpointAt(logA, 4))[0]).to.equal(true);
  });

  it("lets the successor's operator anchor the honest tree from its first checkpoint", async () => {
    const { ledger, admin, otherOperator, honest } = await networkHelpers.loadFixture(stolenKey);
    await ledger.connect(admin).sealLog(logA, 3, successor);
    await expect(ledger.connect(otherOperator).anchor(successor, 5, hex(honest.root()), []))
      .to.emit(ledger, "CheckpointAnchored")
      .withArgs(successor, 5n, hex(honest.root()), 0n);
    expect(
      (
        await ledger.verifyAnchoredInclusion(
          successor,
          hex(honest.leafHash(4)),
          4,
          5,
          honest.inclusionProof(4, 5).map(hex),
        )
      )[0],
    ).to.equal(true);
  });

  it("seals at size 0 when no checkpoint of the log is the rightful gateway's", async () => {
    const { ledger, admin } = await networkHelpers.loadFixture(stolenKey);
    await expect(ledger.connect(admin).sealLog(logA, 0, successor))
      .to.emit(ledger, "LogSealed")
      .withArgs(logA, successor, 0n, ethers.ZeroHash);
  });

  it("refuses a size without checkpoint, a bad successor, an unknown log and a caller without the admin role", async () => {
    const { ledger, admin, operator, otherOperator } = await networkHelpers.loadFixture(stolenKey);
    await expect(ledger.connect(admin).sealLog(logA, 2, successor))
      .to.be.revertedWithCustomError(ledger, "DutyLedgerNoCheckpointAt")
      .withArgs(logA, 2n);
    for (const bad of [logA, idOf("log:never-created")]) {
      await expect(ledger.connect(admin).sealLog(logA, 3, bad))
        .to.be.revertedWithCustomError(ledger, "DutyLedgerInvalidSuccessor")
        .withArgs(logA, bad);
    }
    const ghost = idOf("log:ghost");
    await expect(ledger.connect(admin).sealLog(ghost, 0, successor))
      .to.be.revertedWithCustomError(ledger, "DutyLedgerUnknownLog")
      .withArgs(ghost);
    // The thief holds the operator key, never the admin's: it cannot seal or redirect the log.
    for (const caller of [operator, otherOperator]) {
      await expect(ledger.connect(caller).sealLog(logA, 3, successor))
        .to.be.revertedWithCustomError(ledger, "AccessControlUnauthorizedAccount")
        .withArgs(caller.address, DEFAULT_ADMIN_ROLE);
    }
    // A sealed log cannot be named as a successor.
    const third = idOf("log:third");
    await ledger.connect(admin).createLog(third, operator.address);
    await ledger.connect(admin).sealLog(logA, 3, successor);
    await expect(ledger.connect(admin).sealLog(third, 0, logA))
      .to.be.revertedWithCustomError(ledger, "DutyLedgerInvalidSuccessor")
      .withArgs(third, logA);
  });
});
