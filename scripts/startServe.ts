/** `dutyproof serve` as its own process, for the benchmark and the tests that need the real thing. */
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { join } from "node:path";

export const cliPath = join(import.meta.dirname, "dutyproof.ts");

/** Starts `dutyproof serve` with `env` and resolves once `url`/readyz answers 200 (or rejects). */
export async function startServe(
  url: string,
  env: NodeJS.ProcessEnv,
  options: SpawnOptions & { nodeFlags?: string[]; timeoutMs?: number } = {},
): Promise<ChildProcess> {
  const { nodeFlags = [], timeoutMs = 30_000, ...spawnOptions } = options;
  // Tests that start `serve` drive it harder from one address than any client should; rate limits
  // are off unless the test sets them (test/hostile/rateLimit.test.ts tests them).
  const limitsOff = { RATE_LIMIT_CLIENT_PER_S: "0", RATE_LIMIT_UNIT_PER_S: "0" };
  const child = spawn(process.execPath, [...nodeFlags, cliPath, "serve"], {
    stdio: "ignore",
    ...spawnOptions,
    env: { ...limitsOff, ...env },
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return child;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  throw new Error(`dutyproof serve did not become ready at ${url}`);
}
