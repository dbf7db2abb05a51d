/**
 * A failed write closes and reopens the store's LevelDB (LedgerStore.write). Every sublevel must
 * come back with it: the store's own (records, corrections, other entries such as demands) and
 * the ones adapters asked for (the burden index). The write fails for real: the store sits on a
 * 4 MB tmpfs that is filled to the last byte (mounting needs root, as test/faults/diskFull does).
 */
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { bytesToHex } from "../../server/core/bytes.ts";
import { hashLeaf } from "../../server/core/merkle/index.ts";
import type { RecordEnvelope } from "../../server/core/record.ts";
import { type AppendRequest, LedgerStore, type StoredDemandValue } from "../../server/store/LedgerStore.ts";
import { tempDir } from "../helpers/tempDir.ts";

function request(i: number, amends?: string): AppendRequest {
  const leafHash = hashLeaf(new TextEncoder().encode(`record ${i}`));
  const envelope = {
    version: 1,
    unitId: "0x" + "11".repeat(32),
    dutyTypeId: "0x" + "22".repeat(32),
    performedAt: 1_800_000_000,
    fields: { n: i },
    salt: "0x" + "33".repeat(32),
    ...(amends ? { amends: { recordId: amends, kind: "correction", reason: "typo" } } : {}),
  } as RecordEnvelope;
  return {
    recordId: bytesToHex(leafHash),
    envelope,
    signature: "0x" + "44".repeat(65),
    signer: "0x" + "55".repeat(20),
    leafHash,
  };
}

/** A demand entry's value as the burden gate logs it (not signed: the store does not check). */
function demandValue(demandId: string): StoredDemandValue {
  return {
    demandId,
    demand: {
      version: 1,
      unitId: "0x" + "11".repeat(32),
      dutyTypeIds: ["0x" + "22".repeat(32)],
      from: 1_790_000_000,
      to: 1_800_000_000,
      purpose: "annual review",
      department: "civil-affairs",
      inspector: "0x" + "77".repeat(20),
      onSite: false,
      issuedAt: 1_800_000_000,
      salt: "0x" + "88".repeat(32),
    },
    signature: "0x" + "99".repeat(65),
    outcome: {
      decision: "answered_from_ledger",
      reason: "answered from the ledger",
      decidedAt: 1_800_000_000,
      matched: 0,
    },
    outcomeDigest: "0x" + "aa".repeat(32),
  };
}

describe("store/LedgerStore after a failed write", function () {
  this.timeout(60_000);
  const outer = tempDir("store-reopen");
  const mount = join(outer.path, "data");
  let mounted = false;

  before(() => {
    mkdirSync(mount);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", mount]);
    mounted = true;
  });

  after(() => {
    if (mounted) execFileSync("umount", [mount]);
    rmdirSync(mount);
    outer.remove();
  });

  it("reopens every sublevel: records, corrections, entries and adapters' sublevels are readable again", async () => {
    const store = new LedgerStore(join(mount, "ledger"));
    const adapterState = store.sublevel("burden");
    await store.open();
    try {
      const original = await store.append(request(1));
      await store.append(request(2, original.record.recordId));
      const demandLeaf = hashLeaf(new TextEncoder().encode("demand"));
      await store.appendEntry({
        entryId: "0x" + "66".repeat(32),
        kind: "demand",
        value: demandValue("0x" + "66".repeat(32)),
        leafHash: demandLeaf,
      });
      await adapterState.put("k", "v");

      const filler = join(mount, "filler");
      try {
        execFileSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=64k"], { stdio: "ignore" });
      } catch {
        // dd exits non-zero at ENOSPC: the disk is full
      }
      let failed = false;
      for (let i = 10; i < 400 && !failed; i++) {
        const big = request(i);
        big.envelope.fields = { n: i, pad: "x".repeat(3000) };
        await store.append(big).catch(() => (failed = true));
      }
      expect(failed, "a write failed on the full disk").to.equal(true);
      rmSync(filler);

      // The next write reopens the database, then every read must work without a restart.
      const after = await store.append(request(500));
      expect(after.created).to.equal(true);
      expect((await store.getRecord(original.record.recordId))?.recordId).to.equal(original.record.recordId);
      expect((await store.amendmentOf(original.record.recordId))?.kind).to.equal("correction");
      expect((await store.getEntry("0x" + "66".repeat(32)))?.kind).to.equal("demand");
      expect(await adapterState.get("k")).to.equal("v");
      expect(await store.leafIndexOf(bytesToHex(demandLeaf))).to.equal(2);
    } finally {
      await store.close();
    }
  });
});
