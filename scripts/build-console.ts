#!/usr/bin/env node
/**
 * Builds the web console (console/) into build/console/ with esbuild: the pages, the core
 * verifier they share with the CLI (server/core), ethers for the keystore, ECharts, and the
 * Noto Sans SC font, all from npm packages, so the console needs no internet. `npm install`
 * (the prepare script) and `npm test` run it, and `dutyproof serve` when it is missing or older
 * than its sources (scripts/ensureBuild.ts); the output is not committed.
 */
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { build } from "esbuild";
import { TIP_PROOF_DEPTH } from "../server/core/tip.ts";

const root = join(import.meta.dirname, "..");
export const defaultConsoleOutDir = join(root, "build", "console");

/**
 * The file in a built console listing the project files it was bundled from (relative to the
 * project root, node_modules left out: a dependency changes only with `npm install`, which
 * rebuilds). A dot file, so the gateway's static handler never serves it.
 */
export const consoleInputsFile = ".inputs.json";

/**
 * Bundles the console into `outDir`, replacing what was there. It is built beside `outDir` and
 * renamed into place, so a gateway serving `outDir` meanwhile never sees a half-written bundle.
 * Resolves with the output files' names, relative to `outDir`.
 */
export async function buildConsole(outDir = defaultConsoleOutDir): Promise<string[]> {
  // A sibling of outDir: the same depth, so the source maps' relative paths stay right.
  const staging = `${outDir}.staging-${process.pid}-${randomBytes(4).toString("hex")}`;
  mkdirSync(staging, { recursive: true });
  try {
    const outputs = await bundleInto(staging);
    replaceDirectory(staging, outDir);
    return outputs;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

async function bundleInto(outDir: string): Promise<string[]> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: {
      app: "console/src/main.ts",
      tip: "console/src/pages/tip.ts",
      console: "console/static/console.css",
      // The residents' page is a bundle of its own, kept small for phones on slow networks.
      resident: "console/src/resident/resident.ts",
      "resident-style": "console/static/resident.css",
    },
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    // Browsers of county offices lag: ES2020 is the oldest with BigInt, which the hashing needs.
    target: ["es2020"],
    minify: true,
    sourcemap: "linked",
    chunkNames: "chunks/[name]-[hash]",
    assetNames: "fonts/[name]-[hash]",
    loader: { ".woff2": "file", ".woff": "file" },
    define: { "process.env.NODE_ENV": '"production"' },
    legalComments: "linked",
    metafile: true,
    logLevel: "warning",
  });
  copyFileSync(join(root, "console", "static", "index.html"), join(outDir, "index.html"));
  copyFileSync(join(root, "console", "static", "favicon.svg"), join(outDir, "favicon.svg"));
  copyFileSync(join(root, "console", "static", "resident.html"), join(outDir, "resident.html"));
  copyFileSync(join(root, "console", "static", "tip.html"), join(outDir, "tip.html"));
  copySemaphoreArtifacts(outDir);
  const inputs = Object.keys(result.metafile.inputs).filter((path) => !path.includes("node_modules/"));
  inputs.push(
    "console/static/index.html",
    "console/static/favicon.svg",
    "console/static/resident.html",
    "console/static/tip.html",
  );
  writeFileSync(join(outDir, consoleInputsFile), JSON.stringify(inputs.sort()) + "\n");
  return Object.keys(result.metafile.outputs).map((path) => relative(outDir, join(root, path)));
}

/**
 * The tip page's circuit files (the wasm that computes the witness, the proving key) of the one
 * depth tips use, from the installed @zk-kit/semaphore-artifacts: the browser proves with what
 * this gateway serves, never with a download.
 */
function copySemaphoreArtifacts(outDir: string): void {
  const from = dirname(createRequire(import.meta.url).resolve("@zk-kit/semaphore-artifacts/package.json"));
  mkdirSync(join(outDir, "semaphore"));
  for (const ext of ["wasm", "zkey"]) {
    const name = `semaphore-${TIP_PROOF_DEPTH}.${ext}`;
    copyFileSync(join(from, name), join(outDir, "semaphore", name));
  }
}

/**
 * Moves `from` to `to`. A rename cannot replace a directory that has files, so an existing `to`
 * is first renamed aside: a request in the instant between the two renames finds no console and
 * gets a 404, never a page from one build with scripts from another.
 */
function replaceDirectory(from: string, to: string): void {
  const aside = `${to}.old-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    renameSync(to, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  renameSync(from, to);
  rmSync(aside, { recursive: true, force: true });
}

if (import.meta.filename === process.argv[1]) {
  const started = Date.now();
  buildConsole()
    .then((files) => console.log(`web console built: ${files.length} files in ${Date.now() - started} ms`))
    .catch((error: unknown) => {
      console.error(`build-console: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
      process.exit(1);
    });
}
