/**
 * Opening an SM keystore (docs/protocol.md §3, "The 国密 (SM) suite") in pure JavaScript, for the
 * browser: PBKDF2 with HMAC-SM3 and SM4-CBC from sm-crypto-v2. The CLI writes and opens the same
 * files with Node's OpenSSL (scripts/cli/smKeystore.ts); test/core/smKeystore.test.ts checks the
 * two agree.
 */
import { sm3 as sm3Hex, sm4 } from "sm-crypto-v2";
import { bytesEqual, bytesToHex, decodeHex } from "./bytes.ts";
import { smKeyId, smPublicKeyOf } from "./smSuite.ts";

export const SM_KEYSTORE_FORMAT = "dutyproof/sm2-keystore/v1";

const hmacSm3 = (key: Uint8Array, data: Uint8Array): Uint8Array =>
  decodeHex(`0x${sm3Hex(data, { key, mode: "hmac" })}`)!;

/**
 * PBKDF2 (RFC 8018) with HMAC-SM3 for up to one 32-byte block: T1 = U1 ⊕ … ⊕ Uc, U1 =
 * HMAC(P, S ‖ INT(1)), Uj = HMAC(P, Uj−1). `progress` gets 0..1 now and then, and is awaited.
 */
async function pbkdf2HmacSm3(
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  progress: (fraction: number) => void | Promise<void>,
): Promise<Uint8Array> {
  const first = new Uint8Array(salt.length + 4);
  first.set(salt);
  first[salt.length + 3] = 1;
  let u = hmacSm3(password, first);
  const t = u.slice();
  for (let j = 1; j < iterations; j++) {
    u = hmacSm3(password, u);
    for (let k = 0; k < 32; k++) t[k]! ^= u[k]!;
    // The caller may yield here (a page paints its progress bar).
    if (j % 5_000 === 0) await progress(j / iterations);
  }
  return t;
}

function field(value: unknown, bytes: number | undefined, what: string): Uint8Array {
  const out = typeof value === "string" ? decodeHex(value) : null;
  if (!out || (bytes !== undefined && out.length !== bytes)) throw new Error(`the keystore's ${what} is malformed`);
  return out;
}

/**
 * The private key (0x hex) and key id of an SM keystore opened with `password`. Throws on a wrong
 * password or an altered file: the MAC is checked before anything is decrypted, and the key must
 * give the file's public key and key id.
 */
export async function openSmKeystore(
  json: unknown,
  password: string,
  progress: (fraction: number) => void | Promise<void> = () => {},
): Promise<{ privateKey: string; keyId: string }> {
  const file = json as Record<string, Record<string, unknown> | string | undefined>;
  if (file?.format !== SM_KEYSTORE_FORMAT) throw new Error("not an SM keystore");
  const kdf = file.kdf as Record<string, unknown> | undefined;
  const cipher = file.cipher as Record<string, unknown> | undefined;
  if (kdf?.name !== "pbkdf2-hmac-sm3" || kdf.keyLength !== 32 || cipher?.name !== "sm4-cbc")
    throw new Error("unsupported SM keystore parameters");
  const iterations = kdf.iterations;
  if (typeof iterations !== "number" || !Number.isSafeInteger(iterations) || iterations < 1 || iterations > 10_000_000)
    throw new Error("implausible PBKDF2 iteration count");
  const salt = field(kdf.salt, undefined, "salt");
  const iv = field(cipher.iv, 16, "iv");
  const ciphertext = field(file.ciphertext, undefined, "ciphertext");
  const publicKey = field(file.publicKey, 64, "public key");
  const mac = field(file.mac, 32, "mac");
  const key = await pbkdf2HmacSm3(new TextEncoder().encode(password.normalize("NFKC")), salt, iterations, progress);
  const macInput = new Uint8Array(iv.length + ciphertext.length + publicKey.length);
  macInput.set(iv);
  macInput.set(ciphertext, iv.length);
  macInput.set(publicKey, iv.length + ciphertext.length);
  if (!bytesEqual(hmacSm3(key.subarray(16, 32), macInput), mac)) throw new Error("wrong password or altered keystore");
  const plain = sm4.decrypt(ciphertext, key.subarray(0, 16), { mode: "cbc", iv, output: "array" });
  const privateKey = bytesToHex(plain);
  const keyId = smKeyId(publicKey);
  if (plain.length !== 32 || smPublicKeyOf(privateKey) !== bytesToHex(publicKey) || keyId !== String(file.address))
    throw new Error("the keystore's key does not match its public key");
  progress(1);
  return { privateKey, keyId };
}
