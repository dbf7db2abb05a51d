/**
 * A key revoked on chain takes effect at once: the gateway catches up with the registry's events
 * before it checks a record (RegistryCache.current), so a record signed with a key rotated away,
 * or by a unit suspended, a moment before it arrives is refused, even when the cache held the
 * unit from a record accepted just before.
 */
import { expect } from "chai";
import { type BaseWallet, type Contract, Wallet, id } from "ethers";
import { configFromEnvironment } from "../../server/config.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { type Eip712Info, newEnvelope, signEnvelope } from "../helpers/unitClient.ts";

const township = id("unit:revocation-township");
const village = id("unit:revocation-village");

describe("gateway: a key revoked on chain is refused at once", function () {
  this.timeout(120_000);
  const dir = tempDir("revocation");
  const chainPort = testPort("gateway");
  const oldKey = Wallet.createRandom();
  const newKey = Wallet.createRandom();
  let gateway: RunningGateway;
  let eip712: Eip712Info;
  let patrol: string;

  const submit = async (key: BaseWallet, i: number, unitId = village) => {
    const fields = { gridCode: `QS-${i}`, durationMinutes: 30, issuesFound: 0, gridWorker: "网格员" };
    const envelope = newEnvelope(gateway.deployment.logId, unitId, patrol, fields);
    const res = await fetch(gateway.url + "/v1/attestations", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ envelope, signature: await signEnvelope(key, eip712, envelope) }),
    });
    return { status: res.status, body: (await res.json()) as { code?: string } };
  };
  /** A registrar of its own: the gateway's operator key is busy anchoring while the test runs. */
  let registrar: Contract;
  const send = async (name: string, ...args: unknown[]) => (await registrar.getFunction(name)(...args)).wait();
  /** A village of the test's own with a fresh key: no test depends on another's rotations. */
  const ownUnit = async (name: string) => {
    const unit = { unitId: id(`unit:revocation-${name}`), key: Wallet.createRandom() };
    await send("registerUnit", unit.unitId, township, 3, unit.key.address);
    return unit;
  };

  before(async () => {
    gateway = await startGateway(
      configFromEnvironment({}, { dataDir: dir.path, port: 0, chainPort, anchorIntervalMs: 300, logName: "test" }),
      () => {},
    );
    eip712 = ((await (await fetch(gateway.url + "/v1/info")).json()) as { eip712: Eip712Info }).eip712;
    const wallet = Wallet.createRandom().connect(gateway.wallet.provider);
    await (await gateway.wallet.sendTransaction({ to: wallet.address, value: 10n ** 18n })).wait();
    await (await gateway.ledger.getFunction("grantRole")(id("REGISTRAR_ROLE"), wallet.address)).wait();
    registrar = gateway.ledger.connect(wallet) as Contract;
    await send("registerUnit", township, "0x" + "00".repeat(32), 2, Wallet.createRandom().address);
    await send("registerUnit", village, township, 3, oldKey.address);
    const catalog = (await (await fetch(gateway.url + "/v1/duty-types")).json()) as {
      dutyTypes: Array<{ id: string; code: string }>;
    };
    patrol = catalog.dutyTypes.find((d) => d.code === "grid-patrol")!.id;
  });

  after(async () => {
    await gateway?.close();
    dir.remove();
  });

  it("refuses the old key right after a rotation, accepts the new one", async () => {
    expect((await submit(oldKey, 1)).status).to.equal(201); // the unit is now in the cache
    await send("rotateUnitKey", village, newKey.address);
    const old = await submit(oldKey, 2);
    expect(old.status, JSON.stringify(old.body)).to.equal(403);
    expect(old.body.code).to.equal("record.signer_not_authorized");
    expect((await submit(newKey, 3)).status).to.equal(201);
  });

  it("refuses a unit right after its suspension, and accepts it again right after reinstatement", async () => {
    const { unitId, key } = await ownUnit("suspended");
    expect((await submit(key, 4, unitId)).status).to.equal(201);
    await send("setUnitStatus", unitId, 2);
    const suspended = await submit(key, 5, unitId);
    expect(suspended.status, JSON.stringify(suspended.body)).to.equal(403);
    expect(suspended.body.code).to.equal("record.unit_suspended");
    await send("setUnitStatus", unitId, 1);
    expect((await submit(key, 6, unitId)).status).to.equal(201);
  });

  it("refuses a duty type right after it is deactivated", async () => {
    const { unitId, key } = await ownUnit("duty-type");
    await send("setDutyTypeActive", patrol, false);
    const inactive = await submit(key, 7, unitId);
    expect(inactive.status, JSON.stringify(inactive.body)).to.equal(422);
    expect(inactive.body.code).to.equal("record.duty_type_inactive");
    await send("setDutyTypeActive", patrol, true);
    expect((await submit(key, 8, unitId)).status).to.equal(201);
  });

  it("refuses many concurrent submissions under a key rotated away a moment before", async () => {
    const { unitId, key } = await ownUnit("concurrent");
    const third = Wallet.createRandom();
    const before = await Promise.all(Array.from({ length: 20 }, (_, i) => submit(key, 100 + i, unitId)));
    expect(before.map((a) => a.status)).to.deep.equal(Array(20).fill(201));
    await send("rotateUnitKey", unitId, third.address);
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => submit(key, 200 + i, unitId)));
    expect(answers.map((a) => a.status)).to.deep.equal(Array(50).fill(403));
  });
});
