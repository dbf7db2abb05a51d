/**
 * The README's CLI examples, run in the order the README gives them against a real gateway
 * (`dutyproof serve`, embedded chain), with the placeholders filled from earlier steps' output
 * as a reader would: `0x…` is the address the last `unit keygen` printed, `0x<recordId>` the
 * record id the last `submit` printed, `dp_…` the token the last `token issue` printed. The
 * production block (an external chain, a stopped gateway for backups) is not run here:
 * test/production/ covers it. A withdrawal (`submit --amends … --kind withdrawal`), which the
 * README describes in words, is run here too.
 */
import { expect } from "chai";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chinaTime } from "../../scripts/cli/time.ts";
import { testPort } from "../helpers/ports.ts";
import { cliPath, startServe } from "../helpers/serve.ts";
import { tempDir } from "../helpers/tempDir.ts";

const readme = readFileSync(join(import.meta.dirname, "..", "..", "README.md"), "utf8");

/** The `npm run dutyproof -- …` commands of the README's shell blocks, in order, comments cut. */
function readmeCommands(): string[] {
  const commands: string[] = [];
  for (const [, block] of readme.matchAll(/```sh\n([\s\S]*?)```/g)) {
    if (/RPC_URL=|ignition deploy/.test(block!)) continue; // the production block
    const joined = block!.replace(/\\\n\s*/g, "");
    for (const raw of joined.split("\n")) {
      const line = raw.trim().replace(/\s{2,}#.*$/, "");
      if (line.startsWith("npm run dutyproof -- ")) commands.push(line.slice("npm run dutyproof -- ".length));
    }
  }
  return commands;
}

const DAY_MS = 86_400_000;
/** The README's dates a command passes on: a record's time, a period's ends (China time). */
const README_DATE = /(--performed-at "|--from |--to )(\d{4})-(\d{2})-(\d{2})/g;

/**
 * The README's commands with every date moved by the same whole number of days when its
 * records would not be taken on `now`: the gateway takes a record performed at most 400 days
 * ago and not in the future, and the README's fixed dates age. Moved together, each period
 * still holds the records it held; the README itself stays as it is.
 */
function readmeCommandsOn(commands: string[], now: number): { commands: string[]; days: number } {
  const performed = commands.flatMap((c) =>
    [...c.matchAll(/--performed-at "(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})"/g)].map(([, y, m, d, hh, mm]) =>
      Date.UTC(+y!, +m! - 1, +d!, +hh! - 8, +mm!),
    ),
  );
  const [earliest, latest] = [Math.min(...performed), Math.max(...performed)];
  // A day's margin at either end: the flow takes minutes, and a demand's period ends before now.
  const fits = latest <= now - DAY_MS && earliest >= now - 390 * DAY_MS;
  const days = fits ? 0 : Math.floor((now - latest) / DAY_MS) - 1;
  const moved = commands.map((c) =>
    c.replace(README_DATE, (_, flag: string, y: string, m: string, d: string) => {
      const date = new Date(Date.UTC(+y, +m - 1, +d) + days * DAY_MS);
      return flag + date.toISOString().slice(0, 10);
    }),
  );
  return { commands: moved, days };
}

describe("the README's dates, whatever the day the flow runs on", () => {
  it("moves every date by the same days only when the README's records would be refused", () => {
    const commands = readmeCommands();
    const performedAt = (c: string[]) =>
      c.flatMap((line) => [...line.matchAll(/--performed-at "([^"]+)"/g)].map((m) => m[1]!));
    for (const now of [Date.UTC(2026, 11, 6), Date.UTC(2027, 8, 30), Date.UTC(2028, 1, 29), Date.UTC(2031, 6, 1)]) {
      const { commands: moved, days } = readmeCommandsOn(commands, now);
      const times = performedAt(moved).map((t) => Date.parse(`${t.replace(" ", "T")}:00+08:00`));
      expect(times.length, "the README's records").to.be.greaterThan(1);
      for (const t of times) expect(t).to.be.within(now - 390 * DAY_MS, now - DAY_MS);
      // Only the dates change, all by the same number of days.
      expect(moved.map((c) => c.replace(README_DATE, "$1…"))).to.deep.equal(
        commands.map((c) => c.replace(README_DATE, "$1…")),
      );
      const dates = (c: string[]) =>
        c.flatMap((line) => [...line.matchAll(README_DATE)].map((m) => Date.UTC(+m[2]!, +m[3]! - 1, +m[4]!)));
      expect(dates(moved).map((t, i) => t - dates(commands)[i]!)).to.satisfy((d: number[]) =>
        d.every((x) => x === days * DAY_MS),
      );
    }
    // Within the window, the README's own dates are kept.
    expect(readmeCommandsOn(commands, Date.UTC(2026, 11, 6)).days).to.equal(0);
  });
});

describe("the README's CLI flow, in order", function () {
  this.timeout(900_000);
  const dir = tempDir("readme");
  const port = testPort("cliThin");
  const url = `http://127.0.0.1:${port}`;
  // TZ=UTC: the dates printed must still be China time.
  const env = {
    ...process.env,
    TZ: "UTC",
    LANG: "",
    DATA_DIR: join(dir.path, "data"),
    PORT: String(port),
    CHAIN_PORT: String(port + 6_000),
    ANCHOR_INTERVAL_MS: "200",
    DUTYPROOF_PASSWORD: "correct horse battery staple",
  };
  let server: ChildProcess;

  /** Runs a README command line through bash, as `npm run dutyproof --` would, in the work dir. */
  const run = (line: string) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn("bash", ["-c", `exec "${process.execPath}" "${cliPath}" ${line}`], { env, cwd: dir.path });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("close", (status) => resolve({ status, stdout, stderr }));
    });

  before(async () => {
    server = await startServe(url, env, { timeoutMs: 120_000 });
  });

  after(async () => {
    server.kill("SIGTERM");
    await new Promise((resolve) => server.once("exit", resolve));
    dir.remove();
  });

  it("gives what the README shows at every step, down to the evidence demand answered from the ledger", async () => {
    const { commands } = readmeCommandsOn(readmeCommands(), Date.now());
    expect(commands.length).to.be.greaterThan(15);
    let address: string | undefined;
    let recordId: string | undefined;
    let token: string | undefined;
    const recordIds: string[] = [];
    const outputs: Array<{ command: string; stdout: string }> = [];
    for (const template of commands) {
      const line = template
        .replaceAll("0x<recordId>", () => recordId ?? "")
        .replaceAll("0x…", () => address ?? "")
        .replaceAll("dp_…", () => token ?? "")
        .replaceAll("http://127.0.0.1:8080", url);
      expect(line, `${template}: a placeholder with no earlier output`).to.not.match(/…|<|>/);
      let result = await run(line);
      // "pending; a few seconds later, anchored": a reader runs `receipt` again until it is.
      for (let i = 0; line.startsWith("receipt ") && i < 100; i++) {
        const out = line.match(/--out (\S+)/)![1]!;
        if ((JSON.parse(readFileSync(join(dir.path, out), "utf8")) as { status: string }).status === "anchored") break;
        await new Promise((r) => setTimeout(r, 200));
        result = await run(line);
      }
      expect(result.status, `${line}\n${result.stderr}`).to.equal(0);
      expect(result.stderr, line).to.equal("");
      outputs.push({ command: template, stdout: result.stdout });
      address = result.stdout.match(/^new key (0x[0-9a-fA-F]{40}) written to /)?.[1] ?? address;
      const submitted = result.stdout.match(/record (0x[0-9a-f]{64}) accepted at leaf \d+/)?.[1];
      if (submitted) recordIds.push((recordId = submitted));
      if (line.startsWith("token issue ")) token = result.stdout.trim().split("\n").at(-1);
    }
    const out = (prefix: string) => outputs.filter((o) => o.command.startsWith(prefix)).map((o) => o.stdout);

    const [original, correction, check] = recordIds;
    expect(recordIds).to.have.length(3);
    // The township's signer came from the first keygen's output, and registering worked.
    expect(out("unit register qingshui ")[0]).to.match(/^unit qingshui registered as 0x[0-9a-f]{64}\n$/);
    const [receiptOnly, byHash] = out("verify ");
    expect(receiptOnly).to.match(new RegExp(`^有效：记录 ${original}\\n`));
    const verdict = JSON.parse(byHash!) as { valid: boolean; anchoredAt: number };
    expect(verdict.valid).to.equal(true);
    // Dates in China time, though this process and the CLI run with TZ=UTC.
    expect(receiptOnly).to.include(`已于 ${chinaTime(verdict.anchoredAt)} 锚定`);
    expect(chinaTime(verdict.anchoredAt)).to.match(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+08:00$/);
    expect(out("export ")[0]).to.equal("1 anchored records written to qingshui-1-2026H2.json\n");
    expect(out("verify qingshui-1-2026H2.json")[0]).to.match(/^有效：导出包中 1 条记录全部核验通过/);
    for (const replay of out("replay ")) expect(replay).to.match(/^clean: /);
    expect(out("submit ")[1]).to.match(new RegExp(`^correction of ${original}: record ${correction} accepted`));
    const told = (await (await fetch(`${url}/v1/attestations/${original}/receipt`)).json()) as {
      supersededBy?: { recordId: string };
    };
    expect(told.supersededBy?.recordId).to.equal(correction);
    expect(out("erase ")[0]).to.match(
      new RegExp(`^record ${correction}: .* erased at \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} \\+08:00 under order`),
    );
    expect(out("inspector register ")[0]).to.match(/^inspector 0x[0-9a-fA-F]{40} registered\n$/);
    const demand = out("demand create ")[0]!;
    expect(demand).to.match(/^demand 0x[0-9a-f]{64}: answered_from_ledger — /);
    expect(demand).to.include("evidence: 1 anchored record(s), written to evidence.json");
    const evidence = JSON.parse(readFileSync(join(dir.path, "evidence.json"), "utf8")) as {
      items: Array<{ receipt: { recordId: string } }>;
    };
    expect(evidence.items.map((i) => i.receipt.recordId)).to.deep.equal([check]);
    expect(out("verify evidence.json")[0]).to.match(/^有效：导出包中 1 条记录全部核验通过/);
  });

  it("withdraws a record with submit --amends … --kind withdrawal, and refuses half an amendment", async () => {
    const keygen = await run("unit keygen --out withdrawing.json");
    expect(keygen.status, keygen.stderr).to.equal(0);
    expect((await run("unit register wd-1 --level 3 --keystore withdrawing.json")).status).to.equal(0);
    const unit = "--keystore withdrawing.json --unit wd-1";
    const fields = `'{"gridCode":"WD-01","durationMinutes":30,"issuesFound":0,"gridWorker":"钱某"}'`;
    const first = await run(`submit ${unit} --duty-type grid-patrol --fields ${fields} --out first.json`);
    expect(first.status, first.stderr).to.equal(0);
    const recordId = first.stdout.match(/record (0x[0-9a-f]{64}) accepted/)![1]!;
    const withdrawal = await run(
      `submit ${unit} --amends ${recordId} --kind withdrawal --reason 重复录入 --out withdrawal.json`,
    );
    expect(withdrawal.status, withdrawal.stderr).to.equal(0);
    const withdrawalId = withdrawal.stdout.match(
      new RegExp(`^withdrawal of ${recordId}: record (0x[0-9a-f]{64}) `),
    )![1];
    const written = JSON.parse(readFileSync(join(dir.path, "withdrawal.json"), "utf8")) as {
      envelope: { fields: object; amends: object };
    };
    expect(written.envelope.fields).to.deep.equal({});
    expect(written.envelope.amends).to.deep.equal({ recordId, kind: "withdrawal", reason: "重复录入" });
    const told = (await (await fetch(`${url}/v1/attestations/${recordId}/receipt`)).json()) as {
      withdrawnBy?: { recordId: string };
    };
    expect(told.withdrawnBy?.recordId).to.equal(withdrawalId);
    // Half an amendment is a usage error before anything is signed.
    const half = await run(`submit ${unit} --duty-type grid-patrol --fields ${fields} --kind withdrawal`);
    expect([half.status, half.stderr]).to.deep.equal([
      2,
      "dutyproof: --kind and --reason go with --amends RECORD_ID\n",
    ]);
    const badKind = await run(`submit ${unit} --amends ${recordId} --kind erasure --reason x`);
    expect([badKind.status, badKind.stderr]).to.deep.equal([2, "dutyproof: --kind must be correction or withdrawal\n"]);
  });
});
