/** Tests start `dutyproof serve` with the benchmark's helper (scripts may not import tests). */
export { cliPath, startServe } from "../../scripts/startServe.ts";
