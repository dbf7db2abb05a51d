/**
 * No personal data on chain or in logs. Records of every duty type with personal fields (marked
 * `personal: true` in server/catalog) are submitted with distinctive values, plus requests the
 * gateway refuses that carry the same values; once everything is anchored, every transaction's
 * calldata, every event log, the chain's state dump and the gateway's stdout/stderr are scanned
 * for each value as UTF-8 and as hex. None may be found. The scan is shown to work: it finds
 * every value in the gateway's LevelDB files (where records are kept), and it finds a canary
 * planted on chain in calldata, in an event and in the state dump.
 */
import { expect } from "chai";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { Contract, Wallet, id } from "ethers";
import type { Deployment } from "../../server/chain/deployment.ts";
import { loadDutyLedgerArtifact } from "../../server/chain/dutyLedgerArtifact.ts";
import type { DutyTypeDocument } from "../../server/core/dutyType.ts";
import { servedGatewayEnv } from "../helpers/gatewayFixture.ts";
import { testPort } from "../helpers/ports.ts";
import { chainOwnerProvider } from "../helpers/chainOwner.ts";
import { startServe } from "../helpers/serve.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { type Eip712Info, newEnvelope, signEnvelope } from "../helpers/unitClient.ts";

/** Where each value was found: "utf8" or "hex" in which haystack. */
function findValues(haystack: Buffer, values: string[], where: string): string[] {
  const lower = Buffer.from(haystack.toString("latin1").toLowerCase(), "latin1");
  const hits: string[] = [];
  for (const value of values) {
    const utf8 = Buffer.from(value, "utf8");
    if (haystack.includes(utf8)) hits.push(`${value} as UTF-8 in ${where}`);
    if (lower.includes(Buffer.from(utf8.toString("hex")))) hits.push(`${value} as hex in ${where}`);
  }
  return hits;
}

/** A hex string's text and its decoded bytes, so both forms can be searched. */
const hexHaystack = (hex: string) =>
  Buffer.concat([Buffer.from(hex), Buffer.from("\n"), Buffer.from(hex.replace(/^0x/, ""), "hex")]);

describe("personal data never reaches calldata, events, the chain's state or the logs", function () {
  this.timeout(180_000);
  const dir = tempDir("personal");
  const port = testPort("hostile");
  const chainPort = port < 12_500 ? port + 450 : port - 450;
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  let output = "";

  after(async () => {
    if (child?.pid && child.exitCode === null) {
      process.kill(-child.pid, "SIGKILL");
      await new Promise((r) => setTimeout(r, 300));
    }
    dir.remove();
  });

  it("finds none of the fixture's personal values, with a scan that finds them where they are", async () => {
    child = await startServe(url, servedGatewayEnv(dir.path, port, chainPort), {
      stdio: ["ignore", "pipe", "pipe"],
      timeoutMs: 60_000,
      detached: true,
    });
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));

    const deployment = JSON.parse(readFileSync(join(dir.path, "deployment.json"), "utf8")) as Deployment;
    const provider = chainOwnerProvider(dir.path);
    const operator = new Wallet(readFileSync(join(dir.path, "keys", "operator.key"), "utf8").trim(), provider);
    const ledger = new Contract(deployment.address, loadDutyLedgerArtifact().abi as never, operator);
    const township = id("unit:personal-township");
    const village = id("unit:personal-village");
    const villageKey = Wallet.createRandom();
    await (await ledger.getFunction("registerUnit")(township, "0x" + "00".repeat(32), 2, operator.address)).wait();
    await (await ledger.getFunction("registerUnit")(village, township, 3, villageKey.address)).wait();

    // A canary on chain, in the places the scan must reach: a transaction's calldata, and an
    // event topic and a storage slot (a unit registered under the canary's bytes as its id).
    const canary = "CANARY-" + randomBytes(8).toString("hex");
    const canaryId = "0x" + Buffer.from(canary.padEnd(32, "-")).toString("hex");
    await (
      await operator.sendTransaction({ to: operator.address, data: "0x" + Buffer.from(canary).toString("hex") })
    ).wait();
    await (await ledger.getFunction("registerUnit")(canaryId, township, 3, Wallet.createRandom().address)).wait();

    const info = (await (await fetch(`${url}/v1/info`)).json()) as { eip712: Eip712Info; logId: string };
    const catalog = (
      (await (await fetch(`${url}/v1/duty-types`)).json()) as { dutyTypes: Array<DutyTypeDocument & { id: string }> }
    ).dutyTypes;

    // Distinctive values for every personal field, fitting each field's length limit.
    const values: string[] = []; // every value sent
    const stored: string[] = []; // the values of records the gateway accepted
    const fieldsFor = (doc: DutyTypeDocument, n: number, accepted: boolean) => {
      const fields: Record<string, string | number | boolean> = {};
      for (const f of doc.fields) {
        if (f.personal) {
          const nonce = randomBytes(8).toString("hex");
          const value =
            f.name === "idNumber"
              ? (BigInt("0x" + nonce) % 10n ** 17n).toString().padStart(17, "7") + "X"
              : `隐私${f.name}${n}-${nonce}`.slice(0, f.maxLength ?? 200);
          fields[f.name] = value;
          values.push(value);
          if (accepted) stored.push(value);
        } else if (!f.required) continue;
        else if (f.type === "enum") fields[f.name] = f.values![0]!;
        else if (f.type === "integer" || f.type === "number") fields[f.name] = f.minimum ?? 1;
        else if (f.type === "boolean") fields[f.name] = true;
        else if (f.type === "date") fields[f.name] = "2026-01-02";
        else fields[f.name] = "公开内容";
      }
      return fields;
    };
    const personalTypes = catalog.filter((d) => d.fields.some((f) => f.personal));
    expect(personalTypes.map((d) => d.code)).to.include.members(["household-visit", "subsistence-allowance-check"]);

    const post = (path: string, body: unknown) =>
      fetch(url + path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const receipts: string[] = [];
    for (const doc of personalTypes) {
      // One record on the single endpoint, one in a batch.
      const single = newEnvelope(info.logId, village, doc.id, fieldsFor(doc, 1, true));
      const res = await post("/v1/attestations", {
        envelope: single,
        signature: await signEnvelope(villageKey, info.eip712, single),
      });
      expect(res.status, `${doc.code}: ${await res.clone().text()}`).to.equal(201);
      receipts.push(((await res.json()) as { receipt: string }).receipt);
      const batched = newEnvelope(info.logId, village, doc.id, fieldsFor(doc, 2, true));
      const batch = await post("/v1/attestations/batch", {
        items: [{ envelope: batched, signature: await signEnvelope(villageKey, info.eip712, batched) }],
      });
      const [result] = ((await batch.json()) as { results: Array<{ status: number; receipt: string }> }).results;
      expect(result!.status).to.equal(201);
      receipts.push(result!.receipt);

      // Refused requests carrying personal values must not be logged either: a bad signature,
      // a field too long, an unknown field, and a verify request with the record.
      const refused = newEnvelope(info.logId, village, doc.id, fieldsFor(doc, 3, false));
      expect(
        (await post("/v1/attestations", { envelope: refused, signature: "0x" + "11".repeat(65) })).status,
      ).to.equal(422);
      const tooLong = newEnvelope(info.logId, village, doc.id, {
        ...fieldsFor(doc, 4, false),
        extraPersonal: values.at(-1)!,
      });
      const tooLongRes = await post("/v1/attestations", {
        envelope: tooLong,
        signature: await signEnvelope(villageKey, info.eip712, tooLong),
      });
      expect(tooLongRes.status).to.equal(422);
      expect(await tooLongRes.text(), "a refusal names the field, not its value").to.not.include(values.at(-1)!);
      expect((await post("/v1/verify", { receipt: { status: "anchored" }, envelope: refused })).status).to.equal(422);
    }

    // Everything anchored.
    for (const receipt of receipts) {
      let status = 0;
      for (let i = 0; i < 300 && status !== 200; i++) {
        status = (await fetch(url + receipt)).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status, receipt).to.equal(200);
    }

    // Every transaction's calldata and every log of every block.
    const latest = await provider.getBlockNumber();
    const calldata: Buffer[] = [];
    const logs: Buffer[] = [];
    let transactions = 0;
    for (let n = 0; n <= latest; n++) {
      const block = (await provider.send("eth_getBlockByNumber", ["0x" + n.toString(16), true])) as {
        transactions: Array<{ hash: string; input: string }>;
      };
      for (const tx of block.transactions) {
        transactions++;
        calldata.push(hexHaystack(tx.input));
        const receipt = (await provider.send("eth_getTransactionReceipt", [tx.hash])) as {
          logs: Array<{ data: string; topics: string[] }>;
        };
        for (const log of receipt.logs) logs.push(hexHaystack([log.data, ...log.topics].join(" ")));
      }
    }
    const ledgerLogs = (await provider.send("eth_getLogs", [
      { fromBlock: "0x0", toBlock: "latest", address: deployment.address },
    ])) as Array<{ data: string; topics: string[] }>;
    for (const log of ledgerLogs) logs.push(hexHaystack([log.data, ...log.topics].join(" ")));
    const dump = gunzipSync(Buffer.from(((await provider.send("anvil_dumpState", [])) as string).slice(2), "hex"));
    provider.destroy();

    // Stop the gateway: it snapshots the chain state to DATA_DIR/chain/state.json and flushes its logs.
    const exited = new Promise((resolve) => child!.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
    const stateFile = readFileSync(join(dir.path, "chain", "state.json"));

    const allCalldata = Buffer.concat(calldata);
    const allLogs = Buffer.concat(logs);
    const hits = [
      ...findValues(allCalldata, values, "calldata"),
      ...findValues(allLogs, values, "event logs"),
      ...findValues(dump, values, "the chain's state dump"),
      ...findValues(stateFile, values, "DATA_DIR/chain/state.json"),
      ...findValues(Buffer.from(output), values, "the gateway's stdout/stderr"),
    ];
    console.log(
      `    scanned ${transactions} transactions (${allCalldata.length} bytes), ${logs.length} logs, state dump ` +
        `${dump.length} bytes, gateway output ${output.length} bytes for ${values.length} personal values: ${hits.length} found`,
    );
    expect(hits).to.deep.equal([]);

    // The scan finds what is there: the canary where it was planted…
    expect(findValues(allCalldata, [canary], "calldata")).to.have.length.greaterThan(0);
    expect(findValues(allLogs, [canary], "event logs")).to.have.length.greaterThan(0);
    expect(findValues(dump, [canary], "state dump")).to.have.length.greaterThan(0);
    expect(output).to.include('"msg":"request"'); // the request log lines were captured and scanned
    // …and every personal value in the gateway's own LevelDB files, where records are kept.
    const ledgerDir = join(dir.path, "ledger");
    const ledgerFiles = Buffer.concat(readdirSync(ledgerDir).map((f) => readFileSync(join(ledgerDir, f))));
    const found = new Set(findValues(ledgerFiles, stored, "LevelDB").map((hit) => hit.split(" as ")[0]));
    expect([...found].sort()).to.deep.equal([...new Set(stored)].sort());
  });
});
