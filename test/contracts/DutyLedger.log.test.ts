import { expect } from "chai";
import { bytesToHex, hexToBytes } from "../../server/core/bytes.ts";
import {
  type Hash,
  MemoryTree,
  emptyRoot,
  isValidConsistency,
  isValidInclusion,
} from "../../server/core/merkle/index.ts";
import { deployDutyLedger, ethers, idOf, networkHelpers } from "../helpers/fixture.ts";
import { consistencyVectors, inclusionVectors } from "../helpers/vectors.ts";

const logA = idOf("log:county-gateway");
const logB = idOf("log:audit-gateway");
const hex = (h: Hash) => bytesToHex(h);

function treeOf(size: number, salt = "leaf"): MemoryTree {
  const tree = new MemoryTree();
  for (let i = 0; i < size; i++) tree.appendLeafData(new TextEncoder().encode(`${salt} ${i}`));
  return tree;
}

async function withLogs() {
  const f = await deployDutyLedger();
  await f.ledger.connect(f.admin).createLog(logA, f.operator.address);
  await f.ledger.connect(f.admin).createLog(logB, f.otherOperator.address);
  return f;
}

/** A deterministic pseudo-random sequence, so that a failure can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe("DutyLedger logs and checkpoints", () => {
  describe("logs", () => {
    it("creates a log with its operator and emits LogCreated", async () => {
      const { ledger, admin, operator } = await networkHelpers.loadFixture(deployDutyLedger);
      await expect(ledger.connect(admin).createLog(logA, operator.address))
        .to.emit(ledger, "LogCreated")
        .withArgs(logA, operator.address);
      const head = await ledger.logHead(logA);
      expect([head.operator, head.size, head.checkpointCount]).to.deep.equal([operator.address, 0n, 0n]);
    });

    it("refuses a zero id, a zero operator and an existing log", async () => {
      const { ledger, admin, operator } = await networkHelpers.loadFixture(withLogs);
      await expect(ledger.connect(admin).createLog(ethers.ZeroHash, operator.address)).to.be.revertedWithCustomError(
        ledger,
        "DutyLedgerZeroId",
      );
      await expect(ledger.connect(admin).createLog(idOf("log:new"), ethers.ZeroAddress)).to.be.revertedWithCustomError(
        ledger,
        "DutyLedgerZeroAddress",
      );
      await expect(ledger.connect(admin).createLog(logA, operator.address))
        .to.be.revertedWithCustomError(ledger, "DutyLedgerLogExists")
        .withArgs(logA);
    });

    it("hands a log to a new operator, after which only the new one anchors", async () => {
      const { ledger, admin, operator, stranger } = await networkHelpers.loadFixture(withLogs);
      const tree = treeOf(3);
      await expect(ledger.connect(admin).setLogOperator(logA, stranger.address))
        .to.emit(ledger, "LogOperatorChanged")
        .withArgs(logA, operator.address, stranger.address);
      await expect(ledger.connect(operator).anchor(logA, 3, hex(tree.root()), []))
        .to.be.revertedWithCustomError(ledger, "DutyLedgerNotLogOperator")
        .withArgs(logA, operator.address);
      await expect(ledger.connect(stranger).anchor(logA, 3, hex(tree.root()), [])).to.emit(
        ledger,
        "CheckpointAnchored",
      );
      const ghost = idOf("log:ghost");
      await expect(ledger.connect(admin).setLogOperator(ghost, stranger.address))
        .to.be.revertedWithCustomError(ledger, "DutyLedgerUnknownLog")
        .withArgs(ghost);
      await expect(ledger.connect(admin).setLogOperator(logA, ethers.ZeroAddress)).to.be.revertedWithCustomError(
        ledger,
        "DutyLedgerZeroAddress",
      );
    });
  });

  describe("anchor", () => {
    it("anchors a first checkpoint without a proof and stores its size, root and time", async () => {
      const { ledger, operator } = await networkHelpers.loadFixture(withLogs);
      const tree = treeOf(5);
      const tx = ledger.connect(operator).anchor(logA, 5, hex(tree.root()), []);
      await expect(tx).to.emit(ledger, "CheckpointAnchored").withArgs(logA, 5, hex(tree.root()), 0);
      const receipt = await (await tx).wait();
      const block = await ethers.provider.getBlock(receipt!.blockNumber);
      const [found, checkpoint] = await ledger.checkpointAt(logA, 5);
      expect(found).to.equal(true);
      expect([checkpoint.root, checkpoint.anchoredAt, checkpoint.blockNumber, checkpoint.previousSize]).to.deep.equal([
        hex(tree.root()),
        BigInt(block!.timestamp),
        BigInt(receipt!.blockNumber),
        0n,
      ]);
      const [size, latest] = await ledger.latestCheckpoint(logA);
      expect([size, latest.root]).to.deep.equal([5n, hex(tree.root())]);
      expect((await ledger.logHead(logA)).checkpointCount).to.equal(1n);
    });

    it("answers 'none' for a size that was never anchored", async () => {
      const { ledger, operator } = await networkHelpers.loadFixture(withLogs);
      const [sizeBefore] = await ledger.latestCheckpoint(logA);
      expect(sizeBefore).to.equal(0n);
      await ledger.connect(operator).anchor(logA, 5, hex(treeOf(5).root()), []);
      const [found, checkpoint] = await ledger.checkpointAt(logA, 4);
      expect(found).to.equal(false);
      expect(checkpoint.root).to.equal(ethers.ZeroHash);
      expect((await ledger.checkpointAt(logB, 5))[0]).to.equal(false);
    });

    it("extends the log with a valid consistency proof, checkpoint after checkpoint", async () => {
      const { ledger, operator } = await networkHelpers.loadFixture(withLogs);
      const tree = treeOf(100);
      const sizes = [1, 2, 3, 4, 7, 8, 9, 31, 32, 33, 64, 99, 100];
      let previous = 0;
      for (const size of sizes) {
        const proof = previous === 0 ? [] : tree.consistencyProof(previous, size).map(hex);
        await expect(ledger.connect(operator).anchor(logA, size, hex(tree.root(size)), proof))
          .to.emit(ledger, "CheckpointAnchored")
          .withArgs(logA, size, hex(tree.root(size)), previous);
        previous = size;
      }
      for (const size of sizes) {
        const [found, checkpoint] = await ledger.checkpointAt(logA, size);
        expect([found, checkpoint.root]).to.deep.equal([true, hex(tree.root(size))]);
      }
      expect((await ledger.logHead(logA)).checkpointCount).to.equal(BigInt(sizes.length));
    });

    it("refuses a smaller size, the same size with another root, and the same checkpoint again", async () => {
      const { ledger, operator } = await networkHelpers.loadFixture(withLogs);
      const tree = treeOf(8);
      await ledger.connect(operator).anchor(logA, 8, hex(tree.root()), []);
      const forked = treeOf(8, "forged");
      for (const [size, root] of [
        [7, hex(tree.root(7))],
        [8, hex(forked.root())],
        [8, hex(tree.root())],
        [0, hex(emptyRoot())],
      ] as const) {
        await expect(ledger.connect(operator).anchor(logA, size, root, []))
          .to.be.revertedWithCustomError(ledger, "DutyLedgerCheckpointNotNewer")
          .withArgs(logA, 8, size);
      }
    });

    it("refuses a history rewrite even from the operator: a new tree that does not extend the old", async () => {
      const { ledger, operator } = await networkHelpers.loadFixture(withLogs);
      const honest = treeOf(10);
      await ledger.connect(operator).anchor(logA, 6, hex(honest.root(6)), []);
      // The forged tree keeps 5 of the 6 anchored leaves and replaces one: a proof that is
      // honest about the forged tree cannot link it to the anchored root.
      const forged = new MemoryTree();
      for (let i = 0; i < 10; i++) {
        if (i === 3) forged.appendLeafData(new TextEncoder().encode("altered record"));
        else forged.appendLeafHash(honest.leafHash(i));
      }
      await expect(
        ledger.connect(operator).anchor(logA, 10, hex(forged.root()), forged.consistencyProof(6, 10).map(hex)),
      )
        .to.be.revertedWithCustomError(ledger, "DutyLedgerInconsistentCheckpoint")
        .withArgs(logA, 6, 10);
      // Dropping the last anchored leaf is refused the same way.
      const truncated = treeOf(5);
      for (let i = 6; i < 10; i++) truncated.appendLeafHash(honest.leafHash(i));
      await expect(
        ledger.connect(operator).anchor(logA, 9, hex(truncated.root()), truncated.consistencyProof(6, 9).map(hex)),
      )
        .to.be.revertedWithCustomError(ledger, "DutyLedgerInconsistentCheckpoint")
        .withArgs(logA, 6, 9);
      const [size] = await ledger.latestCheckpoint(logA);
      expect(size).to.equal(6n);
    });

    it("refuses a first checkpoint that carries a proof, and any bad proof later", async () => {
      const { ledger, operator } = await networkHelpers.loadFixture(withLogs);
      const tree = treeOf(16);
      await expect(ledger.connect(operator).anchor(logA, 4, hex(tree.root(4)), [hex(tree.root(4))]))
        .to.be.revertedWithCustomError(ledger, "DutyLedgerInconsistentCheckpoint")
        .withArgs(logA, 0, 4);
      await ledger.connect(operator).anchor(logA, 5, hex(tree.root(5)), []);
      const good = tree.consistencyProof(5, 16).map(hex);
      const bad: string[][] = [
        [],
        good.slice(1),
        [...good, hex(tree.root())],
        good.map((h, i) => (i === 1 ? ethers.ZeroHash : h)),
      ];
      for (const proof of bad) {
        await expect(ledger.connect(operator).anchor(logA, 16, hex(tree.root()), proof))
          .to.be.revertedWithCustomError(ledger, "DutyLedgerInconsistentCheckpoint")
          .withArgs(logA, 5, 16);
      }
      await ledger.connect(operator).anchor(logA, 16, hex(tree.root()), good);
    });

    it("refuses sizes beyond 64 bits", async () => {
      const { ledger, operator } = await networkHelpers.loadFixture(withLogs);
      const tooBig = 2n ** 64n;
      await expect(ledger.connect(operator).anchor(logA, tooBig, ethers.ZeroHash, []))
        .to.be.revertedWithCustomError(ledger, "DutyLedgerCheckpointNotNewer")
        .withArgs(logA, 0, tooBig);
    });

    it("lets only each log's operator anchor it, and keeps logs apart", async () => {
      const { ledger, admin, operator, otherOperator, stranger } = await networkHelpers.loadFixture(withLogs);
      const a = treeOf(4, "a");
      const b = treeOf(7, "b");
      for (const caller of [otherOperator, stranger, admin]) {
        await expect(ledger.connect(caller).anchor(logA, 4, hex(a.root()), []))
          .to.be.revertedWithCustomError(ledger, "DutyLedgerNotLogOperator")
          .withArgs(logA, caller.address);
      }
      await ledger.connect(operator).anchor(logA, 4, hex(a.root()), []);
      await ledger.connect(otherOperator).anchor(logB, 7, hex(b.root()), []);
      expect((await ledger.latestCheckpoint(logA))[1].root).to.equal(hex(a.root()));
      expect((await ledger.latestCheckpoint(logB))[1].root).to.equal(hex(b.root()));
      const ghost = idOf("log:ghost");
      await expect(ledger.connect(operator).anchor(ghost, 1, hex(a.root(1)), []))
        .to.be.revertedWithCustomError(ledger, "DutyLedgerUnknownLog")
        .withArgs(ghost);
    });
  });

  describe("verifyAnchoredInclusion", () => {
    it("confirms a leaf against the anchored root and says when it was anchored", async () => {
      const { ledger, operator } = await networkHelpers.loadFixture(withLogs);
      const tree = treeOf(11);
      await ledger.connect(operator).anchor(logA, 11, hex(tree.root()), []);
      const anchoredAt = BigInt(await networkHelpers.time.latest());
      for (let i = 0; i < 11; i++) {
        const [included, when] = await ledger.verifyAnchoredInclusion(
          logA,
          hex(tree.leafHash(i)),
          i,
          11,
          tree.inclusionProof(i).map(hex),
        );
        expect([included, when]).to.deep.equal([true, anchoredAt]);
      }
    });

    it("says no for a size never anchored, another log, a wrong leaf or a bad proof", async () => {
      const { ledger, operator } = await networkHelpers.loadFixture(withLogs);
      const tree = treeOf(11);
      await ledger.connect(operator).anchor(logA, 11, hex(tree.root()), []);
      const proof = tree.inclusionProof(2).map(hex);
      const leaf = hex(tree.leafHash(2));
      const no = [false, 0n];
      expect([
        ...(await ledger.verifyAnchoredInclusion(logA, leaf, 2, 10, tree.inclusionProof(2, 10).map(hex))),
      ]).to.deep.equal(no);
      expect([...(await ledger.verifyAnchoredInclusion(logB, leaf, 2, 11, proof))]).to.deep.equal(no);
      expect([...(await ledger.verifyAnchoredInclusion(logA, hex(tree.leafHash(3)), 2, 11, proof))]).to.deep.equal(no);
      expect([...(await ledger.verifyAnchoredInclusion(logA, leaf, 2, 11, proof.slice(1)))]).to.deep.equal(no);
    });
  });

  describe("pure verifiers against the vector files", () => {
    for (const { name, vector } of inclusionVectors()) {
      it(`verifyInclusion ${name} → ${!vector.wantErr}`, async () => {
        const { ledger } = await networkHelpers.loadFixture(deployDutyLedger);
        expect(
          await ledger.verifyInclusion(vector.leafHash, vector.leafIndex, vector.treeSize, vector.proof, vector.root),
        ).to.equal(!vector.wantErr);
      });
    }
    for (const { name, vector } of consistencyVectors()) {
      it(`verifyConsistency ${name} → ${!vector.wantErr}`, async () => {
        const { ledger } = await networkHelpers.loadFixture(deployDutyLedger);
        expect(
          await ledger.verifyConsistency(vector.size1, vector.size2, vector.root1, vector.root2, vector.proof),
        ).to.equal(!vector.wantErr);
      });
    }
  });

  describe("TypeScript twin", () => {
    // Random trees, valid proofs and corrupted ones; the contract and server/core must give the
    // same answer for every one. The seed is fixed so a failure replays.
    it("agrees with the contract on thousands of random proofs", async function () {
      this.timeout(300_000);
      const { ledger } = await networkHelpers.loadFixture(deployDutyLedger);
      const random = seededRandom(20261122);
      const big = treeOf(1500, "random");
      let checks = 0;
      let valid = 0;
      const agree = async (label: string, ts: boolean, chain: Promise<boolean>) => {
        expect(await chain, label).to.equal(ts);
        checks++;
        if (ts) valid++;
      };
      for (let round = 0; round < 700; round++) {
        const size = 1 + Math.floor(random() ** 2 * 1500);
        const index = Math.floor(random() * size);
        const root = big.root(size);
        const leaf = big.leafHash(index);
        let proof = big.inclusionProof(index, size);
        await agree(
          `incl ${index}/${size}`,
          isValidInclusion(leaf, index, size, proof, root),
          ledger.verifyInclusion(hex(leaf), index, size, proof.map(hex), hex(root)),
        );
        // One corruption per round: a flipped bit, a shifted index, a wrong size, a cut proof.
        const kind = round % 4;
        let badIndex = index;
        let badSize = size;
        if (kind === 0 && proof.length > 0) {
          const at = Math.floor(random() * proof.length);
          proof = proof.map((h, i) => (i === at ? hexToBytes(ethers.toBeHex(BigInt(hex(h)) ^ 1n, 32)) : h));
        } else if (kind === 1) badIndex = (index + 1) % (size + 1);
        else if (kind === 2) badSize = Math.max(1, size + (random() < 0.5 ? 1 : -1));
        else proof = proof.slice(0, -1);
        await agree(
          `bad incl ${badIndex}/${badSize}`,
          isValidInclusion(leaf, badIndex, badSize, proof, root),
          ledger.verifyInclusion(hex(leaf), badIndex, badSize, proof.map(hex), hex(root)),
        );

        const size2 = 1 + Math.floor(random() * 1500);
        const size1 = 1 + Math.floor(random() * size2);
        let cproof = big.consistencyProof(size1, size2);
        const r1 = big.root(size1);
        const r2 = big.root(size2);
        await agree(
          `cons ${size1}->${size2}`,
          isValidConsistency(size1, size2, r1, r2, cproof),
          ledger.verifyConsistency(size1, size2, hex(r1), hex(r2), cproof.map(hex)),
        );
        let bad1 = size1;
        if (kind === 0 && cproof.length > 0) cproof = cproof.slice(1);
        else if (kind === 1) bad1 = Math.max(1, size1 - 1);
        else if (kind === 2) cproof = [...cproof, r2];
        else cproof = cproof.map((h, i) => (i === 0 ? r1 : h));
        await agree(
          `bad cons ${bad1}->${size2}`,
          isValidConsistency(bad1, size2, r1, r2, cproof),
          ledger.verifyConsistency(bad1, size2, hex(r1), hex(r2), cproof.map(hex)),
        );
      }
      expect(checks).to.equal(2800);
      // Both outcomes must be well represented, or the comparison proves little.
      expect(valid).to.be.within(1400, 1700);
    });
  });
});
