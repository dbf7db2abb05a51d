/**
 * Replay with signatures derived on worker threads gives the very report of the single-thread
 * replay core, for a clean log and for one with altered, malformed, badly signed and erased
 * records.
 */
import { expect } from "chai";
import { Wallet, id } from "ethers";
import { bytesToHex } from "../../server/core/bytes.ts";
import { eip712Domain, typedDataDigest } from "../../server/core/eip712.ts";
import { MemoryTree } from "../../server/core/merkle/index.ts";
import { leafHashOf, recordDigest, signedMessageOf } from "../../server/core/record.ts";
import { type AnchoredCheckpoint, type AuditRecord, replay } from "../../server/core/replay.ts";
import { replayOnWorkers } from "../../server/audit/replayOnWorkers.ts";
import { recoverSigner } from "../../server/crypto/recoverSigner.ts";
import { VerifyPool } from "../../server/crypto/VerifyPool.ts";
import { newEnvelope } from "../helpers/unitClient.ts";

describe("replay on worker threads", () => {
  const key = Wallet.createRandom();
  const unitId = id("unit:workers");
  const domain = eip712Domain(31337, "0x" + "12".repeat(20));
  const t0 = 1_800_000_000;
  const history = {
    keys: [{ signer: key.address, validFrom: t0, validUntil: 0 }],
    statuses: [{ status: "active" as const, since: t0 }],
  };
  let pool: VerifyPool;
  let records: AuditRecord[];
  let checkpoints: AnchoredCheckpoint[];

  before(() => {
    pool = new VerifyPool(2);
    const tree = new MemoryTree();
    records = [];
    for (let i = 0; i < 40; i++) {
      const envelope = newEnvelope(null, unitId, "0x" + "22".repeat(32), { n: i }, t0 + i);
      const digest = recordDigest(envelope);
      const signature = key.signingKey.sign(typedDataDigest(domain, signedMessageOf(envelope))).serialized;
      tree.appendLeafHash(leafHashOf(digest, signature));
      records.push({ leafIndex: i, recordId: bytesToHex(digest), envelope, signature, acceptedAt: t0 + 100 });
    }
    checkpoints = [
      { size: 16, root: bytesToHex(tree.root(16)), previousSize: 0, blockNumber: 1, anchoredAt: t0 + 200 },
      { size: 40, root: bytesToHex(tree.root(40)), previousSize: 16, blockNumber: 2, anchoredAt: t0 + 300 },
    ];
  });
  after(() => pool.close());

  const both = async (log: AuditRecord[]) => {
    const input = { domain, checkpoints, unitHistory: () => history, recover: recoverSigner };
    const single = replay({ ...input, records: structuredClone(log) });
    const workers = await replayOnWorkers({ ...input, records: structuredClone(log) }, pool, { chunk: 7, ahead: 2 });
    return { single, workers };
  };

  it("gives the same clean report", async () => {
    const { single, workers } = await both(records);
    expect(single.clean).to.equal(true);
    expect(workers).to.deep.equal(single);
  });

  it("gives the same findings for altered, malformed, badly signed and erased records", async () => {
    const log = structuredClone(records);
    (log[3]!.envelope.fields as Record<string, unknown>).n = 99;
    log[8]!.envelope = null as never;
    log[12]!.signature = log[12]!.signature.slice(0, -2) + "1d";
    const erased = { ...log[20]!.envelope, fields: {} } as Record<string, unknown>;
    delete erased.salt;
    log[20]!.envelope = erased as never;
    log[20]!.erasure = { erasedAt: t0 + 500, order: "ORDER-1", fields: ["n"] };
    const { single, workers } = await both(log);
    expect(workers).to.deep.equal(single);
    expect(single.findings.filter((f) => f.leafIndex !== undefined).map((f) => [f.kind, f.leafIndex])).to.deep.equal([
      ["record.altered", 3],
      ["record.altered", 8],
      ["record.bad_signature", 12],
      ["record.erased", 20],
    ]);
  });
});
