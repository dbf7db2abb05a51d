/**
 * RFC 9162 proof verification, the TypeScript twin of contracts/libraries/MerkleLog.sol. The
 * checks come first, then the hashing; roots are compared in one place, and a mismatch error
 * carries both roots.
 */
import { DutyproofError } from "../errors.ts";
import { bytesEqual, bytesToHex } from "../bytes.ts";
import { type Hash, hashChildren } from "./hasher.ts";

function checkHashes(proof: readonly Hash[]): void {
  for (const [i, h] of proof.entries()) {
    if (!(h instanceof Uint8Array) || h.length !== 32) {
      throw new DutyproofError("proof.bad_hash", `proof[${i}] is not a 32-byte hash`, { position: i });
    }
  }
}

function verifyMatch(computed: Hash, expected: Hash): void {
  if (!bytesEqual(computed, expected)) {
    throw new DutyproofError(
      "proof.root_mismatch",
      `proof leads to root ${bytesToHex(computed)}, expected ${bytesToHex(expected)}`,
      { computed: bytesToHex(computed), expected: bytesToHex(expected) },
    );
  }
}

function wrongLength(got: number, detail: string): DutyproofError {
  return new DutyproofError("proof.wrong_length", `proof has ${got} hashes, which does not fit ${detail}`, { got });
}

/**
 * The root implied by an inclusion proof (RFC 9162 §2.1.3.2).
 * Preconditions (else DutyproofError): 0 <= index < size, proof of 32-byte hashes of the right length.
 */
export function rootFromInclusionProof(leafHash: Hash, index: number, size: number, proof: readonly Hash[]): Hash {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw new DutyproofError("proof.index_out_of_range", `leaf index ${index} is not in a tree of ${size} leaves`, {
      index,
      size,
    });
  }
  checkHashes([leafHash, ...proof]);
  // Numbers below 2^53 shift exactly as BigInt; BigInt keeps the arithmetic obviously right.
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let root = leafHash;
  for (const p of proof) {
    if (sn === 0n) throw wrongLength(proof.length, `leaf ${index} of ${size}`);
    if ((fn & 1n) === 1n || fn === sn) {
      root = hashChildren(p, root);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      root = hashChildren(root, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw wrongLength(proof.length, `leaf ${index} of ${size}`);
  return root;
}

/** Throws a DutyproofError unless `proof` shows leaf `index` with `leafHash` is in (size, root). */
export function verifyInclusion(leafHash: Hash, index: number, size: number, proof: readonly Hash[], root: Hash): void {
  checkHashes([root]);
  verifyMatch(rootFromInclusionProof(leafHash, index, size, proof), root);
}

/**
 * Throws a DutyproofError unless `proof` shows (size2, root2) extends (size1, root1)
 * (RFC 9162 §2.1.4.2). size1 = 0 is refused: a proof from the empty tree proves nothing.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  root1: Hash,
  root2: Hash,
  proof: readonly Hash[],
): void {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 <= 0 || size1 > size2) {
    throw new DutyproofError("proof.size_out_of_range", `no consistency proof relates size ${size1} to ${size2}`, {
      size1,
      size2,
    });
  }
  checkHashes([root1, root2, ...proof]);
  if (size1 === size2) {
    if (proof.length !== 0) throw wrongLength(proof.length, `equal sizes ${size1}`);
    verifyMatch(root2, root1);
    return;
  }
  if (proof.length === 0) throw wrongLength(0, `sizes ${size1} and ${size2}`);

  // When size1 is a power of two its root is a node of the new tree, omitted from the proof.
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = BigInt(size1 - 1);
  let sn = BigInt(size2 - 1);
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0n) throw wrongLength(proof.length, `sizes ${size1} and ${size2}`);
    if ((fn & 1n) === 1n || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw wrongLength(proof.length, `sizes ${size1} and ${size2}`);
  verifyMatch(fr, root1);
  verifyMatch(sr, root2);
}

function isPowerOfTwo(n: number): boolean {
  const b = BigInt(n);
  return b > 0n && (b & (b - 1n)) === 0n;
}

/** Boolean form of verifyInclusion: false for any proof that does not verify. */
export function isValidInclusion(
  leafHash: Hash,
  index: number,
  size: number,
  proof: readonly Hash[],
  root: Hash,
): boolean {
  try {
    verifyInclusion(leafHash, index, size, proof, root);
    return true;
  } catch (error) {
    if (error instanceof DutyproofError) return false;
    throw error;
  }
}

/** Boolean form of verifyConsistency: false for any proof that does not verify. */
export function isValidConsistency(
  size1: number,
  size2: number,
  root1: Hash,
  root2: Hash,
  proof: readonly Hash[],
): boolean {
  try {
    verifyConsistency(size1, size2, root1, root2, proof);
    return true;
  } catch (error) {
    if (error instanceof DutyproofError) return false;
    throw error;
  }
}
