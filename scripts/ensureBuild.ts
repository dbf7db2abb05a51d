/**
 * What `dutyproof serve` needs built before it starts: DutyLedger's artifacts (`hardhat build`)
 * and the web console (scripts/build-console.ts). `npm install` and `npm ci` build both once
 * (the prepare script runs this file with --force); a gateway builds only what is missing or
 * stale (a checkout installed with --ignore-scripts, a `git pull` that changed a contract), one
 * process at a time under a lock, so any number of gateways can start together from one checkout.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { buildConsole, consoleInputsFile, defaultConsoleOutDir } from "./build-console.ts";

const root = join(import.meta.dirname, "..");

/** The artifact the gateway deploys and reads its ABI from (server/chain/dutyLedgerArtifact.ts). */
const dutyLedgerArtifact = join(root, "artifacts", "contracts", "DutyLedger.sol", "DutyLedger.json");

/** A build longer than this on one machine is stuck, not slow. */
const lockWaitMs = 10 * 60_000;

export interface EnsureBuildOptions {
  /** Told what is being built, once per part (nothing when everything is up to date). */
  onBuild?: (part: "contracts" | "console") => void;
  /** Build both even if they look current (`npm install`: a dependency may have changed). */
  force?: boolean;
}

/**
 * Builds the contracts and the console if either is missing or stale, and resolves once both
 * are current. When both already are (the usual start), it only reads files: no lock, no write,
 * so a gateway whose user cannot write to the checkout starts too.
 */
export async function ensureBuild(options: EnsureBuildOptions = {}): Promise<void> {
  if (!options.force && contractsCurrent() && consoleCurrent()) return;
  const buildDir = join(root, "build");
  mkdirSync(buildDir, { recursive: true });
  await withProcessLock(join(buildDir, "build.lock"), async () => {
    // Another gateway may have built while this one waited for the lock.
    if (options.force || !contractsCurrent()) {
      options.onBuild?.("contracts");
      await hardhatBuild();
    }
    if (options.force || !consoleCurrent()) {
      options.onBuild?.("console");
      await buildConsole();
    }
  });
}

/**
 * Whether DutyLedger's artifact was compiled from the files present now, by the compiler
 * installed now, for the EVM version asked for (if one is): the build information Hardhat
 * writes beside it records every source it compiled, the project's and the libraries', with
 * its content. Contents, not file times: Hardhat rewrites no artifact for a source that was only
 * touched, so a time would stay stale and rebuild on every start. It holds whoever built
 * (`npm install`, `npm test`, `hardhat build`). Compiler settings changed in hardhat.config.ts
 * are not seen here; `npm run build` after such a change.
 */
function contractsCurrent(): boolean {
  try {
    const artifact = JSON.parse(readFileSync(dutyLedgerArtifact, "utf8")) as { buildInfoId: string };
    const buildInfo = JSON.parse(
      readFileSync(join(root, "artifacts", "build-info", `${artifact.buildInfoId}.json`), "utf8"),
    ) as BuildInfo;
    const solc = JSON.parse(readFileSync(join(root, "node_modules", "solc", "package.json"), "utf8")) as {
      version: string;
    };
    if (buildInfo.solcVersion !== solc.version) return false;
    const evmVersion = process.env.EVM_VERSION;
    if (evmVersion && buildInfo.input.settings.evmVersion !== evmVersion) return false;
    return Object.entries(buildInfo.input.sources).every(([name, { content }]) => {
      const path = sourcePath(name);
      return path !== undefined && readFileSync(path, "utf8") === content;
    });
  } catch {
    return false; // something missing or unreadable: build
  }
}

interface BuildInfo {
  solcVersion: string;
  input: { settings: { evmVersion?: string }; sources: Record<string, { content: string }> };
}

/** Where a Hardhat 3 input source name's file is: `project/<path>` or `npm/<package>@<version>/<path>`. */
function sourcePath(name: string): string | undefined {
  if (name.startsWith("project/")) return join(root, name.slice("project/".length));
  const library = /^npm\/((?:@[^/@]+\/)?[^/@]+)@([^/]+)\/(.+)$/.exec(name);
  if (!library) return undefined;
  const [, pkg, version, path] = library as unknown as [string, string, string, string];
  const installed = JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8")) as {
    version: string;
  };
  return installed.version === version ? join(root, "node_modules", pkg, path) : undefined;
}

/** The console exists and is newer than every project file it was bundled from. */
function consoleCurrent(): boolean {
  const manifest = join(defaultConsoleOutDir, consoleInputsFile);
  const built = mtimeOf(manifest);
  if (built === undefined || mtimeOf(join(defaultConsoleOutDir, "index.html")) === undefined) return false;
  let inputs: unknown;
  try {
    inputs = JSON.parse(readFileSync(manifest, "utf8"));
  } catch {
    return false;
  }
  return (
    Array.isArray(inputs) &&
    inputs.every((path) => typeof path === "string" && (mtimeOf(join(root, path)) ?? Infinity) <= built)
  );
}

function mtimeOf(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** `hardhat build --quiet` in the project; rejects with Hardhat's last line of output. */
function hardhatBuild(): Promise<void> {
  const cli = join(root, "node_modules", "hardhat", "dist", "src", "cli.js");
  // The HARDHAT_* variables of a parent Hardhat process (a test run) would point this build at
  // another configuration.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("HARDHAT_")));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, "build", "--quiet"], {
      cwd: root,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) return resolve();
      const last = output.trim().split("\n").filter(Boolean).at(-1) ?? `exit code ${code}`;
      reject(new Error(`building the contracts failed (hardhat build): ${last}`));
    });
  });
}

/**
 * Runs `body` while holding `lock`, a file naming the holding process. The file is written
 * aside and hard-linked into place, so it never exists without its pid; a lock whose process
 * is gone (a build killed mid-way) is taken over. (Two waiters taking over the same dead lock at
 * the same instant could both build; the worst that does is fail one start, as before.)
 */
async function withProcessLock<T>(lock: string, body: () => Promise<T>): Promise<T> {
  const candidate = `${lock}.${process.pid}-${randomBytes(4).toString("hex")}`;
  writeFileSync(candidate, `${process.pid}\n`, { mode: 0o600 });
  try {
    const deadline = Date.now() + lockWaitMs;
    for (;;) {
      try {
        linkSync(candidate, lock);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      if (!holderAlive(lock)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${relative(root, lock)} is held by another build for too long`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    rmSync(candidate, { force: true });
  }
  try {
    return await body();
  } finally {
    rmSync(lock, { force: true });
  }
}

function holderAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(lock, "utf8").trim());
  } catch {
    return true; // released meanwhile: the next link attempt tells
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

if (import.meta.filename === process.argv[1]) {
  const started = Date.now();
  ensureBuild({ force: process.argv.includes("--force"), onBuild: (part) => console.log(`building ${part}`) })
    .then(() => console.log(`build current (${Date.now() - started} ms)`))
    .catch((error: unknown) => {
      console.error(`ensure-build: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
      process.exit(1);
    });
}
