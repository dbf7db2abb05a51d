import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { configVariable, defineConfig } from "hardhat/config";

// The compiler comes from the `solc` npm package, never from a download: Hardhat 3
// accepts a local soljson.js when `version` matches it and `path` is absolute.
const require = createRequire(import.meta.url);
const solcVersion: string = require("solc/package.json").version;
const solcPath = require.resolve("solc/soljson.js");

// The target network's genesis fixes which opcodes exist; Besu QBFT networks often
// lag mainnet, so the EVM version is a setting (default: the compiler's own default).
const evmVersion = process.env.EVM_VERSION;
const solcSettings = {
  optimizer: { enabled: true, runs: 10_000 },
  ...(evmVersion ? { evmVersion } : {}),
};

// The production network (`--network external`, docs/operations.md): its URL and key come from
// the environment, or from Hardhat's encrypted keystore (`npx hardhat keystore set OPERATOR_KEY`),
// with the same names the gateway reads. GAS_PRICE (wei, e.g. 0 on a free-gas Besu network) is
// only needed on a legacy-fee chain; Ignition already sends zero fees when the base fee is zero.
const env = process.env;
const gasPrice = env.GAS_PRICE ? BigInt(env.GAS_PRICE) : undefined;
const external = {
  type: "http" as const,
  chainType: "l1" as const,
  url: configVariable("RPC_URL"),
  accounts: [
    env.OPERATOR_KEY_FILE ? readFileSync(env.OPERATOR_KEY_FILE, "utf8").trim() : configVariable("OPERATOR_KEY"),
  ],
  ...(env.CHAIN_ID ? { chainId: Number(env.CHAIN_ID) } : {}),
  ...(gasPrice !== undefined ? { gasPrice, ignition: { gasPrice } } : {}),
};

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  // Both profiles spelled out: Hardhat derives a missing production profile (the one `ignition
  // deploy` builds with) from the compiler version alone, dropping these settings, so a deployment
  // would get 200 optimizer runs and ignore EVM_VERSION. Production builds each contract on its
  // own (Hardhat's default there); its bytecode is the default profile's, byte for byte.
  solidity: {
    profiles: {
      default: { version: solcVersion, path: solcPath, settings: solcSettings },
      production: { version: solcVersion, path: solcPath, settings: solcSettings, isolated: true },
    },
  },
  paths: {
    tests: { mocha: "test", solidity: "test/contracts" },
  },
  test: {
    solidity: {
      fuzz: { runs: Number(process.env.FUZZ_RUNS ?? 512) },
      invariant: { runs: Number(process.env.INVARIANT_RUNS ?? 64), depth: 32, failOnRevert: false },
    },
  },
  // Test-only contracts (a gas probe) are not part of what coverage measures.
  coverage: { skipFiles: ["contracts/test/**"] },
  networks: {
    hardhatMainnet: { type: "edr-simulated", chainType: "l1" },
    external,
  },
  // Ignition waits for as many confirmations as the gateway does before it counts a step done.
  ignition: { requiredConfirmations: Number(env.CONFIRMATIONS || 1) },
});
