/**
 * Loopback ports for the servers a test starts, each test file in its own band below the
 * kernel's ephemeral range (32768 and up here), so that a port chosen at random is never one a
 * client socket happens to hold.
 */
const bands = {
  burden: 10_000,
  production: 11_000,
  hostile: 12_000,
  faults: 13_000,
  console: 14_000,
  audit: 15_000,
  gateway: 20_000,
  crash: 21_000,
  cli: 22_000,
  verify: 23_000,
  replay: 24_000,
  anchorer: 25_000,
  trust: 26_000,
  evidence: 27_000,
  envelopes: 28_000,
  app: 29_000,
  store: 30_000,
  cliThin: 31_000,
  consoleState: 16_000,
  spec: 17_000,
  tlog: 18_000,
  witness: 19_000,
  monitor: 9_000,
  wconsole: 7_000,
  confirm: 5_000,
  gm: 2_000,
  tips: 6_000,
  gate: 3_000,
  live: 4_000,
} as const;

/** A random port in the test file's band of 1,000. */
export function testPort(band: keyof typeof bands): number {
  return bands[band] + Math.floor(Math.random() * 1_000);
}
