/**
 * Measures DutyLedger's gas on Hardhat's EVM and prints a table:
 *   - anchor transactions (receipt gasUsed, all costs included) at log sizes 2^10, 2^20, 2^30,
 *     each with its on-chain consistency check;
 *   - execution gas of verifyInclusion / verifyConsistency, measured inside the EVM by GasProbe.
 *
 *   npx hardhat run scripts/gas-report.ts        (or: npm run gas)
 */
import { network } from "hardhat";
import { bytesToHex } from "../server/core/bytes.ts";
import { UniformTree, consistencyProofRanges, hashLeaf } from "../server/core/merkle/index.ts";

const { ethers } = await network.getOrCreate();
const [admin, operator] = await ethers.getSigners();
const ledger = await ethers.deployContract("DutyLedger", [admin!.address]);
const probe = await ethers.deployContract("GasProbe");
const tree = new UniformTree(hashLeaf(new TextEncoder().encode("dutyproof gas report leaf")));
const hex = (h: Uint8Array) => bytesToHex(h);

/** The (size1, size2) near n, about 1,000 records apart, with the longest consistency proof. */
function worstShapeNear(n: number): [number, number] {
  let worst: [number, number] = [n + 2000, n + 3000];
  let longest = 0;
  for (let size1 = Math.max(1, n - 3000); size1 <= n + 3000; size1++) {
    for (const step of [1000, 1023, 1024, 1025]) {
      const length = consistencyProofRanges(size1, size1 + step).length;
      if (length > longest) [worst, longest] = [[size1, size1 + step], length];
    }
  }
  return worst;
}

interface Row {
  measurement: string;
  proofHashes: number;
  gas: number;
}
const rows: Row[] = [];

for (const exponent of [10, 20, 30]) {
  const n = 2 ** exponent;
  // Checkpoints about 1,000 records apart, at and around 2^exponent, and the shape near it
  // with the longest proof. Each runs on a fresh log whose first checkpoint (not measured) is
  // `from`, so every measured anchor updates a log head that already exists, as in service.
  const steps: Array<[number, number]> = [[n - 1000, n], [n, n + 1000], [n + 1000, n + 2000], worstShapeNear(n)];
  for (const [from, to] of steps) {
    const logId = ethers.id(`log:gas:${from}:${to}`);
    await (await ledger.createLog(logId, operator!.address)).wait();
    await (await ledger.connect(operator!).anchor(logId, from, hex(tree.root(from)), [])).wait();
    const proof = tree.consistencyProof(from, to).map(hex);
    const receipt = await (await ledger.connect(operator!).anchor(logId, to, hex(tree.root(to)), proof)).wait();
    rows.push({
      measurement: `anchor ${from} → ${to} (tx gasUsed)`,
      proofHashes: proof.length,
      gas: Number(receipt!.gasUsed),
    });
  }
}

for (const exponent of [10, 20, 30]) {
  const n = 2 ** exponent + 12345;
  const index = Math.floor(n * 0.37);
  const proof = tree.inclusionProof(index, n).map(hex);
  const [gasUsed, valid] = await probe.measureVerifyInclusion(
    await ledger.getAddress(),
    hex(tree.root(1)),
    index,
    n,
    proof,
    hex(tree.root(n)),
  );
  if (!valid) throw new Error(`inclusion proof at ${n} did not verify`);
  rows.push({
    measurement: `verifyInclusion at size ${n} (execution)`,
    proofHashes: proof.length,
    gas: Number(gasUsed),
  });
  const size1 = Math.floor(n * 0.61);
  const cproof = tree.consistencyProof(size1, n).map(hex);
  const [cgas, cvalid] = await probe.measureVerifyConsistency(
    await ledger.getAddress(),
    size1,
    n,
    hex(tree.root(size1)),
    hex(tree.root(n)),
    cproof,
  );
  if (!cvalid) throw new Error(`consistency proof at ${n} did not verify`);
  rows.push({
    measurement: `verifyConsistency ${size1} → ${n} (execution)`,
    proofHashes: cproof.length,
    gas: Number(cgas),
  });
}

console.log("| measurement | proof hashes | gas |\n|---|---:|---:|");
for (const row of rows) console.log(`| ${row.measurement} | ${row.proofHashes} | ${row.gas.toLocaleString("en-US")} |`);
