import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { sha256 as pureSha256 } from "@noble/hashes/sha2.js";
import { sha256, useSha256 } from "../../server/core/sha256.ts";
import { installNativeHashes } from "../../server/crypto/nativeHashes.ts";

describe("crypto/nativeHashes", () => {
  after(() => useSha256(null));

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
});
