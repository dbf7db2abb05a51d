/**
 * The gateway verifies tip proofs with snarkjs, which by default builds its curve on worker
 * threads that keep a process alive after everything else has closed. The verifier registers a
 * single-threaded curve instead and releases it when the gateway closes. Tested in a child
 * process of its own: whether a process exits by itself is the property.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const tipProofs = pathToFileURL(join(import.meta.dirname, "..", "..", "server", "audit", "tipProofs.ts")).href;

/** Well-formed numbers that are no proof: verification runs to the pairing and says false. */
const junkProof = {
  merkleTreeDepth: 16,
  merkleTreeRoot: "1",
  nullifier: "2",
  message: "3",
  scope: "4",
  points: ["1", "2", "3", "4", "5", "6", "7", "8"],
};

describe("tips: the proof verifier's threads", function () {
  this.timeout(60_000);

  it("verifies without worker threads, and a process that verified a proof exits once it is released", async () => {
    const script = `
      import { verifyTipProof, releaseTipVerifier } from ${JSON.stringify(tipProofs)};
      const valid = await verifyTipProof(${JSON.stringify(junkProof)});
      const curve = globalThis.curve_bn128;
      console.log(JSON.stringify({ valid, singleThread: curve?.tm?.singleThread ?? null }));
      await releaseTipVerifier();
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const exited = await Promise.race([
      new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code))),
      new Promise<"still running">((resolve) => setTimeout(() => resolve("still running"), 30_000)),
    ]);
    if (exited === "still running") child.kill("SIGKILL");
    const report = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as { valid?: boolean; singleThread?: boolean };
    expect(report.valid, out).to.equal(false);
    expect(report.singleThread, "the curve snarkjs verified with is single-threaded").to.equal(true);
    expect(exited, "the process exits by itself after releaseTipVerifier").to.equal(0);
  });
});
