/**
 * `npm run demo`: deploys DutyLedger on Hardhat's in-process EVM, anchors
 * two checkpoints of a small log, verifies a leaf against the anchored root through the
 * contract, shows that a rewrite of history is refused, and says what comes next.
 *
 *   npm run demo        (runs: hardhat run scripts/demo.ts)
 */
import { network } from "hardhat";
import { bytesToHex } from "../server/core/bytes.ts";
import { MemoryTree } from "../server/core/merkle/index.ts";

const { ethers } = await network.getOrCreate();
const [admin, operator] = await ethers.getSigners();
const hex = bytesToHex;

const ledger = await ethers.deployContract("DutyLedger", [admin!.address]);
const logId = ethers.id("log:demo");
await (await ledger.createLog(logId, operator!.address)).wait();
console.log(`DutyLedger deployed at ${await ledger.getAddress()} on Hardhat's in-process EVM`);

const tree = new MemoryTree();
for (let i = 0; i < 1000; i++) tree.appendLeafData(new TextEncoder().encode(`demo record ${i}`));

await (await ledger.connect(operator!).anchor(logId, 600, hex(tree.root(600)), [])).wait();
const proof = tree.consistencyProof(600, 1000).map(hex);
const receipt = await (await ledger.connect(operator!).anchor(logId, 1000, hex(tree.root()), proof)).wait();
console.log(
  `anchored checkpoints of 600 and 1000 leaves; the second, with its consistency proof, used ${receipt!.gasUsed} gas`,
);

const [included, anchoredAt] = await ledger.verifyAnchoredInclusion(
  logId,
  hex(tree.leafHash(123)),
  123,
  1000,
  tree.inclusionProof(123).map(hex),
);
const when = new Date(Number(anchoredAt) * 1000).toISOString();
console.log(`leaf 123 included in the anchored 1000-leaf checkpoint: ${included} (anchored ${when})`);

const forged = new MemoryTree();
for (let i = 0; i < 1200; i++) {
  forged.appendLeafData(new TextEncoder().encode(i === 5 ? "altered record" : `demo record ${i}`));
}
try {
  await ledger.connect(operator!).anchor(logId, 1200, hex(forged.root()), forged.consistencyProof(1000, 1200).map(hex));
  console.log("UNEXPECTED: a rewritten history was accepted");
  process.exitCode = 1;
} catch (error) {
  const name = ledger.interface.parseError((error as { data?: string }).data ?? "0x")?.name ?? "reverted";
  console.log(`a checkpoint that rewrites record 5 was refused by the operator's own contract: ${name}`);
}

console.log("\nThe whole product (persistent chain, LevelDB, signed records, receipts) runs with: npm start");
console.log("Run the tests with: npm test");
