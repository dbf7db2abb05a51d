/**
 * Two of the gateway's limits, against a real gateway: DATA_DIR is owner-only even when it
 * existed with open modes, and a body over its limit is answered 413 and not read further: the
 * connection closes, so a client that keeps sending cannot push more than socket buffers hold.
 */
import { expect } from "chai";
import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { configFromEnvironment } from "../../server/config.ts";
import { type RunningGateway, startGateway } from "../../server/main.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";

/** Every path under `dir` (itself included) with its permission bits. */
function modes(dir: string): Array<{ path: string; directory: boolean; mode: number }> {
  const stat = statSync(dir);
  const here = [{ path: dir, directory: stat.isDirectory(), mode: stat.mode & 0o777 }];
  if (!stat.isDirectory()) return here;
  return [...here, ...readdirSync(dir).flatMap((name) => modes(join(dir, name)))];
}

/**
 * Streams a body without end (chunked, 64 KB a write) to `path` until the gateway closes the
 * connection or `maxBytes` were written. Returns what the client wrote, the answer's status
 * line, and whether the connection was closed by the gateway.
 */
function streamForever(port: number, path: string, maxBytes: number, declaredLength?: number) {
  return new Promise<{ written: number; statusLine: string; closed: boolean }>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let written = 0;
    let answer = "";
    let closed = false;
    const chunk = Buffer.alloc(64 * 1024, "x");
    const finish = () => resolve({ written, statusLine: answer.split("\r\n")[0] ?? "", closed });
    const timer = setTimeout(() => {
      socket.destroy();
      finish();
    }, 20_000);
    socket.on("data", (data) => (answer += data.toString("latin1")));
    socket.on("error", () => {}); // EPIPE or ECONNRESET once the gateway closes: expected
    socket.on("close", () => {
      closed = true;
      clearTimeout(timer);
      finish();
    });
    socket.on("connect", async () => {
      const length = declaredLength === undefined ? "transfer-encoding: chunked" : `content-length: ${declaredLength}`;
      socket.write(`POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n${length}\r\n\r\n`);
      const start = '{"items":["';
      socket.write(declaredLength === undefined ? `${start.length.toString(16)}\r\n${start}\r\n` : start);
      while (written < maxBytes && !socket.destroyed) {
        const framed = declaredLength === undefined ? `${chunk.length.toString(16)}\r\n${chunk}\r\n` : chunk;
        written += chunk.length;
        if (!socket.write(framed)) {
          await new Promise<void>((r) => {
            const done = () => {
              socket.off("drain", done);
              socket.off("close", done);
              r();
            };
            socket.on("drain", done);
            socket.on("close", done);
          });
        }
      }
    });
  });
}

describe("gateway: DATA_DIR modes and bodies over their limit", function () {
  this.timeout(120_000);
  const dir = tempDir("limits");
  const dataDir = join(dir.path, "data");
  const chainPort = testPort("gateway");
  let gateway: RunningGateway;
  let port: number;

  before(async () => {
    // A DATA_DIR made beforehand with open modes, as an installer or a hand might make it.
    mkdirSync(join(dataDir, "ledger"), { recursive: true, mode: 0o755 });
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, "ledger"), 0o755);
    writeFileSync(join(dataDir, "notes.txt"), "left by the installer", { mode: 0o644 });
    chmodSync(join(dataDir, "notes.txt"), 0o644);
    gateway = await startGateway(
      configFromEnvironment({}, { dataDir, port: 0, chainPort, anchorIntervalMs: 300, logName: "test" }),
      () => {},
    );
    port = Number(new URL(gateway.url).port);
  });

  after(async () => {
    await gateway?.close();
    dir.remove();
  });

  it("makes DATA_DIR owner-only: directories 0700, files 0600, the store's LevelDB files included", async () => {
    const open = modes(dataDir).filter((m) => (m.mode & 0o077) !== 0);
    expect(open.map((m) => `${m.path} ${m.mode.toString(8)}`)).to.deep.equal([]);
    const ledger = modes(join(dataDir, "ledger"));
    expect(ledger.filter((m) => !m.directory).length).to.be.greaterThan(0);
    for (const m of ledger) expect(m.mode, m.path).to.equal(m.directory ? 0o700 : 0o600);
    expect(statSync(dataDir).mode & 0o777).to.equal(0o700);
  });

  for (const [path, declared] of [
    ["/v1/attestations", undefined],
    ["/v1/attestations/batch", undefined],
    ["/v1/attestations", 1024 * 1024 * 1024],
    ["/v1/verify", undefined],
    ["/v1/verify", 1024 * 1024 * 1024],
    ["/v1/demands", undefined],
  ] as const) {
    it(`answers 413 to an endless body on ${path} (${declared ? "length declared" : "chunked"}), then closes the connection`, async () => {
      const maxBytes = 256 * 1024 * 1024;
      const result = await streamForever(port, path, maxBytes, declared);
      expect(result.statusLine).to.equal("HTTP/1.1 413 Payload Too Large");
      expect(result.closed, "the gateway closed the connection").to.equal(true);
      // What the client could push: the limit (8 MB for a batch), the 4 MB thrown away after the
      // answer, and the sockets' buffers; no more.
      expect(result.written).to.be.below(48 * 1024 * 1024);
    });
  }
});
