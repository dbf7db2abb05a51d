/**
 * The gateway's structured log: one JSON object a line (pino). What goes in is operational only:
 * request ids, routes, statuses, timings, sizes, anchoring events. Record contents, personal
 * fields, bearer tokens and keys never do; the redaction below is a second line of defence
 * for fields that must never be printed even if a caller passes them by mistake.
 */
import { pino, type Logger } from "pino";

export type { Logger };

const redact = {
  paths: [
    "operatorKey",
    "privateKey",
    "token",
    "authorization",
    "*.operatorKey",
    "*.privateKey",
    "*.token",
    "*.authorization",
    "headers.authorization",
  ],
  censor: "[redacted]",
};

/**
 * A logger writing JSON lines to stdout (synchronously, so nothing is lost on exit), or to
 * `write` (one call a line) when given, e.g. by a test that reads what was logged.
 */
export function createLogger(options: { level?: string; write?: (line: string) => void } = {}): Logger {
  const settings = {
    level: options.level ?? process.env.LOG_LEVEL ?? "info",
    base: { service: "dutyproof-gateway" },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact,
  };
  const write = options.write;
  if (write) return pino(settings, { write: (line: string) => write(line.trimEnd()) });
  return pino(settings, pino.destination({ fd: 1, sync: true }));
}
