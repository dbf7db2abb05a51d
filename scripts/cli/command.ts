/**
 * Commands declared once: name, usage, flags with their help, one example. Parsing, `--help`
 * and the refusal of unknown flags (a one-line usage error, exit 2) derive from the declaration.
 */
import { parseArgs } from "node:util";
import { HelpRequested, UsageError } from "./errors.ts";

/** One flag: a value (`--out FILE`) or a switch (`--json`). */
export interface FlagSpec {
  /** Placeholder of the value, e.g. "FILE"; absent for a switch. */
  value?: string;
  help: string;
  /** The flag may be given more than once (its values in `Parsed.lists`). */
  multiple?: boolean;
}

export interface CommandSpec {
  /** The words after `dutyproof`, e.g. "unit register". */
  name: string;
  summary: string;
  /** What follows the name in the usage line. */
  usage: string;
  flags?: Record<string, FlagSpec>;
  /** How many positional arguments the command takes at most (default 0). */
  maxPositionals?: number;
  example: string;
  /** Further lines for the help text (exit codes, environment). */
  notes?: string[];
}

/** Parsed arguments: flag values, switches set, positionals. */
export interface Parsed {
  values: Record<string, string | undefined>;
  switches: Set<string>;
  positionals: string[];
  /** The values of flags given more than once (`multiple`), in order; [] when absent. */
  lists: Record<string, string[]>;
}

export interface Command {
  /** The last word of the name: what selects it in its group. */
  word: string;
  name: string;
  summary: string;
  help(): string;
  run(args: string[]): Promise<void>;
  /** A group's subcommands. */
  subcommands?: Command[];
}

const wantsHelp = (args: string[]) => args.includes("--help") || args.includes("-h");

function helpOf(spec: CommandSpec): string {
  const flags = Object.entries(spec.flags ?? {}).map(([name, f]) => [
    `--${name}${f.value ? ` ${f.value}` : ""}`,
    f.help,
  ]);
  flags.push(["--help", "this help"]);
  const width = Math.max(...flags.map(([left]) => left!.length));
  return [
    `usage: dutyproof ${spec.name}${spec.usage ? ` ${spec.usage}` : ""}`,
    "",
    `  ${spec.summary}`,
    "",
    "flags:",
    ...flags.map(([left, help]) => `  ${left!.padEnd(width)}  ${help}`),
    ...(spec.notes?.length ? ["", ...spec.notes] : []),
    "",
    "example:",
    `  ${spec.example}`,
    "",
  ].join("\n");
}

/** Parses `args` against `spec`; `--help` anywhere shows the help instead. */
export function parse(spec: CommandSpec, args: string[]): Parsed {
  if (wantsHelp(args)) throw new HelpRequested(helpOf(spec));
  const options = Object.fromEntries(
    Object.entries(spec.flags ?? {}).map(([name, f]) => [
      name,
      { type: f.value ? ("string" as const) : ("boolean" as const), ...(f.multiple ? { multiple: true } : {}) },
    ]),
  );
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    // node's message for an unknown flag goes on to explain `--`; its first sentence is enough.
    const first = (error as Error).message.split(/\.\s/)[0]!.replace(/\.$/, "");
    throw new UsageError(`${spec.name}: ${first} (dutyproof ${spec.name} --help)`);
  }
  const extra = parsed.positionals.slice(spec.maxPositionals ?? 0);
  if (extra.length > 0)
    throw new UsageError(
      `${spec.name}: unexpected argument ${JSON.stringify(extra[0])} (dutyproof ${spec.name} --help)`,
    );
  const values: Record<string, string | undefined> = {};
  const switches = new Set<string>();
  const lists: Record<string, string[]> = {};
  for (const [name, f] of Object.entries(spec.flags ?? {})) if (f.multiple) lists[name] = [];
  for (const [key, value] of Object.entries(parsed.values)) {
    if (Array.isArray(value)) lists[key] = value.filter((v): v is string => typeof v === "string");
    else if (typeof value === "string") values[key] = value;
    else if (value === true) switches.add(key);
  }
  return { values, switches, positionals: parsed.positionals, lists };
}

/** A command that parses its arguments by `spec` and runs `handler`. */
export function command(spec: CommandSpec, handler: (parsed: Parsed) => Promise<void>): Command {
  return {
    word: spec.name.split(" ").at(-1)!,
    name: spec.name,
    summary: spec.summary,
    help: () => helpOf(spec),
    run: (args) => handler(parse(spec, args)),
  };
}

/** A command with subcommands (`unit keygen`, `unit register` …); `--help` lists them. */
export function group(name: string, summary: string, subcommands: Command[]): Command {
  const help = () => {
    const width = Math.max(...subcommands.map((c) => c.word.length));
    return [
      `usage: dutyproof ${name} <${subcommands.map((c) => c.word).join("|")}> …`,
      "",
      `  ${summary}`,
      "",
      "subcommands:",
      ...subcommands.map((c) => `  ${c.word.padEnd(width)}  ${c.summary}`),
      "",
      `dutyproof ${name} SUBCOMMAND --help shows a subcommand's flags and an example.`,
      "",
    ].join("\n");
  };
  return {
    word: name,
    name,
    summary,
    help,
    subcommands,
    async run(args) {
      const [word, ...rest] = args;
      if (word === undefined || word === "--help" || word === "-h") {
        if (word === undefined) throw new UsageError(`${name}: expected ${subcommands.map((c) => c.word).join(", ")}`);
        throw new HelpRequested(help());
      }
      const sub = subcommands.find((c) => c.word === word);
      if (!sub)
        throw new UsageError(
          `${name}: unknown subcommand ${JSON.stringify(word)}; expected ${subcommands.map((c) => c.word).join(", ")}`,
        );
      await sub.run(rest);
    },
  };
}

/** The value of a required flag, or a usage error naming it. */
export function required(values: Record<string, string | undefined>, name: string): string {
  const value = values[name];
  if (value === undefined || value === "") throw new UsageError(`--${name} is required`);
  return value;
}
