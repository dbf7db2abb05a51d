#!/usr/bin/env node
/**
 * The dutyproof command line: one module per command group under scripts/cli/, over one gateway
 * client (scripts/cli/gateway.ts) and the verify driver the web console runs
 * (server/core/verifyDocument.ts). `dutyproof --help` lists the commands and exit codes;
 * `dutyproof COMMAND --help` shows a command's flags and an example.
 */
import { installNativeHashes } from "../server/crypto/nativeHashes.ts";
import { commands } from "./cli/commands.ts";
import { CliError, HelpRequested, SilentExit, UsageError, exitCodes } from "./cli/errors.ts";

const usageLine = `usage: dutyproof <${commands.map((c) => c.word).join("|")}> … (dutyproof --help)`;

function help(): string {
  const width = Math.max(...commands.map((c) => c.word.length));
  return [
    "usage: dutyproof COMMAND [SUBCOMMAND] [FLAGS]",
    "",
    "commands:",
    ...commands.map((c) => `  ${c.word.padEnd(width)}  ${c.summary}`),
    "",
    "dutyproof COMMAND --help shows its flags and an example.",
    "",
    "exit codes:",
    `  ${exitCodes.ok}  done; verify: valid; replay: clean`,
    `  ${exitCodes.failed}  refused or failed: invalid evidence, replay findings, the gateway or ledger said no`,
    `  ${exitCodes.usage}  usage error: unknown command or flag, missing or malformed argument, unreadable file`,
    `  ${exitCodes.unreachable}  the chain node or the gateway does not answer (or cannot serve now)`,
    "",
    "Errors are one line on stderr. Output meant for files goes to --out FILE, never mixed with",
    "what npm prints. Times are read and printed in China time (UTC+8).",
    "",
    'settings (environment; README, "Configuration"): DATA_DIR, PORT, CHAIN_PORT, RPC_URL, CHAIN_ID,',
    "OPERATOR_KEY(_FILE), IGNITION_DEPLOYMENT_DIR, LOG_NAME; GATEWAY_URL for the commands that call the",
    "gateway; DUTYPROOF_PASSWORD (keystores), DUTYPROOF_TOKEN (bearer token),",
    "DUTYPROOF_BACKUP_PASSPHRASE (backups).",
    "",
  ].join("\n");
}

async function main(argv: string[]): Promise<void> {
  const [word, ...args] = argv;
  if (word === "--help" || word === "-h" || word === "help") throw new HelpRequested(help());
  const found = commands.find((c) => c.word === word);
  if (!found) throw new UsageError(usageLine);
  installNativeHashes();
  await found.run(args);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof HelpRequested) {
    process.stdout.write(error.text);
    process.exit(exitCodes.ok);
  }
  if (error instanceof SilentExit) process.exit(error.exitCode);
  const message = error instanceof Error ? error.message : String(error);
  console.error(`dutyproof: ${message.split("\n")[0]}`);
  process.exit(error instanceof CliError ? error.exitCode : exitCodes.failed);
});
