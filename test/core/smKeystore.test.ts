import { expect } from "chai";
import { createCipheriv, pbkdf2Sync } from "node:crypto";
import { sm4 } from "sm-crypto-v2";
import { openSmKeystore } from "../../server/core/smKeystore.ts";
import { decryptSmKeystore, encryptSmKeystore } from "../../scripts/cli/smKeystore.ts";

describe("core/smKeystore: SM keystores opened in pure JavaScript, as the browser does", () => {
  const privateKey = "0x3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8";

  it("opens a keystore OpenSSL wrote (PBKDF2-HMAC-SM3, SM4-CBC), and the CLI opens it too", async () => {
    const keystore = encryptSmKeystore("口令 correct horse", privateKey, 2_000);
    expect(decryptSmKeystore(keystore, "口令 correct horse")).to.equal(privateKey);
    const opened = await openSmKeystore(JSON.parse(JSON.stringify(keystore)), "口令 correct horse");
    expect(opened).to.deep.equal({ privateKey, keyId: keystore.address });
  });

  it("computes sm-crypto-v2's SM4-CBC as OpenSSL does", () => {
    const key = Buffer.alloc(16, 0x2b);
    const iv = Buffer.alloc(16, 0x07);
    const data = Buffer.from("32 bytes of an SM2 private key..", "ascii");
    const cipher = createCipheriv("sm4-cbc", key, iv);
    const openssl = Buffer.concat([cipher.update(data), cipher.final()]);
    const ours = sm4.encrypt(data, key, { mode: "cbc", iv, output: "array" });
    expect(Buffer.from(ours).toString("hex")).to.equal(openssl.toString("hex"));
    expect(pbkdf2Sync("pw", "salt", 10, 32, "sm3").length).to.equal(32);
  });

  it("refuses a wrong password and every altered part before decrypting", async () => {
    const keystore = encryptSmKeystore("right", privateKey, 1_000);
    const flip = (hex: string) => hex.slice(0, -1) + (hex.endsWith("0") ? "1" : "0");
    const cases: Array<[string, unknown, string]> = [
      ["wrong password", keystore, "wrong"],
      ["ciphertext", { ...keystore, ciphertext: flip(keystore.ciphertext) }, "right"],
      ["iv", { ...keystore, cipher: { ...keystore.cipher, iv: flip(keystore.cipher.iv) } }, "right"],
      ["salt", { ...keystore, kdf: { ...keystore.kdf, salt: flip(keystore.kdf.salt) } }, "right"],
      ["public key", { ...keystore, publicKey: flip(keystore.publicKey) }, "right"],
      ["mac", { ...keystore, mac: flip(keystore.mac) }, "right"],
      ["address", { ...keystore, address: flip(keystore.address) }, "right"],
      ["iterations", { ...keystore, kdf: { ...keystore.kdf, iterations: 0 } }, "right"],
      ["cipher", { ...keystore, cipher: { ...keystore.cipher, name: "sm4-ecb" } }, "right"],
    ];
    for (const [what, file, password] of cases) {
      let failed = false;
      await openSmKeystore(file, password).catch(() => (failed = true));
      expect(failed, what).to.equal(true);
    }
  });
});
