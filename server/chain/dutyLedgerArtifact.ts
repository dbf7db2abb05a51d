/** DutyLedger's ABI and bytecode, from the artifacts `hardhat build` writes. */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface ContractArtifact {
  abi: unknown[];
  bytecode: string;
}

export function loadDutyLedgerArtifact(): ContractArtifact {
  const path = join(import.meta.dirname, "..", "..", "artifacts", "contracts", "DutyLedger.sol", "DutyLedger.json");
  try {
    const artifact = JSON.parse(readFileSync(path, "utf8")) as ContractArtifact;
    return { abi: artifact.abi, bytecode: artifact.bytecode };
  } catch {
    throw new Error("DutyLedger is not compiled; run `npx hardhat build` (npm start does it)");
  }
}
