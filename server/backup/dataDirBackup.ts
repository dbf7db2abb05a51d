/**
 * Backup and restore of a gateway's DATA_DIR as one file, authenticated under a passphrase.
 *
 * A backup needs the gateway stopped: LevelDB's files are a consistent database only under the
 * database's own lock, and in the embedded mode the chain's state file must be the one saved at
 * the same stop. `backupDataDir` checks that nothing holds the store (it opens it itself, which
 * also gives the manifest the log's size), so a running gateway makes it fail, never produce a
 * torn copy.
 *
 * Secrets (keys/, tokens.json) are left out unless asked for; then each is encrypted with
 * AES-256-GCM. Every frame is authenticated by HMAC-SHA256: both keys come from the passphrase
 * through scrypt with a per-backup salt (and HKDF to split them), so whoever holds the file but
 * not the passphrase can neither read the secrets nor change, add, remove or reorder a file
 * without the restore refusing it. A plain digest would only catch accidents: an attacker
 * recomputes it.
 *
 * Format (dutyproof/backup/v2): a gzip stream of frames, each a 4-byte big-endian length, a JSON
 * header of that length and, for a file, its bytes: first {kind:"begin", manifest, kdf, check},
 * then one {kind:"file", path, mode, size, sha256} per file or {kind:"secret", path, mode, size,
 * iv, tag} per encrypted secret, last {kind:"end", files, mac}. `check` tells a wrong passphrase
 * from an altered file; `mac` is the HMAC of every byte before the end frame and of the file
 * count. A restore checks every digest, tag and the MAC before it moves the restored directory
 * into place.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  scryptSync,
  timingSafeEqual,
} from "node:crypto";
import { once } from "node:events";
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { createGunzip, createGzip } from "node:zlib";
import { LedgerStore } from "../store/LedgerStore.ts";

export const backupFormat = "dutyproof/backup/v2";

export interface BackupManifest {
  format: typeof backupFormat;
  createdAt: string; // ISO 8601
  treeSize: number; // leaves in the log at the time of the backup
  anchoredSize: number; // size of the latest anchored checkpoint then
  deployment?: unknown; // DATA_DIR/deployment.json, if present
}

/** scrypt's cost: 2^15 × 128 × 8 bytes = 32 MiB of memory per guess. */
const KDF = { name: "scrypt", N: 2 ** 15, r: 8, p: 1 } as const;
/** The shortest passphrase accepted when a backup is written. */
export const MIN_PASSPHRASE_LENGTH = 12;

/** Files that give control of the gateway: the operator's key, the token table. */
const isSecret = (path: string) => path === "tokens.json" || path.split(sep)[0] === "keys";

/** A backup's MAC and encryption keys, from its passphrase and salt. */
function backupKeys(passphrase: string, salt: Buffer) {
  const master = scryptSync(passphrase.normalize("NFC"), salt, 32, {
    N: KDF.N,
    r: KDF.r,
    p: KDF.p,
    maxmem: 64 * 1024 * 1024,
  });
  const derive = (info: string) => Buffer.from(hkdfSync("sha256", master, salt, info, 32));
  const macKey = derive("dutyproof backup v2 mac");
  const check = createHmac("sha256", macKey).update("dutyproof backup v2 passphrase check").digest("hex");
  return { macKey, encryptionKey: derive("dutyproof backup v2 secrets"), check };
}

/** Files that belong to a running process, not to the data: never copied. */
const skipped = (path: string) =>
  path === join("chain", "anvil.pid") ||
  path.endsWith(".tmp") ||
  path.endsWith(".lock") ||
  path === join("ledger", "LOCK");

function listFiles(root: string, dir = root): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    const stat = statSync(full);
    if (stat.isDirectory()) files.push(...listFiles(root, full));
    else if (stat.isFile() && !skipped(relative(root, full))) files.push(relative(root, full));
  }
  return files;
}

function frame(header: object, body?: Buffer): Buffer[] {
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length);
  return body ? [length, json, body] : [length, json];
}

/** Reads the store's size and anchored size; fails if a running gateway holds it. */
async function storeFacts(dataDir: string): Promise<{ treeSize: number; anchoredSize: number }> {
  const path = join(dataDir, "ledger");
  if (!existsSync(path)) return { treeSize: 0, anchoredSize: 0 };
  const store = new LedgerStore(path);
  try {
    await store.open();
  } catch (error) {
    const text = `${String(error)} ${String((error as { cause?: unknown }).cause)}`;
    if (/lock/i.test(text)) {
      throw new Error(`the gateway is running (${path} is locked); stop it (SIGTERM), back up, then start it again`, {
        cause: error,
      });
    }
    throw error;
  }
  try {
    const [latest] = (await store.listCheckpoints({ reverse: true, limit: 50 })).filter((c) => c.status === "anchored");
    return { treeSize: store.treeSize, anchoredSize: latest?.size ?? 0 };
  } finally {
    await store.close();
  }
}

/** Thrown when a backup must not be restored; its message is one line for the operator. */
export class BackupRefusedError extends Error {}

export interface BackupOptions {
  /** Authenticates the backup, and encrypts the secrets when they are included. */
  passphrase: string;
  /** Include keys/ and tokens.json, encrypted (default: leave them out). */
  includeSecrets?: boolean;
}

/** Writes a backup of the (stopped) gateway's `dataDir` to `out`; returns its manifest. */
export async function backupDataDir(
  dataDir: string,
  out: string,
  options: BackupOptions,
): Promise<BackupManifest & { files: number; bytes: number; secretsLeftOut: string[] }> {
  if (options.passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw new BackupRefusedError(`the backup passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters`);
  }
  if (!existsSync(join(dataDir, "deployment.json")) && !existsSync(join(dataDir, "ledger"))) {
    throw new Error(`${dataDir} is not a gateway's DATA_DIR (no deployment.json, no ledger/)`);
  }
  if (existsSync(out)) throw new Error(`${out} exists; refusing to overwrite it`);
  const facts = await storeFacts(dataDir);
  const deploymentPath = join(dataDir, "deployment.json");
  const manifest: BackupManifest = {
    format: backupFormat,
    createdAt: new Date().toISOString(),
    ...facts,
    ...(existsSync(deploymentPath) ? { deployment: JSON.parse(readFileSync(deploymentPath, "utf8")) as unknown } : {}),
  };
  const salt = randomBytes(16);
  const keys = backupKeys(options.passphrase, salt);
  const mac = createHmac("sha256", keys.macKey);
  const temporary = `${out}.tmp`;
  const gzip = createGzip();
  const sink = createWriteStream(temporary, { mode: 0o600 });
  gzip.pipe(sink);
  const write = async (chunks: Buffer[]) => {
    for (const chunk of chunks) {
      mac.update(chunk);
      if (!gzip.write(chunk)) await once(gzip, "drain");
    }
  };
  let bytes = 0;
  const all = listFiles(dataDir);
  const secretsLeftOut = options.includeSecrets ? [] : all.filter(isSecret);
  const files = all.filter((path) => !secretsLeftOut.includes(path));
  try {
    const kdf = { ...KDF, salt: salt.toString("hex") };
    await write(frame({ kind: "begin", manifest, kdf, check: keys.check }));
    for (const path of files) {
      const full = join(dataDir, path);
      const body = readFileSync(full);
      bytes += body.length;
      const mode = statSync(full).mode & 0o777;
      const name = path.split(sep).join("/");
      if (isSecret(path)) {
        const iv = randomBytes(12);
        const cipher = createCipheriv("aes-256-gcm", keys.encryptionKey, iv);
        cipher.setAAD(Buffer.from(name, "utf8"));
        const sealed = Buffer.concat([cipher.update(body), cipher.final()]);
        const tag = cipher.getAuthTag().toString("hex");
        await write(
          frame({ kind: "secret", path: name, mode, size: sealed.length, iv: iv.toString("hex"), tag }, sealed),
        );
      } else {
        const sha256 = createHash("sha256").update(body).digest("hex");
        await write(frame({ kind: "file", path: name, mode, size: body.length, sha256 }, body));
      }
    }
    // The end frame is not part of its own MAC; the file count is, so no frame can be cut off.
    const code = mac.update(`end:${files.length}`).digest("hex");
    const end = frame({ kind: "end", files: files.length, mac: code });
    for (const chunk of end) if (!gzip.write(chunk)) await once(gzip, "drain");
    gzip.end();
    await once(sink, "close");
  } catch (error) {
    gzip.destroy();
    sink.destroy();
    rmSync(temporary, { force: true });
    throw error;
  }
  renameSync(temporary, out);
  return { ...manifest, files: files.length, bytes, secretsLeftOut: secretsLeftOut.map((p) => p.split(sep).join("/")) };
}

/** Reads exactly n bytes at a time from a stream's chunks. */
class ByteReader {
  private buffered: Buffer = Buffer.alloc(0);
  private readonly chunks: AsyncIterator<Buffer>;
  constructor(chunks: AsyncIterable<Buffer>) {
    this.chunks = chunks[Symbol.asyncIterator]();
  }
  async read(n: number): Promise<Buffer> {
    while (this.buffered.length < n) {
      const next = await this.chunks.next();
      if (next.done) throw new BackupRefusedError("the backup file ends early (truncated)");
      this.buffered = Buffer.concat([this.buffered, next.value]);
    }
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }
  /** Whether nothing follows (reading to the end lets gunzip check its trailer). */
  async atEnd(): Promise<boolean> {
    for (;;) {
      if (this.buffered.length > 0) return false;
      const next = await this.chunks.next();
      if (next.done) return true;
      this.buffered = next.value;
    }
  }
}

/** The largest frame header a restore reads (a file's header is a few hundred bytes). */
const MAX_HEADER = 64 * 1024;

/**
 * Restores a backup into `dataDir`, which must not exist or be empty. Everything is checked and
 * written into a sibling directory first and moved into place only when the whole file verified
 * under `passphrase`. Throws BackupRefusedError (one line) for a file that is not a backup, is
 * damaged or altered, or does not open with the passphrase.
 */
export async function restoreDataDir(
  file: string,
  dataDir: string,
  passphrase: string,
): Promise<BackupManifest & { files: number; secrets: number }> {
  const target = resolve(dataDir);
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw new Error(`${target} is not empty; restore into a new directory`);
  }
  if (!existsSync(file)) throw new Error(`${file} does not exist`);
  const staging = `${target}.restoring-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  const altered = (what: string) =>
    new BackupRefusedError(`${file} was altered or damaged (${what}); refused, nothing restored`);
  const source = createReadStream(file).pipe(createGunzip());
  try {
    const reader = new ByteReader(source);
    const next = async () => {
      const length = await reader.read(4);
      const size = length.readUInt32BE(0);
      if (size > MAX_HEADER) throw altered("a frame header is too long");
      const json = await reader.read(size);
      return { header: JSON.parse(json.toString("utf8")) as Record<string, unknown>, raw: [length, json] };
    };
    let first: Awaited<ReturnType<typeof next>>;
    try {
      first = await next();
    } catch {
      throw new BackupRefusedError(`${file} is not a dutyproof backup`);
    }
    const begin = first.header;
    const manifest = begin.manifest as BackupManifest | undefined;
    const format: unknown = manifest?.format;
    if (begin.kind === "begin" && format === "dutyproof/backup/v1") {
      throw new BackupRefusedError(`${file} is an unauthenticated v1 backup; this version restores only v2`);
    }
    if (begin.kind !== "begin" || format !== backupFormat)
      throw new BackupRefusedError(`${file} is not a dutyproof backup`);
    const kdf = begin.kdf as { name?: unknown; N?: unknown; r?: unknown; p?: unknown; salt?: unknown } | undefined;
    // The cost is fixed, not read from the file: an altered header must not make us spend more.
    if (kdf?.name !== KDF.name || kdf.N !== KDF.N || kdf.r !== KDF.r || kdf.p !== KDF.p) {
      throw altered("unknown key derivation");
    }
    if (typeof kdf.salt !== "string" || !/^[0-9a-f]{32}$/.test(kdf.salt)) throw altered("bad salt");
    const keys = backupKeys(passphrase, Buffer.from(kdf.salt, "hex"));
    const check = Buffer.from(String(begin.check), "utf8");
    if (check.length !== keys.check.length || !timingSafeEqual(check, Buffer.from(keys.check, "utf8"))) {
      throw new BackupRefusedError(
        `the passphrase does not open ${file} (wrong passphrase, or its header was altered); nothing restored`,
      );
    }
    // Every byte before the end frame, as read, is under the MAC.
    const mac = createHmac("sha256", keys.macKey);
    for (const bytes of first.raw) mac.update(bytes);
    let files = 0;
    let secrets = 0;
    for (;;) {
      const { header, raw } = await next();
      if (header.kind !== "end") for (const bytes of raw) mac.update(bytes);
      if (header.kind === "end") {
        const expected = mac.update(`end:${files}`).digest();
        const given = Buffer.from(typeof header.mac === "string" ? header.mac : "", "hex");
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
          throw altered("its authentication code does not match");
        }
        if (header.files !== files) throw altered(`it lists ${String(header.files)} files but holds ${files}`);
        break;
      }
      const path = String(header.path);
      const full = resolve(staging, ...path.split("/"));
      if ((header.kind !== "file" && header.kind !== "secret") || !full.startsWith(staging + sep))
        throw altered(`bad entry ${path}`);
      const size = Number(header.size);
      if (!Number.isSafeInteger(size) || size < 0) throw altered(`bad size of ${path}`);
      const body = await reader.read(size);
      let content: Buffer;
      if (header.kind === "secret") {
        const decipher = createDecipheriv("aes-256-gcm", keys.encryptionKey, Buffer.from(String(header.iv), "hex"));
        decipher.setAAD(Buffer.from(path, "utf8"));
        decipher.setAuthTag(Buffer.from(String(header.tag), "hex"));
        try {
          content = Buffer.concat([decipher.update(body), decipher.final()]);
        } catch {
          throw altered(`${path} does not decrypt`);
        }
        secrets++;
      } else {
        if (createHash("sha256").update(body).digest("hex") !== header.sha256) {
          throw altered(`${path} does not match its digest`);
        }
        content = body;
      }
      mac.update(body);
      mkdirSync(dirname(full), { recursive: true, mode: 0o700 });
      writeFileSync(full, content, { mode: Number(header.mode) & 0o777 });
      files++;
    }
    if (!(await reader.atEnd())) throw altered("bytes follow its end");
    if (existsSync(target)) rmSync(target, { recursive: true });
    mkdirSync(dirname(target), { recursive: true });
    renameSync(staging, target);
    return { ...manifest!, files, secrets };
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (error instanceof BackupRefusedError) throw error;
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("Z_")) {
      throw new BackupRefusedError(`${file} is not a dutyproof backup, or is truncated or damaged`, { cause: error });
    }
    if (error instanceof SyntaxError) throw altered("a frame header is not JSON");
    throw error;
  } finally {
    source.destroy();
  }
}
