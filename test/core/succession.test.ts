import { expect } from "chai";
import type { AnchoredCheckpoint } from "../../server/core/replay.ts";
import { joinSuccession } from "../../server/core/succession.ts";

const checkpoint = (size: number, previousSize: number): AnchoredCheckpoint => ({
  size,
  previousSize,
  root: `0x${size.toString(16).padStart(64, "0")}`,
  blockNumber: size,
  anchoredAt: 1_700_000_000 + size,
});

describe("core/succession", () => {
  it("keeps a sealed log's checkpoints up to the seal and links the successor's first to it", () => {
    const sealed = { logId: "0xaa", size: 5, checkpoints: [checkpoint(2, 0), checkpoint(5, 2), checkpoint(6, 5)] };
    const { checkpoints, afterSeal } = joinSuccession([sealed], [checkpoint(9, 0), checkpoint(12, 9)]);
    expect(checkpoints.map((c) => [c.size, c.previousSize])).to.deep.equal([
      [2, 0],
      [5, 2],
      [9, 5],
      [12, 9],
    ]);
    expect(afterSeal).to.deep.equal([{ ...checkpoint(6, 5), logId: "0xaa" }]);
  });

  it("follows a chain of successions and a seal at size 0", () => {
    const first = { logId: "0x01", size: 0, checkpoints: [checkpoint(3, 0)] };
    const second = { logId: "0x02", size: 4, checkpoints: [checkpoint(4, 0), checkpoint(7, 4)] };
    const { checkpoints, afterSeal, predecessorLogIds } = joinSuccession([first, second], [checkpoint(8, 0)]);
    // Records signed for either sealed log and carried over are the successor's, not findings.
    expect(predecessorLogIds).to.deep.equal(["0x01", "0x02"]);
    expect(checkpoints.map((c) => [c.size, c.previousSize])).to.deep.equal([
      [4, 0],
      [8, 4],
    ]);
    expect(afterSeal.map((c) => [c.logId, c.size])).to.deep.equal([
      ["0x01", 3],
      ["0x02", 7],
    ]);
  });

  it("leaves a log without predecessors as it is", () => {
    const own = [checkpoint(1, 0), checkpoint(4, 1)];
    expect(joinSuccession([], own)).to.deep.equal({ checkpoints: own, afterSeal: [], predecessorLogIds: [] });
  });
});
