/**
 * Pure arithmetic of RFC 9162 trees: which subtree hashes an inclusion or consistency proof is
 * made of. It hashes nothing and stores nothing, so any storage (an array in memory, LevelDB)
 * can produce proofs by hashing the ranges this module names.
 */

/** The leaves [begin, end) of a tree; its hash is MTH(D[begin:end]) of RFC 9162 §2.1.1. */
export interface LeafRange {
  readonly begin: number;
  readonly end: number;
}

/** A perfect subtree: 2^level leaves starting at leaf index << level. */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/** The largest power of two strictly below n. Precondition: n > 1. */
export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function assertSize(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative safe integer`);
}

/**
 * The ranges whose hashes form the inclusion proof of leaf `index` in a tree of `size` leaves,
 * in proof order (leaf level first): RFC 9162 §2.1.3.1 PATH(m, D[n]).
 * Precondition: 0 <= index < size.
 */
export function inclusionProofRanges(index: number, size: number): LeafRange[] {
  assertSize("index", index);
  assertSize("size", size);
  if (index >= size) throw new RangeError(`index ${index} is not below size ${size}`);
  const ranges: LeafRange[] = [];
  let begin = 0;
  let end = size;
  let m = index;
  while (end - begin > 1) {
    const k = largestPowerOfTwoBelow(end - begin);
    if (m < k) {
      ranges.push({ begin: begin + k, end });
      end = begin + k;
    } else {
      ranges.push({ begin, end: begin + k });
      begin += k;
      m -= k;
    }
  }
  return ranges.reverse();
}

/**
 * The ranges whose hashes form the consistency proof from `size1` to `size2` leaves, in proof
 * order: RFC 9162 §2.1.4.1 PROOF(m, D[n]). Precondition: 0 < size1 <= size2 (empty when equal).
 */
export function consistencyProofRanges(size1: number, size2: number): LeafRange[] {
  assertSize("size1", size1);
  assertSize("size2", size2);
  if (size1 === 0 || size1 > size2) throw new RangeError(`no consistency proof from size ${size1} to ${size2}`);
  const ranges: LeafRange[] = [];
  let begin = 0;
  let end = size2;
  let m = size1;
  // `complete` is SUBPROOF's b flag: true while the old tree's root is known to the verifier.
  let complete = true;
  while (m !== end - begin) {
    const k = largestPowerOfTwoBelow(end - begin);
    if (m <= k) {
      ranges.push({ begin: begin + k, end });
      end = begin + k;
    } else {
      ranges.push({ begin, end: begin + k });
      begin += k;
      m -= k;
      complete = false;
    }
  }
  if (!complete) ranges.push({ begin, end });
  return ranges.reverse();
}

/**
 * Splits [begin, end) into perfect subtrees, left to right. For the ranges proofs use (aligned
 * perfect subtrees, or a tree's right edge) the hash of the range is the right-to-left fold of
 * their hashes: h = node[last]; h = H(node[i], h) for i descending.
 * Precondition: begin < end, and begin is a multiple of the largest power of two <= end - begin.
 */
export function rangeNodes(begin: number, end: number): NodeId[] {
  assertSize("begin", begin);
  assertSize("end", end);
  if (begin >= end) throw new RangeError(`empty range [${begin}, ${end})`);
  const nodes: NodeId[] = [];
  let at = begin;
  while (at < end) {
    let level = 0;
    let span = 1;
    while (span * 2 <= end - at && at % (span * 2) === 0) {
      span *= 2;
      level++;
    }
    nodes.push({ level, index: at / span });
    at += span;
  }
  return nodes;
}
