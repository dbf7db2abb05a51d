/**
 * Named crash points for the fault-injection campaign (test/faults/). With
 * `DUTYPROOF_FAULT_POINT=<name>:<n>` in the environment, the process kills itself with SIGKILL
 * the n-th time it reaches the point called `<name>`, so a kill lands inside a chosen phase of
 * accepting, batching or anchoring instead of at a random wall-clock moment. Without the
 * variable every call returns at once and nothing else changes. Points are listed in
 * docs/operations.md ("Failures and what survives them").
 */
const setting = process.env.DUTYPROOF_FAULT_POINT;
const match = setting === undefined ? null : /^([a-z.]+):([1-9][0-9]*)$/.exec(setting);
if (setting !== undefined && !match) {
  throw new Error(`DUTYPROOF_FAULT_POINT must be <name>:<n>, got ${JSON.stringify(setting)}`);
}
const armedName = match?.[1];
let remaining = match ? Number(match[2]) : 0;

/** Kills this process (SIGKILL, no cleanup) if it is the armed point's n-th hit. */
export function faultPoint(name: string): void {
  if (name !== armedName) return;
  remaining -= 1;
  if (remaining === 0) process.kill(process.pid, "SIGKILL");
}
