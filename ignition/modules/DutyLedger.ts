/**
 * Hardhat Ignition module for a production deployment of DutyLedger (docs/operations.md):
 *
 *   npx hardhat ignition deploy ignition/modules/DutyLedger.ts --network external
 *
 * The deploying account (OPERATOR_KEY of the `external` network) becomes the admin
 * (DEFAULT_ADMIN_ROLE), takes REGISTRAR_ROLE and registers the starter duty catalog
 * (server/catalog/duty-types); it can hand both roles to other accounts later. Gateway logs are not created here: each gateway's log is
 * created later with `dutyproof log create NAME --operator ADDRESS`. The gateway reads the
 * address from Ignition's output (ignition/deployments/<deployment id>/), never from a paste.
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { id } from "ethers";
import { loadCatalog } from "../../server/catalog/loadCatalog.ts";
import { dutyTypeIdOf, levelMaskOf } from "../../server/core/dutyType.ts";
import { departmentIdOf } from "../../server/chain/deployment.ts";

const REGISTRAR_ROLE = id("REGISTRAR_ROLE");

export default buildModule("DutyLedger", (m) => {
  const deployer = m.getAccount(0);
  const ledger = m.contract("DutyLedger", [deployer]);
  const grant = m.call(ledger, "grantRole", [REGISTRAR_ROLE, deployer], { id: "grantRegistrarToDeployer" });
  for (const { document } of loadCatalog()) {
    m.call(
      ledger,
      "registerDutyType",
      [dutyTypeIdOf(document), departmentIdOf(document.department), levelMaskOf(document)],
      { id: `registerDutyType_${document.code.replace(/[^A-Za-z0-9]/g, "_")}`, after: [grant] },
    );
  }
  return { ledger };
});
