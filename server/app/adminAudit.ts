import type { AuditEntry } from "../core/auditChain.ts";
import { audited, auditLogPath } from "../observability/AuditLog.ts";

/**
 * Runs an administrative act and records it, with its outcome, in the admin audit log, as the
 * CLI's acts are recorded; `address` is the key that authorised it, when one did.
 */
export type AdminAudit = <T>(
  action: string,
  target: AuditEntry["target"],
  run: () => Promise<T>,
  address?: string,
) => Promise<T>;

/** The admin audit of the gateway whose data directory is `dataDir` (actor "gateway"). */
export function gatewayAdminAudit(dataDir: string): AdminAudit {
  return (action, target, run, address) =>
    audited(auditLogPath(dataDir), action, target, { user: "gateway", ...(address ? { address } : {}) }, run);
}
