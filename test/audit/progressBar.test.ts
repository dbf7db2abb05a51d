/** The replay progress bar: drawn on a terminal only, redrawn in place, ended with a newline. */
import { expect } from "chai";
import { progressBar } from "../../server/audit/progressBar.ts";

describe("replay progress bar", () => {
  it("writes nothing when the stream is not a terminal", () => {
    const written: string[] = [];
    const bar = progressBar({ isTTY: false, write: (t: string) => written.push(t) }, "replay");
    bar.update(5, 10);
    bar.update(10, 10);
    bar.finish();
    expect(written).to.deep.equal([]);
  });

  it("draws a bar in place on a terminal and ends the line once", () => {
    const written: string[] = [];
    const bar = progressBar({ isTTY: true, write: (t: string) => written.push(t) }, "replay", 10);
    bar.update(5, 10);
    bar.update(6, 10); // within 100 ms of the last draw: skipped
    bar.update(10, 10); // the last one is always drawn
    bar.finish();
    expect(written).to.have.length(3);
    expect(written[0]).to.match(/^\rreplay \[#####-----\] {2}50% 5\/10 \(\d+\/s\)$/);
    expect(written[1]).to.match(/^\rreplay \[##########\] 100% 10\/10/);
    expect(written[2]).to.equal("\n");
  });
});
