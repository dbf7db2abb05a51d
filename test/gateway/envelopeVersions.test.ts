/**
 * Envelope versions on one gateway: version 2 records bound to the gateway's log, version 1
 * records taken only while the operator allows them for a transition, and every version 1 record
 * already in the log still verifying with `dutyproof verify` and replaying clean afterwards.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Wallet, id } from "ethers";
import { configFromEnvironment } from "../../server/config.ts";
import { issueToken } from "../../server/gateway/AccessTokens.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { testPort } from "../helpers/ports.ts";
import { cliPath } from "../helpers/serve.ts";
import { step } from "../helpers/steps.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { type Eip712Info, newEnvelope, signEnvelope } from "../helpers/unitClient.ts";

describe("envelope versions: version 2 bound to the log, version 1 still verified", function () {
  this.timeout(180_000);
  const dir = tempDir("envelopes");
  const chainPort = testPort("envelopes");
  const village = id("unit:envelopes-village");
  const villageKey = Wallet.createRandom();
  const fields = { gridCode: "E-1", durationMinutes: 20, issuesFound: 0, gridWorker: "网格员" };
  let gateway: RunningGateway;
  let info: { eip712: Eip712Info; logId: string };
  let patrol: string;
  const accepted: Array<{ recordId: string; version: number }> = [];
  let firstVersion1: { envelope: ReturnType<typeof newEnvelope>; signature: string };

  const start = async (acceptEnvelopeV1: boolean) => {
    gateway = await startGateway(
      configFromEnvironment(
        {},
        { dataDir: dir.path, port: 0, chainPort, anchorIntervalMs: 200, logName: "envelopes", acceptEnvelopeV1 },
      ),
      () => {},
    );
    info = (await (await fetch(`${gateway.url}/v1/info`)).json()) as typeof info;
  };
  const post = async (body: unknown) => {
    const res = await fetch(`${gateway.url}/v1/attestations`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { recordId?: string; code?: string } };
  };
  const signed = async (logId: string | null, gridCode: string) => {
    const envelope = newEnvelope(logId, village, patrol, { ...fields, gridCode });
    return { envelope, signature: await signEnvelope(villageKey, info.eip712, envelope) };
  };
  // The gateway runs in this process: the CLI child must not block its event loop (no spawnSync).
  const cli = (...args: string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [cliPath, ...args], {
        env: { ...process.env, GATEWAY_URL: gateway.url, DATA_DIR: dir.path },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
  const anchoredReceipt = async (recordId: string) => {
    for (let i = 0; i < 200; i++) {
      const res = await fetch(`${gateway.url}/v1/attestations/${recordId}/receipt`);
      if (res.status === 200) return (await res.json()) as { version: number; logId: string };
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${recordId} was not anchored`);
  };
  /** `dutyproof verify` on each accepted record's receipt, and `dutyproof replay` of the log. */
  const verifyAndReplay = async () => {
    for (const { recordId, version } of accepted) {
      const receipt = await anchoredReceipt(recordId);
      expect(receipt.version).to.equal(version);
      const file = join(dir.path, `receipt-${recordId}.json`);
      writeFileSync(file, JSON.stringify(receipt));
      const verified = await cli("verify", file, "--lang", "en", "--rpc", gateway.rpcUrl);
      expect(verified.status, verified.stderr + verified.stdout).to.equal(0);
      expect(verified.stdout).to.match(/^VALID/);
    }
    const token = issueToken(join(dir.path, "tokens.json"), "auditor", "audit bureau");
    const replayed = await cli("replay", "--token", token, "--rpc", gateway.rpcUrl);
    expect(replayed.status, replayed.stdout + replayed.stderr).to.equal(0);
    expect(replayed.stdout).to.match(new RegExp(`^clean: ${accepted.length} records`));
  };

  before(async () => {
    await start(true);
    await (
      await gateway.ledger.getFunction("registerUnit")(village, "0x" + "00".repeat(32), 3, villageKey.address)
    ).wait();
    const catalog = (
      (await (await fetch(`${gateway.url}/v1/duty-types`)).json()) as { dutyTypes: Array<{ id: string; code: string }> }
    ).dutyTypes;
    patrol = catalog.find((d) => d.code === "grid-patrol")!.id;
  });

  after(async () => {
    await gateway?.close();
    dir.remove();
  });

  it("serves the version 2 definition: the message names the log", () => {
    expect(info.eip712.types.DutyRecord!.map((m) => m.name)).to.deep.equal([
      "logId",
      "unitId",
      "dutyTypeId",
      "performedAt",
      "recordDigest",
    ]);
  });

  it("goes through a transition: version 1 and 2 records taken, then version 1 retired, and every record in the log still verifies and replays", async function () {
    this.timeout(600_000);
    await step(
      "takes version 1 and version 2 records during a transition, and both verify and replay clean",
      async () => {
        firstVersion1 = await signed(null, "E-v1-a");
        for (const submission of [firstVersion1, await signed(info.logId, "E-v2-a"), await signed(null, "E-v1-b")]) {
          const res = await post(submission);
          expect(res.status, JSON.stringify(res.body)).to.equal(201);
          accepted.push({ recordId: res.body.recordId!, version: submission.envelope.version });
        }
        // Even during the transition, a version 2 record for another log is refused.
        const elsewhere = await post(await signed(id("log:elsewhere"), "E-v2-x"));
        expect([elsewhere.status, elsewhere.body.code]).to.deep.equal([422, "record.wrong_log"]);
        await verifyAndReplay();
      },
    );
    await step(
      "refuses new version 1 records once the transition ends; those in the log still verify and replay",
      async () => {
        await gateway.close();
        await start(false);
        const fresh = await post(await signed(null, "E-v1-c"));
        expect([fresh.status, fresh.body.code]).to.deep.equal([422, "record.version_retired"]);
        // A version 1 record the log holds, sent again, is answered from the store.
        const again = await post(firstVersion1);
        expect([again.status, again.body.recordId]).to.deep.equal([200, accepted[0]!.recordId]);
        const current = await post(await signed(info.logId, "E-v2-b"));
        expect(current.status, JSON.stringify(current.body)).to.equal(201);
        accepted.push({ recordId: current.body.recordId!, version: 2 });
        await verifyAndReplay();
      },
    );
  });
});
