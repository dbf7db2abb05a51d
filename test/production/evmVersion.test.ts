/**
 * EVM_VERSION matches the contract build to a network's genesis: on a chain that stops at the
 * London milestone the default build (Prague opcodes) cannot be deployed, an EVM_VERSION=london
 * build can, and so can the operator's `EVM_VERSION=london npx hardhat ignition deploy`, which
 * builds with the production profile. Builds run in a scratch copy of the project so the suite's
 * artifacts stay as they are.
 */
import { expect } from "chai";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ContractFactory, JsonRpcProvider, Wallet } from "ethers";
import { loadDutyLedgerArtifact } from "../../server/chain/dutyLedgerArtifact.ts";
import { readIgnitionDeployment } from "../../server/chain/ignitionDeployment.ts";
import {
  type ExternalChain,
  hardhatCli,
  hardhatEnv,
  ignitionDeploy,
  run,
  scratchProject,
  startExternalChain,
} from "../helpers/externalChain.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";

describe("EVM_VERSION selects the contract's target EVM", function () {
  this.timeout(240_000);
  const scratch = tempDir("evm-version");
  let chain: ExternalChain;
  // anvil's first default account, funded on every anvil chain.
  const funded = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

  before(async () => {
    chain = await startExternalChain(testPort("production"), ["--hardfork", "london"]);
    scratchProject(scratch.path);
  });
  after(async () => {
    await chain?.stop();
    scratch.remove();
  });

  async function deploy(artifact: { abi: unknown[]; bytecode: string }): Promise<string> {
    const provider = new JsonRpcProvider(chain.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
    const wallet = new Wallet(funded, provider);
    try {
      const contract = await new ContractFactory(artifact.abi as never, artifact.bytecode, wallet).deploy(
        wallet.address,
      );
      const receipt = await contract.deploymentTransaction()!.wait();
      return receipt?.status === 1 ? "deployed" : "reverted";
    } catch {
      return "refused";
    } finally {
      provider.destroy();
    }
  }

  it("deploys a london build on a London chain, where the default build fails", async () => {
    expect(await deploy(loadDutyLedgerArtifact())).not.to.equal("deployed");

    const built = await run(
      process.execPath,
      [hardhatCli, "build", "--quiet"],
      { ...hardhatEnv(process.env), EVM_VERSION: "london" },
      200_000,
      scratch.path,
    );
    expect(built.status, built.stderr).to.equal(0);
    const artifact = JSON.parse(
      readFileSync(join(scratch.path, "artifacts", "contracts", "DutyLedger.sol", "DutyLedger.json"), "utf8"),
    ) as { abi: unknown[]; bytecode: string };
    expect(await deploy(artifact)).to.equal("deployed");
  });

  it("holds for the operator's deployment: Ignition's production build keeps EVM_VERSION and the optimizer runs", async () => {
    // `ignition deploy` builds with the production profile, not the default one built above.
    const deployed = await ignitionDeploy(scratch.path, "london", {
      ...process.env,
      EVM_VERSION: "london",
      RPC_URL: chain.rpcUrl,
      OPERATOR_KEY: funded,
    });
    expect(deployed.status, deployed.stderr + deployed.stdout).to.equal(0);
    const dir = join(scratch.path, "ignition", "deployments", "london");
    const { address } = readIgnitionDeployment(dir);
    const provider = new JsonRpcProvider(chain.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
    try {
      expect(await provider.getCode(address)).not.to.equal("0x");
    } finally {
      provider.destroy();
    }
    // The compiler input Ignition recorded for what it deployed.
    const buildInfos = readdirSync(join(dir, "build-info")).filter((f) => !f.endsWith(".output.json"));
    const settings = buildInfos.map(
      (f) =>
        (JSON.parse(readFileSync(join(dir, "build-info", f), "utf8")) as { input: { settings: SolcSettings } }).input
          .settings,
    );
    expect(settings).to.have.length.greaterThan(0);
    for (const s of settings) {
      expect(s.evmVersion).to.equal("london");
      expect(s.optimizer).to.deep.equal({ enabled: true, runs: 10_000 });
    }
  });
});

interface SolcSettings {
  evmVersion?: string;
  optimizer?: { enabled: boolean; runs: number };
}
