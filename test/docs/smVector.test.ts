/**
 * The worked SM-suite vector of docs/protocol.md, recomputed as a third party would: OpenSSL's
 * SM3 (node:crypto) and sm-crypto-v2's SM2, from the document's own lines, with none of the
 * project's code.
 */
import { expect } from "chai";
import { hash } from "node:crypto";
import { sm2 } from "sm-crypto-v2";
import { blockAfter } from "./protocolDoc.ts";

describe("docs/protocol.md: the worked SM-suite vector", () => {
  const lines = blockAfter("#### Worked SM-suite vector");
  const value = (name: string) => {
    const line = lines.find((l) => l.startsWith(`${name} `));
    if (!line) throw new Error(`the vector has no line "${name}"`);
    return line.slice(line.indexOf("=") + 1).trim();
  };
  const hex = (name: string) => value(name).replace(/^0x/, "");
  const sm3 = (data: Buffer) => hash("sm3", data);

  it("recomputes the record digest, the signed bytes, the signature, the key id and the leaf hash", () => {
    const canonical = Buffer.from(value("envelope (JCS)"), "utf8");
    const envelope = JSON.parse(canonical.toString("utf8")) as Record<string, string | number>;
    expect(envelope.suite).to.equal("sm2-sm3");
    expect(sm3(canonical)).to.equal(hex("recordDigest"));

    const u64 = (n: number) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(BigInt(n));
      return b;
    };
    const h = (s: string) => Buffer.from(s.replace(/^0x/, ""), "hex");
    const signed = Buffer.concat([
      Buffer.from("dutyproof/sm2-record/v1", "ascii"),
      u64(Number(value("chainId"))),
      h(value("contract")),
      h(envelope.logId as string),
      h(envelope.unitId as string),
      h(envelope.dutyTypeId as string),
      u64(envelope.performedAt as number),
      h(value("recordDigest")),
    ]);
    expect(signed.toString("hex")).to.equal(hex("signed bytes"));

    const publicKey = sm2.getPublicKeyFromPrivateKey(hex("private key d"));
    const k = hex("nonce k");
    const x1 = BigInt(`0x${sm2.getPublicKeyFromPrivateKey(k).slice(2, 66)}`);
    const rs = sm2.doSignature(signed, hex("private key d"), { hash: true, pointPool: [{ k: BigInt(`0x${k}`), x1 }] });
    expect(publicKey.slice(2) + rs).to.equal(hex("signature"));
    expect(sm2.doVerifySignature(signed, rs, publicKey, { hash: true })).to.equal(true);

    expect(`0x${sm3(h(publicKey.slice(2))).slice(24)}`).to.equal(value("key id"));
    const leaf = Buffer.concat([
      Buffer.of(0x00),
      Buffer.from("DPG1", "ascii"),
      h(value("recordDigest")),
      h(value("signature")),
    ]);
    expect(hash("sha256", leaf)).to.equal(hex("leaf hash"));
  });
});
