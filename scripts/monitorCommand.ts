/**
 * `dutyproof monitor`: follows a log from its saved state and reports what is wrong, at the
 * leaf where it is.
 *
 *   dutyproof monitor --state FILE --gateway URL [--once] [--token AUDITOR_TOKEN] [--rpc URL]
 *                     [--witness VERIFIER_KEY]… [--quorum K] [--webhook URL] [--metrics-port N]
 *                     [--interval SECONDS]
 *
 * With `--once`: one pass, exit 0 clean, 1 findings, 2 usage, 3 gateway or chain unreachable.
 * Without: a pass every interval (default 60 s); each finding is a log line (JSON, stdout), a
 * count in `dutyproof_monitor_findings_total` on `--metrics-port`, and a POST to `--webhook`.
 * The state file is written atomically (temporary file, fsync, rename) after each clean pass.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { createServer } from "node:http";
import { dirname } from "node:path";
import { Counter, Gauge, Registry } from "prom-client";
import { NOTE_COSIGNATURE_V1, parseVerifierKey } from "../server/core/note.ts";
import {
  type MonitorFileState,
  type MonitorReportFinding,
  MonitorStateError,
  monitorOnce,
  parseMonitorState,
} from "../server/audit/monitorLog.ts";
import { createLogger } from "../server/observability/logger.ts";
import { redactUrl } from "../server/chain/redactUrl.ts";

/** Writes `text` to `path` so that a crash leaves the old file or the new one, never a torn one. */
export function writeFileAtomically(path: string, text: string): void {
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, "w", 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  // The rename itself is durable only once the directory is synced.
  const dir = openSync(dirname(path), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** The flags of `dutyproof monitor`, as scripts/cli/monitor.ts declares them. */
export interface MonitorFlags {
  state?: string | undefined;
  gateway?: string | undefined;
  once?: boolean;
  token?: string | undefined;
  rpc?: string | undefined;
  witness?: readonly string[];
  quorum?: string | undefined;
  webhook?: string | undefined;
  "metrics-port"?: string | undefined;
  interval?: string | undefined;
}

/**
 * Runs the command. Returns the exit code; `usage` builds the CLI's usage error (exit 2).
 */
export async function monitorCommand(parsed: MonitorFlags, usage: (message: string) => Error): Promise<number> {
  const statePath = parsed.state;
  if (!statePath) throw usage("monitor: give --state FILE");
  const gatewayUrl = parsed.gateway ?? process.env.GATEWAY_URL;
  if (!gatewayUrl) throw usage("monitor: give --gateway URL (or GATEWAY_URL)");
  const token = parsed.token ?? process.env.DUTYPROOF_TOKEN;
  if (token && !parsed.rpc) throw usage("monitor: --token checks keys on chain, so it needs --rpc URL");
  const witnesses = (parsed.witness ?? []).map((vkey) => {
    try {
      const verifier = parseVerifierKey(vkey);
      if (verifier.type !== NOTE_COSIGNATURE_V1) throw new Error("not a cosignature/v1 (type 0x04) key");
      return verifier;
    } catch (error) {
      throw usage(`monitor: --witness ${vkey.split("+")[0]}: ${(error as Error).message}`);
    }
  });
  const quorum = parsed.quorum === undefined ? witnesses.length : Number(parsed.quorum);
  if (!Number.isSafeInteger(quorum) || quorum < 0 || quorum > witnesses.length)
    throw usage(`monitor: --quorum must be between 0 and the ${witnesses.length} witness key(s) given`);
  const interval = Number(parsed.interval ?? 60);
  if (!Number.isFinite(interval) || interval <= 0) throw usage("monitor: --interval is a positive number of seconds");
  const metricsPort = parsed["metrics-port"] === undefined ? undefined : Number(parsed["metrics-port"]);
  if (metricsPort !== undefined && (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535))
    throw usage("monitor: --metrics-port is a port number");

  let saved: MonitorFileState | null = null;
  if (existsSync(statePath)) {
    try {
      saved = parseMonitorState(readFileSync(statePath, "utf8"));
    } catch (error) {
      throw new Error(`monitor: ${statePath}: ${(error as Error).message}`, { cause: error });
    }
  }
  const target = { gatewayUrl, token, rpcUrl: parsed.rpc, witnesses, quorum };
  const logger = createLogger();
  const base = { component: "monitor", gateway: redactUrl(gatewayUrl) };

  if (parsed.once) {
    try {
      const pass = await monitorOnce(target, saved);
      // A first pass with findings still pins the log's key: its state holds no unverified leaf.
      if (pass.findings.length === 0 || saved === null)
        writeFileAtomically(statePath, JSON.stringify(pass.state, null, 2) + "\n");
      for (const f of pass.findings) logger.warn({ ...base, finding: f }, `monitor finding: ${f.kind}`);
      logger.info(
        { ...base, size: pass.state.tree.size, checked: pass.checked, findings: pass.findings.length },
        "monitor pass",
      );
      if (parsed.webhook && pass.findings.length > 0) await postWebhook(parsed.webhook, pass.state, pass.findings);
      return pass.findings.length > 0 ? 1 : 0;
    } catch (error) {
      if (error instanceof MonitorStateError) throw new Error(`monitor: ${error.message}`, { cause: error });
      console.error(`dutyproof: monitor: ${(error as Error).message.split("\n")[0]}`);
      return 3;
    }
  }

  const registry = new Registry();
  const findingsTotal = new Counter({
    name: "dutyproof_monitor_findings_total",
    help: "Findings reported by this monitor, by kind",
    labelNames: ["kind"],
    registers: [registry],
  });
  const verifiedSize = new Gauge({
    name: "dutyproof_monitor_verified_size",
    help: "Tree size the monitor has verified",
    registers: [registry],
  });
  const passFailures = new Counter({
    name: "dutyproof_monitor_pass_failures_total",
    help: "Passes that could not reach the gateway or the chain",
    registers: [registry],
  });
  const metrics =
    metricsPort === undefined
      ? null
      : createServer((req, res) => {
          if (req.url !== "/metrics") {
            res.writeHead(404).end();
            return;
          }
          void registry
            .metrics()
            .then((text) => res.writeHead(200, { "content-type": registry.contentType }).end(text));
        });
  if (metrics) await new Promise<void>((resolve) => metrics.listen(metricsPort, "127.0.0.1", resolve));
  let stopping = false;
  let wake: (() => void) | null = null;
  const stop = () => {
    stopping = true;
    wake?.();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  let state = saved;
  try {
    while (!stopping) {
      try {
        const pass = await monitorOnce(target, state);
        state = pass.state;
        if (pass.findings.length === 0 || !existsSync(statePath))
          writeFileAtomically(statePath, JSON.stringify(state, null, 2) + "\n");
        verifiedSize.set(state.tree.size);
        for (const f of pass.findings) {
          findingsTotal.inc({ kind: f.kind });
          logger.warn({ ...base, finding: f }, `monitor finding: ${f.kind}`);
        }
        if (parsed.webhook && pass.findings.length > 0) await postWebhook(parsed.webhook, state, pass.findings);
        logger.info(
          { ...base, size: state.tree.size, checked: pass.checked, findings: pass.findings.length },
          "monitor pass",
        );
      } catch (error) {
        if (error instanceof MonitorStateError) throw new Error(`monitor: ${error.message}`, { cause: error });
        passFailures.inc();
        logger.error({ ...base, error: (error as Error).message.split("\n")[0] }, "monitor pass failed");
      }
      if (!stopping)
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, interval * 1000).unref();
        });
    }
  } finally {
    metrics?.close();
  }
  return 0;
}

/** Tells a webhook what was found; a webhook that does not answer is logged, never fatal. */
async function postWebhook(url: string, state: MonitorFileState, findings: MonitorReportFinding[]): Promise<void> {
  try {
    await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ origin: state.origin, verifiedSize: state.tree.size, findings }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    console.error(`dutyproof: monitor: the webhook did not answer (${(error as Error).message})`);
  }
}
