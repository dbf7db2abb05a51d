/**
 * `dutyproof monitor`: follows a log from its saved state and reports what is wrong at the leaf
 * where it is (docs/operations.md, "Monitors"). The monitor itself is scripts/monitorCommand.ts
 * and server/audit/monitorLog.ts.
 */
import { command } from "./command.ts";
import { type ExitCode, SilentExit, UsageError } from "./errors.ts";
import { monitorCommand } from "../monitorCommand.ts";

export const monitorCommandSpec = command(
  {
    name: "monitor",
    summary: "follow a log's signed checkpoints, tiles and entries from a saved state; report findings at their leaf",
    usage:
      "--state FILE --gateway URL [--once] [--token AUDITOR_TOKEN] [--rpc URL] [--witness VERIFIER_KEY]… [--quorum K] [--webhook URL] [--metrics-port N] [--interval SECONDS]",
    flags: {
      state: { value: "FILE", help: "the monitor's state (created on the first pass, written atomically)" },
      gateway: { value: "URL", help: "the gateway serving /tlog (default GATEWAY_URL)" },
      once: { help: "one pass: exit 0 clean, 1 findings" },
      token: { value: "TOKEN", help: "an auditor token: check each record's content, signature and key (needs --rpc)" },
      rpc: { value: "URL", help: "a chain endpoint: every anchored root, and rollback of the chain" },
      witness: { value: "VERIFIER_KEY", help: "a witness's key (type 0x04); repeatable", multiple: true },
      quorum: { value: "K", help: "how many of the --witness keys must have cosigned (default: all)" },
      webhook: { value: "URL", help: "POST each pass's findings here" },
      "metrics-port": { value: "N", help: "serve dutyproof_monitor_* metrics on this port" },
      interval: { value: "SECONDS", help: "seconds between passes without --once (default 60)" },
    },
    example: "dutyproof monitor --state audit-bureau.monitor.json --gateway http://county-gateway:8545 --once",
    notes: ["exit 0 clean, 1 findings, 2 usage, 3 gateway or chain unreachable"],
  },
  async ({ values, switches, lists }) => {
    const flags = { ...values, once: switches.has("once"), witness: lists.witness! };
    const code = await monitorCommand(flags, (message) => new UsageError(message));
    if (code !== 0) throw new SilentExit(code as ExitCode);
  },
);
