/**
 * Build once, start many: several gateways started at the same moment from one checkout, each
 * with its own DATA_DIR and ports, all become ready. `npm start` once rebuilt the contracts and
 * the console in place on every start, and two gateways started together raced in Hardhat's
 * build (`ENOENT … rename … compile-cache.json`) and one died. The checkout here is a fresh copy
 * with nothing built, so the starts also have to agree on who builds.
 */
import { expect } from "chai";
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { hardhatEnv, projectRoot } from "../helpers/externalChain.ts";
import { testPort } from "../helpers/ports.ts";
import { step } from "../helpers/steps.ts";
import { tempDir } from "../helpers/tempDir.ts";

/** A checkout as `git clone` leaves it, before any build: sources copied, node_modules linked. */
function freshCheckout(dir: string): void {
  for (const entry of [
    "contracts",
    "console",
    "server",
    "scripts",
    "hardhat.config.ts",
    "package.json",
    "tsconfig.json",
  ]) {
    cpSync(join(projectRoot, entry), join(dir, entry), { recursive: true });
  }
  mkdirSync(join(dir, "ignition"), { recursive: true });
  cpSync(join(projectRoot, "ignition", "modules"), join(dir, "ignition", "modules"), { recursive: true });
  symlinkSync(join(projectRoot, "node_modules"), join(dir, "node_modules"));
}

/** `count` distinct ports from this file's band. */
function distinctPorts(count: number): number[] {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(testPort("production"));
  return [...ports];
}

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** `npm start` in `project`, in its own process group so the whole tree can be stopped. */
function npmStart(project: string, env: NodeJS.ProcessEnv, port: number): Started {
  const child = spawn("npm", ["start"], {
    cwd: project,
    env: { ...hardhatEnv(process.env), RATE_LIMIT_CLIENT_PER_S: "0", SHUTDOWN_DRAIN_MS: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return { child, url: `http://127.0.0.1:${port}`, output: () => output };
}

/** Resolves with /readyz's status once it answers 200, or with why not once the process is gone. */
async function ready(started: Started, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${started.url}/readyz`)).status === 200) return "ready";
    } catch {
      // not listening yet
    }
    if (started.child.exitCode !== null) {
      return `exited ${started.child.exitCode}: ${started.output().trim().split("\n").slice(-3).join(" | ")}`;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return "not ready in time";
}

async function stop(started: Started): Promise<void> {
  if (started.child.exitCode !== null || started.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => started.child.once("exit", () => resolve()));
  try {
    process.kill(-started.child.pid!, "SIGTERM");
  } catch {
    // already gone
  }
  await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  if (started.child.exitCode === null) process.kill(-started.child.pid!, "SIGKILL");
}

describe("several gateways start at once from one checkout", function () {
  this.timeout(600_000);
  const project = tempDir("start-many");
  const dataDirs = [0, 1, 2].map((i) => tempDir(`start-many-data-${i}`));
  const started: Started[] = [];

  before(() => freshCheckout(project.path));
  after(async () => {
    await Promise.all(started.map(stop));
    for (const dir of [project, ...dataDirs]) dir.remove();
  });

  it("all become ready, one of them having built the contracts and the console once, and start again without building anything when nothing changed", async function () {
    this.timeout(900_000);
    await step("all become ready, one of them having built the contracts and the console once", async () => {
      expect(existsSync(join(project.path, "artifacts")), "the checkout starts unbuilt").to.equal(false);
      const ports = distinctPorts(6);
      dataDirs.forEach((dir, i) => {
        started.push(
          npmStart(
            project.path,
            { DATA_DIR: dir.path, PORT: String(ports[2 * i]), CHAIN_PORT: String(ports[2 * i + 1]) },
            ports[2 * i]!,
          ),
        );
      });
      const states = await Promise.all(started.map((s) => ready(s, 480_000)));
      expect(states).to.deep.equal(["ready", "ready", "ready"]);

      for (const s of started) {
        const page = await fetch(`${s.url}/console/`);
        expect(page.status).to.equal(200);
        expect(await page.text()).to.contain("app.js");
        // The list of the console's source files is not served.
        expect((await fetch(`${s.url}/console/.inputs.json`)).status).to.equal(404);
      }
      const builds = (part: string) =>
        started.filter((s) => s.output().includes(`"part":"${part}"`) && s.output().includes("building")).length;
      expect(builds("contracts"), "exactly one start builds the contracts").to.equal(1);
      expect(builds("console"), "exactly one start builds the console").to.equal(1);
    });
    await step("start again without building anything when nothing changed", async () => {
      await Promise.all(started.map(stop));
      const [port, chainPort] = distinctPorts(2);
      const again = npmStart(
        project.path,
        { DATA_DIR: dataDirs[0]!.path, PORT: String(port), CHAIN_PORT: String(chainPort) },
        port!,
      );
      started.push(again);
      expect(await ready(again, 120_000)).to.equal("ready");
      expect(again.output()).not.to.contain("building");
    });
  });
});
