/**
 * The gateway's structured log: one JSON object a line (pino). What goes in is operational only:
 * request ids, routes, statuses, timings, sizes, anchoring events. Record contents, personal
 * fields, bearer tokens and keys never do; the redaction below is a second line of defence
 * for fields that must never be printed even if a caller passes them by mistake.
 */
import { pino, type Logger } from "pino";

export type { Logger };

/** Keys whose values are never printed, at the top of a log object or one level inside it. */
const SECRET_KEYS = new Set(["operatorKey", "privateKey", "token", "authorization"]);
const CENSOR = "[redacted]";

/**
 * Replaces the values of secret keys (top level, and inside a top-level object: `token` and
 * `headers.authorization` alike) with "[redacted]", copying only what it changes. A loop over
 * the keys: pino's path redaction cost as much again as the rest of a line for the same paths
 * when measured, and the gateway logs a line per request.
 */
export function redactSecrets(object: Record<string, unknown>): Record<string, unknown> {
  let out = object;
  for (const key of Object.keys(object)) {
    const value = object[key];
    let replacement: unknown = value;
    if (SECRET_KEYS.has(key)) replacement = CENSOR;
    else if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      const inner = value as Record<string, unknown>;
      let copy: Record<string, unknown> | null = null;
      for (const innerKey of Object.keys(inner)) {
        if (SECRET_KEYS.has(innerKey)) (copy ??= { ...inner })[innerKey] = CENSOR;
      }
      if (copy) replacement = copy;
    }
    if (replacement !== value) {
      if (out === object) out = { ...object };
      out[key] = replacement;
    }
  }
  return out;
}

/**
 * A logger writing JSON lines to stdout (synchronously, so nothing is lost on exit), or to
 * `write` (one call a line) when given, e.g. by a test that reads what was logged.
 */
export function createLogger(options: { level?: string; write?: (line: string) => void } = {}): Logger {
  const settings = {
    level: options.level ?? process.env.LOG_LEVEL ?? "info",
    base: { service: "dutyproof-gateway" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { log: redactSecrets },
  };
  const write = options.write;
  if (write) return pino(settings, { write: (line: string) => write(line.trimEnd()) });
  return pino(settings, pino.destination({ fd: 1, sync: true }));
}
