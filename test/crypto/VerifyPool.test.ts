import { expect } from "chai";
import { Wallet } from "ethers";
import { bytesToHex } from "../../server/core/bytes.ts";
import {
  type Eip712Domain,
  SECP256K1_N,
  eip712Definition,
  eip712Domain,
  typedDataDigest,
} from "../../server/core/eip712.ts";
import { leafHashOf, recordDigest, signedMessageOf } from "../../server/core/record.ts";
import { VerifyPool } from "../../server/crypto/VerifyPool.ts";
import { recoverSigner } from "../../server/crypto/recoverSigner.ts";
import { deriveRecord } from "../../server/crypto/deriveRecord.ts";
import { type Eip712Info, newEnvelope, signEnvelope } from "../helpers/unitClient.ts";

/** The EIP-712 definition as /v1/info serves it (JSON), which the unit helper signs with. */
const servedDefinition = (domain: Eip712Domain) =>
  JSON.parse(JSON.stringify(eip712Definition(domain.chainId, domain.verifyingContract))) as Eip712Info;

describe("crypto/VerifyPool (worker threads)", () => {
  it("derives exactly what the inline path derives, in input order, across workers", async function () {
    this.timeout(60_000);
    const domain = eip712Domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3");
    const eip712 = servedDefinition(domain);
    const keys = [Wallet.createRandom(), Wallet.createRandom()];
    const items = [];
    for (let i = 0; i < 101; i++) {
      const envelope = newEnvelope(null, "0x" + "11".repeat(32), "0x" + "22".repeat(32), { n: i });
      const signature = i % 10 === 7 ? "0x" + "ab".repeat(65) : await signEnvelope(keys[i % 2]!, eip712, envelope);
      items.push({ envelope, signature });
    }
    const pool = new VerifyPool(2);
    try {
      const derived = await pool.derive(domain, items);
      expect(derived).to.deep.equal(items.map((i) => deriveRecord(i.envelope, i.signature, domain)));
      expect(derived.filter((d) => d.signer === null)).to.have.length(10);
      expect(derived[0]!.signer).to.equal(keys[0]!.address.toLowerCase());
      expect(derived[1]!.signer).to.equal(keys[1]!.address.toLowerCase());
    } finally {
      await pool.close();
    }
  });

  it("derives what the protocol's own functions give, for good, high-s, wrong-v and foreign signatures", async () => {
    const domain = eip712Domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3");
    const key = Wallet.createRandom();
    const eip712 = servedDefinition(domain);
    const envelope = newEnvelope(null, "0x" + "11".repeat(32), "0x" + "22".repeat(32), { n: 1 });
    const good = await signEnvelope(key, eip712, envelope);
    const s = BigInt("0x" + good.slice(66, 130));
    const v = good.slice(130);
    const highS = good.slice(0, 66) + (SECP256K1_N - s).toString(16).padStart(64, "0") + (v === "1b" ? "1c" : "1b");
    const wrongV = good.slice(0, 130) + (v === "1b" ? "1c" : "1b");
    const other = await signEnvelope(Wallet.createRandom(), eip712, envelope);
    for (const signature of [good, highS, wrongV, other, good.toUpperCase().replace("0X", "0x")]) {
      const digest = recordDigest(envelope);
      const expected = {
        recordId: bytesToHex(digest),
        leafHash: bytesToHex(leafHashOf(digest, signature)),
        signer: recoverSigner(typedDataDigest(domain, signedMessageOf(envelope, digest)), signature),
      };
      expect(deriveRecord(envelope, signature, domain), signature).to.deep.equal(expected);
    }
    expect(deriveRecord(envelope, good, domain).signer).to.equal(key.address.toLowerCase());
    expect(deriveRecord(envelope, highS, domain).signer).to.equal(null);
    expect(deriveRecord(envelope, wrongV, domain).signer).to.not.equal(key.address.toLowerCase());
  });
});

describe("crypto/VerifyPool: an item that cannot be derived fails alone", () => {
  it("answers each item of a job on its own: a lone surrogate gets its error, its neighbours their derivation", async function () {
    this.timeout(60_000);
    const domain = eip712Domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3");
    const eip712 = servedDefinition(domain);
    const key = Wallet.createRandom();
    const items: Array<{ envelope: ReturnType<typeof newEnvelope>; signature: string }> = [];
    for (let i = 0; i < 12; i++) {
      // Schemas refuse such text first; the pool must hold even if something gets through.
      const envelope = newEnvelope(null, "0x" + "11".repeat(32), "0x" + "22".repeat(32), {
        n: i,
        note: i % 3 ? "ok" : "\ud800",
      });
      items.push({ envelope, signature: i % 3 ? await signEnvelope(key, eip712, envelope) : "0x" + "ab".repeat(65) });
    }
    const pool = new VerifyPool(2);
    try {
      const outcomes = await pool.deriveEach(domain, items);
      expect(outcomes).to.have.length(12);
      outcomes.forEach((outcome, i) => {
        if (i % 3 === 0) expect(outcome).to.deep.equal({ error: "Lone surrogate is not allowed" });
        else expect(outcome).to.deep.equal(deriveRecord(items[i]!.envelope, items[i]!.signature, domain));
      });
      // derive (all or nothing, for the auditor's replay) still refuses the whole job.
      await pool.derive(domain, items).then(
        () => expect.fail("derive resolved"),
        (error: Error) => expect(error.message).to.equal("Lone surrogate is not allowed"),
      );
    } finally {
      await pool.close();
    }
  });
});
