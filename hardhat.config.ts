import { createRequire } from "node:module";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { defineConfig } from "hardhat/config";

// The compiler comes from the `solc` npm package, never from a download: Hardhat 3
// accepts a local soljson.js when `version` matches it and `path` is absolute.
const require = createRequire(import.meta.url);
const solcVersion: string = require("solc/package.json").version;
const solcPath = require.resolve("solc/soljson.js");

// The target network's genesis fixes which opcodes exist; Besu QBFT networks often
// lag mainnet, so the EVM version is a setting (default: the compiler's own default).
const evmVersion = process.env.EVM_VERSION;

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    version: solcVersion,
    path: solcPath,
    settings: {
      optimizer: { enabled: true, runs: 10_000 },
      ...(evmVersion ? { evmVersion } : {}),
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
  },
});
