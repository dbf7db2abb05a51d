/** Every command of `dutyproof`, in the order `dutyproof --help` lists them. */
import { burdenCommand, demandCommand, dutyListCommand, summaryCommand, tasksCommand } from "./burden.ts";
import type { Command } from "./command.ts";
import { exportCommand } from "./export.ts";
import { logCommand } from "./log.ts";
import { auditLogCommand, backupCommand, eraseCommand, restoreCommand } from "./operations.ts";
import { dutyTypeCommand, inspectorCommand } from "./registry.ts";
import { replayCommand } from "./replay.ts";
import { serveCommand } from "./serve.ts";
import { receiptCommand, submitCommand } from "./submit.ts";
import { grantCommand, tokenCommand } from "./token.ts";
import { trustCommand } from "./trust.ts";
import { unitCommand } from "./unit.ts";
import { verifyCommand } from "./verify.ts";
import { witnessGroup } from "./witness.ts";
import { monitorCommandSpec } from "./monitor.ts";
import { confirmGroup } from "./confirm.ts";

export const commands: Command[] = [
  serveCommand,
  unitCommand,
  inspectorCommand,
  dutyTypeCommand,
  submitCommand,
  receiptCommand,
  verifyCommand,
  exportCommand,
  replayCommand,
  demandCommand,
  tasksCommand,
  dutyListCommand,
  burdenCommand,
  summaryCommand,
  tokenCommand,
  grantCommand,
  trustCommand,
  logCommand,
  eraseCommand,
  auditLogCommand,
  backupCommand,
  restoreCommand,
  witnessGroup,
  monitorCommandSpec,
  confirmGroup,
];
