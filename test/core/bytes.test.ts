import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { bytesToHex as nobleToHex, hexToBytes as nobleFromHex } from "@noble/hashes/utils.js";
import { bytesEqual, bytesToHex, decodeHex, hexToBytes } from "../../server/core/bytes.ts";
import { SECP256K1_HALF_N, SECP256K1_N, parseSignature } from "../../server/core/eip712.ts";

const word = (n: bigint) => n.toString(16).padStart(64, "0");
const signature = (r: bigint, s: bigint, v = 27) => "0x" + word(r) + word(s) + v.toString(16);

describe("core/bytes: the hex codec", () => {
  it("agrees with @noble/hashes on every length 0–80 and every byte value", () => {
    for (let length = 0; length <= 80; length++) {
      const bytes = new Uint8Array(randomBytes(length));
      const hex = bytesToHex(bytes);
      expect(hex).to.equal("0x" + nobleToHex(bytes));
      expect(bytesEqual(hexToBytes(hex), bytes)).to.equal(true);
    }
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(bytesToHex(all)).to.equal("0x" + nobleToHex(all));
    expect(bytesEqual(hexToBytes("0x" + nobleToHex(all).toUpperCase()), nobleFromHex(nobleToHex(all)))).to.equal(true);
  });

  it("accepts exactly 0x followed by whole bytes of hex digits, in either case", () => {
    for (const good of ["0x", "0x00", "0xaBcD", "0x" + "f".repeat(64)]) {
      expect(hexToBytes(good).length).to.equal((good.length - 2) / 2);
      expect(bytesEqual(decodeHex(good)!, hexToBytes(good))).to.equal(true);
    }
    const bad = ["", "0", "0x0", "00ab", "0X00", "x0ab", "0xgg", "0x0g", "0x 0", "0xab\n", "0x٠٠", "0xa\u0100", "ab"];
    for (const value of bad) {
      expect(decodeHex(value), JSON.stringify(value)).to.equal(null);
      expect(() => hexToBytes(value), JSON.stringify(value)).to.throw(TypeError, /not 0x-prefixed hex/);
    }
    for (const value of [42, null, undefined]) {
      expect(() => hexToBytes(value as unknown as string), String(value)).to.throw(TypeError, /not 0x-prefixed hex/);
    }
  });
  it("gives flat strings: 10,000 keys of 65 bytes hold about 150 bytes each, not a rope of one node per byte", () => {
    // The verify workers keep the last 10,000 recovered keys (crypto/recoverSigner.ts). Built by
    // appending, each key was a rope of 65 nodes, about 2 KB: 20 MB per worker under forged
    // signatures, and the hostile campaign's worker heaps grew by that much.
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const inputs = Array.from({ length: 10_000 }, () => new Uint8Array(randomBytes(65)));
    gc();
    const before = process.memoryUsage().heapUsed;
    const kept = inputs.map((bytes) => bytesToHex(bytes));
    gc();
    const perKey = (process.memoryUsage().heapUsed - before) / kept.length;
    expect(kept.every((hex) => hex.length === 132)).to.equal(true);
    expect(perKey, "heap bytes per kept 65-byte key").to.be.below(400);
  });

  it("encodes inputs longer than its scratch buffer, and leaves earlier results alone", () => {
    const first = new Uint8Array(randomBytes(32));
    const firstHex = bytesToHex(first);
    for (const length of [1023, 1024, 1025, 5000]) {
      const bytes = new Uint8Array(randomBytes(length));
      expect(bytesToHex(bytes)).to.equal("0x" + nobleToHex(bytes));
    }
    expect(firstHex).to.equal("0x" + nobleToHex(first));
  });
});

describe("core/eip712: signature ranges", () => {
  it("takes r in 1..n-1, s in 1..n/2 and v 27 or 28, at the exact boundaries", () => {
    expect(parseSignature(signature(1n, 1n))?.recovery).to.equal(0);
    expect(parseSignature(signature(SECP256K1_N - 1n, SECP256K1_HALF_N, 28))?.recovery).to.equal(1);
    expect(parseSignature(signature(0n, 1n))).to.equal(null);
    expect(parseSignature(signature(SECP256K1_N, 1n))).to.equal(null);
    expect(parseSignature(signature(SECP256K1_N + 1n, 1n))).to.equal(null);
    expect(parseSignature(signature(1n, 0n))).to.equal(null);
    expect(parseSignature(signature(1n, SECP256K1_HALF_N + 1n))).to.equal(null);
    expect(parseSignature(signature(1n, SECP256K1_N - 1n))).to.equal(null);
    for (const v of [0, 1, 26, 29, 255]) expect(parseSignature(signature(1n, 1n, v)), `v ${v}`).to.equal(null);
  });

  it("agrees with a bigint reading of r and s on random signatures", () => {
    for (let i = 0; i < 500; i++) {
      const raw = randomBytes(65);
      raw[64] = 27 + (i % 2);
      // Half of them near the limits, where a byte comparison could go wrong.
      if (i % 4 === 1) raw.set(Buffer.from(word(SECP256K1_HALF_N), "hex").subarray(0, 16 + (i % 16)), 32);
      if (i % 4 === 3) raw.set(Buffer.from(word(SECP256K1_N), "hex").subarray(0, 16 + (i % 16)), 0);
      const hex = "0x" + raw.toString("hex");
      const r = BigInt("0x" + hex.slice(2, 66));
      const s = BigInt("0x" + hex.slice(66, 130));
      const valid = r > 0n && r < SECP256K1_N && s > 0n && s <= SECP256K1_HALF_N;
      expect(parseSignature(hex) !== null, hex).to.equal(valid);
      expect(parseSignature(hex.toUpperCase().replace("0X", "0x")) !== null).to.equal(valid);
    }
  });

  it("refuses signatures of the wrong length or with non-hex characters", () => {
    const good = signature(5n, 7n);
    expect(parseSignature(good)).to.not.equal(null);
    expect(parseSignature(good + "00")).to.equal(null);
    expect(parseSignature(good.slice(0, -2))).to.equal(null);
    expect(parseSignature(good.slice(0, -1) + "g")).to.equal(null);
    expect(parseSignature(good.replace("0x", "0X"))).to.equal(null);
    expect(parseSignature(42 as unknown as string)).to.equal(null);
  });
});
