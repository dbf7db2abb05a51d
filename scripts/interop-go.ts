/**
 * `npm run interop:go [-- URL]`: checks a dutyproof log with the Go reference implementation of
 * C2SP signed notes and tiled logs (golang.org/x/mod/sumdb/note, sumdb/tlog; scripts/interop-go/
 * main.go). Given a gateway URL it checks that gateway; without one it starts a throwaway
 * gateway in a temporary directory, puts 300 signed records in its log and waits for their
 * checkpoint to be anchored and signed. Needs `go` and the Go module sources, e.g. Debian's
 * golang-go and golang-golang-x-mod-dev (GOPATH /usr/share/gocode, no network). Not part of
 * `npm test`, so a machine without Go still runs the whole suite.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { Wallet, id } from "ethers";
import { bytesToHex } from "../server/core/bytes.ts";
import { eip712Domain, typedDataDigest } from "../server/core/eip712.ts";
import { type RecordEnvelope, signedMessageOf } from "../server/core/record.ts";
import { configFromEnvironment } from "../server/config.ts";
import { startGateway } from "../server/main.ts";
import { tempDir } from "./tempDir.ts";

const GOPATH = process.env.GOPATH ?? "/usr/share/gocode";

function fail(message: string, code = 1): never {
  console.error(`interop:go: ${message}`);
  process.exit(code);
}

/** Runs the Go check; asynchronously, as a scratch gateway in this process must keep answering it. */
async function runGo(url: string, verifierKey: string): Promise<number> {
  const program = join(import.meta.dirname, "interop-go", "main.go");
  const cache = tempDir("interop-go-cache");
  try {
    const child = spawn("go", ["run", program, url, verifierKey], {
      stdio: "inherit",
      env: { ...process.env, GO111MODULE: "off", GOPATH, GOCACHE: cache.path },
    });
    return await new Promise<number>((resolve) => {
      child.once("error", () =>
        fail("`go` is not installed (Debian: apt-get install golang-go golang-golang-x-mod-dev)", 2),
      );
      child.once("exit", (code) => resolve(code ?? 1));
    });
  } finally {
    cache.remove();
  }
}

async function infoOf(url: string): Promise<{ tlog?: { verifierKey: string } }> {
  const res = await fetch(`${url}/v1/info`).catch(() => fail(`no gateway answers at ${url}`));
  return (await res.json()) as { tlog?: { verifierKey: string } };
}

/** A throwaway gateway with 300 records in a signed checkpoint. */
async function withScratchGateway(run: (url: string) => Promise<number>): Promise<number> {
  const dir = tempDir("interop-go");
  console.error("starting a scratch gateway…");
  const chainPort = 40_000 + Math.floor(Math.random() * 10_000);
  const gateway = await startGateway(
    configFromEnvironment(
      {},
      { dataDir: dir.path, port: 0, chainPort, anchorIntervalMs: 200, anchorMaxLeaves: 1000, logName: "interop-go" },
    ),
    process.env.INTEROP_DEBUG ? (line) => console.error(line) : () => {},
  );
  try {
    const unit = Wallet.createRandom();
    const unitId = id("unit:interop-go");
    await (await gateway.ledger.getFunction("registerUnit")(unitId, "0x" + "00".repeat(32), 3, unit.address)).wait();
    const { deployment } = gateway;
    const catalog = (
      (await (await fetch(`${gateway.url}/v1/duty-types`)).json()) as {
        dutyTypes: Array<{ id: string; code: string }>;
      }
    ).dutyTypes;
    const dutyTypeId = catalog.find((d) => d.code === "grid-patrol")!.id;
    const domain = eip712Domain(deployment.chainId, deployment.address);
    const items = Array.from({ length: 300 }, (_, i) => {
      const envelope: RecordEnvelope = {
        version: 2,
        logId: deployment.logId,
        unitId,
        dutyTypeId,
        performedAt: Math.floor(Date.now() / 1000) - 60,
        fields: { gridCode: `G-${i}`, durationMinutes: 30, issuesFound: 0, gridWorker: "网格员" },
        salt: bytesToHex(randomBytes(32)),
      };
      const signature = unit.signingKey.sign(typedDataDigest(domain, signedMessageOf(envelope))).serialized;
      return { envelope, signature };
    });
    const res = await fetch(`${gateway.url}/v1/attestations/batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ items }),
    });
    if (res.status !== 200) fail(`the scratch gateway refused the records (${res.status})`);
    console.error("300 records in its log; waiting for their checkpoint to be anchored and signed…");
    for (let i = 0; i < 300; i++) {
      const checkpoint = await fetch(`${gateway.url}/tlog/checkpoint`);
      if (checkpoint.status === 200 && (await checkpoint.text()).split("\n")[1] === "300") break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return await run(gateway.url);
  } finally {
    await gateway.close();
    dir.remove();
  }
}

const url = process.argv[2]?.replace(/\/+$/, "");
const check = async (target: string) => {
  const info = await infoOf(target);
  if (!info.tlog) fail(`${target} publishes no log key (/v1/info has no tlog)`);
  return runGo(target, info.tlog.verifierKey);
};
process.exitCode = url ? await check(url) : await withScratchGateway(check);
