/** `dutyproof replay`: the whole log (auditor token) or an export bundle, checked on chain. */
import { bundleSchema } from "../../server/core/verifier.ts";
import { informationalKinds } from "../../server/core/replay.ts";
import { progressBar } from "../../server/audit/progressBar.ts";
import {
  AuditFeedRefusedError,
  UntrustedDeploymentError,
  replayFromGateway,
} from "../../server/audit/replayFromGateway.ts";
import { BundleLogError, replayFromBundle } from "../../server/audit/replayFromBundle.ts";
import { type Command, command } from "./command.ts";
import { readJsonFile, rpcUrlOf, verifierTrust } from "./context.ts";
import { CliError, type ExitCode, SilentExit, UsageError, exitCodes } from "./errors.ts";
import { gatewayUrl } from "./gateway.ts";

/** The exit code of a replay that could not finish, by the error's type. */
function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof BundleLogError) return exitCodes.usage;
  if (error instanceof UntrustedDeploymentError) return exitCodes.failed;
  if (error instanceof AuditFeedRefusedError) return error.status >= 500 ? exitCodes.unreachable : exitCodes.failed;
  // Anything else stopped the replay midway: the chain or the gateway did not answer as it should.
  return exitCodes.unreachable;
}

export const replayCommand: Command = command(
  {
    name: "replay",
    summary: "replay the whole log (auditor token) or an export bundle: every record and checkpoint on chain",
    usage: "(--token AUDITOR_TOKEN | --bundle FILE) [--trust FILE] [--rpc URL] [--json]",
    flags: {
      token: { value: "TOKEN", help: "an auditor token (else DUTYPROOF_TOKEN)" },
      bundle: { value: "FILE", help: "replay an export bundle instead, offline except for the chain" },
      trust: { value: "FILE", help: "a trust file naming the deployments to believe" },
      rpc: { value: "URL", help: "the chain's JSON-RPC endpoint (default RPC_URL, else the gateway's /v1/rpc)" },
      json: { help: "the report as JSON" },
    },
    example: "dutyproof replay --bundle qingshui-1-2026H1.json --json",
    notes: ["exit 0 clean, 1 findings, 2 usage, 3 chain or gateway unreachable"],
  },
  async ({ values, switches }) => {
    const token = values.token ?? process.env.DUTYPROOF_TOKEN;
    let bundle;
    if (values.bundle !== undefined) {
      const parsed = bundleSchema.safeParse(readJsonFile(values.bundle));
      if (!parsed.success) throw new UsageError(`${values.bundle} is not a dutyproof export bundle`);
      bundle = parsed.data;
    } else if (!token)
      throw new UsageError("replay needs an auditor token (--token or DUTYPROOF_TOKEN) or --bundle FILE");
    const rpcUrl = rpcUrlOf(values);
    const trust = await verifierTrust(values.trust);
    const bar = progressBar(process.stderr, "replay");
    let report;
    try {
      report = bundle
        ? await replayFromBundle({ bundle, rpcUrl, trust, onProgress: bar.update })
        : await replayFromGateway({ gatewayUrl: gatewayUrl(), token: token!, rpcUrl, trust, onProgress: bar.update });
    } catch (error) {
      bar.finish();
      throw new CliError((error as Error).message.split("\n")[0]!, exitCodeOf(error), { cause: error });
    }
    bar.finish();
    if (switches.has("json")) console.log(JSON.stringify(report, null, 2));
    else {
      const problems = report.findings.filter((f) => !informationalKinds.has(f.kind));
      const source = bundle ? "the bundle's " : "";
      const extras = `${report.corrections} correction(s), ${report.withdrawals} withdrawal(s), ${report.erased} erased`;
      console.log(
        report.clean
          ? `clean: ${source}${report.records} records${report.demands ? ` (${report.demands} of them evidence demands)` : ""}, ${report.checkpoints} checkpoints (anchored size ${report.anchoredSize}); every checkpoint extends the last, every record present, signed and unchanged; ${extras}`
          : `FINDINGS: ${problems.length} problem(s) in ${source}${report.records} records and ${report.checkpoints} checkpoints; ${extras}`,
      );
      for (const [kind, n] of Object.entries(report.counts)) console.log(`  ${kind}: ${n}`);
      for (const f of problems.slice(0, 50))
        console.log(`  ✗ ${f.kind}${f.leafIndex !== undefined ? ` at leaf ${f.leafIndex}` : ""}: ${f.detail}`);
    }
    if (!report.clean) throw new SilentExit(exitCodes.failed);
  },
);
