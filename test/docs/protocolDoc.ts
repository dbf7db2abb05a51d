/**
 * Reads docs/protocol.md the way the tests of test/docs need it: its sections, the rows of its
 * tables and its fenced blocks, so that each test checks what the document says, not a copy.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The text of docs/protocol.md. */
export const protocolText = readFileSync(join(import.meta.dirname, "..", "..", "docs", "protocol.md"), "utf8");

/** The section that starts at the heading line `heading` and ends at the next heading of its level or above. */
export function section(heading: string, text = protocolText): string {
  const lines = text.split("\n");
  const start = lines.indexOf(heading);
  if (start === -1) throw new Error(`docs/protocol.md has no heading "${heading}"`);
  const level = heading.match(/^#+/)![0].length;
  const end = lines.findIndex((line, i) => i > start && /^#+ /.test(line) && line.match(/^#+/)![0].length <= level);
  return lines.slice(start, end === -1 ? undefined : end).join("\n");
}

/** The cells of every table row in `text` whose first cell is a code span, the code spans unwrapped. */
export function tableRows(text: string): string[][] {
  return text
    .split("\n")
    .filter((line) => /^\| `/.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim().replace(/^`(.*)`$/, "$1")),
    );
}

/** The lines of the first fenced block after the line `marker`. */
export function blockAfter(marker: string, text = protocolText): string[] {
  const at = text.indexOf(marker);
  if (at === -1) throw new Error(`docs/protocol.md has no "${marker}"`);
  const open = text.indexOf("```", at);
  const bodyStart = text.indexOf("\n", open) + 1;
  const close = text.indexOf("\n```", bodyStart);
  return text.slice(bodyStart, close).split("\n");
}
