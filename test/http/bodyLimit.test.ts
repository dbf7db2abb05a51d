/**
 * The one body reader, over real HTTP on loopback: a body arriving in pieces that split UTF-8
 * characters is read as the text that was sent, and the size limit counts bytes, not characters.
 */
import { expect } from "chai";
import { type Server, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { readBodyText } from "../../server/http/bodyLimit.ts";
import { sleep } from "../helpers/gatewayFixture.ts";

describe("readBodyText", () => {
  let server: Server;
  let port: number;
  const limit = 64 * 1024;

  before(async () => {
    server = createServer((req, res) => {
      readBodyText(req, limit).then(
        (text) => res.end(JSON.stringify({ text })),
        (e: Error & { code?: string }) => {
          res.statusCode = 413;
          res.end(JSON.stringify({ code: e.code }));
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Sends `pieces` one after another with a pause between, so each arrives as its own chunk. */
  const send = (pieces: Buffer[]) =>
    new Promise<{ status: number; body: { text?: string; code?: string } }>((resolve, reject) => {
      const req = request({ port, method: "POST", path: "/" }, (res) => {
        let data = "";
        res.on("data", (c: Buffer) => (data += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(data) as { text?: string } }));
      });
      req.on("error", reject);
      void (async () => {
        for (const piece of pieces) {
          req.write(piece);
          await sleep(20);
        }
        req.end();
      })();
    });

  it("reads characters split between chunks as they were sent", async () => {
    const text = "网格员长" + "巡查".repeat(1000) + "😀";
    const bytes = Buffer.from(text, "utf8");
    // Cut inside the first character, inside the 4-byte emoji, and at an odd place between.
    const cuts = [1, 2, 3001, bytes.length - 3, bytes.length];
    const pieces = cuts.map((end, i) => bytes.subarray(i === 0 ? 0 : cuts[i - 1], end));
    const { status, body } = await send(pieces);
    expect(status).to.equal(200);
    expect(body.text).to.equal(text);
  });

  it("counts the limit in bytes, not characters", async () => {
    const fits = "长".repeat(limit / 4);
    expect((await send([Buffer.from(fits)])).body.text).to.equal(fits);
    const over = Buffer.concat([Buffer.from("长".repeat(Math.floor(limit / 3))), Buffer.from("ab")]);
    expect(over.length).to.be.above(limit);
    const refused = await send([over.subarray(0, 1000), over.subarray(1000)]);
    expect(refused.status).to.equal(413);
    expect(refused.body.code).to.equal("request.too_large");
  });
});
