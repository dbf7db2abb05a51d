/**
 * The erase use case without a chain or HTTP: a real LevelDB store in a temp dir, a real
 * operator key, and a ManualClock that the test sets instead of sleeping through a
 * signature's 5-minute life.
 */
import { join } from "node:path";
import { expect } from "chai";
import { Wallet, id } from "ethers";
import { eraseWithOperatorSignature, operatorMessage } from "../../server/app/erase.ts";
import { ManualClock } from "../../server/core/clock.ts";
import { DutyproofError } from "../../server/core/errors.ts";
import { createLogger } from "../../server/observability/logger.ts";
import { LedgerStore } from "../../server/store/LedgerStore.ts";
import { tempDir } from "../helpers/tempDir.ts";

describe("app: erase by the operator's signature (real LevelDB, ManualClock)", function () {
  const dir = tempDir("app-erase");
  const operator = Wallet.createRandom();
  const logId = id("log:app-erase");
  const signedAt = 1_800_000_000;
  const clock = new ManualClock(signedAt * 1000);
  const audited: Array<{ action: string; outcome: string }> = [];
  let store: LedgerStore;

  before(async () => {
    store = new LedgerStore(join(dir.path, "ledger"));
    await store.open();
  });
  after(async () => {
    await store?.close();
    dir.remove();
  });

  const deps = () => ({
    store,
    dutyTypeOf: () => undefined,
    clock,
    logger: createLogger({ write: () => {} }),
    audit: async <T>(action: string, _target: object, run: () => Promise<T>) => {
      try {
        const result = await run();
        audited.push({ action, outcome: "ok" });
        return result;
      } catch (error) {
        audited.push({ action, outcome: "failed" });
        throw error;
      }
    },
    operatorAddress: operator.address,
    logId,
  });
  const request = { recordId: "0x" + "22".repeat(32), order: "court order 7", signedAt };
  const failure = async (run: Promise<unknown>) => {
    try {
      await run;
    } catch (error) {
      expect(error).to.be.instanceOf(DutyproofError);
      return error as DutyproofError;
    }
    expect.fail("expected a refusal");
  };

  it("takes the operator's signature for 5 minutes of the clock it is given, then refuses it", async () => {
    const signature = await operator.signMessage(
      operatorMessage("erase", logId, request.recordId, request.order, signedAt),
    );
    clock.set((signedAt + 299) * 1000);
    // Accepted as the operator's: the act runs (and is audited), and finds no such record.
    const missing = await failure(eraseWithOperatorSignature(deps(), signature, request));
    expect(missing.code).to.equal("record.not_found");
    expect(audited.at(-1)).to.deep.equal({ action: "record.erase", outcome: "failed" });
    clock.advance(2000);
    const stale = await failure(eraseWithOperatorSignature(deps(), signature, request));
    expect([stale.code, stale.message]).to.deep.equal([
      "request.forbidden",
      "the operator's signature is older than 5 minutes",
    ]);
    expect(audited).to.have.length(1);
  });

  it("refuses a signature by any other key, or over another record, before anything runs", async () => {
    const other = Wallet.createRandom();
    const byOther = await other.signMessage(operatorMessage("erase", logId, request.recordId, request.order, signedAt));
    expect((await failure(eraseWithOperatorSignature(deps(), byOther, request))).code).to.equal("request.forbidden");
    const forAnother = await operator.signMessage(
      operatorMessage("erase", logId, "0x" + "33".repeat(32), request.order, signedAt),
    );
    expect((await failure(eraseWithOperatorSignature(deps(), forAnother, request))).code).to.equal("request.forbidden");
    expect(audited).to.have.length(1);
  });
});
