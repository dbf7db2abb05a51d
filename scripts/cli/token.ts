/** `dutyproof token issue` and `dutyproof grant …`: who may read what (operator, on DATA_DIR). */
import { join } from "node:path";
import { configFromEnvironment } from "../../server/config.ts";
import { issueToken, validScope } from "../../server/gateway/AccessTokens.ts";
import { addGrant, listGrants, revokeGrant } from "../../server/gateway/Grants.ts";
import { audited, auditLogPath } from "../../server/observability/AuditLog.ts";
import { type Command, command, group, required } from "./command.ts";
import { unitIdOf } from "./context.ts";
import { UsageError } from "./errors.ts";
import { chinaTime, parseTime } from "./time.ts";

export const tokenCommand: Command = group("token", "bearer tokens for the API (operator, on DATA_DIR)", [
  command(
    {
      name: "token issue",
      summary: "issue a bearer token for a unit, a department's inspectors, auditors or the operator",
      usage: "--scope (unit:NAME | inspector:DEPARTMENT | auditor | operator) [--label TEXT]",
      flags: {
        scope: { value: "SCOPE", help: "unit:NAME, inspector:DEPARTMENT, auditor or operator" },
        label: { value: "TEXT", help: "who holds it, for the audit log" },
      },
      example: 'dutyproof token issue --scope unit:qingshui-1 --label "village clerk"',
      notes: ["The token is printed once, on the last line; only its SHA-256 is kept (DATA_DIR/tokens.json)."],
    },
    async ({ values }) => {
      let scope = required(values, "scope");
      if (scope.startsWith("unit:")) scope = `unit:${unitIdOf(scope.slice(5))}`;
      if (scope === "inspector")
        throw new UsageError(
          "--scope inspector:DEPARTMENT: an inspector's token reads its own department's duty types",
        );
      if (!validScope(scope))
        throw new UsageError("--scope must be unit:NAME, inspector:DEPARTMENT, auditor or operator");
      const config = configFromEnvironment();
      const token = await audited(
        auditLogPath(config.dataDir),
        "token.issue",
        { scope, label: values.label ?? "" },
        undefined,
        async () => issueToken(join(config.dataDir, "tokens.json"), scope, values.label ?? ""),
      );
      console.log(`token for ${scope} (shown once; send it as "Authorization: Bearer <token>"):\n${token}`);
    },
  ),
]);

/** The grants file and an audited change to it. */
function grants() {
  const config = configFromEnvironment();
  return {
    path: join(config.dataDir, "grants.json"),
    now: Math.floor(Date.now() / 1000),
    audit: <T>(name: string, target: Record<string, string | number | boolean>, run: () => Promise<T>) =>
      audited(auditLogPath(config.dataDir), name, target, undefined, run),
  };
}

export const grantCommand: Command = group("grant", "a supervising body's cross-department reads (audited)", [
  command(
    {
      name: "grant add",
      summary: "let a supervising body read and demand other departments' duty types",
      usage: "DEPARTMENT --over (DEPARTMENT[,DEPARTMENT…] | '*') --reason TEXT [--until DATE]",
      flags: {
        over: { value: "LIST", help: "departments whose duty types it may read, or '*'" },
        reason: { value: "TEXT", help: "the act that grants it" },
        until: { value: "DATE", help: "end of the grant (YYYY-MM-DD or YYYY-MM-DD HH:MM, China time)" },
      },
      maxPositionals: 1,
      example: 'dutyproof grant add discipline-inspection --over "*" --reason "县纪委〔2026〕12号" --until 2027-06-30',
    },
    async ({ values, positionals }) => {
      const grantee = positionals[0];
      if (!grantee) throw new UsageError("grant add: give the supervising body's department code");
      const over = required(values, "over")
        .split(",")
        .map((o) => o.trim())
        .filter((o) => o !== "");
      const reason = required(values, "reason");
      const until = values.until === undefined ? undefined : parseTime("until", values.until);
      const { path, now, audit } = grants();
      const target = { grantee, over: over.join(","), reason, ...(until === undefined ? {} : { until }) };
      const grant = await audit("grant.add", target, async () =>
        addGrant(path, { grantee, over, reason, ...(until === undefined ? {} : { until }) }, now),
      );
      console.log(
        `grant ${grant.id}: ${grant.grantee} reads and demands ${grant.over.join(",")}'s duty types${until === undefined ? "" : ` until ${chinaTime(until)}`}`,
      );
    },
  ),
  command(
    {
      name: "grant revoke",
      summary: "revoke a grant",
      usage: "GRANT_ID",
      maxPositionals: 1,
      example: "dutyproof grant revoke g_3f2a…",
    },
    async ({ positionals }) => {
      const grantId = positionals[0];
      if (!grantId) throw new UsageError("grant revoke: give the grant id (grant list shows them)");
      const { path, now, audit } = grants();
      const revoked = await audit("grant.revoke", { grantId }, async () => revokeGrant(path, grantId, now));
      console.log(`grant ${revoked.id} (${revoked.grantee} over ${revoked.over.join(",")}) revoked`);
    },
  ),
  command(
    {
      name: "grant list",
      summary: "list grants and whether each is in force",
      usage: "",
      example: "dutyproof grant list",
    },
    async () => {
      const { path, now } = grants();
      for (const g of listGrants(path)) {
        const state =
          g.revokedAt !== undefined ? "revoked" : g.until !== undefined && g.until <= now ? "expired" : "in force";
        const until = g.until !== undefined ? ` until ${chinaTime(g.until)}` : "";
        console.log(`${g.id}  ${g.grantee} reads ${g.over.join(",")}  ${state}${until}  (${g.reason})`);
      }
    },
  ),
]);
