/**
 * Audit replay against a real gateway and chain: a clean history says so with its counts; a
 * record altered, removed or moved in the gateway's store afterwards (as an insider with disk
 * access could) is reported as such.
 */
import { expect } from "chai";
import { Wallet, id } from "ethers";
import { bytesToHex } from "../../server/core/bytes.ts";
import { type AnchoredCheckpoint, type AuditRecord, replay } from "../../server/core/replay.ts";
import { eip712Domain, typedDataDigest } from "../../server/core/eip712.ts";
import { ownTrustAnchor } from "../../server/chain/trustAnchors.ts";
import { replayFromGateway } from "../../server/audit/replayFromGateway.ts";
import { configFromEnvironment } from "../../server/config.ts";
import { recoverSigner } from "../../server/crypto/recoverSigner.ts";
import { issueToken } from "../../server/gateway/AccessTokens.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { MemoryTree } from "../../server/core/merkle/index.ts";
import { leafHashOf, recordDigest, signedMessageOf } from "../../server/core/record.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { type Eip712Info, newEnvelope, signEnvelope } from "../helpers/unitClient.ts";

describe("audit replay", function () {
  this.timeout(120_000);
  const dir = tempDir("replay");
  const chainPort = testPort("replay");
  let gateway: RunningGateway;
  const ownTrust = () => [ownTrustAnchor(gateway.deployment, "the test gateway")];
  let token: string;
  const unitKey = Wallet.createRandom();
  const unitId = id("unit:replay-village");

  before(async () => {
    gateway = await startGateway(
      configFromEnvironment(
        {},
        { dataDir: dir.path, port: 0, chainPort, anchorIntervalMs: 200, anchorMaxLeaves: 1000, logName: "replay" },
      ),
      () => {},
    );
    token = issueToken(`${dir.path}/tokens.json`, "auditor", "audit bureau");
    await (await gateway.ledger.getFunction("registerUnit")(unitId, "0x" + "00".repeat(32), 3, unitKey.address)).wait();
    const info = (await (await fetch(`${gateway.url}/v1/info`)).json()) as { eip712: Eip712Info; logId: string };
    const catalog = (
      (await (await fetch(`${gateway.url}/v1/duty-types`)).json()) as { dutyTypes: Array<{ id: string; code: string }> }
    ).dutyTypes;
    const patrol = catalog.find((d) => d.code === "grid-patrol")!.id;
    // Three rounds of records, each anchored before the next, so the log has several checkpoints.
    for (let round = 0; round < 3; round++) {
      const items = [];
      for (let i = 0; i < 7; i++) {
        const envelope = newEnvelope(info.logId, unitId, patrol, {
          gridCode: `R${round}-${i}`,
          durationMinutes: 20,
          issuesFound: 0,
          gridWorker: "网格员",
        });
        items.push({ envelope, signature: await signEnvelope(unitKey, info.eip712, envelope) });
      }
      await fetch(`${gateway.url}/v1/attestations/batch`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ items }),
      });
      for (let i = 0; i < 100; i++) {
        const res = await fetch(`${gateway.url}/v1/checkpoints/latest`);
        if (res.status === 200 && ((await res.json()) as { size: number }).size === 7 * (round + 1)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });

  after(async () => {
    await gateway?.close();
    dir.remove();
  });

  const run = () => replayFromGateway({ gatewayUrl: gateway.url, token, rpcUrl: gateway.rpcUrl, trust: ownTrust() });

  it("reports a clean history with its counts", async () => {
    const report = await run();
    expect(report).to.include({ clean: true, records: 21, anchoredSize: 21 });
    // At least one checkpoint per round; a loaded machine may anchor a round in two.
    expect(report.checkpoints).to.be.at.least(3);
    expect(report.findings).to.deep.equal([]);
  });

  it("refuses the feed without an auditor token", async () => {
    const unitToken = issueToken(`${dir.path}/tokens.json`, `unit:${unitId}`, "the village");
    let message = "";
    await replayFromGateway({
      gatewayUrl: gateway.url,
      token: unitToken,
      rpcUrl: gateway.rpcUrl,
      trust: ownTrust(),
    }).catch((e: Error) => (message = e.message));
    expect(message).to.match(/refused the audit feed \(403\)/);
  });

  it("finds a record altered, one removed and two swapped in the gateway's store", async () => {
    // An insider with disk access edits the store behind the gateway's back.
    const raw = gateway.store as unknown as {
      records: { get(k: string): Promise<string>; put(k: string, v: string): Promise<void> };
      leaves: {
        get(k: string): Promise<string>;
        put(k: string, v: string): Promise<void>;
        del(k: string): Promise<void>;
      };
    };
    const key = (i: number) => i.toString().padStart(16, "0");
    const altered = await raw.leaves.get(key(3));
    const record = JSON.parse(await raw.records.get(altered));
    record.envelope.fields.issuesFound = 9;
    await raw.records.put(altered, JSON.stringify(record));
    await raw.leaves.del(key(10));
    const [a, b] = [await raw.leaves.get(key(15)), await raw.leaves.get(key(16))];
    await raw.leaves.put(key(15), b);
    await raw.leaves.put(key(16), a);

    const report = await run();
    expect(report.clean).to.equal(false);
    const at = (kind: string) => report.findings.filter((f) => f.kind === kind).map((f) => f.leafIndex);
    expect(at("record.altered")).to.deep.equal([3]);
    expect(at("record.missing")).to.deep.equal([10]);
    expect(at("record.misplaced")).to.deep.equal([15, 16]);
    // Without leaf 10 the rebuilt tree is one leaf short from there on: every checkpoint after
    // leaf 10 that the remaining 20 leaves reach gives the wrong root, and the last one (21) cannot
    // be rebuilt at all, which the missing-record finding explains. That is the checkpoint at 14,
    // and any other the anchorer took inside a round (a loaded machine may anchor a round in two).
    const sizes = (await gateway.store.listCheckpoints()).filter((c) => c.status === "anchored").map((c) => c.size);
    const broken = sizes.filter((size) => size > 10 && size < 21);
    expect(broken).to.include(14);
    expect(
      report.findings.filter((f) => f.kind === "checkpoint.root_mismatch").map((f) => f.checkpointSize),
    ).to.deep.equal(broken);
  });

  it("reports a checkpoint chain that skips, and keys that were not valid, from crafted inputs", () => {
    const key = Wallet.createRandom();
    const domain = eip712Domain(31337, "0x" + "12".repeat(20));
    const tree = new MemoryTree();
    const records: AuditRecord[] = [];
    for (let i = 0; i < 4; i++) {
      const envelope = newEnvelope(null, unitId, "0x" + "22".repeat(32), { n: i }, 1_800_000_000);
      const digest = recordDigest(envelope);
      const signature = key.signingKey.sign(typedDataDigest(domain, signedMessageOf(envelope))).serialized;
      tree.appendLeafHash(leafHashOf(digest, signature));
      records.push({ leafIndex: i, recordId: bytesToHex(digest), envelope, signature, acceptedAt: 1_800_000_100 });
    }
    const checkpoints: AnchoredCheckpoint[] = [
      { size: 2, root: bytesToHex(tree.root(2)), previousSize: 0, blockNumber: 1, anchoredAt: 1_800_000_200 },
      { size: 4, root: bytesToHex(tree.root(4)), previousSize: 3, blockNumber: 2, anchoredAt: 1_800_000_300 },
    ];
    const keyValidFrom = {
      keys: [{ signer: key.address, validFrom: 1_800_000_000, validUntil: 0 }],
      statuses: [{ status: "active" as const, since: 1_800_000_000 }],
    };
    const clean = replay({
      domain,
      checkpoints: [checkpoints[0]!, { ...checkpoints[1]!, previousSize: 2 }],
      records,
      unitHistory: () => keyValidFrom,
      recover: recoverSigner,
    });
    expect(clean.clean, JSON.stringify(clean.findings)).to.equal(true);
    const report = replay({
      domain,
      checkpoints,
      records,
      unitHistory: () => ({ ...keyValidFrom, keys: [{ ...keyValidFrom.keys[0]!, validUntil: 1_800_000_050 }] }),
      recover: recoverSigner,
    });
    expect(report.counts).to.deep.equal({ "checkpoint.not_extending": 1, "record.key_not_valid": 4 });
  });
});
