/**
 * The witness commands (declared in scripts/cli/witness.ts), for an organisation that
 * checks a dutyproof log from its own machine (docs/operations.md, "Witnesses"):
 *
 *   dutyproof witness keygen --name NAME --out FILE
 *       a new Ed25519 witness key (cosignature/v1), written 0600; prints its verifier key
 *   dutyproof witness serve --key FILE --state DIR [--port N] [--host H] [--rpc URL] --log VERIFIER_KEY…
 *       the tlog-witness server (POST /add-checkpoint) for the logs given by their verifier keys
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DutyproofError } from "../server/core/errors.ts";
import {
  type NoteVerifier,
  NOTE_COSIGNATURE_V1,
  NOTE_ED25519,
  formatSignerKey,
  formatVerifierKey,
  isValidKeyName,
  noteSigner,
  parseSignerKey,
  parseVerifierKey,
} from "../server/core/note.ts";
import { redactUrl } from "../server/chain/redactUrl.ts";
import { systemClock } from "../server/clock.ts";
import { chainAnchorReader } from "../server/witness/chainAnchors.ts";
import { type WitnessEvent, createWitnessServer } from "../server/witness/WitnessServer.ts";
import { WitnessStateDir } from "../server/witness/WitnessStateDir.ts";

/** The default port of a witness. */
export const DEFAULT_WITNESS_PORT = 7380;

type Usage = (message: string) => Error;

/** `witness keygen`: the flags as `dutyproof witness keygen` declares them (scripts/cli/witness.ts). */
export function keygen(values: { name?: string | undefined; out?: string | undefined }, usage: Usage): void {
  const { name, out } = values;
  if (!name || !out) throw usage("witness keygen: give --name NAME and --out FILE");
  if (!isValidKeyName(name)) throw usage("--name holds no spaces and no '+' (e.g. witness.audit-bureau.example)");
  if (existsSync(out)) throw new Error(`${out} exists; a witness key is never overwritten`);
  const signer = noteSigner(name, NOTE_COSIGNATURE_V1, randomBytes(32));
  writeFileSync(out, formatSignerKey(signer) + "\n", { mode: 0o600, flag: "wx" });
  console.log(formatVerifierKey(signer));
}

/** Refuses a second witness process on one state directory: two would each hold their own lock. */
function claimStateDir(dir: string): void {
  const pidFile = join(dir, "witness.pid");
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    let alive = false;
    try {
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid) alive = process.kill(pid, 0);
    } catch {
      alive = false; // no such process: left over from a crash
    }
    if (alive) throw new Error(`another witness (pid ${pid}) serves the state directory ${dir}`);
  }
  writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });
  process.once("exit", () => rmSync(pidFile, { force: true }));
}

function logLine(event: WitnessEvent): void {
  const level = event.event === "cosigned" ? "info" : event.event === "refused" ? "warn" : "error";
  console.log(JSON.stringify({ time: new Date().toISOString(), level, service: "dutyproof-witness", ...event }));
}

/** `witness serve`: the flags as `dutyproof witness serve` declares them (scripts/cli/witness.ts). */
export async function serve(
  values: Record<string, string | undefined>,
  logKeys: readonly string[],
  usage: Usage,
): Promise<void> {
  const keyFile = values.key;
  const stateDir = values.state;
  if (!keyFile || !stateDir || logKeys.length === 0) {
    throw usage("witness serve: give --key FILE, --state DIR and at least one --log VERIFIER_KEY");
  }
  const port = Number(values.port ?? DEFAULT_WITNESS_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw usage("--port must be a port number");
  const host = values.host ?? "127.0.0.1";
  let keyText: string;
  try {
    keyText = readFileSync(keyFile, "utf8");
  } catch {
    throw usage(`--key ${keyFile} cannot be read`);
  }
  const failed = (what: string) => (error: unknown) => {
    throw usage(`${what}: ${error instanceof DutyproofError ? error.message : String(error)}`);
  };
  let signer;
  try {
    signer = parseSignerKey(keyText);
  } catch (error) {
    failed(`--key ${keyFile}`)(error);
  }
  if (signer!.type !== NOTE_COSIGNATURE_V1) throw usage(`--key ${keyFile} is not a witness (cosignature/v1) key`);
  const logs: NoteVerifier[] = logKeys.map((vkey) => {
    let verifier: NoteVerifier | undefined;
    try {
      verifier = parseVerifierKey(vkey);
    } catch (error) {
      failed(`--log ${vkey}`)(error);
    }
    if (verifier!.type !== NOTE_ED25519) throw usage(`--log ${vkey} is not a log's (type 0x01) key`);
    return verifier!;
  });
  const state = new WitnessStateDir(stateDir);
  claimStateDir(stateDir);
  const rpc = values.rpc;
  const server = createWitnessServer({
    signer: signer!,
    logs,
    state,
    clock: systemClock,
    ...(rpc ? { anchoredRoot: chainAnchorReader(rpc) } : {}),
    report: logLine,
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === "object" && address ? address.port : port;
  console.log(
    JSON.stringify({
      time: new Date().toISOString(),
      level: "info",
      service: "dutyproof-witness",
      event: "listening",
      url: `http://${host}:${bound}`,
      witness: formatVerifierKey(signer!),
      logs: logs.map((l) => l.name),
      ...(rpc ? { rpc: redactUrl(rpc) } : {}),
    }),
  );
  const stop = () => server.close(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}
