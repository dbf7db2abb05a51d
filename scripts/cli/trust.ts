/** `dutyproof trust export`: this deployment as a trust file, for the inspectors a county equips. */
import { configFromEnvironment } from "../../server/config.ts";
import { trustFileOf } from "../../server/core/trust.ts";
import { type Command, command, group } from "./command.ts";
import { ownDeployment, writeOut } from "./context.ts";
import { CliError } from "./errors.ts";

export const trustCommand: Command = group("trust", 'trust files (docs/protocol.md, "Trust files")', [
  command(
    {
      name: "trust export",
      summary: "write this machine's deployment as a trust file for verifiers (`verify --trust FILE`)",
      usage: "[--out FILE] [--name TEXT]",
      flags: {
        out: { value: "FILE", help: "where the trust file goes (else stdout)" },
        name: { value: "TEXT", help: "the deployment's name in the file (default LOG_NAME)" },
      },
      example: "dutyproof trust export --name 清水县 --out county-trust.json",
    },
    async ({ values }) => {
      const config = configFromEnvironment();
      const own = await ownDeployment();
      if (!own) throw new CliError(`no deployment in ${config.dataDir}; start the gateway first (npm start)`);
      const file = JSON.stringify(trustFileOf([{ ...own, name: values.name ?? config.logName }]), null, 2);
      if (values.out === undefined) return console.log(file);
      writeOut(values.out, file);
      console.log(`trust file for chain ${own.chainId}, contract ${own.contract} written to ${values.out}`);
    },
  ),
]);
