/**
 * Graceful shutdown of the real `dutyproof serve` process under load: on SIGTERM /readyz turns
 * 503 while requests are still served, requests in flight finish, the store is closed and the
 * embedded chain node snapshotted and stopped; after a restart every acknowledged record is
 * there and gets anchored.
 */
import { expect } from "chai";
import type { ChildProcess } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Wallet, id } from "ethers";
import { runCli } from "../helpers/externalChain.ts";
import { testPort } from "../helpers/ports.ts";
import { startServe } from "../helpers/serve.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { type Eip712Info, newEnvelope, signEnvelope } from "../helpers/unitClient.ts";
import { sleep } from "../helpers/gatewayFixture.ts";

describe("graceful shutdown of dutyproof serve", function () {
  this.timeout(240_000);
  const dir = tempDir("shutdown");
  const port = testPort("production");
  const url = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    DATA_DIR: dir.path,
    PORT: String(port),
    CHAIN_PORT: String(port + 1 >= 12_000 ? port - 1 : port + 1),
    ANCHOR_INTERVAL_MS: "300",
    SHUTDOWN_DRAIN_MS: "1500",
  };
  let server: ChildProcess | undefined;
  let output = "";

  const start = async () => {
    output = "";
    server = await startServe(url, env, { timeoutMs: 90_000, stdio: ["ignore", "pipe", "pipe"] });
    server.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    server.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  };

  after(async () => {
    if (server && server.exitCode === null) {
      server.kill("SIGKILL");
      await new Promise((r) => server!.once("exit", r));
    }
    dir.remove();
  });

  it("drains, finishes what is in flight, saves the chain and loses no acknowledged record", async () => {
    await start();
    const unitKey = Wallet.createRandom();
    const registered = await runCli(
      ["unit", "register", "drain-village", "--level", "3", "--signer", unitKey.address],
      env,
    );
    expect(registered.status, registered.stderr).to.equal(0);
    const info = (await (await fetch(`${url}/v1/info`)).json()) as { eip712: Eip712Info; logId: string };
    const types = (await (await fetch(`${url}/v1/duty-types`)).json()) as {
      dutyTypes: Array<{ id: string; code: string }>;
    };
    const patrol = types.dutyTypes.find((d) => d.code === "grid-patrol")!.id;
    const batchOf = async (n: number, tag: string) => {
      const items = [];
      for (let i = 0; i < n; i++) {
        const envelope = newEnvelope(info.logId, id("unit:drain-village"), patrol, {
          gridCode: `${tag}-${i}`,
          durationMinutes: 10,
          issuesFound: 0,
          gridWorker: "网格员",
        });
        items.push({ envelope, signature: await signEnvelope(unitKey, info.eip712, envelope) });
      }
      return JSON.stringify({ items });
    };

    // Two clients send batches back to back until the gateway stops listening.
    const acknowledged = new Set<string>();
    const statuses: number[] = [];
    const errors: string[] = [];
    let sigtermAt = 0;
    let servedAfterSigterm = 0;
    let stop = false;
    const client = async (name: string) => {
      for (let round = 0; !stop; round++) {
        const body = await batchOf(50, `${name}-${round}`);
        const sentAt = Date.now();
        try {
          const res = await fetch(`${url}/v1/attestations/batch`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body,
          });
          statuses.push(res.status);
          const { results } = (await res.json()) as { results: Array<{ status: number; recordId: string }> };
          for (const r of results) if (r.status === 201) acknowledged.add(r.recordId);
          if (sigtermAt && sentAt > sigtermAt) servedAfterSigterm++;
        } catch (error) {
          errors.push(String((error as { cause?: { code?: string } }).cause?.code ?? error));
          if (sigtermAt) stop = true;
        }
      }
    };
    const clients = [client("a"), client("b")];
    await sleep(1_500);

    sigtermAt = Date.now();
    const exited = new Promise<number | null>((resolve) => server!.once("exit", (code) => resolve(code)));
    server!.kill("SIGTERM");
    const readiness: number[] = [];
    for (let i = 0; i < 10; i++) {
      try {
        const res = await fetch(`${url}/readyz`, { headers: { connection: "close" } });
        readiness.push(res.status);
        if (res.status === 503) expect(await res.json()).to.deep.include({ checks: { gateway: "draining" } });
      } catch {
        break;
      }
      await sleep(100);
    }
    expect(await exited).to.equal(0);
    stop = true;
    await Promise.all(clients);

    expect(readiness).to.include(503);
    expect(servedAfterSigterm, "requests sent during the drain are served").to.be.greaterThan(0);
    expect(statuses.every((s) => s === 200)).to.equal(true, `statuses ${[...new Set(statuses)]}`);
    // Once the listener is closed a new connection is refused; nothing is cut off mid-answer.
    expect(
      errors.every((e) => e === "ECONNREFUSED"),
      errors.join(", "),
    ).to.equal(true);
    expect(acknowledged.size).to.be.greaterThan(0);

    const lines = output
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { msg: string; signal?: string });
    expect(lines.find((l) => l.msg === "stopping: finishing in-flight work")?.signal).to.equal("SIGTERM");
    expect(lines.at(-1)?.msg).to.equal("stopped: store closed, chain state saved");
    // The chain node was stopped (not orphaned) after its state was written.
    const anvilPid = Number(readFileSync(join(dir.path, "chain", "anvil.pid"), "utf8"));
    expect(existsSync(`/proc/${anvilPid}`)).to.equal(false);
    expect(statSync(join(dir.path, "chain", "state.json")).mtimeMs).to.be.greaterThan(sigtermAt);

    // After a restart, every acknowledged record is there and ends up anchored.
    await start();
    const deadline = Date.now() + 60_000;
    const pending = new Set(acknowledged);
    while (pending.size > 0 && Date.now() < deadline) {
      for (const recordId of [...pending]) {
        const res = await fetch(`${url}/v1/attestations/${recordId}/receipt`);
        expect(res.status, recordId).to.be.oneOf([200, 202]);
        if (res.status === 200) pending.delete(recordId);
        else await res.body?.cancel();
      }
      if (pending.size > 0) await sleep(300);
    }
    expect(pending.size).to.equal(0);
    server!.kill("SIGTERM");
    await new Promise((r) => server!.once("exit", r));
  });
});
