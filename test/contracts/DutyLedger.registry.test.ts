import { expect } from "chai";
import {
  DEFAULT_ADMIN_ROLE,
  REGISTRAR_ROLE,
  UnitStatus,
  deployDutyLedger,
  ethers,
  idOf,
  networkHelpers,
} from "../helpers/fixture.ts";

const township = idOf("unit:township:qingshui");
const village = idOf("unit:village:qingshui-1");
const civilAffairs = idOf("dept:civil-affairs");
const householdVisit = idOf("duty-type:household-visit");

async function withUnits() {
  const f = await deployDutyLedger();
  await f.ledger.connect(f.registrar).registerUnit(township, ethers.ZeroHash, 2, f.townshipKey.address);
  await f.ledger.connect(f.registrar).registerUnit(village, township, 3, f.villageKey.address);
  return f;
}

describe("DutyLedger registry", () => {
  describe("deployment", () => {
    it("gives the admin DEFAULT_ADMIN_ROLE and nobody REGISTRAR_ROLE", async () => {
      const [admin] = await ethers.getSigners();
      const ledger = await ethers.deployContract("DutyLedger", [admin!.address]);
      expect(await ledger.hasRole(DEFAULT_ADMIN_ROLE, admin!.address)).to.equal(true);
      expect(await ledger.hasRole(REGISTRAR_ROLE, admin!.address)).to.equal(false);
    });

    it("refuses a zero admin", async () => {
      const factory = await ethers.getContractFactory("DutyLedger");
      await expect(factory.deploy(ethers.ZeroAddress)).to.be.revertedWithCustomError(factory, "DutyLedgerZeroAddress");
    });
  });

  describe("units", () => {
    it("registers a unit with its parent, level, key and status, and emits UnitRegistered", async () => {
      const { ledger, registrar, townshipKey, villageKey } = await networkHelpers.loadFixture(deployDutyLedger);
      await expect(ledger.connect(registrar).registerUnit(township, ethers.ZeroHash, 2, townshipKey.address))
        .to.emit(ledger, "UnitRegistered")
        .withArgs(township, ethers.ZeroHash, 2, townshipKey.address);
      await ledger.connect(registrar).registerUnit(village, township, 3, villageKey.address);
      const u = await ledger.unit(village);
      expect(u.parentId).to.equal(township);
      expect(u.signer).to.equal(villageKey.address);
      expect(u.level).to.equal(3n);
      expect(u.status).to.equal(UnitStatus.Active);
      expect(u.registeredAt).to.equal(BigInt(await networkHelpers.time.latest()));
      expect(await ledger.unitOfSigner(villageKey.address)).to.equal(village);
    });

    it("refuses a zero id, a duplicate id, an unknown parent, a zero key and a reused key", async () => {
      const { ledger, registrar, townshipKey, villageKey } = await networkHelpers.loadFixture(withUnits);
      const r = ledger.connect(registrar);
      const fresh = idOf("unit:village:qingshui-2");
      await expect(
        r.registerUnit(ethers.ZeroHash, township, 3, ethers.Wallet.createRandom().address),
      ).to.be.revertedWithCustomError(ledger, "DutyLedgerZeroId");
      await expect(r.registerUnit(village, township, 3, ethers.Wallet.createRandom().address))
        .to.be.revertedWithCustomError(ledger, "DutyLedgerUnitExists")
        .withArgs(village);
      const ghost = idOf("unit:township:nowhere");
      await expect(r.registerUnit(fresh, ghost, 3, ethers.Wallet.createRandom().address))
        .to.be.revertedWithCustomError(ledger, "DutyLedgerUnknownUnit")
        .withArgs(ghost);
      await expect(r.registerUnit(fresh, township, 3, ethers.ZeroAddress)).to.be.revertedWithCustomError(
        ledger,
        "DutyLedgerZeroAddress",
      );
      await expect(r.registerUnit(fresh, township, 3, townshipKey.address))
        .to.be.revertedWithCustomError(ledger, "DutyLedgerSignerInUse")
        .withArgs(townshipKey.address);
      await expect(r.registerUnit(fresh, township, 3, villageKey.address))
        .to.be.revertedWithCustomError(ledger, "DutyLedgerSignerInUse")
        .withArgs(villageKey.address);
    });

    it("keeps a rotated-out key valid for times before the rotation and only then", async () => {
      const { ledger, villageKey, newVillageKey } = await networkHelpers.loadFixture(withUnits);
      const registeredAt = BigInt(await networkHelpers.time.latest());
      await networkHelpers.time.increase(100);
      await expect(ledger.connect(villageKey).rotateUnitKey(village, newVillageKey.address))
        .to.emit(ledger, "UnitKeyRotated")
        .withArgs(village, villageKey.address, newVillageKey.address);
      const rotatedAt = BigInt(await networkHelpers.time.latest());

      expect(await ledger.isAuthorizedSigner(village, villageKey.address, registeredAt)).to.equal(true);
      expect(await ledger.isAuthorizedSigner(village, villageKey.address, rotatedAt - 1n)).to.equal(true);
      expect(await ledger.isAuthorizedSigner(village, villageKey.address, rotatedAt)).to.equal(false);
      expect(await ledger.isAuthorizedSigner(village, newVillageKey.address, rotatedAt - 1n)).to.equal(false);
      expect(await ledger.isAuthorizedSigner(village, newVillageKey.address, rotatedAt)).to.equal(true);
      expect(await ledger.isAuthorizedSigner(village, villageKey.address, registeredAt - 1n)).to.equal(false);

      const history = await ledger.unitKeyHistory(village);
      expect(history.map((p) => [p.signer, p.validFrom, p.validUntil])).to.deep.equal([
        [villageKey.address, registeredAt, rotatedAt],
        [newVillageKey.address, rotatedAt, 0n],
      ]);
      expect((await ledger.unit(village)).signer).to.equal(newVillageKey.address);
    });

    it("lets a registrar rotate a lost key but not a stranger, and never to a used key", async () => {
      const { ledger, registrar, stranger, townshipKey, villageKey, newVillageKey } =
        await networkHelpers.loadFixture(withUnits);
      await expect(ledger.connect(stranger).rotateUnitKey(village, stranger.address))
        .to.be.revertedWithCustomError(ledger, "DutyLedgerNotUnitSignerOrRegistrar")
        .withArgs(village, stranger.address);
      await expect(ledger.connect(townshipKey).rotateUnitKey(village, newVillageKey.address))
        .to.be.revertedWithCustomError(ledger, "DutyLedgerNotUnitSignerOrRegistrar")
        .withArgs(village, townshipKey.address);
      await expect(ledger.connect(registrar).rotateUnitKey(village, townshipKey.address))
        .to.be.revertedWithCustomError(ledger, "DutyLedgerSignerInUse")
        .withArgs(townshipKey.address);
      await ledger.connect(registrar).rotateUnitKey(village, newVillageKey.address);
      await expect(ledger.connect(registrar).rotateUnitKey(village, villageKey.address))
        .to.be.revertedWithCustomError(ledger, "DutyLedgerSignerInUse")
        .withArgs(villageKey.address);
      // The old key no longer acts for the unit.
      await expect(ledger.connect(villageKey).rotateUnitKey(village, stranger.address))
        .to.be.revertedWithCustomError(ledger, "DutyLedgerNotUnitSignerOrRegistrar")
        .withArgs(village, villageKey.address);
      const ghost = idOf("unit:ghost");
      await expect(ledger.connect(registrar).rotateUnitKey(ghost, stranger.address))
        .to.be.revertedWithCustomError(ledger, "DutyLedgerUnknownUnit")
        .withArgs(ghost);
    });

    it("suspends and reactivates a unit, keeping the status history by time", async () => {
      const { ledger, registrar, villageKey } = await networkHelpers.loadFixture(withUnits);
      const activeFrom = BigInt(await networkHelpers.time.latest());
      await networkHelpers.time.increase(50);
      await expect(ledger.connect(registrar).setUnitStatus(village, UnitStatus.Suspended))
        .to.emit(ledger, "UnitStatusChanged")
        .withArgs(village, UnitStatus.Suspended);
      const suspendedAt = BigInt(await networkHelpers.time.latest());
      await networkHelpers.time.increase(50);
      await ledger.connect(registrar).setUnitStatus(village, UnitStatus.Active);
      const reactivatedAt = BigInt(await networkHelpers.time.latest());

      expect(await ledger.unitStatusAt(village, activeFrom - 1n)).to.equal(UnitStatus.None);
      expect(await ledger.unitStatusAt(village, suspendedAt - 1n)).to.equal(UnitStatus.Active);
      expect(await ledger.unitStatusAt(village, suspendedAt)).to.equal(UnitStatus.Suspended);
      expect(await ledger.unitStatusAt(village, reactivatedAt)).to.equal(UnitStatus.Active);
      // A record signed while the unit was suspended does not count, even with its valid key.
      expect(await ledger.isAuthorizedSigner(village, villageKey.address, suspendedAt + 1n)).to.equal(false);
      expect(await ledger.isAuthorizedSigner(village, villageKey.address, suspendedAt - 1n)).to.equal(true);
      expect(await ledger.isAuthorizedSigner(village, villageKey.address, reactivatedAt)).to.equal(true);
      expect((await ledger.unitStatusHistory(village)).map((p) => [p.status, p.since])).to.deep.equal([
        [UnitStatus.Active, activeFrom],
        [UnitStatus.Suspended, suspendedAt],
        [UnitStatus.Active, reactivatedAt],
      ]);
    });

    it("refuses a status the unit already has, the None status, and unknown units", async () => {
      const { ledger, registrar } = await networkHelpers.loadFixture(withUnits);
      await expect(ledger.connect(registrar).setUnitStatus(village, UnitStatus.Active))
        .to.be.revertedWithCustomError(ledger, "DutyLedgerInvalidStatus")
        .withArgs(village, UnitStatus.Active);
      await expect(ledger.connect(registrar).setUnitStatus(village, UnitStatus.None))
        .to.be.revertedWithCustomError(ledger, "DutyLedgerInvalidStatus")
        .withArgs(village, UnitStatus.None);
      const ghost = idOf("unit:ghost");
      await expect(ledger.connect(registrar).setUnitStatus(ghost, UnitStatus.Suspended))
        .to.be.revertedWithCustomError(ledger, "DutyLedgerUnknownUnit")
        .withArgs(ghost);
    });

    it("does not authorise a key for another unit, the zero key, or an unregistered unit", async () => {
      const { ledger, townshipKey, villageKey } = await networkHelpers.loadFixture(withUnits);
      const now = BigInt(await networkHelpers.time.latest());
      expect(await ledger.isAuthorizedSigner(township, villageKey.address, now)).to.equal(false);
      expect(await ledger.isAuthorizedSigner(village, townshipKey.address, now)).to.equal(false);
      expect(await ledger.isAuthorizedSigner(village, ethers.ZeroAddress, now)).to.equal(false);
      expect(await ledger.isAuthorizedSigner(idOf("unit:ghost"), villageKey.address, now)).to.equal(false);
    });
  });

  describe("inspectors", () => {
    it("registers, deactivates and reactivates an inspector with events", async () => {
      const { ledger, registrar, inspector } = await networkHelpers.loadFixture(deployDutyLedger);
      await expect(ledger.connect(registrar).registerInspector(inspector.address, civilAffairs))
        .to.emit(ledger, "InspectorRegistered")
        .withArgs(inspector.address, civilAffairs);
      expect((await ledger.inspector(inspector.address)).active).to.equal(true);
      await expect(ledger.connect(registrar).setInspectorActive(inspector.address, false))
        .to.emit(ledger, "InspectorStatusChanged")
        .withArgs(inspector.address, false);
      const record = await ledger.inspector(inspector.address);
      expect([record.department, record.active]).to.deep.equal([civilAffairs, false]);
      await ledger.connect(registrar).setInspectorActive(inspector.address, true);
      expect((await ledger.inspector(inspector.address)).active).to.equal(true);
    });

    it("refuses a zero address, a duplicate and an unknown inspector", async () => {
      const { ledger, registrar, inspector, stranger } = await networkHelpers.loadFixture(deployDutyLedger);
      const r = ledger.connect(registrar);
      await expect(r.registerInspector(ethers.ZeroAddress, civilAffairs)).to.be.revertedWithCustomError(
        ledger,
        "DutyLedgerZeroAddress",
      );
      await r.registerInspector(inspector.address, civilAffairs);
      await expect(r.registerInspector(inspector.address, civilAffairs))
        .to.be.revertedWithCustomError(ledger, "DutyLedgerInspectorExists")
        .withArgs(inspector.address);
      await expect(r.setInspectorActive(stranger.address, false))
        .to.be.revertedWithCustomError(ledger, "DutyLedgerUnknownInspector")
        .withArgs(stranger.address);
    });
  });

  describe("duty types", () => {
    it("registers a duty type for some levels and reports where it applies", async () => {
      const { ledger, registrar } = await networkHelpers.loadFixture(deployDutyLedger);
      const villagesOnly = 1n << 3n;
      await expect(ledger.connect(registrar).registerDutyType(householdVisit, civilAffairs, villagesOnly))
        .to.emit(ledger, "DutyTypeRegistered")
        .withArgs(householdVisit, civilAffairs, villagesOnly);
      expect(await ledger.dutyTypeAppliesTo(householdVisit, 3)).to.equal(true);
      expect(await ledger.dutyTypeAppliesTo(householdVisit, 2)).to.equal(false);
      const everyLevel = idOf("duty-type:meeting");
      await ledger.connect(registrar).registerDutyType(everyLevel, civilAffairs, 0);
      expect(await ledger.dutyTypeAppliesTo(everyLevel, 2)).to.equal(true);
      expect(await ledger.dutyTypeAppliesTo(everyLevel, 255)).to.equal(true);
      expect(await ledger.dutyTypeAppliesTo(idOf("duty-type:unknown"), 3)).to.equal(false);
    });

    it("stops applying while inactive", async () => {
      const { ledger, registrar } = await networkHelpers.loadFixture(deployDutyLedger);
      await ledger.connect(registrar).registerDutyType(householdVisit, civilAffairs, 0);
      await expect(ledger.connect(registrar).setDutyTypeActive(householdVisit, false))
        .to.emit(ledger, "DutyTypeStatusChanged")
        .withArgs(householdVisit, false);
      expect(await ledger.dutyTypeAppliesTo(householdVisit, 3)).to.equal(false);
      expect((await ledger.dutyType(householdVisit)).active).to.equal(false);
      await ledger.connect(registrar).setDutyTypeActive(householdVisit, true);
      expect(await ledger.dutyTypeAppliesTo(householdVisit, 3)).to.equal(true);
    });

    it("refuses a zero id, a duplicate and an unknown duty type", async () => {
      const { ledger, registrar } = await networkHelpers.loadFixture(deployDutyLedger);
      const r = ledger.connect(registrar);
      await expect(r.registerDutyType(ethers.ZeroHash, civilAffairs, 0)).to.be.revertedWithCustomError(
        ledger,
        "DutyLedgerZeroId",
      );
      await r.registerDutyType(householdVisit, civilAffairs, 0);
      await expect(r.registerDutyType(householdVisit, civilAffairs, 0))
        .to.be.revertedWithCustomError(ledger, "DutyLedgerDutyTypeExists")
        .withArgs(householdVisit);
      const ghost = idOf("duty-type:ghost");
      await expect(r.setDutyTypeActive(ghost, false))
        .to.be.revertedWithCustomError(ledger, "DutyLedgerUnknownDutyType")
        .withArgs(ghost);
    });
  });

  describe("access control", () => {
    // Every state-changing function, called by an account without the role it needs.
    const registrarOnly: Array<[string, (l: any) => Promise<unknown>]> = [
      ["registerUnit", (l) => l.registerUnit(idOf("u"), ethers.ZeroHash, 3, ethers.Wallet.createRandom().address)],
      ["setUnitStatus", (l) => l.setUnitStatus(village, UnitStatus.Suspended)],
      ["registerInspector", (l) => l.registerInspector(ethers.Wallet.createRandom().address, civilAffairs)],
      ["setInspectorActive", (l) => l.setInspectorActive(ethers.Wallet.createRandom().address, false)],
      ["registerDutyType", (l) => l.registerDutyType(householdVisit, civilAffairs, 0)],
      ["setDutyTypeActive", (l) => l.setDutyTypeActive(householdVisit, false)],
    ];
    const adminOnly: Array<[string, (l: any) => Promise<unknown>]> = [
      ["createLog", (l) => l.createLog(idOf("log"), ethers.Wallet.createRandom().address)],
      ["setLogOperator", (l) => l.setLogOperator(idOf("log"), ethers.Wallet.createRandom().address)],
      ["grantRole", (l) => l.grantRole(REGISTRAR_ROLE, ethers.Wallet.createRandom().address)],
    ];

    for (const [name, call] of registrarOnly) {
      it(`${name} reverts without REGISTRAR_ROLE, even for the admin`, async () => {
        const { ledger, admin, stranger } = await networkHelpers.loadFixture(withUnits);
        for (const caller of [stranger, admin]) {
          await expect(call(ledger.connect(caller)))
            .to.be.revertedWithCustomError(ledger, "AccessControlUnauthorizedAccount")
            .withArgs(caller.address, REGISTRAR_ROLE);
        }
      });
    }

    for (const [name, call] of adminOnly) {
      it(`${name} reverts without DEFAULT_ADMIN_ROLE, even for a registrar`, async () => {
        const { ledger, registrar, stranger } = await networkHelpers.loadFixture(withUnits);
        for (const caller of [stranger, registrar]) {
          await expect(call(ledger.connect(caller)))
            .to.be.revertedWithCustomError(ledger, "AccessControlUnauthorizedAccount")
            .withArgs(caller.address, DEFAULT_ADMIN_ROLE);
        }
      });
    }
  });
});
