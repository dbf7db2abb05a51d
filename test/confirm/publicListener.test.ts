/**
 * The public listener on its own (real HTTP on loopback): it spends a per-address budget of its
 * own and answers 429 problem+json past it, and it refuses to be built with a route that needs
 * credentials, so nothing but public routes can ever be put on it.
 */
import { expect } from "chai";
import { once } from "node:events";
import { type Server, createServer } from "node:http";
import { ManualClock } from "../../server/core/clock.ts";
import { RateLimiter } from "../../server/core/rateLimit.ts";
import { publicRequestListener } from "../../server/http/publicListener.ts";
import { route } from "../../server/http/route.ts";
import { testPort } from "../helpers/ports.ts";

const hello = route({
  method: "GET",
  path: "/hello",
  summary: "a public route",
  auth: { kind: "public" },
  responses: { 200: { description: "text" } },
  handle: () => ({ text: "hello" }),
});

describe("public listener", function () {
  const clock = new ManualClock(1_800_000_000_000);
  let server: Server;
  let url: string;

  before(async () => {
    const listener = publicRequestListener([hello], {
      clock,
      clientLimiter: new RateLimiter({ perSecond: 30 / 60, burst: 3, maxKeys: 100 }),
    });
    server = createServer(listener).listen(testPort("confirm"), "127.0.0.1");
    await once(server, "listening");
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  after(() => server?.close());

  it("answers 429 problem+json past an address's budget, and again after it refills", async () => {
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await fetch(`${url}/hello`)).status);
    expect(statuses).to.deep.equal([200, 200, 200, 429, 429]);
    const refused = await fetch(`${url}/hello`);
    expect(refused.headers.get("content-type")).to.match(/^application\/problem\+json/);
    expect(((await refused.json()) as { code: string }).code).to.equal("request.rate_limited");
    clock.set(clock.now() + 2_000);
    expect((await fetch(`${url}/hello`)).status).to.equal(200);
  });

  it("refuses to serve a route that needs credentials", () => {
    const secret = route({ ...hello, path: "/secret", auth: { kind: "bearer", scopes: ["auditor"] } });
    expect(() => publicRequestListener([hello, secret], { clock })).to.throw(/public routes only/);
  });
});
