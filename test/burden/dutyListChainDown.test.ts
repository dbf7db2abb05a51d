/**
 * The burden routes read the registry from the chain: with the gateway's chain node gone, the
 * public duty list answers 503 `chain.unreachable` (the client may retry), never a 500 that says
 * nothing. A real gateway with its anvil node, stopped by its pid.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Wallet, id } from "ethers";
import { configFromEnvironment } from "../../server/config.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { sleep } from "../helpers/gatewayFixture.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";

describe("duty list with the chain down", function () {
  this.timeout(120_000);
  const dir = tempDir("duty-list-chain-down");
  let gateway: RunningGateway;

  before(async () => {
    gateway = await startGateway(
      configFromEnvironment({}, { dataDir: dir.path, port: 0, chainPort: testPort("wconsole"), logName: "duty-list" }),
      () => {},
    );
  });
  after(async () => {
    if (gateway) await Promise.race([gateway.close(), sleep(30_000)]);
    dir.remove();
  });

  it("answers 503 chain.unreachable as a problem, not 500", async () => {
    const unit = id("unit:duty-list-village");
    const register = gateway.ledger.getFunction("registerUnit");
    await (await register(unit, "0x" + "00".repeat(32), 3, Wallet.createRandom().address)).wait();
    expect((await fetch(`${gateway.url}/v1/units/${unit}/duty-list`)).status, "chain up").to.equal(200);
    process.kill(Number(readFileSync(join(dir.path, "chain", "anvil.pid"), "utf8")), "SIGKILL");
    await sleep(500);
    const answer = await fetch(`${gateway.url}/v1/units/${unit}/duty-list`);
    expect(answer.headers.get("content-type")).to.include("application/problem+json");
    const problem = (await answer.json()) as { status: number; code: string };
    expect([answer.status, problem.code]).to.deep.equal([503, "chain.unreachable"]);
  });
});
