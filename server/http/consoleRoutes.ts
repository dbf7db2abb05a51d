/**
 * The web console's static files (built by scripts/build-console.ts into build/console/), served
 * under a strict Content-Security-Policy. The chain facts its in-browser verifier needs and a
 * unit's timeline are routes of the table (routes.ts) like any other.
 */
import { existsSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import express from "express";
import { DutyproofError } from "../core/errors.ts";

/** Where scripts/build-console.ts writes the bundle. */
export const consoleBuildDir = join(import.meta.dirname, "..", "..", "build", "console");

/**
 * No inline script or style, nothing from another origin: every script, style sheet, font and
 * chart library comes from this gateway. ECharts draws on canvas; downloads are blob: URLs.
 */
export const consoleContentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "font-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * The tip page's policy (tip.html only): the console's, and WebAssembly, which the Semaphore
 * prover (the circuit's witness calculator and the curve arithmetic) compiles from bytes served
 * by this gateway. No other page may compile WebAssembly. Scripts still come only from 'self'.
 */
export const tipPageContentSecurityPolicy = consoleContentSecurityPolicy.replace(
  "script-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
);

/** The security headers of every answer under /console. */
const consoleHeaders = {
  "content-security-policy": consoleContentSecurityPolicy,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cache-control": "no-cache",
};

/**
 * Serves the files under `buildDir` for the paths below /console (serve-static, as Express's
 * static middleware: index.html for /console/, /console redirected to /console/). A missing
 * file is a 404 problem, thrown.
 */
export function consoleFiles(
  buildDir: string = consoleBuildDir,
  policy: string = consoleContentSecurityPolicy,
): (req: IncomingMessage & { originalUrl?: string }, res: ServerResponse) => Promise<void> {
  const serve = express.static(buildDir, { index: "index.html", redirect: true, fallthrough: true });
  return (req, res) =>
    new Promise((resolve, reject) => {
      for (const [name, value] of Object.entries(consoleHeaders)) res.setHeader(name, value);
      res.setHeader("content-security-policy", policy);
      const notFound = () =>
        new DutyproofError("request.not_found", `no route ${req.method} ${(req.url ?? "").split("?")[0]}`);
      if (!existsSync(join(buildDir, "index.html"))) {
        reject(
          new DutyproofError(
            "request.not_found",
            "the web console is not built: npm start builds it (or node scripts/build-console.ts)",
          ),
        );
        return;
      }
      // serve-static reads the path below its mount point, and the full one for redirects.
      const original = req.url ?? "/";
      const below = original.replace(/^\/console/i, "");
      req.originalUrl = original;
      req.url = below.startsWith("/") ? below : `/${below}`;
      res.once("close", () => resolve());
      serve(req as never, res as never, (error?: unknown) => {
        req.url = original;
        if (error && (error as { status?: number }).status !== 404) reject(error);
        else reject(notFound());
      });
    });
}
