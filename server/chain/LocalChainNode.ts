/**
 * The embedded chain of `npm start`: an anvil node whose state lives in DATA_DIR, closed to every
 * process but DATA_DIR's owner. It runs in a network namespace of its own (`unshare --user --net`),
 * so its HTTP port is reachable from nowhere, with no dev accounts and no CORS, and answers only
 * on an IPC socket in DATA_DIR/chain/rpc (mode 0700). Outside readers go through the gateway's
 * read-only endpoint (server/http/chainRpcEndpoint.ts).
 * anvil only writes its state file on a clean exit or on a timer, so the gateway snapshots it
 * itself (anvil_dumpState, written with fsync and an atomic rename) after every transaction it
 * must not lose; after a kill -9 the node restarts from the last snapshot, and the gateway's
 * outbox re-sends whatever came after it.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  chmodSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { IpcJsonRpcClient } from "./IpcJsonRpc.ts";

const require = createRequire(import.meta.url);

/** The anvil executable the `@foundry-rs/anvil` package installed for this platform. */
export function anvilBinary(): string {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  try {
    return join(dirname(require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/package.json`)), "bin", "anvil");
  } catch {
    return join(dirname(require.resolve("@foundry-rs/anvil/package.json")), "bin.mjs");
  }
}

export interface LocalChainOptions {
  /** DATA_DIR/chain: the state snapshot, the pid file and the rpc/ directory with the socket. */
  stateDir: string;
  /** anvil's HTTP port inside its own network namespace, where nothing can reach it. */
  port?: number;
  chainId?: number;
}

/** The IPC socket of the embedded node whose state lives in `stateDir` (DATA_DIR/chain). */
export function localChainSocket(stateDir: string): string {
  return join(stateDir, "rpc", "anvil.ipc");
}

/**
 * Throws, saying why and what to do, when this host cannot give the node a network namespace of
 * its own: an embedded node on the host's loopback would be open to every local process and web
 * page, so there is no fallback to one.
 */
export function checkNetworkIsolation(): void {
  const probe = spawnSync("unshare", ["--user", "--map-root-user", "--net", "true"], { encoding: "utf8" });
  if (probe.status === 0) return;
  const reason = (probe.error?.message ?? probe.stderr ?? "").trim().split("\n")[0] || `exit code ${probe.status}`;
  throw new Error(
    `the embedded chain node cannot be closed off (unshare --user --net: ${reason}); enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 and user.max_user_namespaces > 0, util-linux installed) or set RPC_URL to an external chain`,
  );
}

export class LocalChainNode {
  private child: ChildProcess | null = null;
  /** The Unix socket that is the node's only way in. */
  readonly ipcPath: string;
  private readonly statePath: string;
  private readonly options: LocalChainOptions;
  private readonly client: IpcJsonRpcClient;

  constructor(options: LocalChainOptions) {
    this.options = options;
    this.ipcPath = localChainSocket(options.stateDir);
    this.statePath = join(options.stateDir, "state.json");
    this.client = new IpcJsonRpcClient(this.ipcPath);
  }

  /**
   * A node left running by a gateway that was killed (SIGKILL gives it no chance to stop its
   * child) holds the port and state the new one needs; its unsnapshotted state is what a crash
   * loses anyway, and the gateway's outbox re-sends it.
   */
  private stopOrphan(): void {
    const pidFile = join(this.options.stateDir, "anvil.pid");
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, "utf8"));
    try {
      // unshare execs anvil in the same process, so the pid is anvil's and so is its cmdline.
      const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      const socket = args[args.indexOf("--ipc") + 1];
      if (args.some((a) => a.endsWith("anvil")) && socket === this.ipcPath) {
        process.kill(pid, "SIGKILL");
        const deadline = Date.now() + 5000;
        while (existsSync(`/proc/${pid}`) && Date.now() < deadline)
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    } catch {
      // Not running (or not inspectable): nothing to stop.
    }
    rmSync(pidFile, { force: true });
  }

  /** Starts anvil, loading the last snapshot if there is one, and waits until it answers. */
  async start(): Promise<void> {
    checkNetworkIsolation();
    mkdirSync(this.options.stateDir, { recursive: true, mode: 0o700 });
    const socketDir = dirname(this.ipcPath);
    mkdirSync(socketDir, { recursive: true, mode: 0o700 });
    // mkdir leaves an existing directory's mode alone; the socket's directory is its only lock.
    chmodSync(this.options.stateDir, 0o700);
    chmodSync(socketDir, 0o700);
    this.stopOrphan();
    rmSync(this.ipcPath, { force: true });
    const isolation = ["--user", "--map-root-user", "--net"];
    const args = [anvilBinary(), "--ipc", this.ipcPath, "--port", String(this.options.port ?? 8545)];
    // No dev accounts (funded and unlocked) and no CORS: the gateway signs its own transactions.
    args.push("--accounts", "0", "--no-cors", "--silent");
    args.push("--chain-id", String(this.options.chainId ?? 31337));
    if (existsSync(this.statePath)) args.push("--load-state", this.statePath);
    const child = spawn("unshare", [...isolation, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    this.child = child;
    if (child.pid) writeFileSync(join(this.options.stateDir, "anvil.pid"), String(child.pid));
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    const exited = new Promise<never>((_, reject) =>
      child.once("exit", (code) => reject(new Error(`the local chain node exited (code ${code}): ${stderr.trim()}`))),
    );
    // Only the wait below cares how the node exits; later exits are the owner's business.
    exited.catch(() => {});
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const ready = await Promise.race([this.ping(), exited]);
      if (ready) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the local chain node did not answer on ${this.ipcPath} within 20 s`);
  }

  private async ping(): Promise<boolean> {
    try {
      await this.rpc("eth_chainId", []);
      return true;
    } catch {
      return false;
    }
  }

  /** One call over the IPC socket (the caller must be DATA_DIR's owner to reach it). */
  async rpc(method: string, params: unknown[]): Promise<unknown> {
    return this.client.call(method, params);
  }

  /** Writes the node's whole state to DATA_DIR durably; returns once it is on disk. */
  async snapshot(): Promise<void> {
    const hex = (await this.rpc("anvil_dumpState", [])) as string;
    const json = gunzipSync(Buffer.from(hex.slice(2), "hex"));
    const temporary = `${this.statePath}.tmp`;
    const fd = openSync(temporary, "w", 0o600);
    try {
      writeSync(fd, json);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.statePath);
    const dirFd = openSync(this.options.stateDir, "r");
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }

  /** Snapshots and stops the node. */
  async stop(): Promise<void> {
    // A node that died of a signal has exitCode null and its "exit" already emitted.
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) {
      this.client.close();
      return;
    }
    try {
      await this.snapshot();
    } catch {
      // The node may already be gone; the last snapshot stands.
    }
    const child = this.child;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 3000).unref();
    });
    this.child = null;
    this.client.close();
  }
}

/** One JSON-RPC call over HTTP; an error answer becomes an Error naming the method. */
export async function jsonRpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}
