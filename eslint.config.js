import js from "@eslint/js";
import tseslint from "typescript-eslint";

// Layers point one way (docs/architecture.md): core <- crypto, store, chain <- gateway, burden,
// audit, http <- main, scripts; tests may import anything, nothing imports tests. Each rule
// below names what a layer may not reach; no-restricted-imports sees the import's text, so the
// core's "stays inside server/core" is spelled per directory depth.

/** Packages the pure core may import: pure computation, no I/O, no clock. */
const corePackages = ["zod", "canonicalize", "@noble/hashes/", "@noble/curves/", "sm-crypto-v2"];
const corePackage = corePackages.map((name) => (name.endsWith("/") ? `${name}.+` : name)).join("|");

/** server/core/**: relative imports that stay inside server/core, and the packages above. */
const coreLayer = [0, 1, 2, 3].map((depth) => ({
  files: [`server/core/${"*/".repeat(depth)}*.ts`],
  rules: {
    "no-restricted-imports": [
      "error",
      {
        patterns: [
          {
            regex: `^(\\./)?(\\.\\./){${depth + 1}}`,
            message: "server/core is pure: it imports only server/core (docs/architecture.md).",
          },
          {
            // "./x/../../y" would slip past the depth count above.
            regex: "^\\./\\.\\./|/[^./][^/]*/\\.\\.(/|$)",
            message: "server/core imports by normalized relative paths (docs/architecture.md).",
          },
          {
            regex: `^(?!\\.{1,2}/)(?!(${corePackage})$)`,
            message: `server/core is pure: no I/O, no clock; packages allowed: ${corePackages.join(", ")} (docs/architecture.md).`,
          },
        ],
      },
    ],
    "no-restricted-syntax": [
      "error",
      { selector: "ImportExpression", message: "server/core loads nothing at run time (docs/architecture.md)." },
      {
        selector:
          "NewExpression[callee.name='Date'][arguments.length=0], CallExpression[callee.object.name='Date'][callee.property.name='now']",
        message: "server/core reads no clock: take the time as an argument (docs/architecture.md).",
      },
    ],
    "no-restricted-globals": [
      "error",
      ...["process", "fetch", "setTimeout", "setInterval", "setImmediate", "performance", "console", "crypto"].map(
        (name) => ({ name, message: "server/core does no I/O and reads no clock (docs/architecture.md)." }),
      ),
    ],
  },
}));

/**
 * Files matching `files` (less `ignores`) may not import from a directory named in `forbidden`
 * (a layer of server/, or the project's scripts/ and test/). One block per file set: flat config
 * replaces a rule's options, it does not add to them, so the sets must not overlap.
 */
const mayNotImport = ({ files, ignores }, forbidden, message) => ({
  files,
  ...(ignores ? { ignores } : {}),
  rules: {
    "no-restricted-imports": [
      "error",
      { patterns: [{ regex: `(^|/)(${forbidden.join("|")})(/|$)`, message: `${message} (docs/architecture.md)` }] },
    ],
  },
});
/**
 * The application layer and the HTTP and gateway adapters read no clock: they are handed a
 * Clock (server/core/clock.ts), and only composition roots read the system's (server/clock.ts).
 * The Anchorer's internals are left to the store's own rule while they move to a Clock.
 */
const clockRule = {
  files: ["server/app/**/*.ts", "server/http/**/*.ts", "server/gateway/**/*.ts"],
  ignores: ["server/gateway/Anchorer.ts"],
  rules: {
    "no-restricted-syntax": [
      "error",
      {
        selector:
          "NewExpression[callee.name='Date'][arguments.length=0], CallExpression[callee.object.name='Date'][callee.property.name='now']",
        message: "take the time from the Clock you are given, not the system clock (docs/architecture.md).",
      },
    ],
  },
};

const layerRules = [
  ...coreLayer,
  clockRule,
  mayNotImport(
    { files: ["server/crypto/**/*.ts"] },
    ["gateway", "http", "scripts", "test"],
    "server/crypto may not import the gateway, HTTP, scripts or tests",
  ),
  mayNotImport(
    { files: ["server/app/**/*.ts"] },
    ["http", "scripts", "test"],
    "server/app (the use cases) may not import the HTTP adapter, the scripts or the tests",
  ),
  mayNotImport(
    { files: ["server/**/*.ts", "console/**/*.ts"], ignores: ["server/core/**", "server/crypto/**", "server/app/**"] },
    ["scripts", "test"],
    "the product may not import the scripts or the tests",
  ),
  mayNotImport(
    { files: ["scripts/**/*.ts"] },
    ["test"],
    "scripts may not import tests: move what both need into scripts/ or server/",
  ),
];

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "artifacts/",
      "cache/",
      "coverage/",
      "types/",
      "data/",
      "ignition/deployments/",
      "build/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: "readonly", process: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  ...layerRules,
  {
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off", "@typescript-eslint/no-unused-expressions": "off" },
  },
);
