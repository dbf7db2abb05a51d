/**
 * The log's signing key: Ed25519, kept in DATA_DIR/keys/tlog.key (directory 0700, file 0600) in
 * the signed-note private key form (`PRIVATE+KEY+<origin>+<key id>+<base64>`), created on first
 * start. It signs checkpoints only and is separate from the operator's chain key, so neither can
 * stand in for the other. Its text never reaches a log line or an error message.
 */
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import {
  NOTE_ED25519,
  type NoteSigner,
  formatSignerKey,
  formatVerifierKey,
  noteSigner,
  parseSignerKey,
} from "./core/note.ts";

/** Where the key lives under a data directory. */
export function logSigningKeyPath(dataDir: string): string {
  return join(dataDir, "keys", "tlog.key");
}

function writeKeyFile(path: string, signer: NoteSigner, exclusive: boolean): void {
  const target = exclusive ? path : `${path}.tmp`;
  const fd = openSync(target, exclusive ? "wx" : "w", 0o600);
  try {
    writeSync(fd, formatSignerKey(signer) + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (!exclusive) renameSync(target, path);
}

/**
 * The log's signer, named `origin` (tlog-checkpoint: the key name is the log's origin). The key
 * is made on first call; a key file written under another name (the log was succeeded by a new
 * log id) keeps its key and is renamed to the new origin.
 */
export function loadLogSigningKey(dataDir: string, origin: string): NoteSigner {
  const path = logSigningKeyPath(dataDir);
  mkdirSync(join(dataDir, "keys"), { recursive: true, mode: 0o700 });
  if (!existsSync(path)) {
    writeKeyFile(path, noteSigner(origin, NOTE_ED25519, randomBytes(32)), true);
  }
  let stored: NoteSigner;
  try {
    stored = parseSignerKey(readFileSync(path, "utf8"));
  } catch {
    // The parser's message could quote the file; the path is enough to act on.
    throw new Error(`${path} is not a signed-note Ed25519 private key (PRIVATE+KEY+name+id+base64)`);
  }
  if (stored.type !== NOTE_ED25519) throw new Error(`${path} is not an Ed25519 note key (type 0x01)`);
  if (stored.name === origin) return stored;
  const renamed = noteSigner(origin, NOTE_ED25519, stored.seed);
  writeKeyFile(path, renamed, false);
  return renamed;
}

/**
 * The verifier key of the log key in `dataDir`, named `origin`, without creating or changing
 * anything (the CLI's own trust anchor); undefined when there is no readable key there.
 */
export function logVerifierKeyIn(dataDir: string, origin: string): string | undefined {
  try {
    const stored = parseSignerKey(readFileSync(logSigningKeyPath(dataDir), "utf8"));
    return formatVerifierKey(noteSigner(origin, NOTE_ED25519, stored.seed));
  } catch {
    return undefined;
  }
}
