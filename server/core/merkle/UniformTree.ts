/**
 * A virtual tree of any size whose leaves all have the same hash. Every subtree of 2^l leaves
 * then has the same hash, so roots and proofs of a 2^30-leaf log cost O(log n) to compute.
 * Used to measure gas at large log sizes; proofs from it verify like any other.
 */
import { type Hash, hashChildren } from "./hasher.ts";
import { consistencyProof, inclusionProof, rootOf } from "./proofs.ts";

export class UniformTree {
  private readonly perfect: Hash[];

  constructor(leafHash: Hash) {
    this.perfect = [leafHash];
    for (let level = 1; level <= 52; level++) {
      const below = this.perfect[level - 1]!;
      this.perfect.push(hashChildren(below, below));
    }
  }

  private readonly readNode = ({ level }: { level: number }): Hash => this.perfect[level]!;

  root(size: number): Hash {
    return rootOf(size, this.readNode);
  }

  inclusionProof(index: number, size: number): Hash[] {
    return inclusionProof(index, size, this.readNode);
  }

  consistencyProof(size1: number, size2: number): Hash[] {
    return consistencyProof(size1, size2, this.readNode);
  }
}
