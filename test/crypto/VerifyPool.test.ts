import { expect } from "chai";
import { Wallet } from "ethers";
import { eip712Domain } from "../../server/core/eip712.ts";
import { VerifyPool } from "../../server/crypto/VerifyPool.ts";
import { deriveRecord } from "../../server/gateway/deriveRecord.ts";
import { newEnvelope, signEnvelope } from "../helpers/unitClient.ts";

describe("crypto/VerifyPool (worker threads)", () => {
  it("derives exactly what the inline path derives, in input order, across workers", async function () {
    this.timeout(60_000);
    const domain = eip712Domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3");
    const eip712 = {
      domain: { ...domain },
      types: {
        DutyRecord: [
          { name: "unitId", type: "bytes32" },
          { name: "dutyTypeId", type: "bytes32" },
          { name: "performedAt", type: "uint64" },
          { name: "recordDigest", type: "bytes32" },
        ],
      },
      primaryType: "DutyRecord",
    };
    const keys = [Wallet.createRandom(), Wallet.createRandom()];
    const items = [];
    for (let i = 0; i < 101; i++) {
      const envelope = newEnvelope("0x" + "11".repeat(32), "0x" + "22".repeat(32), { n: i });
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
});
