/**
 * Verifies the Semaphore proofs of the tips in an audit feed (about 30 ms each), so that replay,
 * which is pure and synchronous, gets each proof's verdict with its entry.
 */
import { verifyProof } from "@semaphore-protocol/proof";
import * as snarkjs from "snarkjs";
import { type AuditTipEntry, isAuditTipEntry } from "../core/tip.ts";

let building: Promise<void> | null = null;
/** The curve this module registered, if it still is the registered one. */
let ours: { terminate(): Promise<void> } | undefined;

/**
 * snarkjs keeps its curve in `globalThis.curve_bn128` and, left alone, builds it with worker
 * threads that keep the process alive once it is done: a gateway that had verified one tip did
 * not exit after closing. Verifying needs no threads, so a single-threaded curve is registered
 * whenever none is there (a prover's own, threaded one is left alone), and snarkjs reuses it.
 * "None" is null as well as absent: ffjavascript sets the global to null when it loads, and a
 * check for undefined alone let snarkjs build its threaded curve after all.
 */
async function useSingleThreadedCurve(): Promise<void> {
  const global = globalThis as { curve_bn128?: unknown };
  if (global.curve_bn128 != null) return;
  const { curves } = snarkjs as unknown as {
    curves: { getCurveFromName(name: string, options: { singleThread: boolean }): Promise<unknown> };
  };
  building ??= curves.getCurveFromName("bn128", { singleThread: true }).then((curve) => {
    if (global.curve_bn128 == null) {
      global.curve_bn128 = curve;
      ours = curve as { terminate(): Promise<void> };
    }
    building = null;
  });
  await building;
}

/**
 * Unregisters and ends the curve this module registered, so that nothing of the verifier
 * outlives the gateway (test/tips/tipVerifier.test.ts: the process then exits by itself).
 * Called when the gateway closes; a later verification builds it again.
 */
export async function releaseTipVerifier(): Promise<void> {
  const global = globalThis as { curve_bn128?: unknown };
  const curve = ours;
  ours = undefined;
  if (curve === undefined || global.curve_bn128 !== curve) return;
  global.curve_bn128 = null;
  await curve.terminate();
}

/** Sets `proofValid` on every tip entry of `items`; a malformed proof is not valid. */
export async function verifyTipProofs(items: readonly object[]): Promise<void> {
  for (const item of items) {
    if (!isAuditTipEntry(item) || item.body.type !== "tip") continue;
    (item as AuditTipEntry).proofValid = await verifyTipProof(item.body.proof);
  }
}

/** Whether a Semaphore proof verifies; false for one the library cannot even read. */
export async function verifyTipProof(proof: unknown): Promise<boolean> {
  try {
    await useSingleThreadedCurve();
    return await verifyProof(proof as Parameters<typeof verifyProof>[0]);
  } catch {
    return false;
  }
}
