/**
 * The reason codes and problem codes docs/protocol.md lists are exactly those the code can emit:
 * a verifier written from the document must know every verdict the reference verifier gives, and
 * a client every problem a gateway sends.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { errorCatalogue } from "../../server/core/errors.ts";
import { reasonText } from "../../server/core/verifier.ts";
import { section, tableRows } from "./protocolDoc.ts";

describe("docs/protocol.md: reason and problem codes", () => {
  const reasonRows = tableRows(section("### Reason codes"));

  it("lists every reason code the verifier can emit, with its check and its zh-CN and English lines", () => {
    // Every reason verifyEvidence can return is a string literal in its body.
    const source = readFileSync(join(import.meta.dirname, "..", "..", "server", "core", "verifier.ts"), "utf8");
    const body = source.slice(
      source.indexOf("export function verifyEvidence"),
      source.indexOf("export const reasonText"),
    );
    const emitted = new Set([...body.matchAll(/"([a-z]+\.[a-z_]+)"/g)].map((m) => m[1]!));
    expect(emitted.size).to.be.greaterThan(10);
    const documented = reasonRows.map((row) => row[0]!);
    expect(new Set(documented)).to.deep.equal(new Set([...emitted, ...Object.keys(reasonText)]));
    expect(documented).to.have.length(new Set(documented).size);
    for (const [code, , en, zh] of reasonRows) {
      expect(en, code).to.equal(reasonText[code!]!.en);
      expect(zh, code).to.equal(reasonText[code!]!["zh-CN"]);
    }
  });

  it("names the check each reason belongs to as verify --json does", () => {
    const core = (file: string) => readFileSync(join(import.meta.dirname, "..", "..", "server", "core", file), "utf8");
    const checks = new Set([
      // The verifier's checks, and the witnesses' check that verify --witness adds (witnessQuorum.ts).
      ...[...core("verifier.ts").matchAll(/check\(\s*"([a-z]+)"/g)].map((m) => m[1]!),
      ...[...core("witnessQuorum.ts").matchAll(/name: "([a-z]+)" as const/g)].map((m) => m[1]!),
    ]);
    for (const [code, check] of reasonRows) expect(checks, code).to.include(check);
  });

  it("lists every problem code of the error catalogue with its status and title", () => {
    const rows = tableRows(section("## 6. Problem codes"));
    const documented = Object.fromEntries(
      rows.map(([code, status, title]) => [code, { status: Number(status), title }]),
    );
    expect(documented).to.deep.equal(
      Object.fromEntries(
        Object.entries(errorCatalogue).map(([code, e]) => [code, { status: e.status, title: e.title }]),
      ),
    );
  });
});
