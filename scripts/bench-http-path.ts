/**
 * Why the ingest routes skip Express: server CPU per request of a no-op JSON POST handler
 * through Express 5 (express.json + res.json) and on node:http, each server in its own process,
 * driven by the benchmark's keep-alive client (docs/operations.md "Ingest path").
 *
 *   node scripts/bench-http-path.ts [--requests N]
 */
import { fork } from "node:child_process";
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import express from "express";
import { cpuSecondsOf, httpCall } from "./benchHttp.ts";

const body = JSON.stringify({ a: 1, pad: "x".repeat(600) });

function serve(kind: string): void {
  let handler: Parameters<typeof createServer>[1];
  if (kind === "express") {
    const app = express();
    app.set("etag", false);
    app.post("/x", express.json(), (req, res) => res.status(201).json({ ok: true, n: req.body.a }));
    handler = app;
  } else {
    handler = (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const out = JSON.stringify({ ok: true, n: (JSON.parse(Buffer.concat(chunks).toString()) as { a: number }).a });
        res.writeHead(201, { "content-type": "application/json", "content-length": Buffer.byteLength(out) });
        res.end(out);
      });
    };
  }
  const server = createServer(handler).listen(0, "127.0.0.1", () => {
    const address = server.address();
    process.send!(typeof address === "object" && address ? address.port : 0);
  });
}

async function measure(kind: string, requests: number): Promise<number> {
  const child = fork(import.meta.filename, ["--serve", kind]);
  const port = await new Promise<number>((resolve) => child.once("message", (p) => resolve(p as number)));
  const url = `http://127.0.0.1:${port}/x`;
  for (let i = 0; i < 2_000; i++) await httpCall(url, "POST", body); // warm-up
  const before = cpuSecondsOf(child.pid!);
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next++ < requests) await httpCall(url, "POST", body);
    }),
  );
  const us = Math.round(((cpuSecondsOf(child.pid!) - before) * 1e6) / requests);
  child.kill();
  return us;
}

const { values } = parseArgs({ options: { serve: { type: "string" }, requests: { type: "string" } } });
if (values.serve) serve(values.serve);
else {
  const requests = Number(values.requests ?? 20_000);
  for (const kind of ["express", "node:http"])
    console.log(`${kind}: ${await measure(kind, requests)} µs of server CPU per request (${requests} requests)`);
  process.exit(0);
}
