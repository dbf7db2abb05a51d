/**
 * The ABI docs/protocol.md §2 gives a verifier is the compiled IDutyLedger's, type for type, and
 * its topic0 table is computed from it: a third party who copies the document builds event
 * filters that match the contract's events.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type EventFragment, Fragment, Interface, id } from "ethers";
import { blockAfter, section, tableRows } from "./protocolDoc.ts";

describe("docs/protocol.md: the contract's ABI and event topics", () => {
  const compiled = new Interface(
    JSON.parse(
      readFileSync(
        join(
          import.meta.dirname,
          "..",
          "..",
          "artifacts",
          "contracts",
          "interfaces",
          "IDutyLedger.sol",
          "IDutyLedger.json",
        ),
        "utf8",
      ),
    ).abi,
  );
  const documented = blockAfter("<!-- abi: IDutyLedger -->").map((line) => Fragment.from(line));

  it("gives every function and event of IDutyLedger with the compiled types, names and mutability", () => {
    const full = (f: Fragment) => f.format("full");
    const wanted = compiled.fragments.filter((f) => f.type === "function" || f.type === "event").map(full);
    expect(documented.map(full).sort()).to.deep.equal(wanted.sort());
  });

  it("gives each event's topic0 as keccak256 of its canonical signature", () => {
    const rows = tableRows(section("### The ABI"));
    const events = documented.filter((f): f is EventFragment => f.type === "event");
    expect(rows.map(([name]) => name).sort()).to.deep.equal(events.map((e) => e.name).sort());
    for (const [name, topic] of rows) {
      expect(topic, name).to.equal(compiled.getEvent(name!)!.topicHash);
      expect(topic, name).to.equal(id(compiled.getEvent(name!)!.format("sighash")));
    }
  });

  it("spells out CheckpointAnchored's canonical signature with its uint64 widths", () => {
    expect(section("### The ABI")).to.include('`keccak256("CheckpointAnchored(bytes32,uint64,bytes32,uint64)")`');
  });
});
