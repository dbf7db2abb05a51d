/**
 * The log's second line of defence: whatever a caller passes by mistake, the values of secret
 * keys (operatorKey, privateKey, token, authorization) are printed as "[redacted]", at the top
 * of the logged object and one level inside it.
 */
import { expect } from "chai";
import { createLogger, redactSecrets } from "../../server/observability/logger.ts";

describe("observability/logger: secret keys are redacted", () => {
  const logged = (object: Record<string, unknown>) => {
    const lines: string[] = [];
    createLogger({ write: (line) => lines.push(line) }).info(object, "test line");
    expect(lines).to.have.length(1);
    return { text: lines[0]!, parsed: JSON.parse(lines[0]!) as Record<string, unknown> };
  };

  it("redacts secret keys at the top and one level down, keeping everything else", () => {
    const { text, parsed } = logged({
      token: "dpt_live_secret_1",
      operatorKey: "0xoperator-secret",
      request: { method: "GET", authorization: "Bearer secret-2" },
      unit: { privateKey: "0xunit-secret", name: "village" },
      headers: { authorization: "Bearer secret-3", accept: "application/json" },
      status: 201,
      route: "/v1/attestations",
    });
    for (const secret of ["dpt_live_secret_1", "0xoperator-secret", "secret-2", "0xunit-secret", "secret-3"]) {
      expect(text).to.not.include(secret);
    }
    expect(parsed.token).to.equal("[redacted]");
    expect(parsed.operatorKey).to.equal("[redacted]");
    expect(parsed.unit).to.deep.equal({ privateKey: "[redacted]", name: "village" });
    expect(parsed.headers).to.deep.equal({ authorization: "[redacted]", accept: "application/json" });
    expect((parsed.request as Record<string, unknown>).authorization).to.equal("[redacted]");
    expect(parsed.status).to.equal(201);
    expect(parsed.route).to.equal("/v1/attestations");
    expect(parsed.msg).to.equal("test line");
  });

  it("leaves the caller's object unchanged and returns it as is when there is nothing to redact", () => {
    const clean = { requestId: "abc", status: 200, nested: { ms: 1.5 } };
    expect(redactSecrets(clean)).to.equal(clean);
    const dirty = { token: "t", nested: { token: "u", keep: 1 } };
    const out = redactSecrets(dirty);
    expect(out).to.deep.equal({ token: "[redacted]", nested: { token: "[redacted]", keep: 1 } });
    expect(dirty).to.deep.equal({ token: "t", nested: { token: "u", keep: 1 } });
  });
});
