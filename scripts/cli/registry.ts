/** `dutyproof inspector …` and `dutyproof duty-type …`: the operator's other registry changes. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { getAddress, isAddress } from "ethers";
import { loadDutyTypeFile } from "../../server/catalog/loadCatalog.ts";
import { departmentIdOf, registerDutyTypes } from "../../server/chain/deployment.ts";
import { configFromEnvironment } from "../../server/config.ts";
import { type Command, command, group, required } from "./command.ts";
import { admin, send } from "./context.ts";
import { UsageError } from "./errors.ts";

export const inspectorCommand: Command = group("inspector", "inspectors of departments", [
  command(
    {
      name: "inspector register",
      summary: "operator: register an inspector's key for a department",
      usage: "ADDRESS --department CODE",
      flags: { department: { value: "CODE", help: "the department it inspects for, e.g. emergency-management" } },
      maxPositionals: 1,
      example: "dutyproof inspector register 0x5aF3…e1 --department emergency-management",
      notes: ["The address is the one `dutyproof unit keygen` printed for the inspector's keystore."],
    },
    async ({ values, positionals }) => {
      const address = positionals[0];
      if (!address || !isAddress(address)) throw new UsageError("inspector register: give the inspector's address");
      const department = required(values, "department");
      const { ledger, persist, audit } = await admin();
      await audit("inspector.register", { inspector: getAddress(address), department }, () =>
        send(ledger, ledger.getFunction("registerInspector")(getAddress(address), departmentIdOf(department))),
      );
      await persist();
      console.log(`inspector ${getAddress(address)} registered`);
    },
  ),
]);

export const dutyTypeCommand: Command = group("duty-type", "duty-type schema documents", [
  command(
    {
      name: "duty-type register",
      summary: "operator: register a duty-type schema document on the ledger and in the gateway's catalog",
      usage: "FILE",
      maxPositionals: 1,
      example: "dutyproof duty-type register duty-types/flood-drill.json",
    },
    async ({ positionals }) => {
      const file = positionals[0];
      if (!file) throw new UsageError("duty-type register: give the duty-type document");
      const entry = loadDutyTypeFile(file);
      const { ledger, persist, audit } = await admin();
      const added = await audit("duty-type.register", { code: entry.document.code, dutyTypeId: entry.id }, () =>
        registerDutyTypes(ledger, [entry.document]),
      );
      await persist();
      // The gateway reads DATA_DIR/duty-types again when it changes, so it accepts the type at once.
      const dir = join(configFromEnvironment().dataDir, "duty-types");
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${entry.document.code}.json`), JSON.stringify(entry.document, null, 2) + "\n");
      console.log(`duty type ${entry.document.code} ${added ? "registered" : "was already registered"} as ${entry.id}`);
    },
  ),
]);
