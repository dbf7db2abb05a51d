/**
 * Writes the Merkle proof vector files under test/vectors/ (or checks them with --check).
 *
 * The tree is the RFC 6962 reference tree: eight leaves whose data are the byte strings below,
 * the same leaves Certificate Transparency's test suites use, so its roots are known answers.
 * Each happy-path proof gets a set of mutations, each in its own file named after the mutation,
 * with `desc` and `wantErr`. The TypeScript tests, the Solidity tests and the contract tests read
 * the same files. Every file is checked against the TypeScript verifier before it is written.
 *
 * It also writes the worked receipt vector (scripts/receiptVector.ts) to test/vectors/receipt/
 * and into docs/protocol.md between its markers, so the document shows what the tests check.
 *
 *   node scripts/gen-vectors.ts           # (re)write test/vectors and the document's vector
 *   node scripts/gen-vectors.ts --check   # exit 1 if either differs from what would be written
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { bytesToHex, hexToBytes } from "../server/core/bytes.ts";
import { type Hash, MemoryTree, emptyRoot, isValidConsistency, isValidInclusion } from "../server/core/merkle/index.ts";
import { RECEIPT_VECTOR_PATH, buildReceiptVector, receiptVectorMarkdown, withReceiptVector } from "./receiptVector.ts";

export const referenceLeafData = [
  "0x",
  "0x00",
  "0x10",
  "0x2021",
  "0x3031",
  "0x40414243",
  "0x5051525354555657",
  "0x606162636465666768696a6b6c6d6e6f",
];

export interface InclusionVector {
  desc: string;
  wantErr: boolean;
  leafIndex: number;
  treeSize: number;
  leafHash: string;
  root: string;
  proof: string[];
}

export interface ConsistencyVector {
  desc: string;
  wantErr: boolean;
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[];
}

const inclusionCases: Array<[number, number]> = [
  [0, 1],
  [0, 8],
  [5, 8],
  [2, 3],
  [1, 5],
  [6, 7],
  [7, 8],
];
const consistencyCases: Array<[number, number]> = [
  [1, 1],
  [1, 8],
  [6, 8],
  [2, 5],
  [6, 7],
  [4, 8],
  [3, 7],
];

// A fixed, obviously artificial 32-byte value for "garbage" and "wrong" hashes:
// printf 'dutyproof test vector garbage' | sha256sum
const garbage = "0x" + "5a".repeat(32);
const otherRoot = "0x" + "a5".repeat(32);

function flipBit(hex: string, bit: number): string {
  const bytes = hexToBytes(hex);
  bytes[Math.floor(bit / 8)]! ^= 1 << (bit % 8);
  return bytesToHex(bytes);
}

function buildTree(): MemoryTree {
  const tree = new MemoryTree();
  for (const data of referenceLeafData) tree.appendLeafData(hexToBytes(data));
  return tree;
}

function inclusionSet(tree: MemoryTree, index: number, size: number): Map<string, InclusionVector> {
  const hex = (h: Hash) => bytesToHex(h);
  const happy: InclusionVector = {
    desc: "happy path",
    wantErr: false,
    leafIndex: index,
    treeSize: size,
    leafHash: hex(tree.leafHash(index)),
    root: hex(tree.root(size)),
    proof: tree.inclusionProof(index, size).map(hex),
  };
  const out = new Map<string, InclusionVector>([["happy-path", happy]]);
  const bad = (name: string, desc: string, change: Partial<InclusionVector>) =>
    out.set(name, { ...happy, ...change, desc, wantErr: true });
  bad("index-plus-1", "leaf index one too high", { leafIndex: index + 1 });
  if (index > 0) bad("index-minus-1", "leaf index one too low", { leafIndex: index - 1 });
  bad("size-times-2", "tree size doubled", { treeSize: size * 2 });
  if (size > 1) bad("size-div-2", "tree size halved", { treeSize: Math.floor(size / 2) });
  bad("wrong-leaf", "another leaf's hash", { leafHash: flipBit(happy.leafHash, 0) });
  bad("wrong-root", "a root that is not this tree's", { root: otherRoot });
  bad("empty-root", "the empty tree's root", { root: hex(emptyRoot()) });
  if (size > 1) bad("leaf-as-root", "the leaf hash given as the root", { root: happy.leafHash });
  bad("trailing-garbage", "an extra hash after the proof", { proof: [...happy.proof, garbage] });
  bad("preceding-garbage", "an extra hash before the proof", { proof: [garbage, ...happy.proof] });
  bad("trailing-root", "the root appended to the proof", { proof: [...happy.proof, happy.root] });
  bad("preceding-root", "the root prepended to the proof", { proof: [happy.root, ...happy.proof] });
  if (happy.proof.length > 0) {
    bad("truncated-proof", "the proof's last hash removed", { proof: happy.proof.slice(0, -1) });
    bad("empty-proof", "no proof at all", { proof: [] });
    if (happy.proof.length > 1)
      bad("reversed-proof", "the proof's hashes in reverse order", { proof: [...happy.proof].reverse() });
    happy.proof.forEach((_, i) =>
      bad(`proof[${i}]-bit-3`, `bit 3 of proof[${i}] flipped`, {
        proof: happy.proof.map((h, j) => (j === i ? flipBit(h, 3) : h)),
      }),
    );
  }
  return out;
}

function consistencySet(tree: MemoryTree, size1: number, size2: number): Map<string, ConsistencyVector> {
  const hex = (h: Hash) => bytesToHex(h);
  const happy: ConsistencyVector = {
    desc: "happy path",
    wantErr: false,
    size1,
    size2,
    root1: hex(tree.root(size1)),
    root2: hex(tree.root(size2)),
    proof: tree.consistencyProof(size1, size2).map(hex),
  };
  const out = new Map<string, ConsistencyVector>([["happy-path", happy]]);
  const bad = (name: string, desc: string, change: Partial<ConsistencyVector>) =>
    out.set(name, { ...happy, ...change, desc, wantErr: true });
  if (size1 < size2) bad("size1-plus-1", "first size one too high", { size1: size1 + 1 });
  if (size1 > 1) bad("size1-minus-1", "first size one too low", { size1: size1 - 1 });
  bad("size2-times-2", "second size doubled", { size2: size2 * 2 });
  if (size2 > 1) bad("size2-div-2", "second size halved", { size2: Math.floor(size2 / 2) });
  bad("size1-zero", "a proof from the empty tree", { size1: 0, root1: hex(emptyRoot()) });
  bad("wrong-root1", "a first root that is not the tree's", { root1: otherRoot });
  bad("wrong-root2", "a second root that is not the tree's", { root2: otherRoot });
  if (happy.root1 !== happy.root2)
    bad("swapped-roots", "the roots swapped", { root1: happy.root2, root2: happy.root1 });
  bad("trailing-garbage", "an extra hash after the proof", { proof: [...happy.proof, garbage] });
  bad("preceding-garbage", "an extra hash before the proof", { proof: [garbage, ...happy.proof] });
  bad("trailing-root1", "the first root appended to the proof", { proof: [...happy.proof, happy.root1] });
  bad("preceding-root1", "the first root prepended to the proof", { proof: [happy.root1, ...happy.proof] });
  bad("trailing-root2", "the second root appended to the proof", { proof: [...happy.proof, happy.root2] });
  if (happy.proof.length > 0) {
    bad("truncated-proof", "the proof's last hash removed", { proof: happy.proof.slice(0, -1) });
    bad("empty-proof", "no proof at all", { proof: [] });
    happy.proof.forEach((_, i) =>
      bad(`proof[${i}]-bit-3`, `bit 3 of proof[${i}] flipped`, {
        proof: happy.proof.map((h, j) => (j === i ? flipBit(h, 3) : h)),
      }),
    );
  }
  return out;
}

/** Edge cases of sizes that no happy path covers. */
function consistencyEdges(tree: MemoryTree): Map<string, ConsistencyVector> {
  const r1 = bytesToHex(tree.root(1));
  const r2 = bytesToHex(tree.root(2));
  const empty = bytesToHex(emptyRoot());
  const v = (
    desc: string,
    wantErr: boolean,
    size1: number,
    size2: number,
    root1: string,
    root2: string,
    proof: string[],
  ) => ({ desc, wantErr, size1, size2, root1, root2, proof }) satisfies ConsistencyVector;
  return new Map([
    ["sizes-zero", v("both sizes zero: nothing to prove", true, 0, 0, empty, empty, [])],
    ["size1-zero-with-proof", v("from the empty tree, with a proof", true, 0, 1, empty, r1, [r1])],
    ["size1-above-size2", v("first size larger than the second", true, 2, 1, r2, r1, [])],
    ["equal-sizes-with-proof", v("equal sizes but a non-empty proof", true, 1, 1, r1, r1, [r1])],
    ["equal-sizes-other-root", v("equal sizes, different roots", true, 1, 1, r1, r2, [])],
    ["equal-sizes-empty-proof", v("equal sizes, equal roots, empty proof", false, 2, 2, r2, r2, [])],
  ]);
}

function inclusionEdges(tree: MemoryTree): Map<string, InclusionVector> {
  const leaf = bytesToHex(tree.leafHash(0));
  const v = (desc: string, wantErr: boolean, leafIndex: number, treeSize: number, root: string, proof: string[]) =>
    ({ desc, wantErr, leafIndex, treeSize, leafHash: leaf, root, proof }) satisfies InclusionVector;
  return new Map([
    ["size-zero", v("a leaf in the empty tree", true, 0, 0, bytesToHex(emptyRoot()), [])],
    ["single-leaf", v("the only leaf of a one-leaf tree is its root", false, 0, 1, leaf, [])],
    ["single-leaf-with-proof", v("a one-leaf tree with a proof", true, 0, 1, leaf, [leaf])],
  ]);
}

/** All vector files, keyed by their path below test/vectors. */
export function buildVectors(): Map<string, InclusionVector | ConsistencyVector> {
  const tree = buildTree();
  const files = new Map<string, InclusionVector | ConsistencyVector>();
  for (const [index, size] of inclusionCases) {
    for (const [name, vector] of inclusionSet(tree, index, size))
      files.set(`inclusion/${index}-of-${size}/${name}.json`, vector);
  }
  for (const [name, vector] of inclusionEdges(tree)) files.set(`inclusion/edge/${name}.json`, vector);
  for (const [size1, size2] of consistencyCases) {
    for (const [name, vector] of consistencySet(tree, size1, size2))
      files.set(`consistency/${size1}-to-${size2}/${name}.json`, vector);
  }
  for (const [name, vector] of consistencyEdges(tree)) files.set(`consistency/edge/${name}.json`, vector);

  // A vector file must say what the verifier does; one that disagrees is a generator bug.
  for (const [path, vector] of files) {
    const ok = "leafIndex" in vector ? checkInclusion(vector) : checkConsistency(vector);
    if (ok === vector.wantErr)
      throw new Error(`${path}: verifier says ${ok ? "valid" : "invalid"}, vector says otherwise`);
  }
  return files;
}

export function checkInclusion(v: InclusionVector): boolean {
  return isValidInclusion(hexToBytes(v.leafHash), v.leafIndex, v.treeSize, v.proof.map(hexToBytes), hexToBytes(v.root));
}

export function checkConsistency(v: ConsistencyVector): boolean {
  return isValidConsistency(v.size1, v.size2, hexToBytes(v.root1), hexToBytes(v.root2), v.proof.map(hexToBytes));
}

function listFiles(dir: string, prefix = ""): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`],
  );
}

async function main(): Promise<void> {
  const root = join(import.meta.dirname, "..", "test", "vectors");
  const docPath = join(import.meta.dirname, "..", "docs", "protocol.md");
  const files = new Map<string, unknown>(buildVectors());
  const receiptVector = await buildReceiptVector();
  files.set(RECEIPT_VECTOR_PATH, receiptVector);
  const doc = readFileSync(docPath, "utf8");
  const newDoc = withReceiptVector(doc, receiptVectorMarkdown(receiptVector));
  const render = (v: unknown) => JSON.stringify(v, null, 2) + "\n";
  const onDisk = listFiles(root).filter(
    (f) =>
      f.endsWith(".json") && (f.startsWith("inclusion/") || f.startsWith("consistency/") || f.startsWith("receipt/")),
  );
  if (process.argv.includes("--check")) {
    const stale = onDisk.filter((f) => !files.has(f));
    const differ = [...files].filter(
      ([f, v]) => !existsSync(join(root, f)) || readFileSync(join(root, f), "utf8") !== render(v),
    );
    if (stale.length + differ.length > 0 || newDoc !== doc) {
      console.error(
        `test/vectors is out of date (${differ.length} differ, ${stale.length} stale` +
          `${newDoc !== doc ? ", docs/protocol.md's receipt vector differs" : ""}); run: node scripts/gen-vectors.ts`,
      );
      process.exit(1);
    }
    console.log(`test/vectors: ${files.size} files up to date, and docs/protocol.md's receipt vector`);
    return;
  }
  for (const dir of ["inclusion", "consistency", "receipt"]) rmSync(join(root, dir), { recursive: true, force: true });
  for (const [path, vector] of files) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), render(vector));
  }
  writeFileSync(docPath, newDoc);
  console.log(`wrote ${files.size} vector files to test/vectors and the receipt vector to docs/protocol.md`);
}

if (import.meta.filename === process.argv[1]) await main();
