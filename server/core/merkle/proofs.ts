/**
 * Proof assembly over any node store: give it a function returning the hash of a perfect
 * subtree and it returns RFC 9162 roots and proofs. The store decides how nodes are kept.
 */
import { type Hash, emptyRoot, hashChildren } from "./hasher.ts";
import { type LeafRange, type NodeId, consistencyProofRanges, inclusionProofRanges, rangeNodes } from "./layout.ts";

/** Returns the hash of a perfect subtree that lies wholly inside the tree being proved. */
export type NodeReader = (node: NodeId) => Hash;

/** The hash of the leaves [begin, end), folded from the perfect subtrees that cover it. */
export function hashRange(range: LeafRange, readNode: NodeReader): Hash {
  const nodes = rangeNodes(range.begin, range.end);
  let hash = readNode(nodes[nodes.length - 1]!);
  for (let i = nodes.length - 2; i >= 0; i--) hash = hashChildren(readNode(nodes[i]!), hash);
  return hash;
}

/** The RFC 9162 root of the first `size` leaves. */
export function rootOf(size: number, readNode: NodeReader): Hash {
  return size === 0 ? emptyRoot() : hashRange({ begin: 0, end: size }, readNode);
}

/** Inclusion proof of leaf `index` in the tree of `size` leaves. Precondition: index < size. */
export function inclusionProof(index: number, size: number, readNode: NodeReader): Hash[] {
  return inclusionProofRanges(index, size).map((range) => hashRange(range, readNode));
}

/** Consistency proof from `size1` to `size2` leaves. Precondition: 0 < size1 <= size2. */
export function consistencyProof(size1: number, size2: number, readNode: NodeReader): Hash[] {
  return consistencyProofRanges(size1, size2).map((range) => hashRange(range, readNode));
}
