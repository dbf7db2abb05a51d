/**
 * The operator's commands on DATA_DIR itself: the administrative audit log, backup and restore,
 * and lawful erasure (signed with the operator key, carried out by the gateway).
 */
import { configFromEnvironment } from "../../server/config.ts";
import { verifyAuditEntries } from "../../server/core/auditChain.ts";
import { backupDataDir, restoreDataDir } from "../../server/backup/dataDirBackup.ts";
import {
  appendAuditEntry,
  audited,
  auditLogPath,
  currentUser,
  readAuditLog,
} from "../../server/observability/AuditLog.ts";
import { Wallet } from "ethers";
import { type Command, command, group, required } from "./command.ts";
import { backupPassphrase, dataDirDeployment, hash32 } from "./context.ts";
import { SilentExit, UsageError, exitCodes } from "./errors.ts";
import { gatewayJson } from "./gateway.ts";
import { chinaTime } from "./time.ts";

const auditLogShow = command(
  {
    name: "audit-log show",
    summary: "print the administrative audit log, one JSON entry a line",
    usage: "",
    example: "dutyproof audit-log show",
  },
  async () => {
    for (const entry of readAuditLog(auditLogPath(configFromEnvironment().dataDir))) console.log(JSON.stringify(entry));
  },
);

const auditLogVerify = command(
  {
    name: "audit-log verify",
    summary: "check the administrative audit log's hash chain",
    usage: "[--json]",
    flags: { json: { help: "the verdict as JSON" } },
    example: "dutyproof audit-log verify",
    notes: ["exit 0 intact, 1 broken"],
  },
  async ({ switches }) => {
    const path = auditLogPath(configFromEnvironment().dataDir);
    const verdict = verifyAuditEntries(readAuditLog(path));
    if (switches.has("json")) console.log(JSON.stringify({ path, ...verdict }, null, 2));
    else if (verdict.ok) console.log(`intact: ${verdict.entries} entries, head ${verdict.head}`);
    else console.log(`BROKEN at entry ${verdict.problem!.index}: ${verdict.problem!.reason}`);
    if (!verdict.ok) throw new SilentExit(exitCodes.failed);
  },
);

export const auditLogCommand: Command = group("audit-log", "the administrative audit log and its hash chain", [
  auditLogVerify,
  auditLogShow,
]);

const passphraseFlag = {
  "passphrase-file": { value: "FILE", help: "backup passphrase (else DUTYPROOF_BACKUP_PASSPHRASE)" },
};

export const backupCommand: Command = command(
  {
    name: "backup",
    summary: "DATA_DIR as one authenticated file (gateway stopped)",
    usage: "--out FILE [--data-dir DIR] [--include-keys] [--passphrase-file FILE]",
    flags: {
      out: { value: "FILE", help: "the backup file" },
      "data-dir": { value: "DIR", help: "the data directory (default DATA_DIR)" },
      "include-keys": { help: "include keys and tokens, encrypted under the passphrase" },
      ...passphraseFlag,
    },
    example: "dutyproof backup --out county-a.dpbackup --passphrase-file /secure/backup.pass",
  },
  async ({ values, switches }) => {
    const out = required(values, "out");
    const dataDir = values["data-dir"] ?? configFromEnvironment().dataDir;
    const passphrase = backupPassphrase(values);
    const includeSecrets = switches.has("include-keys");
    const result = await audited(auditLogPath(dataDir), "data-dir.backup", { out, includeSecrets }, undefined, () =>
      backupDataDir(dataDir, out, { passphrase, includeSecrets }),
    );
    console.log(
      `backup of ${dataDir} written to ${out}: ${result.files} files, ${result.bytes} bytes, log size ${result.treeSize} (anchored ${result.anchoredSize}); ${
        includeSecrets
          ? "keys and tokens included, encrypted under the passphrase"
          : `left out: ${result.secretsLeftOut.join(", ") || "no keys or tokens found"} (keep the keys separately, or back up with --include-keys)`
      }`,
    );
  },
);

export const restoreCommand: Command = command(
  {
    name: "restore",
    summary: "a backup into a new directory, after checking it (same passphrase)",
    usage: "FILE --data-dir DIR [--passphrase-file FILE]",
    flags: { "data-dir": { value: "DIR", help: "the new data directory" }, ...passphraseFlag },
    maxPositionals: 1,
    example: "dutyproof restore county-a.dpbackup --data-dir /srv/dutyproof/data",
  },
  async ({ values, positionals }) => {
    const file = positionals[0];
    if (!file) throw new UsageError("restore: give the backup file");
    const dataDir = required(values, "data-dir");
    const result = await restoreDataDir(file, dataDir, backupPassphrase(values));
    appendAuditEntry(auditLogPath(dataDir), {
      action: "data-dir.restore",
      target: { from: file, backupCreatedAt: result.createdAt, treeSize: result.treeSize },
      outcome: "ok",
    });
    console.log(
      `restored ${result.files} files into ${dataDir}: the log as of ${chinaTime(Math.floor(Date.parse(result.createdAt) / 1000))}, ${result.treeSize} records (${result.anchoredSize} anchored); records acknowledged after that are not in it${
        result.secrets === 0
          ? "; the backup holds no keys or tokens: put keys/operator.key back (or set OPERATOR_KEY_FILE) before starting, and issue tokens again"
          : ""
      }`,
    );
  },
);

export const eraseCommand: Command = command(
  {
    name: "erase",
    summary: "erase a record's personal fields and salt under an order (operator key)",
    usage: "RECORD_ID --order REFERENCE",
    flags: { order: { value: "REFERENCE", help: "the order that requires it (PIPL request, court order)" } },
    maxPositionals: 1,
    example: 'dutyproof erase 0x6e0c…9a --order "PIPL-2026-017"',
    notes: ["Runs where the gateway's DATA_DIR is; the gateway checks the operator's signature."],
  },
  async ({ values, positionals }) => {
    const recordId = hash32("erase: the record id", positionals[0]);
    const order = required(values, "order");
    const config = configFromEnvironment();
    const deployment = dataDirDeployment();
    // Loaded here: they bring the gateway's HTTP stack, which no other command needs.
    const { loadOperatorKey } = await import("../../server/main.ts");
    const { operatorMessage } = await import("../../server/app/erase.ts");
    const wallet = new Wallet(loadOperatorKey(config));
    const erasure = await audited(
      auditLogPath(config.dataDir),
      "record.erase",
      { recordId, order },
      { user: currentUser(), address: wallet.address },
      async () => {
        const signedAt = Math.floor(Date.now() / 1000);
        const message = operatorMessage("erase", deployment.logId, recordId, order, signedAt);
        const signature = await wallet.signMessage(message);
        const body = await gatewayJson<{ erasure: { fields: string[]; erasedAt: number } }>("/v1/admin/erasures", {
          method: "POST",
          authorization: `DutyproofOperator ${signature}`,
          body: { recordId, order, signedAt },
        });
        return body.erasure;
      },
    );
    console.log(
      `record ${recordId}: personal content (${erasure.fields.join(", ") || "no personal fields"}) and salt erased at ${chinaTime(erasure.erasedAt)} under order ${JSON.stringify(order)}`,
    );
  },
);
