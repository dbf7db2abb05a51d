/**
 * Backup and restore of a gateway's DATA_DIR as one file.
 *
 * A backup needs the gateway stopped: LevelDB's files are a consistent database only under the
 * database's own lock, and in the embedded mode the chain's state file must be the one saved at
 * the same stop. `backupDataDir` checks that nothing holds the store (it opens it itself, which
 * also gives the manifest the log's size), so a running gateway makes it fail, never produce a
 * torn copy.
 *
 * Format (dutyproof/backup/v1): a gzip stream of frames, each a 4-byte big-endian length, a JSON
 * header of that length and, for a file, its bytes: first {kind:"begin", manifest}, then one
 * {kind:"file", path, mode, size, sha256} per file, last {kind:"end", files}. A restore checks
 * every digest and the end frame before it moves the restored directory into place.
 */
import { createHash } from "node:crypto";
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

export const backupFormat = "dutyproof/backup/v1";

export interface BackupManifest {
  format: typeof backupFormat;
  createdAt: string; // ISO 8601
  treeSize: number; // leaves in the log at the time of the backup
  anchoredSize: number; // size of the latest anchored checkpoint then
  deployment?: unknown; // DATA_DIR/deployment.json, if present
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

/** Writes a backup of the (stopped) gateway's `dataDir` to `out`; returns its manifest. */
export async function backupDataDir(
  dataDir: string,
  out: string,
): Promise<BackupManifest & { files: number; bytes: number }> {
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
  const temporary = `${out}.tmp`;
  const gzip = createGzip();
  const sink = createWriteStream(temporary, { mode: 0o600 });
  gzip.pipe(sink);
  const write = async (chunks: Buffer[]) => {
    for (const chunk of chunks) if (!gzip.write(chunk)) await once(gzip, "drain");
  };
  let bytes = 0;
  const files = listFiles(dataDir);
  try {
    await write(frame({ kind: "begin", manifest }));
    for (const path of files) {
      const full = join(dataDir, path);
      const body = readFileSync(full);
      bytes += body.length;
      const sha256 = createHash("sha256").update(body).digest("hex");
      const mode = statSync(full).mode & 0o777;
      await write(frame({ kind: "file", path: path.split(sep).join("/"), mode, size: body.length, sha256 }, body));
    }
    await write(frame({ kind: "end", files: files.length }));
    gzip.end();
    await once(sink, "close");
  } catch (error) {
    gzip.destroy();
    sink.destroy();
    rmSync(temporary, { force: true });
    throw error;
  }
  renameSync(temporary, out);
  return { ...manifest, files: files.length, bytes };
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
      if (next.done) throw new Error("the backup file ends early (truncated)");
      this.buffered = Buffer.concat([this.buffered, next.value]);
    }
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }
}

/**
 * Restores a backup into `dataDir`, which must not exist or be empty. Everything is checked and
 * written into a sibling directory first and moved into place only when the whole file verified.
 */
export async function restoreDataDir(file: string, dataDir: string): Promise<BackupManifest & { files: number }> {
  const target = resolve(dataDir);
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw new Error(`${target} is not empty; restore into a new directory`);
  }
  if (!existsSync(file)) throw new Error(`${file} does not exist`);
  const staging = `${target}.restoring-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  try {
    const source = createReadStream(file).pipe(createGunzip());
    const reader = new ByteReader(source);
    const next = async () => {
      const length = (await reader.read(4)).readUInt32BE(0);
      return JSON.parse((await reader.read(length)).toString("utf8")) as Record<string, unknown>;
    };
    let begin: Record<string, unknown>;
    try {
      begin = await next();
    } catch {
      throw new Error(`${file} is not a dutyproof backup`);
    }
    const manifest = begin.manifest as BackupManifest | undefined;
    if (begin.kind !== "begin" || manifest?.format !== backupFormat)
      throw new Error(`${file} is not a dutyproof backup`);
    let files = 0;
    for (;;) {
      const header = await next();
      if (header.kind === "end") {
        if (header.files !== files) throw new Error(`the backup lists ${header.files} files but holds ${files}`);
        break;
      }
      const path = String(header.path);
      const full = resolve(staging, ...path.split("/"));
      if (header.kind !== "file" || !full.startsWith(staging + sep))
        throw new Error(`bad entry in the backup: ${path}`);
      const body = await reader.read(Number(header.size));
      if (createHash("sha256").update(body).digest("hex") !== header.sha256) {
        throw new Error(`${path} in the backup does not match its digest (corrupted)`);
      }
      mkdirSync(dirname(full), { recursive: true, mode: 0o700 });
      writeFileSync(full, body, { mode: Number(header.mode) & 0o777 });
      files++;
    }
    source.destroy();
    if (existsSync(target)) rmSync(target, { recursive: true });
    mkdirSync(dirname(target), { recursive: true });
    renameSync(staging, target);
    return { ...manifest, files };
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (error instanceof Error && /incorrect header check|unexpected end of file/.test(error.message)) {
      throw new Error(`${file} is not a dutyproof backup (or is truncated)`, { cause: error });
    }
    throw error;
  }
}
