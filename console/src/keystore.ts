/**
 * An encrypted JSON keystore (the format `dutyproof unit keygen` writes) opened in the browser:
 * the password and the key never leave this page, and the key is kept in memory only.
 */
import { readFileBytes } from "./dom.ts";

export interface UnlockedKey {
  address: string;
  /** Signs a 32-byte digest; returns r ‖ s ‖ v (65 bytes, low s) as 0x hex. */
  sign: (digest: Uint8Array) => string;
}

/** Decrypts `file` with `password` (scrypt, a few seconds); `progress` gets 0..1. */
export async function unlockKeystore(
  file: File,
  password: string,
  progress: (fraction: number) => void,
): Promise<UnlockedKey> {
  const json = new TextDecoder().decode(await readFileBytes(file));
  const { Wallet } = await import("ethers");
  const wallet = await Wallet.fromEncryptedJson(json, password, progress);
  return { address: wallet.address, sign: (digest) => wallet.signingKey.sign(digest).serialized };
}
