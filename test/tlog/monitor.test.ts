import { expect } from "chai";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatVerifierKey, noteSigner } from "../../server/core/note.ts";
import { type MonitorFileState, monitorOnce } from "../../server/audit/monitorLog.ts";
import { testPort } from "../helpers/ports.ts";
import { cliPath } from "../helpers/serve.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { ORIGIN, StaticLog, recordLeaf } from "./staticLog.ts";
import { sleep } from "../helpers/gatewayFixture.ts";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  findings: Array<{ kind: string; leafIndex?: number; checkpointSize?: number; detail: string }>;
}

/** Runs the CLI as a child process (asynchronously: the log it reads is served by this process). */
function runMonitor(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, "monitor", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const findings = stdout
        .split("\n")
        .filter((l) => l.includes('"finding"'))
        .map((l) => (JSON.parse(l) as { finding: Run["findings"][number] }).finding);
      resolve({ code, stdout, stderr, findings });
    });
  });
}

const at = (run: Run) => run.findings.map((f) => `${f.kind}@${f.leafIndex ?? f.checkpointSize}`);

describe("dutyproof monitor against a C2SP log (attacks reported at their leaf)", function () {
  this.timeout(60_000);
  let log: StaticLog;
  let url: string;
  let dir: ReturnType<typeof tempDir>;
  let state: string;

  beforeEach(async () => {
    log = new StaticLog(ORIGIN, 2);
    url = await log.listen(testPort("monitor"));
    dir = tempDir("monitor");
    state = join(dir.path, "state.json");
  });
  afterEach(async () => {
    await log.close();
    dir.remove();
  });

  let saved: MonitorFileState | null;
  beforeEach(() => (saved = null));
  /** One pass in this process (the CLI is the same call plus a state file): state kept if clean. */
  const pass = async (quorum?: number) => {
    const result = await monitorOnce(
      { gatewayUrl: url, witnesses: log.witnesses, quorum: quorum ?? log.witnesses.length },
      saved,
    );
    if (result.findings.length === 0) saved = result.state;
    return result;
  };
  const kinds = (result: Awaited<ReturnType<typeof pass>>) =>
    result.findings.map((f) => `${f.kind}@${f.leafIndex ?? f.checkpointSize}`);

  const witnessArgs = () => log.witnesses.flatMap((w) => ["--witness", formatVerifierKey(w)]);
  const once = (...extra: string[]) =>
    runMonitor(["--state", state, "--gateway", url, "--once", ...witnessArgs(), ...extra]);

  it("follows the log and reads only the bundles of the new range", async () => {
    log.append(600);
    const first = await once();
    expect(first.code, first.stderr).to.equal(0);
    expect(JSON.parse(readFileSync(state, "utf8")).tree.size).to.equal(600);
    log.requests.length = 0;
    log.append(10);
    const second = await once();
    expect(second.code, second.stderr).to.equal(0);
    // Only the bundle holding leaves 512..609; no hash tile was needed.
    expect(log.requests).to.deep.equal(["/tlog/tile/entries/002.p/98"]);
    expect(JSON.parse(readFileSync(state, "utf8")).tree.size).to.equal(610);
  });

  it("reports a record dropped from the served entries at its leaf, and keeps its state", async () => {
    log.append(300);
    // A first pass with a finding pins the log's key and verifies nothing.
    log.served = log.entries.filter((_, i) => i !== 5);
    const firstRun = await once();
    expect(firstRun.code).to.equal(1);
    expect(at(firstRun)).to.deep.equal(["entry.dropped@5"]);
    const pinned = JSON.parse(readFileSync(state, "utf8")) as { logKey: string; tree: { size: number } };
    expect(pinned.logKey).to.equal(formatVerifierKey(log.signer));
    expect(pinned.tree.size).to.equal(0);
    log.served = null;
    expect((await once()).code).to.equal(0);
    const before = readFileSync(state, "utf8");
    log.append(40);
    log.served = log.entries.filter((_, i) => i !== 317);
    const run = await once();
    expect(run.code).to.equal(1);
    expect(at(run)).to.deep.equal(["entry.dropped@317"]);
    expect(readFileSync(state, "utf8")).to.equal(before);
  });

  it("reports reordered entries at their leaves", async () => {
    log.append(300);
    expect(kinds(await pass())).to.deep.equal([]);
    log.append(40);
    const served = [...log.entries];
    [served[320], served[321]] = [served[321]!, served[320]!];
    log.served = served;
    expect(kinds(await pass())).to.deep.equal(["entry.reordered@320", "entry.reordered@321"]);
  });

  it("reports a foreign entry at the leaf where it was slipped in", async () => {
    log.append(300);
    expect(kinds(await pass())).to.deep.equal([]);
    log.append(40);
    const served = [...log.entries];
    served.splice(310, 0, recordLeaf(99_999));
    log.served = served;
    expect(kinds(await pass())).to.deep.equal(["entry.foreign@310"]);
  });

  it("reports a log that re-signs its history without a verified leaf", async () => {
    log.append(300);
    expect(kinds(await pass())).to.deep.equal([]);
    log.rewrite([...log.entries.filter((_, i) => i !== 100), recordLeaf(5000), recordLeaf(5001)]);
    expect(kinds(await pass())).to.deep.equal(["checkpoint.not_extending@300"]);
  });

  it("reports a smaller tree and a second root for a verified size", async () => {
    log.append(50);
    expect(kinds(await pass())).to.deep.equal([]);
    log.rewrite(log.entries.slice(0, 40));
    expect(kinds(await pass())).to.deep.equal(["checkpoint.size_rollback@40"]);
    log.rewrite([...log.entries, ...Array.from({ length: 10 }, (_, i) => recordLeaf(7000 + i))]);
    expect(kinds(await pass())).to.deep.equal(["checkpoint.fork@50"]);
  });

  it("reports a changed log key and a checkpoint the pinned key did not sign", async () => {
    log.append(5);
    expect(kinds(await pass())).to.deep.equal([]);
    log.signer = noteSigner(ORIGIN, 1, new Uint8Array(32).fill(9));
    log.append(5);
    const result = await pass();
    expect(result.findings.map((f) => f.kind)).to.deep.equal(["log.key_changed", "checkpoint.bad_signature"]);
  });

  it("waits for a log's first checkpoint, and reports one that vanishes after it was verified", async () => {
    log.withoutCheckpoint = true;
    const first = await pass();
    expect(kinds(first)).to.deep.equal([]);
    expect(first.state.tree.size).to.equal(0);
    log.withoutCheckpoint = false;
    log.append(5);
    expect(kinds(await pass())).to.deep.equal([]);
    log.withoutCheckpoint = true;
    expect((await pass()).findings.map((f) => f.kind)).to.deep.equal(["log.unreadable"]);
  });

  it("reports a checkpoint without the quorum of cosignatures", async () => {
    log.append(5);
    log.cosigning = [log.witnesses[0]!];
    expect(kinds(await pass())).to.deep.equal(["checkpoint.quorum_not_met@5"]);
    expect((await once("--quorum", "1")).code).to.equal(0);
  });

  it("refuses a state file of another log, and bad usage, with one line", async () => {
    log.append(5);
    expect(kinds(await pass())).to.deep.equal([]);
    const other = ORIGIN.replace(/33$/, "44");
    writeFileSync(state, JSON.stringify({ ...saved!, origin: other, tree: { ...saved!.tree, origin: other } }));
    const run = await once();
    expect(run.code).to.equal(1);
    expect(run.stderr.trim().split("\n")).to.have.length(1);
    expect(run.stderr).to.match(/^dutyproof: monitor: the state file follows log .*44, this gateway serves .*33/);
    const usage = await runMonitor(["--gateway", url, "--once"]);
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.equal("dutyproof: monitor: give --state FILE\n");
    writeFileSync(state, "{not json");
    const garbled = await once();
    expect(garbled.code).to.equal(1);
    expect(garbled.stderr).to.match(/^dutyproof: monitor: .*state.json: the state file is not a monitor's state/);
  });

  it("keeps running and reports a finding as a log line, a metric and a webhook POST", async () => {
    log.append(20);
    const posts: string[] = [];
    const hook = createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        posts.push(body);
        res.writeHead(204).end();
      });
    });
    const hookPort = testPort("monitor");
    await new Promise<void>((resolve) => hook.listen(hookPort, "127.0.0.1", resolve));
    const metricsPort = testPort("monitor");
    const child = spawn(
      process.execPath,
      [cliPath, "monitor", "--state", state, "--gateway", url, ...witnessArgs(), "--interval", "0.5"].concat([
        "--webhook",
        `http://127.0.0.1:${hookPort}/`,
        "--metrics-port",
        String(metricsPort),
      ]),
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const until = async (what: () => boolean | Promise<boolean>) => {
      for (let i = 0; i < 600 && !(await what()); i++) await sleep(100);
    };
    try {
      await until(() => existsSync(state) && JSON.parse(readFileSync(state, "utf8")).tree.size === 20);
      log.append(10);
      log.served = log.entries.filter((_, i) => i !== 25);
      await until(() => posts.length > 0);
      const posted = JSON.parse(posts[0]!) as { origin: string; verifiedSize: number; findings: Run["findings"] };
      expect(posted.origin).to.equal(ORIGIN);
      expect(posted.verifiedSize).to.equal(20);
      expect(posted.findings.map((f) => `${f.kind}@${f.leafIndex}`)).to.deep.equal(["entry.dropped@25"]);
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(metrics).to.match(/dutyproof_monitor_findings_total\{kind="entry.dropped"\} [1-9]/);
      expect(metrics).to.match(/dutyproof_monitor_verified_size 20\n/);
      expect(stdout).to.include('"msg":"monitor finding: entry.dropped"');
    } finally {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
      hook.close();
    }
    expect(child.exitCode).to.equal(0);
  });

  it("exits 3 when the gateway does not answer", async () => {
    const run = await runMonitor(["--state", state, "--gateway", "http://127.0.0.1:1", "--once"]);
    expect(run.code).to.equal(3);
    expect(run.stderr).to.match(/^dutyproof: monitor: the gateway at http:\/\/127.0.0.1:1 does not answer\n$/);
  });
});
