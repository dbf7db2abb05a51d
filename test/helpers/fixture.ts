/** The DutyLedger fixture shared by the contract suites: one deployment, named accounts. */
import { network } from "hardhat";

export const connection = await network.getOrCreate();
export const { ethers, networkHelpers } = connection;

export const REGISTRAR_ROLE = ethers.id("REGISTRAR_ROLE");
export const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;

/** A bytes32 id from a readable name, as the gateway derives unit and log ids. */
export const idOf = (name: string): string => ethers.id(name);

export const UnitStatus = { None: 0n, Active: 1n, Suspended: 2n } as const;

export async function deployDutyLedger() {
  const [admin, registrar, operator, otherOperator, stranger, townshipKey, villageKey, newVillageKey, inspector] =
    await ethers.getSigners();
  const ledger = await ethers.deployContract("DutyLedger", [admin!.address]);
  await ledger.grantRole(REGISTRAR_ROLE, registrar!.address);
  return {
    ledger,
    admin: admin!,
    registrar: registrar!,
    operator: operator!,
    otherOperator: otherOperator!,
    stranger: stranger!,
    townshipKey: townshipKey!,
    villageKey: villageKey!,
    newVillageKey: newVillageKey!,
    inspector: inspector!,
  };
}
