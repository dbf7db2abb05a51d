/**
 * The administrative audit log: entries chain by hash, and any change to the file short of
 * cutting entries off its end is found, at its entry, by the same check `dutyproof audit-log
 * verify` runs.
 */
import { expect } from "chai";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { genesisHash, verifyAuditEntries } from "../../server/core/auditChain.ts";
import { appendAuditEntry, auditLogPath, readAuditLog, verifyAuditLog } from "../../server/observability/AuditLog.ts";
import { runCli } from "../helpers/externalChain.ts";
import { tempDir } from "../helpers/tempDir.ts";

describe("administrative audit log", function () {
  this.timeout(60_000);
  const dir = tempDir("audit-log");
  const path = auditLogPath(dir.path);
  before(() => mkdirSync(join(dir.path, "audit")));
  after(() => dir.remove());

  const fill = () => {
    writeFileSync(path, "");
    appendAuditEntry(path, { action: "unit.register", target: { unit: "qingshui-1" }, outcome: "ok" });
    appendAuditEntry(path, { action: "key.rotate", target: { unit: "qingshui-1" }, outcome: "failed", detail: "x" });
    appendAuditEntry(path, { action: "token.issue", target: { scope: "auditor" }, outcome: "ok" });
  };
  const lines = () => readFileSync(path, "utf8").trimEnd().split("\n");

  it("chains every entry to the one before it, from a genesis of zeros", () => {
    fill();
    const entries = readAuditLog(path) as Array<{ seq: number; prev: string; hash: string; actor: { user: string } }>;
    expect(entries.map((e) => e.seq)).to.deep.equal([0, 1, 2]);
    expect(entries[0]!.prev).to.equal(genesisHash);
    expect(entries[1]!.prev).to.equal(entries[0]!.hash);
    expect(entries[2]!.prev).to.equal(entries[1]!.hash);
    expect(entries[0]!.actor.user).to.be.a("string").and.not.equal("");
    expect(verifyAuditLog(path)).to.deep.equal({ ok: true, entries: 3, head: entries[2]!.hash });
  });

  it("finds an altered entry at its position", () => {
    fill();
    const altered = lines();
    altered[1] = altered[1]!.replace('"failed"', '"ok"');
    writeFileSync(path, altered.join("\n") + "\n");
    expect(verifyAuditLog(path).problem).to.deep.equal({
      index: 1,
      reason: "content does not match its hash (altered)",
    });
  });

  it("finds a removed and a reordered entry", () => {
    fill();
    const [first, second, third] = lines();
    writeFileSync(path, [first, third].join("\n") + "\n");
    expect(verifyAuditLog(path).problem?.index).to.equal(1);
    writeFileSync(path, [second, first, third].join("\n") + "\n");
    expect(verifyAuditLog(path).problem).to.deep.equal({ index: 0, reason: "sequence number 1, expected 0" });
  });

  it("finds a line that is not an entry", () => {
    expect(verifyAuditEntries([null]).problem).to.deep.equal({ index: 0, reason: "not an audit entry" });
  });

  it("records token issuance without the token, and the CLI verifies the chain", async () => {
    writeFileSync(path, "");
    const env = { ...process.env, DATA_DIR: dir.path };
    const issued = await runCli(["token", "issue", "--scope", "auditor", "--label", "audit bureau"], env);
    expect(issued.status, issued.stderr).to.equal(0);
    const token = issued.stdout.trim().split("\n").at(-1)!;
    expect(readFileSync(path, "utf8")).not.to.contain(token);
    const [entry] = readAuditLog(path) as Array<{ action: string; target: unknown; outcome: string }>;
    expect(entry).to.include({ action: "token.issue", outcome: "ok" });
    expect(entry!.target).to.deep.equal({ scope: "auditor", label: "audit bureau" });

    const good = await runCli(["audit-log", "verify"], env);
    expect([good.status, good.stdout]).to.deep.equal([0, `intact: 1 entries, head ${verifyAuditLog(path).head}\n`]);
    writeFileSync(path, readFileSync(path, "utf8").replace("audit bureau", "someone else"));
    const bad = await runCli(["audit-log", "verify"], env);
    expect([bad.status, bad.stdout]).to.deep.equal([
      1,
      "BROKEN at entry 0: content does not match its hash (altered)\n",
    ]);
  });

  it("keeps appends whole when two processes write at once", async () => {
    writeFileSync(path, "");
    const env = { ...process.env, DATA_DIR: dir.path };
    const runs = await Promise.all(
      [1, 2, 3, 4].map((i) =>
        runCli(["token", "issue", "--scope", "inspector:civil-affairs", "--label", `desk ${i}`], env),
      ),
    );
    expect(
      runs.map((r) => r.status),
      runs.map((r) => r.stderr).join(""),
    ).to.deep.equal([0, 0, 0, 0]);
    expect(verifyAuditLog(path)).to.include({ ok: true, entries: 4 });
    // The token file, too, keeps all four (it is read and replaced under its own lock).
    const tokens = JSON.parse(readFileSync(join(dir.path, "tokens.json"), "utf8")) as Array<{ label: string }>;
    const desks = tokens.map((t) => t.label).filter((label) => label.startsWith("desk"));
    expect(desks.sort()).to.deep.equal(["desk 1", "desk 2", "desk 3", "desk 4"]);
    expect(join(dir.path, "audit", "admin.log")).to.equal(path);
  });
});
