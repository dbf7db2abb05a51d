/**
 * The log indexes' shared catch-up (server/store/LogIndexCursor.ts) on a real LevelDB: every leaf
 * is handed over once, in order, across restarts; the cursor is written with rows, or after a
 * long stretch without any, and never for a few leaves that gave none (a restart over a log with
 * nothing new for an index leaves the store as it was).
 */
import { expect } from "chai";
import { join } from "node:path";
import { bytesToHex } from "../../server/core/bytes.ts";
import { hashLeaf } from "../../server/core/merkle/index.ts";
import type { RecordEnvelope } from "../../server/core/record.ts";
import { LedgerStore } from "../../server/store/LedgerStore.ts";
import { LogIndexCursor } from "../../server/store/LogIndexCursor.ts";
import { tempDir } from "../helpers/tempDir.ts";

describe("store/LogIndexCursor", function () {
  this.timeout(120_000);
  const dir = tempDir("log-index-cursor");
  let store: LedgerStore;
  let appended = 0;

  const append = async (count: number) => {
    const batch = Array.from({ length: count }, () => {
      const leafHash = hashLeaf(new TextEncoder().encode(`cursor leaf ${appended++}`));
      return store.append({
        recordId: bytesToHex(leafHash),
        envelope: {} as RecordEnvelope,
        signature: "0x",
        signer: "0x",
        leafHash,
      });
    });
    await Promise.all(batch);
  };
  const savedCursor = async () => store.sublevel("cursor-test").get("meta!next");

  before(async () => {
    store = new LedgerStore(join(dir.path, "ledger"));
    await store.open();
  });
  after(async () => {
    await store.close();
    dir.remove();
  });

  it("hands each leaf over once, and writes the cursor only with rows or after a long stretch", async () => {
    await append(3);
    const seen: number[] = [];
    const noRows = new LogIndexCursor(store, store.sublevel("cursor-test"));
    await noRows.catchUp((page) => (seen.push(...page.map((l) => l.position)), []));
    expect(seen).to.deep.equal([0, 1, 2]);
    expect(await savedCursor(), "three leaves without rows write nothing").to.equal(undefined);

    await append(2);
    await noRows.catchUp((page) => {
      seen.push(...page.map((l) => l.position));
      return [{ type: "put", key: "row!4", value: "x" }];
    });
    expect(seen).to.deep.equal([0, 1, 2, 3, 4]);
    expect(await savedCursor(), "saved with its rows").to.equal("5");

    // A restart resumes from the saved cursor.
    const reopened: number[] = [];
    await append(1);
    await new LogIndexCursor(store, store.sublevel("cursor-test")).catchUp(
      (page) => (reopened.push(...page.map((l) => l.position)), []),
    );
    expect(reopened).to.deep.equal([5]);
    expect(await savedCursor()).to.equal("5");

    // 10,000 leaves without a row from the saved cursor (5): saved when the stretch is reached,
    // at 10,005, so a restart rescans one leaf, not the whole log.
    await append(10_000);
    await new LogIndexCursor(store, store.sublevel("cursor-test")).catchUp(() => []);
    expect(await savedCursor()).to.equal("10005");
  });
});
