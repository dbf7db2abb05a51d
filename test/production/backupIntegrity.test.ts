/**
 * What a backup file gives away and what a restore accepts, against a real LevelDB store and
 * the CLI: keys and the token table are left out (or sealed under the passphrase), and a backup
 * changed in any way an attacker could (a file's bytes with or without its digest recomputed, a
 * file added or removed, a byte of the compressed file) or opened with the wrong passphrase is
 * refused with one line, leaving nothing behind.
 */
import { expect } from "chai";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { Wallet, id } from "ethers";
import { issueToken } from "../../server/gateway/AccessTokens.ts";
import { LedgerStore } from "../../server/store/LedgerStore.ts";
import { runCli } from "../helpers/externalChain.ts";
import { tempDir } from "../helpers/tempDir.ts";

interface Frame {
  header: Record<string, unknown>;
  body?: Buffer;
}

/** The frames of a backup file (gzip of length-prefixed JSON headers and file bodies). */
function framesOf(file: string): Frame[] {
  const bytes = gunzipSync(readFileSync(file));
  const frames: Frame[] = [];
  for (let at = 0; at < bytes.length;) {
    const length = bytes.readUInt32BE(at);
    const header = JSON.parse(bytes.subarray(at + 4, at + 4 + length).toString("utf8")) as Record<string, unknown>;
    at += 4 + length;
    const size = header.kind === "file" || header.kind === "secret" ? Number(header.size) : 0;
    frames.push(size > 0 || header.kind === "file" ? { header, body: bytes.subarray(at, at + size) } : { header });
    at += size;
  }
  return frames;
}

function pack(frames: Frame[]): Buffer {
  const parts: Buffer[] = [];
  for (const { header, body } of frames) {
    const json = Buffer.from(JSON.stringify(header), "utf8");
    const length = Buffer.alloc(4);
    length.writeUInt32BE(json.length);
    parts.push(length, json, ...(body ? [body] : []));
  }
  return gzipSync(Buffer.concat(parts));
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

describe("backup confidentiality and integrity", function () {
  this.timeout(180_000);
  const work = tempDir("backup-integrity");
  const dataDir = join(work.path, "data");
  const passphrase = "一个足够长的备份口令 for tests";
  const env = { ...process.env, DUTYPROOF_BACKUP_PASSPHRASE: passphrase };
  const operatorKey = Wallet.createRandom().privateKey;
  let token: string;
  let tokenHash: string;
  let plain: string;
  let sealed: string;

  before(async () => {
    mkdirSync(join(dataDir, "keys"), { recursive: true });
    writeFileSync(join(dataDir, "keys", "operator.key"), operatorKey + "\n", { mode: 0o600 });
    writeFileSync(join(dataDir, "deployment.json"), JSON.stringify({ chainId: 31337, logName: "backup-integrity" }));
    token = issueToken(join(dataDir, "tokens.json"), "auditor", "audit bureau");
    tokenHash = sha256(Buffer.from(token, "utf8"));
    const store = new LedgerStore(join(dataDir, "ledger"));
    await store.open();
    await store.append({
      recordId: id("record:backup-integrity"),
      envelope: {
        version: 1,
        unitId: id("unit:backup-integrity"),
        dutyTypeId: id("duty:backup-integrity"),
        performedAt: 1_800_000_000,
        fields: { note: "备份完整性" },
        salt: id("salt"),
      },
      signature: "0x" + "11".repeat(65),
      signer: Wallet.createRandom().address,
      leafHash: Buffer.from(id("leaf").slice(2), "hex"),
    });
    await store.close();
    plain = join(work.path, "plain.dpbackup");
    sealed = join(work.path, "sealed.dpbackup");
    const a = await runCli(["backup", "--out", plain, "--data-dir", dataDir], env);
    expect(a.status, a.stderr).to.equal(0);
    expect(a.stdout).to.match(/left out: keys\/operator\.key, tokens\.json \(keep the keys separately/);
    const b = await runCli(["backup", "--out", sealed, "--data-dir", dataDir, "--include-keys"], env);
    expect(b.status, b.stderr).to.equal(0);
  });

  after(() => work.remove());

  /** Restores `file` into a fresh directory and expects a one-line refusal and nothing restored. */
  const expectRefused = async (file: string, pattern: RegExp, environment = env) => {
    const target = join(work.path, `r-${Math.random().toString(36).slice(2)}`);
    const result = await runCli(["restore", file, "--data-dir", target], environment);
    expect(result.status, result.stdout).to.equal(1);
    expect(result.stderr).to.match(/^dutyproof: [^\n]+\n$/);
    expect(result.stderr).to.match(pattern);
    expect(existsSync(target), "nothing restored").to.equal(false);
  };

  it("holds no private key, token or token hash in clear, with or without --include-keys", () => {
    for (const file of [plain, sealed]) {
      const bytes = gunzipSync(readFileSync(file));
      for (const secret of [operatorKey.slice(2), token, tokenHash]) {
        expect(bytes.includes(Buffer.from(secret, "utf8")), `${file} holds a secret`).to.equal(false);
      }
    }
    expect(framesOf(plain).map((f) => f.header.path)).to.not.include.members(["keys/operator.key", "tokens.json"]);
    expect(
      framesOf(sealed)
        .filter((f) => f.header.kind === "secret")
        .map((f) => f.header.path),
    ).to.have.members(["keys/operator.key", "tokens.json"]);
  });

  it("restores the keys sealed under the passphrase, and refuses the wrong passphrase", async () => {
    const target = join(work.path, "restored-sealed");
    const done = await runCli(["restore", sealed, "--data-dir", target], env);
    expect(done.status, done.stderr).to.equal(0);
    expect(readFileSync(join(target, "keys", "operator.key"), "utf8")).to.equal(operatorKey + "\n");
    expect(readFileSync(join(target, "tokens.json"))).to.deep.equal(readFileSync(join(dataDir, "tokens.json")));
    await expectRefused(sealed, /^dutyproof: the passphrase does not open /, {
      ...process.env,
      DUTYPROOF_BACKUP_PASSPHRASE: passphrase + "x",
    });
    const plainTarget = join(work.path, "restored-plain");
    const restored = await runCli(["restore", plain, "--data-dir", plainTarget], env);
    expect(restored.status, restored.stderr).to.equal(0);
    expect(restored.stdout).to.match(/holds no keys or tokens: put keys\/operator\.key back/);
    expect(existsSync(join(plainTarget, "keys"))).to.equal(false);
  });

  it("refuses a file whose bytes changed, even with its digest recomputed", async () => {
    const frames = framesOf(plain);
    const victim = frames.find((f) => f.header.path === "deployment.json")!;
    const body = Buffer.from(victim.body!);
    body[5]! ^= 0x01;
    const flipped = join(work.path, "flipped.dpbackup");
    writeFileSync(flipped, pack(frames.map((f) => (f === victim ? { header: f.header, body } : f))));
    await expectRefused(flipped, /altered or damaged \(deployment\.json does not match its digest\)/);
    const recomputed = join(work.path, "recomputed.dpbackup");
    writeFileSync(
      recomputed,
      pack(frames.map((f) => (f === victim ? { header: { ...f.header, sha256: sha256(body) }, body } : f))),
    );
    await expectRefused(recomputed, /altered or damaged \(its authentication code does not match\)/);
  });

  it("refuses a file added or removed, with the count and digests made consistent", async () => {
    const frames = framesOf(plain);
    const end = frames.at(-1)!;
    const files = frames.length - 2;
    const extra = Buffer.from('{"scope":"operator"}');
    const added = join(work.path, "added.dpbackup");
    writeFileSync(
      added,
      pack([
        ...frames.slice(0, -1),
        {
          header: { kind: "file", path: "extra.json", mode: 0o600, size: extra.length, sha256: sha256(extra) },
          body: extra,
        },
        { header: { ...end.header, files: files + 1 } },
      ]),
    );
    await expectRefused(added, /its authentication code does not match/);
    const removed = join(work.path, "removed.dpbackup");
    const withoutOne = frames.filter((f) => f.header.path !== "deployment.json");
    writeFileSync(removed, pack([...withoutOne.slice(0, -1), { header: { ...end.header, files: files - 1 } }]));
    await expectRefused(removed, /its authentication code does not match/);
  });

  it("refuses a byte flipped anywhere in the compressed file", async () => {
    const bytes = readFileSync(plain);
    for (const at of [20, Math.floor(bytes.length / 2), bytes.length - 3]) {
      const copy = Buffer.from(bytes);
      copy[at]! ^= 0x40;
      const file = join(work.path, `raw-${at}.dpbackup`);
      writeFileSync(file, copy);
      await expectRefused(file, /altered|damaged|not a dutyproof backup/);
    }
  });

  it("needs a passphrase to back up, and refuses a short one", async () => {
    const without = Object.fromEntries(Object.entries(env).filter(([key]) => key !== "DUTYPROOF_BACKUP_PASSPHRASE"));
    const none = await runCli(["backup", "--out", join(work.path, "none.dpbackup"), "--data-dir", dataDir], without);
    expect([none.status, none.stderr]).to.deep.equal([
      2,
      "dutyproof: give the backup passphrase in DUTYPROOF_BACKUP_PASSPHRASE or --passphrase-file\n",
    ]);
    const short = await runCli(["backup", "--out", join(work.path, "short.dpbackup"), "--data-dir", dataDir], {
      ...without,
      DUTYPROOF_BACKUP_PASSPHRASE: "short",
    });
    expect([short.status, short.stderr]).to.deep.equal([
      1,
      "dutyproof: the backup passphrase must be at least 12 characters\n",
    ]);
  });
});
