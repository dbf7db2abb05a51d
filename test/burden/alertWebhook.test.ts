/**
 * The alert webhook against a real HTTP receiver on loopback: every delivery carries an
 * HMAC-SHA256 the receiver checks with the shared secret, failures are retried a bounded number
 * of times with growing delays, a final refusal is not retried, and sending never waits for the
 * receiver.
 */
import { expect } from "chai";
import { createHmac, timingSafeEqual } from "node:crypto";
import { type IncomingHttpHeaders, type Server, createServer } from "node:http";
import { AlertWebhook, WEBHOOK_HEADERS } from "../../server/burden/AlertWebhook.ts";
import type { BurdenAlert } from "../../server/burden/liveAlerts.ts";
import { testPort } from "../helpers/ports.ts";

const SECRET = "county-alert-secret-0123";
const alert: BurdenAlert = {
  alertId: `department_over_threshold:2026-12:0x${"aa".repeat(32)}:civil-affairs`,
  rule: "department_over_threshold",
  month: "2026-12",
  unitId: "0x" + "aa".repeat(32),
  department: "civil-affairs",
  count: 11,
  limit: 10,
};

/** What a receiver does to check a delivery, written from the documented scheme alone. */
function verifies(secret: string, headers: IncomingHttpHeaders, body: string): boolean {
  const timestamp = String(headers[WEBHOOK_HEADERS.timestamp]);
  const given = String(headers[WEBHOOK_HEADERS.signature]);
  const expected = "sha256=" + createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
  return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

interface Delivery {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
}

describe("burden alert webhook (real HTTP receiver on loopback)", function () {
  this.timeout(30_000);
  let server: Server;
  let port: number;
  let deliveries: Delivery[] = [];
  let answers: number[] = [];
  const logs: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        deliveries.push({ at: Date.now(), headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        const status = answers.shift() ?? 200;
        if (status === 0) return; // never answers: the sender's timeout must end it
        res.writeHead(status).end();
      });
    });
    for (;;) {
      port = testPort("live");
      const listening = await new Promise<boolean>((resolve) => {
        server.once("error", () => resolve(false));
        server.listen(port, "127.0.0.1", () => resolve(true));
      });
      if (listening) break;
    }
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    deliveries = [];
    answers = [];
    logs.length = 0;
  });

  const webhook = (options: Partial<ConstructorParameters<typeof AlertWebhook>[0]> = {}) =>
    new AlertWebhook({
      url: `http://127.0.0.1:${port}/hook?key=not-for-logs`,
      secret: SECRET,
      maxAttempts: 4,
      retryDelayMs: 50,
      timeoutMs: 2_000,
      now: () => Math.floor(Date.now() / 1000),
      log: (_level, message) => logs.push(message),
      ...options,
    });

  it("signs each delivery with HMAC-SHA256 of timestamp and body that the receiver verifies", async () => {
    const sender = webhook();
    sender.send(alert);
    await sender.idle();
    expect(deliveries).to.have.length(1);
    const [delivery] = deliveries;
    expect(delivery!.headers["content-type"]).to.equal("application/json");
    expect(delivery!.headers[WEBHOOK_HEADERS.delivery]).to.equal(alert.alertId);
    expect(verifies(SECRET, delivery!.headers, delivery!.body)).to.equal(true);
    // The signature binds the body and the secret: a changed byte or another secret fails.
    expect(verifies(SECRET, delivery!.headers, delivery!.body.replace('"count":11', '"count":12'))).to.equal(false);
    expect(verifies("another-secret-of-16+", delivery!.headers, delivery!.body)).to.equal(false);
    const payload = JSON.parse(delivery!.body);
    expect(payload).to.deep.equal({
      type: "dutyproof.burden.alert",
      sentAt: Number(delivery!.headers[WEBHOOK_HEADERS.timestamp]),
      alert,
    });
    expect(sender.delivered).to.equal(1);
    expect(sender.failed).to.equal(0);
  });

  it("retries 5xx, 429 and silence with doubling delays, and stops at the first success", async () => {
    answers = [503, 429, 0, 200];
    const sender = webhook({ timeoutMs: 1_500 });
    sender.send(alert);
    await sender.idle();
    expect(deliveries).to.have.length(4);
    expect(sender.delivered).to.equal(1);
    for (const d of deliveries) expect(verifies(SECRET, d.headers, d.body)).to.equal(true);
    const gaps = deliveries.slice(1).map((d, i) => d.at - deliveries[i]!.at);
    expect(gaps[0]).to.be.at.least(45); // 50 ms
    expect(gaps[1]).to.be.at.least(95); // 100 ms
    expect(gaps[2]).to.be.at.least(1_500 + 195); // the timeout, then 200 ms
    expect(logs.filter((l) => l.includes("attempt"))).to.have.length(3);
    // The URL's query may hold a key: logs show it redacted.
    expect(logs.join("\n")).not.to.include("not-for-logs");
  });

  it("gives up after the configured attempts, and does not retry a final refusal", async () => {
    answers = [500, 500, 500, 500, 500];
    const sender = webhook({ maxAttempts: 3 });
    sender.send(alert);
    await sender.idle();
    expect(deliveries).to.have.length(3);
    expect(sender.failed).to.equal(1);
    expect(logs.at(-1)).to.match(/gave up/);

    deliveries = [];
    answers = [401, 200];
    const refused = webhook();
    refused.send(alert);
    await refused.idle();
    expect(deliveries).to.have.length(1);
    expect(refused.failed).to.equal(1);
  });

  it("never makes the sender wait: send returns before the receiver answers", async () => {
    answers = [0];
    const sender = webhook({ timeoutMs: 1_500, maxAttempts: 1 });
    sender.send(alert);
    sender.send({ ...alert, alertId: alert.alertId + ":2" });
    // send returned and nothing has reached the receiver yet: the caller never waits for delivery.
    expect(deliveries).to.have.length(0);
    await sender.idle();
    expect(deliveries.map((d) => d.headers[WEBHOOK_HEADERS.delivery])).to.deep.equal([
      alert.alertId,
      alert.alertId + ":2",
    ]);
    expect(sender.failed).to.equal(1);
    expect(sender.delivered).to.equal(1);
  });

  it("stops cleanly in the middle of a retry wait", async () => {
    answers = [503];
    const sender = webhook({ retryDelayMs: 60_000 });
    sender.send(alert);
    while (deliveries.length === 0) await new Promise((r) => setTimeout(r, 10));
    const started = performance.now();
    await sender.stop();
    expect(performance.now() - started).to.be.below(10_000); // not the 60 s retry delay
    expect(deliveries).to.have.length(1);
  });
});
