/** `dutyproof serve`: the gateway, what `npm start` runs. */
import { configFromEnvironment } from "../../server/config.ts";
import { createLogger } from "../../server/observability/logger.ts";
import { type Command, command } from "./command.ts";

export const serveCommand: Command = command(
  {
    name: "serve",
    summary: "run the gateway (and, without RPC_URL, its embedded chain node)",
    usage: "[--port N] [--data-dir DIR] [--chain-port N]",
    flags: {
      port: { value: "N", help: "HTTP port (default PORT, 8080)" },
      "data-dir": { value: "DIR", help: "data directory (default DATA_DIR)" },
      "chain-port": { value: "N", help: "embedded chain node's port (default CHAIN_PORT)" },
    },
    example: "dutyproof serve --port 8080 --data-dir ./data",
    notes: ['Settings come from the environment (README, "Configuration"). SIGTERM drains and stops.'],
  },
  async ({ values }) => {
    const env = { ...process.env };
    if (values.port) env.PORT = values.port;
    if (values["data-dir"]) env.DATA_DIR = values["data-dir"];
    if (values["chain-port"]) env.CHAIN_PORT = values["chain-port"];
    const config = configFromEnvironment(env);
    // A transient fault in a background task (an RPC call while the chain restarts) must not
    // take the gateway down; it is logged, and the task's next round retries.
    const logger = createLogger();
    process.on("unhandledRejection", (reason) => logger.error(`background task failed: ${String(reason)}`));
    // Loaded here, not at the top: it brings esbuild, which no other command needs.
    const { ensureBuild } = await import("../ensureBuild.ts");
    await ensureBuild({ onBuild: (part) => logger.info({ part }, "building: missing or older than its sources") });
    const { startGateway } = await import("../../server/main.ts");
    const gateway = await startGateway(config);
    // The log is JSON lines; a person at a terminal also gets where things are.
    if (process.stdout.isTTY)
      console.error(`dutyproof gateway ready
  API        ${gateway.url}/v1/info
  API docs   ${gateway.url}/docs
  console    ${gateway.url}/console/
  metrics    ${gateway.url}/metrics
  chain RPC  ${gateway.rpcUrl} (chain ${gateway.deployment.chainId}, DutyLedger ${gateway.deployment.address})
  data       ${config.dataDir}`);
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, "stopping: finishing in-flight work");
      void gateway.close({ drainMs: config.shutdownDrainMs }).then(() => process.exit(0));
    };
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));
  },
);
