/**
 * Runs each `it` of the given mocha test files on its own (`hardhat test mocha FILE --grep`), to
 * show that no test relies on what another test left behind (issue 19): a test that passes in
 * its suite but fails alone depends on another's side effects. Each run keeps the file's
 * `before` hooks, so shared fixtures still come from there.
 *
 *   node scripts/check-test-independence.ts test/production/backup.test.ts [more files]
 *
 * Titles are read from the source: string literals as they are, a template literal's `${…}` as
 * "anything". Exit 0 when every run passes, 1 otherwise, 2 on usage errors. Contracts and the
 * console are not rebuilt here (`--no-compile`): build them first, as `npm test` does.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(import.meta.dirname, "..");
const hardhat = join(root, "node_modules", ".bin", "hardhat");

/** The titles of the `it(…)` calls of a test file's source, as regular expressions for --grep. */
export function testTitles(source: string): string[] {
  const titles: string[] = [];
  for (const match of source.matchAll(/^\s*it\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|`((?:[^`\\]|\\.)*)`)/gm)) {
    const [, double, single, template] = match;
    const text = double ?? single ?? template!;
    const escaped = JSON.parse(`"${text.replaceAll('\\"', '"').replaceAll('"', '\\"')}"`) as string;
    const parts = template === undefined ? [escaped] : escaped.split(/\$\{[^}]*\}/);
    titles.push(parts.map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join(".*") + "$");
  }
  return titles;
}

interface Run {
  passing: number;
  failing: number;
  status: number | null;
  output: string;
}

function mocha(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(hardhat, ["test", "mocha", "--no-compile", ...args], { cwd: root, env });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("close", (status) => {
      const count = (word: string) => Number(new RegExp(`(\\d+) ${word}`).exec(output)?.[1] ?? 0);
      resolve({ passing: count("passing"), failing: count("failing"), status, output });
    });
  });
}

async function main(argv: string[]): Promise<number> {
  const files = argv;
  if (files.length === 0 || files.some((f) => f.startsWith("-"))) {
    process.stderr.write("usage: node scripts/check-test-independence.ts TEST_FILE...\n");
    return 2;
  }
  const missing = files.find((f) => !existsSync(join(root, f)));
  if (missing) {
    process.stderr.write(`check-test-independence: ${missing} does not exist\n`);
    return 2;
  }
  let failed = 0;
  for (const file of files) {
    const titles = testTitles(readFileSync(join(root, file), "utf8"));
    for (const title of titles) {
      const started = Date.now();
      const run = await mocha([file, "--grep", title]);
      const ok = run.status === 0 && run.failing === 0 && run.passing >= 1;
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      process.stdout.write(
        `${ok ? "ok  " : "FAIL"} ${file} alone: /${title}/ (${run.passing} passing, ${seconds} s)\n`,
      );
      if (!ok) {
        failed++;
        process.stdout.write(run.output.replace(/^/gm, "    | ") + "\n");
      }
    }
  }
  return failed === 0 ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}
