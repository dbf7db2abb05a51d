/**
 * The SM suite's keystore (docs/protocol.md §3, "The 国密 (SM) suite"): an SM2 private key encrypted with SM4-CBC under
 * a key derived from the password by PBKDF2 with HMAC-SM3, authenticated by HMAC-SM3. Node's
 * OpenSSL does the SM3 and SM4 work; the file carries every parameter, so any SM library opens it.
 */
import { createCipheriv, createDecipheriv, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import { bytesToHex, hexToBytes } from "../../server/core/bytes.ts";
import { SUITE_SM2, smGenerateKey, smKeyId, smPublicKeyOf } from "../../server/core/smSuite.ts";

export const SM_KEYSTORE_FORMAT = "dutyproof/sm2-keystore/v1";

/** PBKDF2-HMAC-SM3 iterations of new keystores: the file records its own count. */
export const SM_KEYSTORE_ITERATIONS = 200_000;

/** An SM keystore file's JSON. */
export interface SmKeystore {
  format: typeof SM_KEYSTORE_FORMAT;
  suite: typeof SUITE_SM2;
  /** The key id right160(SM3(X ‖ Y)): the registry's signer slot (`unit register --keystore`). */
  address: string;
  /** The SM2 public key X ‖ Y, 64 bytes. */
  publicKey: string;
  kdf: { name: "pbkdf2-hmac-sm3"; iterations: number; salt: string; keyLength: 32 };
  cipher: { name: "sm4-cbc"; iv: string };
  /** SM4-CBC (PKCS#7) of the 32-byte private key under the first 16 derived bytes. */
  ciphertext: string;
  /** HMAC-SM3 under the last 16 derived bytes of iv ‖ ciphertext ‖ public key. */
  mac: string;
}

function derive(password: string, salt: Uint8Array, iterations: number): { encryptKey: Buffer; macKey: Buffer } {
  const key = pbkdf2Sync(Buffer.from(password.normalize("NFKC"), "utf8"), salt, iterations, 32, "sm3");
  return { encryptKey: key.subarray(0, 16), macKey: key.subarray(16, 32) };
}

function macOf(macKey: Buffer, iv: Uint8Array, ciphertext: Uint8Array, publicKey: Uint8Array): Buffer {
  return createHmac("sm3", macKey).update(iv).update(ciphertext).update(publicKey).digest();
}

/** Encrypts an SM2 private key (0x hex, 32 bytes) under `password`; a new key when none is given. */
export function encryptSmKeystore(
  password: string,
  privateKey: string = smGenerateKey().privateKey,
  iterations = SM_KEYSTORE_ITERATIONS,
): SmKeystore {
  const publicKey = hexToBytes(smPublicKeyOf(privateKey));
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const { encryptKey, macKey } = derive(password, salt, iterations);
  const cipher = createCipheriv("sm4-cbc", encryptKey, iv);
  const ciphertext = Buffer.concat([cipher.update(hexToBytes(privateKey)), cipher.final()]);
  return {
    format: SM_KEYSTORE_FORMAT,
    suite: SUITE_SM2,
    address: smKeyId(publicKey),
    publicKey: bytesToHex(publicKey),
    kdf: { name: "pbkdf2-hmac-sm3", iterations, salt: bytesToHex(salt), keyLength: 32 },
    cipher: { name: "sm4-cbc", iv: bytesToHex(iv) },
    ciphertext: bytesToHex(ciphertext),
    mac: bytesToHex(macOf(macKey, iv, ciphertext, publicKey)),
  };
}

/** Whether parsed JSON is an SM keystore (rather than an Ethereum one). */
export function isSmKeystore(json: unknown): json is SmKeystore {
  return typeof json === "object" && json !== null && (json as { format?: unknown }).format === SM_KEYSTORE_FORMAT;
}

/**
 * The private key (0x hex) of an SM keystore. Throws on a wrong password or an altered file: the
 * MAC is checked before anything is decrypted, and the key must give the file's public key.
 */
export function decryptSmKeystore(keystore: SmKeystore, password: string): string {
  const { kdf, cipher } = keystore;
  if (kdf?.name !== "pbkdf2-hmac-sm3" || cipher?.name !== "sm4-cbc" || kdf.keyLength !== 32)
    throw new Error("unsupported SM keystore parameters");
  if (!Number.isSafeInteger(kdf.iterations) || kdf.iterations < 1 || kdf.iterations > 10_000_000)
    throw new Error("implausible PBKDF2 iteration count");
  const salt = hexToBytes(kdf.salt);
  const iv = hexToBytes(cipher.iv);
  const ciphertext = hexToBytes(keystore.ciphertext);
  const publicKey = hexToBytes(keystore.publicKey);
  const { encryptKey, macKey } = derive(password, salt, kdf.iterations);
  const mac = hexToBytes(keystore.mac);
  const expected = macOf(macKey, iv, ciphertext, publicKey);
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected))
    throw new Error("wrong password or altered keystore");
  const decipher = createDecipheriv("sm4-cbc", encryptKey, iv);
  const privateKey = bytesToHex(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
  if (smPublicKeyOf(privateKey) !== bytesToHex(publicKey) || smKeyId(publicKey) !== keystore.address.toLowerCase())
    throw new Error("the keystore's key does not match its public key");
  return privateKey;
}
