/** `dutyproof unit …`: a unit's key, and the operator's registry changes for units. */
import { Wallet, getAddress, isAddress } from "ethers";
import { type Command, command, group, required } from "./command.ts";
import { encryptSmKeystore } from "./smKeystore.ts";
import { admin, keystoreAddress, password, send, unitIdOf, writeOut } from "./context.ts";
import { UsageError } from "./errors.ts";

const passwordFlag = { "password-file": { value: "FILE", help: "keystore password (else DUTYPROOF_PASSWORD)" } };
const signerFlags = {
  signer: { value: "ADDRESS", help: "the unit's signing address (0x + 40 hex)" },
  keystore: { value: "FILE", help: "take the address from this keystore instead" },
};

/** The signing address of --signer or --keystore. */
function signerOf(values: Record<string, string | undefined>): string {
  let signer = values.signer;
  if (!signer && values.keystore) signer = keystoreAddress(values.keystore);
  const candidate = signer?.startsWith("0x") ? signer : `0x${signer}`;
  if (!signer || !isAddress(candidate)) throw new UsageError("give --signer ADDRESS or --keystore FILE");
  return getAddress(candidate);
}

/** The unit name positional, or a usage error. */
function unitName(positionals: string[], action: string): string {
  const name = positionals[0];
  if (!name) throw new UsageError(`unit ${action}: give the unit's name or 0x id`);
  return name;
}

const keygen = command(
  {
    name: "unit keygen",
    summary: "make a new key (for a unit or an inspector) as an encrypted JSON keystore",
    usage: "--out FILE [--suite secp256k1|sm2] [--password-file FILE]",
    flags: {
      out: { value: "FILE", help: "where the keystore goes (never overwritten)" },
      suite: {
        value: "SUITE",
        help: "secp256k1 (EIP-712, the default) or sm2 (国密: SM2 key, SM4 + PBKDF2-SM3 keystore; units only)",
      },
      ...passwordFlag,
    },
    example: "dutyproof unit keygen --suite sm2 --out village.json --password-file /secure/village.pass",
    notes: [
      "Prints the new key's address (for an SM2 key: its key id), for `unit register --signer` or `inspector register`.",
    ],
  },
  async ({ values }) => {
    const out = required(values, "out");
    const suite = values.suite ?? "secp256k1";
    if (suite !== "secp256k1" && suite !== "sm2") throw new UsageError("--suite must be secp256k1 or sm2");
    const secret = password(values);
    if (suite === "sm2") {
      const keystore = encryptSmKeystore(secret);
      writeOut(out, JSON.stringify(keystore, null, 2), { mode: 0o600, exclusive: true });
      return console.log(`new SM2 key ${keystore.address} (key id) written to ${out}`);
    }
    const wallet = Wallet.createRandom();
    writeOut(out, await wallet.encrypt(secret), { mode: 0o600, exclusive: true });
    console.log(`new key ${wallet.address} written to ${out}`);
  },
);

const register = command(
  {
    name: "unit register",
    summary: "operator: register a unit on the ledger with its signing key",
    usage: "NAME --level N (--signer ADDRESS | --keystore FILE) [--parent NAME]",
    flags: {
      level: { value: "N", help: "administrative level 0-255 (2 township, 3 village)" },
      ...signerFlags,
      parent: { value: "NAME", help: "the unit above it" },
    },
    maxPositionals: 1,
    example: "dutyproof unit register qingshui-1 --level 3 --parent qingshui --keystore village.json",
  },
  async ({ values, positionals }) => {
    const name = unitName(positionals, "register");
    const level = Number(required(values, "level"));
    if (!Number.isInteger(level) || level < 0 || level > 255) throw new UsageError("--level must be an integer 0-255");
    const signer = signerOf(values);
    const { ledger, persist, audit } = await admin();
    const unitId = unitIdOf(name);
    const parentId = values.parent ? unitIdOf(values.parent) : "0x" + "00".repeat(32);
    await audit("unit.register", { unit: name, unitId, level, signer }, () =>
      send(ledger, ledger.getFunction("registerUnit")(unitId, parentId, level, signer)),
    );
    await persist();
    console.log(`unit ${name} registered as ${unitId}`);
  },
);

const rotateKey = command(
  {
    name: "unit rotate-key",
    summary: "operator: a lost or stolen key — the unit signs with a new one from now on",
    usage: "NAME (--signer ADDRESS | --keystore FILE)",
    flags: signerFlags,
    maxPositionals: 1,
    example: "dutyproof unit rotate-key qingshui-1 --keystore village-2027.json",
  },
  async ({ values, positionals }) => {
    const name = unitName(positionals, "rotate-key");
    const unitId = unitIdOf(name);
    const signer = signerOf(values);
    const { ledger, persist, audit } = await admin();
    await audit("unit.rotate-key", { unit: name, unitId, signer }, () =>
      send(ledger, ledger.getFunction("rotateUnitKey")(unitId, signer)),
    );
    await persist();
    console.log(`unit ${name}: records are signed by ${signer} from now on; earlier records keep their key`);
  },
);

/** `unit suspend` and `unit resume`: IDutyLedger.UnitStatus Suspended 2, Active 1. */
const statusChange = (action: "suspend" | "resume") =>
  command(
    {
      name: `unit ${action}`,
      summary:
        action === "suspend"
          ? "operator: suspend a unit (its new records are refused)"
          : "operator: make a unit active again",
      usage: "NAME",
      maxPositionals: 1,
      example: `dutyproof unit ${action} qingshui-1`,
    },
    async ({ positionals }) => {
      const name = unitName(positionals, action);
      const unitId = unitIdOf(name);
      const { ledger, persist, audit } = await admin();
      await audit(`unit.${action}`, { unit: name, unitId }, () =>
        send(ledger, ledger.getFunction("setUnitStatus")(unitId, action === "suspend" ? 2 : 1)),
      );
      await persist();
      console.log(`unit ${name} ${action === "suspend" ? "suspended: its new records are refused" : "active again"}`);
    },
  );

export const unitCommand: Command = group("unit", "a unit's key and its registration", [
  keygen,
  register,
  rotateKey,
  statusChange("suspend"),
  statusChange("resume"),
]);
