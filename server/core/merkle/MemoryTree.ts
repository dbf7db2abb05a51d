/**
 * An append-only RFC 9162 tree held in memory: every perfect subtree hash is kept by level, so
 * proofs cost O(log n) lookups. The gateway's LevelDB log stores the same nodes on disk; this
 * one serves tests, vector generation and small exports.
 */
import { type Hash, hashChildren, hashLeaf } from "./hasher.ts";
import type { NodeId } from "./layout.ts";
import { consistencyProof, inclusionProof, rootOf } from "./proofs.ts";

export class MemoryTree {
  /** levels[l][i] is the hash of leaves [i·2^l, (i+1)·2^l). */
  private readonly levels: Hash[][] = [[]];

  /** Number of leaves. */
  get size(): number {
    return this.levels[0]!.length;
  }

  /** Appends a leaf by its leaf hash and returns its index. */
  appendLeafHash(leafHash: Hash): number {
    const index = this.size;
    this.levels[0]!.push(leafHash);
    // Completing a left-right pair completes the parent too, up as far as pairs close.
    let level = 0;
    let i = index;
    while (i % 2 === 1) {
      const row = this.levels[level]!;
      const parent = hashChildren(row[i - 1]!, row[i]!);
      level++;
      this.levels[level] ??= [];
      this.levels[level]!.push(parent);
      i = (i - 1) / 2;
    }
    return index;
  }

  /** Appends a leaf by its data (hashed with the 0x00 prefix) and returns its index. */
  appendLeafData(data: Uint8Array): number {
    return this.appendLeafHash(hashLeaf(data));
  }

  /** The leaf hash at `index`. */
  leafHash(index: number): Hash {
    const h = this.levels[0]![index];
    if (h === undefined) throw new RangeError(`no leaf ${index} in a tree of ${this.size}`);
    return h;
  }

  /** Root of the first `size` leaves (default: all). */
  root(size: number = this.size): Hash {
    this.checkSize(size);
    return rootOf(size, this.readNode);
  }

  /** Inclusion proof of leaf `index` in the tree of the first `size` leaves. */
  inclusionProof(index: number, size: number = this.size): Hash[] {
    this.checkSize(size);
    return inclusionProof(index, size, this.readNode);
  }

  /** Consistency proof from the first `size1` leaves to the first `size2`. */
  consistencyProof(size1: number, size2: number = this.size): Hash[] {
    this.checkSize(size2);
    return consistencyProof(size1, size2, this.readNode);
  }

  private checkSize(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.size) {
      throw new RangeError(`size ${size} is outside the tree of ${this.size} leaves`);
    }
  }

  private readonly readNode = (node: NodeId): Hash => {
    const hash = this.levels[node.level]?.[node.index];
    if (hash === undefined) throw new RangeError(`node ${node.level}/${node.index} is not complete`);
    return hash;
  };
}
