/**
 * Every command and subcommand of the CLI declares its help and refuses unknown flags; times are
 * read and printed in China time whatever the machine's zone; the gateway client turns problem
 * documents into typed refusals. In process: the declarations are what is under test.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { commands } from "../../scripts/cli/commands.ts";
import type { Command } from "../../scripts/cli/command.ts";
import { GatewayRefusal, HelpRequested, UsageError, exitCodes } from "../../scripts/cli/errors.ts";
import { chinaDate, chinaTime, parseTime } from "../../scripts/cli/time.ts";
import { cliPath } from "../helpers/serve.ts";

/** Every runnable command: groups are walked down to their subcommands. */
const leaves = (list: Command[]): Command[] => list.flatMap((c) => (c.subcommands ? leaves(c.subcommands) : [c]));

async function thrown(run: () => Promise<void>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("dutyproof commands", () => {
  it("gives every command and subcommand a --help with usage, flags and an example", async () => {
    const all = [...commands, ...leaves(commands)];
    expect(leaves(commands).length).to.be.greaterThan(30);
    for (const c of all) {
      const help = await thrown(() => c.run(["--help"]));
      expect(help, c.name).to.be.instanceOf(HelpRequested);
      const text = (help as HelpRequested).text;
      expect(text, c.name).to.match(new RegExp(`^usage: dutyproof ${c.name}`));
      if (!c.subcommands) {
        expect(text, c.name).to.match(/\nflags:\n(.|\n)*--help {2,}this help/);
        expect(text, c.name).to.match(new RegExp(`\\nexample:\\n {2}dutyproof ${c.name}[ \\n]`));
      } else for (const sub of c.subcommands) expect(text, c.name).to.include(`  ${sub.word} `);
    }
  });

  it("refuses an unknown flag of any command with one line and exit 2, before doing anything", async () => {
    for (const c of leaves(commands)) {
      const error = await thrown(() => c.run(["--no-such-flag"]));
      expect(error, c.name).to.be.instanceOf(UsageError);
      expect((error as UsageError).exitCode).to.equal(exitCodes.usage);
      expect((error as UsageError).message, c.name).to.equal(
        `${c.name}: Unknown option '--no-such-flag' (dutyproof ${c.name} --help)`,
      );
    }
    const group = await thrown(() => commands.find((c) => c.word === "unit")!.run(["frobnicate"]));
    expect((group as UsageError).exitCode).to.equal(exitCodes.usage);
  });

  it("prints times in UTC+8 and reads dates as China time, whatever the machine's zone", () => {
    // 1_796_540_645 is 2026-12-06T07:04:05Z: date -u -d @1796540645
    expect(chinaTime(1_796_540_645)).to.equal("2026-12-06 15:04:05 +08:00");
    // 2026-12-06T16:00:00Z is already the next day in China.
    expect(chinaTime(1_796_572_800)).to.equal("2026-12-07 00:00:00 +08:00");
    expect([chinaDate(1_796_572_799), chinaDate(1_796_572_800)]).to.deep.equal(["2026-12-06", "2026-12-07"]);
    expect(parseTime("from", "2026-12-06 15:04:05")).to.equal(1_796_540_645);
    expect(parseTime("from", "2026-12-06 15:04")).to.equal(1_796_540_640);
    expect(parseTime("from", "2026-12-06T07:04:05Z")).to.equal(1_796_540_645);
    expect(parseTime("from", "2026-12-06T07:04:05.999Z")).to.equal(1_796_540_645);
    expect(parseTime("from", "2026-12-06 15:04:05+08:00")).to.equal(1_796_540_645);
    expect(parseTime("from", "2026-12-06")).to.equal(1_796_486_400); // 2026-12-05T16:00:00Z
    expect(parseTime("from", "1796540645")).to.equal(1_796_540_645);
    for (const bad of ["yesterday", "2026-13-45", "2026-12-06 25:00", ""])
      expect(() => parseTime("from", bad), bad).to.throw(UsageError, /--from must be a date/);
  });

  it("types a problem document from the gateway by its status: 503 is unreachable, 4xx refused", () => {
    const refused = new GatewayRefusal({
      status: 422,
      code: "record.invalid_fields",
      detail: "fields do not match",
      errors: [{ path: "envelope.fields.gridCode", message: "must be a string" }],
    });
    expect([refused.exitCode, refused.message]).to.deep.equal([
      exitCodes.failed,
      "refused (422 record.invalid_fields): fields do not match — envelope.fields.gridCode: must be a string",
    ]);
    expect(new GatewayRefusal({ status: 503, code: "chain.unreachable" }).exitCode).to.equal(exitCodes.unreachable);
  });

  it("prints the exit codes in dutyproof --help, and refuses an unknown command with exit 2 in one line", () => {
    const env = { ...process.env, TZ: "UTC" };
    const help = spawnSync(process.execPath, [cliPath, "--help"], { env, encoding: "utf8" });
    expect(help.status).to.equal(0);
    expect(help.stdout).to.match(/exit codes:\n {2}0 .*\n {2}1 .*\n {2}2 .*usage.*\n {2}3 .*does not answer/);
    const unknown = spawnSync(process.execPath, [cliPath, "verify", "--frobnicate"], { env, encoding: "utf8" });
    expect([unknown.status, unknown.stdout, unknown.stderr]).to.deep.equal([
      2,
      "",
      "dutyproof: verify: Unknown option '--frobnicate' (dutyproof verify --help)\n",
    ]);
  });
});
