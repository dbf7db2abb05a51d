/**
 * The EIP-712 definition units sign with. The domain binds a signature to one chain and one
 * DutyLedger deployment, so a record signed for a test network is worthless on another.
 */
import { TypedDataEncoder } from "ethers";
import { hexToBytes } from "./bytes.ts";
import type { DutyRecordMessage } from "./record.ts";

export const EIP712_PRIMARY_TYPE = "DutyRecord";

export const eip712Types = {
  DutyRecord: [
    { name: "unitId", type: "bytes32" },
    { name: "dutyTypeId", type: "bytes32" },
    { name: "performedAt", type: "uint64" },
    { name: "recordDigest", type: "bytes32" },
  ],
} as const;

export interface Eip712Domain {
  name: "dutyproof";
  version: "1";
  chainId: number;
  verifyingContract: string;
}

export function eip712Domain(chainId: number, verifyingContract: string): Eip712Domain {
  return { name: "dutyproof", version: "1", chainId, verifyingContract };
}

/** The definition served at /v1/info, in the shape EIP-712 libraries take. */
export function eip712Definition(chainId: number, verifyingContract: string) {
  return {
    domain: eip712Domain(chainId, verifyingContract),
    types: eip712Types,
    primaryType: EIP712_PRIMARY_TYPE,
  };
}

/** The 32-byte EIP-712 digest that is signed. */
export function typedDataDigest(domain: Eip712Domain, message: DutyRecordMessage): Uint8Array {
  const types = { DutyRecord: [...eip712Types.DutyRecord] };
  return hexToBytes(TypedDataEncoder.hash(domain, types, message));
}

/** secp256k1 group order n and n/2: signatures must have s <= n/2 (EIP-2). */
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
export const SECP256K1_HALF_N = SECP256K1_N >> 1n;

/** Splits a 65-byte r‖s‖v signature, checking its shape; returns null when malformed or high-s. */
export function parseSignature(signature: string): { r: Uint8Array; s: Uint8Array; recovery: 0 | 1 } | null {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) return null;
  const bytes = hexToBytes(signature);
  const r = bytes.subarray(0, 32);
  const s = bytes.subarray(32, 64);
  const v = bytes[64]!;
  const sValue = BigInt("0x" + signature.slice(66, 130));
  const rValue = BigInt("0x" + signature.slice(2, 66));
  if (rValue === 0n || rValue >= SECP256K1_N || sValue === 0n || sValue > SECP256K1_HALF_N) return null;
  if (v !== 27 && v !== 28) return null;
  return { r, s, recovery: v === 27 ? 0 : 1 };
}
