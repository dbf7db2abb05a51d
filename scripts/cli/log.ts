/** `dutyproof log …`: the admin's logs on the ledger — one per gateway, and sealing a stolen one. */
import { getAddress, isAddress } from "ethers";
import { logIdOf } from "../../server/chain/ignitionDeployment.ts";
import { type Command, command, group, required } from "./command.ts";
import { admin, send } from "./context.ts";
import { UsageError } from "./errors.ts";

const create = command(
  {
    name: "log create",
    summary: "admin: a log for a new gateway, and the operator address that anchors it",
    usage: "NAME --operator ADDRESS",
    flags: { operator: { value: "ADDRESS", help: "the new gateway's operator address (0x + 40 hex)" } },
    maxPositionals: 1,
    example: "dutyproof log create county-a --operator 0x9c1d…42",
    notes: ['NAME is the LOG_NAME of that gateway; its log id is keccak256("log:" + NAME).'],
  },
  async ({ values, positionals }) => {
    const name = positionals[0];
    if (!name) throw new UsageError("log create: give the new gateway's log name (LOG_NAME of that gateway)");
    const operator = required(values, "operator");
    if (!isAddress(operator)) throw new UsageError("--operator must be the new gateway's address (0x + 40 hex)");
    const { ledger, persist, audit } = await admin();
    const logId = logIdOf(name);
    await audit("log.create", { log: name, logId, operator: getAddress(operator) }, () =>
      send(ledger, ledger.getFunction("createLog")(logId, getAddress(operator))),
    );
    await persist();
    console.log(`log ${name} created as ${logId}, operated by ${getAddress(operator)}`);
  },
);

/**
 * The admin ends a log whose operator key was stolen at its last honest checkpoint (the size the
 * gateway's alarm names) and names the log, created beforehand with a new operator, that
 * continues it (docs/operations.md).
 */
const seal = command(
  {
    name: "log seal",
    summary: "admin: end a log whose operator key was stolen, at its last honest checkpoint",
    usage: "NAME --size N --successor NAME",
    flags: {
      size: { value: "N", help: "leaf count of the last honest checkpoint (the alarm names it)" },
      successor: { value: "NAME", help: "the log, created beforehand, that continues it" },
    },
    maxPositionals: 1,
    example: "dutyproof log seal county-a --size 1200 --successor county-a-2",
  },
  async ({ values, positionals }) => {
    const name = positionals[0];
    if (!name) throw new UsageError("log seal: give the name of the log to seal");
    const sizeText = required(values, "size");
    if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText))
      throw new UsageError("--size must be the leaf count of the last honest checkpoint");
    const successor = required(values, "successor");
    const { ledger, persist, audit } = await admin();
    const logId = logIdOf(name);
    const successorLogId = logIdOf(successor);
    const size = Number(sizeText);
    await audit("log.seal", { log: name, logId, size, successor, successorLogId }, () =>
      send(ledger, ledger.getFunction("sealLog")(logId, size, successorLogId)),
    );
    await persist();
    console.log(`log ${name} sealed at size ${size}; it continues as log ${successor} (${successorLogId})`);
  },
);

export const logCommand: Command = group("log", "the ledger's logs (admin)", [create, seal]);
