import { expect } from "chai";
import { MAX_BODY_DEPTH, bodyShapeFaults } from "../../server/core/bodyShape.ts";

describe("body shape checks (pure)", () => {
  it("passes the shapes dutyproof requests have", () => {
    const submission = {
      envelope: { version: 1, fields: { a: "x", b: 1 }, amends: { recordId: "0x", kind: "correction", reason: "r" } },
      signature: "0x",
    };
    expect(bodyShapeFaults(submission)).to.deep.equal([]);
    expect(bodyShapeFaults({ items: [submission, submission] })).to.deep.equal([]);
    expect(bodyShapeFaults(null)).to.deep.equal([]);
  });

  it("names every __proto__, constructor and prototype key by its path", () => {
    const body = JSON.parse(
      '{"__proto__":{"x":1},"envelope":{"fields":{"constructor":1,"ok":2}},"items":[{"prototype":0}]}',
    );
    expect(
      bodyShapeFaults(body)
        .map((f) => f.path)
        .sort(),
    ).to.deep.equal(["__proto__", "envelope.fields.constructor", "items.0.prototype"]);
  });

  it(`refuses nesting deeper than ${MAX_BODY_DEPTH} levels without descending further`, () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const faults = bodyShapeFaults({ a: deep });
    expect(faults).to.have.length(1);
    expect(faults[0]!.message).to.match(/nested deeper than 16/);
    let ok: unknown = 1;
    for (let i = 0; i < MAX_BODY_DEPTH; i++) ok = [ok];
    expect(bodyShapeFaults(ok)).to.deep.equal([]);
    expect(bodyShapeFaults([ok])).to.have.length(1);
  });
});
