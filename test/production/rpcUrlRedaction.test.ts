/**
 * Issue 18 (Low): credentials in an external RPC_URL (user:pass@, tokens in the query string)
 * appear neither in /v1/info nor in any log line.
 */
import { expect } from "chai";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { JsonRpcProvider, Wallet } from "ethers";
import { configFromEnvironment } from "../../server/config.ts";
import { deployDutyLedger } from "../../server/chain/deployment.ts";
import { redactUrl, scrubUrlSecrets } from "../../server/chain/redactUrl.ts";
import { startGateway } from "../../server/main.ts";
import { type ExternalChain, handOverLog, startExternalChain } from "../helpers/externalChain.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";

// anvil's first default account, funded on an external anvil chain.
const funded = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

describe("RPC_URL credentials never shown (issue 18)", function () {
  this.timeout(120_000);
  const dir = tempDir("redaction");
  let chain: ExternalChain;

  before(async () => {
    chain = await startExternalChain(testPort("production"));
  });
  after(async () => {
    await chain?.stop();
    dir.remove();
  });

  it("redacts user, password and query values, and leaves a plain URL alone", () => {
    expect(redactUrl("https://alice:pa55word@rpc.example/v1?apikey=k3y-value&x=1")).to.equal(
      "https://redacted@rpc.example/v1?apikey=redacted&x=redacted",
    );
    expect(redactUrl("http://127.0.0.1:8545")).to.equal("http://127.0.0.1:8545");
    expect(redactUrl("not a url")).to.equal("not a url");
    const url = "https://alice:pa55word@rpc.example/?token=t%2Fk3n-0123";
    const line = `{"msg":"anchoring: server response 401 (requestUrl=${url}) t/k3n-0123 pa55word"}`;
    const scrubbed = scrubUrlSecrets(line, url);
    for (const secret of ["pa55word", "t%2Fk3n-0123", "t/k3n-0123", "alice"]) expect(scrubbed).not.to.contain(secret);
  });

  it("publishes the redacted URL in /v1/info and scrubs it from every log line", async () => {
    const provider = new JsonRpcProvider(chain.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
    const admin = new Wallet(funded, provider);
    const deployment = await deployDutyLedger(admin, { logName: "redaction", catalog: [] });
    const operatorKey = await handOverLog(admin, deployment);
    provider.destroy();
    writeFileSync(join(dir.path, "deployment.json"), JSON.stringify(deployment));
    const rpcUrl = `${chain.rpcUrl.replace("http://", "http://dutyproof:s3cret-pass@")}/?apikey=tok-abcdef123`;
    const lines: string[] = [];
    const gateway = await startGateway(
      configFromEnvironment(
        {},
        { dataDir: dir.path, port: 0, rpcUrl, operatorKey, logName: "redaction", anchorIntervalMs: 60_000 },
      ),
      (line) => lines.push(line),
    );
    try {
      const info = (await (await fetch(`${gateway.url}/v1/info`)).json()) as { rpcUrl: string };
      expect(info.rpcUrl).to.equal(redactUrl(rpcUrl));
      expect(gateway.rpcUrl).to.equal(redactUrl(rpcUrl));
      // Whatever carries the URL into a line (an error from the provider, a careless field).
      gateway.logger.warn({ endpoint: rpcUrl }, `anchoring: the chain at ${rpcUrl} refused`);
    } finally {
      await gateway.close();
    }
    expect(lines.some((l) => l.includes("anchoring: the chain at"))).to.equal(true);
    for (const line of lines) {
      for (const secret of ["s3cret-pass", "tok-abcdef123", "dutyproof:"]) expect(line).not.to.contain(secret);
    }
  });
});
