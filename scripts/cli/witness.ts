/**
 * `dutyproof witness keygen|serve`: a witness of the log (c2sp.org/tlog-witness), which another
 * organisation runs on its own machine (docs/operations.md, "Witnesses"). The witness itself is
 * scripts/witnessCommands.ts and server/witness/.
 */
import { command, group } from "./command.ts";
import { UsageError } from "./errors.ts";
import { keygen, serve } from "../witnessCommands.ts";

const usage = (message: string) => new UsageError(message);

export const witnessGroup = group("witness", "a witness of the log, run by another organisation", [
  command(
    {
      name: "witness keygen",
      summary: "a new Ed25519 witness key (cosignature/v1), written 0600; prints its verifier key",
      usage: "--name NAME --out FILE",
      flags: {
        name: { value: "NAME", help: "the witness's key name, a schema-less URL (no spaces, no '+')" },
        out: { value: "FILE", help: "where the private key goes (never overwritten)" },
      },
      example: "dutyproof witness keygen --name witness.audit-bureau.example --out witness.key",
    },
    async ({ values }) => keygen(values, usage),
  ),
  command(
    {
      name: "witness serve",
      summary: "serve POST /add-checkpoint (c2sp.org/tlog-witness) for the logs named by --log",
      usage: "--key FILE --state DIR --log VERIFIER_KEY… [--port N] [--host H] [--rpc URL]",
      flags: {
        key: { value: "FILE", help: "the witness key from witness keygen" },
        state: { value: "DIR", help: "where the witness keeps what it cosigned (kill -9 safe)" },
        log: {
          value: "VERIFIER_KEY",
          help: "a log's verifier key (GET /v1/info tlog.verifierKey); repeatable",
          multiple: true,
        },
        port: { value: "N", help: "the port to listen on (default 7380)" },
        host: { value: "H", help: "the address to listen on (default 127.0.0.1)" },
        rpc: { value: "URL", help: "a chain endpoint: refuse checkpoints the contract did not anchor with that root" },
      },
      example: "dutyproof witness serve --key witness.key --state witness-state --log dutyproof/31337/0x…+1a2b3c4d+AQ…",
    },
    ({ values, lists }) => serve(values, lists.log!, usage),
  ),
]);
