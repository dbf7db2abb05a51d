/**
 * RFC 9162 (RFC 6962) tree hashing with SHA-256: the same prefixes the DutyLedger contract uses
 * (contracts/libraries/MerkleLog.sol), so a root computed here is the root checked on chain.
 */
import { sha256 } from "../sha256.ts";

/** A 32-byte SHA-256 digest. */
export type Hash = Uint8Array;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

/** SHA-256 of the empty string, the root of a tree with no leaves (`printf '' | sha256sum`). */
export function emptyRoot(): Hash {
  return sha256(new Uint8Array(0));
}

/** The leaf hash SHA-256(0x00 || data). */
export function hashLeaf(data: Uint8Array): Hash {
  const input = new Uint8Array(1 + data.length);
  input[0] = LEAF_PREFIX;
  input.set(data, 1);
  return sha256(input);
}

/** The interior node hash SHA-256(0x01 || left || right). Precondition: both are 32 bytes. */
export function hashChildren(left: Hash, right: Hash): Hash {
  const input = new Uint8Array(65);
  input[0] = NODE_PREFIX;
  input.set(left, 1);
  input.set(right, 33);
  return sha256(input);
}
