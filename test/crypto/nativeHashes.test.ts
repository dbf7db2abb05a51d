import { expect } from "chai";
import { randomBytes, randomInt } from "node:crypto";
import { sha256 as pureSha256 } from "@noble/hashes/sha2.js";
import { keccak_256 as pureKeccak256 } from "@noble/hashes/sha3.js";
import { bytesToHex } from "../../server/core/bytes.ts";
import { keccak256, useKeccak256 } from "../../server/core/keccak256.ts";
import { sha256, useSha256 } from "../../server/core/sha256.ts";
import { installNativeHashes, nativeKeccak256 } from "../../server/crypto/nativeHashes.ts";

describe("crypto/nativeHashes", () => {
  after(() => {
    useSha256(null);
    useKeccak256(null);
  });

  it("computes the same SHA-256 as the pure implementation, at every length a log hashes and more", () => {
    installNativeHashes();
    for (let length = 0; length <= 300; length++) {
      const data = new Uint8Array(randomBytes(length));
      const native = sha256(data);
      expect(native).to.be.instanceOf(Uint8Array);
      expect(native.length).to.equal(32);
      expect(Array.from(native), `length ${length}`).to.deep.equal(Array.from(pureSha256(data)));
    }
  });

  it("hashes a view into a larger buffer by the view alone", () => {
    installNativeHashes();
    const buffer = new Uint8Array(randomBytes(100));
    const view = buffer.subarray(10, 43);
    expect(Array.from(sha256(view))).to.deep.equal(Array.from(pureSha256(view.slice())));
  });

  it("returns to the pure implementation on useSha256(null)", () => {
    const seen: number[] = [];
    useSha256((data) => {
      seen.push(data.length);
      return pureSha256(data);
    });
    sha256(new Uint8Array(5));
    useSha256(null);
    sha256(new Uint8Array(7));
    expect(seen).to.deep.equal([5]);
  });

  describe("Keccak-256", () => {
    it("loads the keccak package's prebuilt addon and installs it in the core's seam", () => {
      expect(nativeKeccak256, "the keccak addon did not load").to.be.a("function");
      useKeccak256(null);
      installNativeHashes();
      expect(useKeccak256(null)).to.equal(nativeKeccak256);
    });

    it("gives the known answers for the empty input and 'abc'", () => {
      installNativeHashes();
      // Ethereum's hash of no bytes (KECCAK_EMPTY, the code hash of an account without code).
      expect(bytesToHex(keccak256(new Uint8Array(0)))).to.equal(
        "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
      );
      // Keccak-256("abc") from the Keccak team's known answers (not SHA3-256's 0x3a985da7…).
      expect(bytesToHex(keccak256(new TextEncoder().encode("abc")))).to.equal(
        "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45",
      );
    });

    it("computes the same Keccak-256 as the pure implementation at every length from 0 to 600 (five 136-byte blocks)", () => {
      installNativeHashes();
      for (let length = 0; length <= 600; length++) {
        const data = new Uint8Array(randomBytes(length));
        const native = keccak256(data);
        // A plain Uint8Array as the pure one returns, not a Buffer (whose slice() is a view).
        expect(Object.getPrototypeOf(native), `length ${length}`).to.equal(Uint8Array.prototype);
        expect(native.length).to.equal(32);
        expect(bytesToHex(native), `length ${length}`).to.equal(bytesToHex(pureKeccak256(data)));
      }
    });

    it("computes the same Keccak-256 as the pure implementation on random inputs up to 4 KiB", () => {
      installNativeHashes();
      for (let i = 0; i < 500; i++) {
        const data = new Uint8Array(randomBytes(randomInt(0, 4097)));
        expect(bytesToHex(keccak256(data)), `length ${data.length}`).to.equal(bytesToHex(pureKeccak256(data)));
      }
    });

    it("hashes a Buffer, and a view into a larger buffer by the view alone", () => {
      installNativeHashes();
      const buffer = randomBytes(400);
      expect(bytesToHex(keccak256(buffer))).to.equal(bytesToHex(pureKeccak256(new Uint8Array(buffer))));
      const bytes = new Uint8Array(buffer);
      for (const view of [bytes.subarray(1, 66), bytes.subarray(7, 300), buffer.subarray(3, 3), bytes.subarray(399)]) {
        expect(bytesToHex(keccak256(view)), `view of ${view.length}`).to.equal(bytesToHex(pureKeccak256(view.slice())));
      }
    });

    it("gives each call the hash of its own input, whatever the calls before absorbed", () => {
      installNativeHashes();
      const short = new Uint8Array(randomBytes(66));
      const long = new Uint8Array(randomBytes(500));
      const expected = bytesToHex(pureKeccak256(short));
      expect(bytesToHex(keccak256(short))).to.equal(expected);
      keccak256(long);
      expect(bytesToHex(keccak256(short))).to.equal(expected);
      expect(bytesToHex(keccak256(short))).to.equal(expected);
      expect(() => keccak256("not bytes" as unknown as Uint8Array)).to.throw();
      expect(bytesToHex(keccak256(short))).to.equal(expected);
    });

    it("returns to the pure implementation on useKeccak256(null)", () => {
      const seen: number[] = [];
      useKeccak256((data) => {
        seen.push(data.length);
        return pureKeccak256(data);
      });
      keccak256(new Uint8Array(5));
      useKeccak256(null);
      keccak256(new Uint8Array(7));
      expect(seen).to.deep.equal([5]);
    });
  });
});
