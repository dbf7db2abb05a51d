#!/usr/bin/env node
/**
 * Builds the web console (console/) into build/console/ with esbuild: the pages, the core
 * verifier they share with the CLI (server/core), ethers for the keystore, ECharts, and the
 * Noto Sans SC font, all from npm packages, so the console needs no internet. `npm start` and
 * `npm test` run it; the output is not committed.
 */
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const root = join(import.meta.dirname, "..");
export const defaultConsoleOutDir = join(root, "build", "console");

/** Bundles the console into `outDir` (emptied first). Resolves with the output file names. */
export async function buildConsole(outDir = defaultConsoleOutDir): Promise<string[]> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { app: "console/src/main.ts", console: "console/static/console.css" },
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
  return Object.keys(result.metafile.outputs);
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
