/**
 * The benchmark's HTTP clients. `httpCall`: node:http with keep-alive, for the proof service and
 * the receipt polls (Node's fetch costs several times the CPU per request, which the load
 * generator would take from the gateway it measures). `RawHttpConnection`: the ingest phases'
 * sender, leaner still. The load generator shares the machine's two cores with the gateway it measures.
 */
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { type Socket, connect } from "node:net";

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

export function httpCall(url: string, method: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(body);
    }
    const req = request(url, { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", (error: NodeJS.ErrnoException) => {
      // A kept-alive socket the server closed while idle: send again on a fresh one (every
      // request the benchmark makes is idempotent; Node's documented pattern for this race).
      if (req.reusedSocket && error.code === "ECONNRESET") httpCall(url, method, body).then(resolve, reject);
      else reject(error);
    });
    req.end(body);
  });
}

/** CPU seconds (user + system, every thread) a process has used, from /proc. */
export function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * The load generator's client for the ingest phases: one keep-alive HTTP/1.1 connection that
 * sends requests encoded before the clock starts (as records are signed before it starts) and
 * reads each answer's status line, Content-Length and body. One request is in flight at a time,
 * as with node:http's agent. It costs the load generator about a third of node:http's CPU per
 * request (`npm run bench` reports both sides' CPU per record), which leaves that much more of
 * the shared two cores to the gateway it measures.
 */
export class RawHttpConnection {
  private readonly host: string;
  private readonly port: number;
  private socket: Socket | null = null;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (r: { status: number; body: Buffer }) => void; reject: (e: Error) => void } | null = null;

  constructor(url: string) {
    const { hostname, port } = new URL(url);
    this.host = hostname;
    this.port = Number(port);
  }

  /** A POST of a JSON body, encoded once: pass the result to `send` as often as needed. */
  static post(url: string, body: string): Buffer {
    const { host, pathname } = new URL(url);
    const bytes = Buffer.from(body, "utf8");
    const head = `POST ${pathname} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${bytes.length}\r\n\r\n`;
    return Buffer.concat([Buffer.from(head, "latin1"), bytes]);
  }

  /** Sends one encoded request and resolves with its answer's status and body. */
  send(request: Buffer): Promise<{ status: number; body: Buffer }> {
    if (this.waiting) return Promise.reject(new Error("one request at a time on a connection"));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.connection().write(request);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private connection(): Socket {
    if (this.socket) return this.socket;
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    socket.on("data", (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.takeAnswer();
    });
    // Only the current socket's end fails the request: a closed one's late events do not.
    socket.on("error", (error) => {
      if (this.socket === socket) this.fail(error);
    });
    socket.on("close", () => {
      if (this.socket === socket) this.fail(new Error("the gateway closed the connection"));
    });
    this.socket = socket;
    return socket;
  }

  /** Completes the waiting request once its whole answer is buffered. */
  private takeAnswer(): void {
    const end = this.buffered.indexOf("\r\n\r\n");
    if (end === -1 || !this.waiting) return;
    const head = this.buffered.toString("latin1", 0, end);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!length) {
      this.fail(new Error(`an answer without Content-Length: ${head.split("\r\n")[0]}`));
      return;
    }
    const total = end + 4 + Number(length[1]);
    if (this.buffered.length < total) return;
    const status = Number(head.slice(9, 12));
    const body = this.buffered.subarray(end + 4, total);
    this.buffered = this.buffered.subarray(total);
    const waiting = this.waiting;
    this.waiting = null;
    waiting.resolve({ status, body });
  }

  /** Drops the connection (the next request opens another) and rejects the waiting request. */
  private fail(error: Error): void {
    const waiting = this.waiting;
    this.waiting = null;
    this.buffered = Buffer.alloc(0);
    this.close();
    waiting?.reject(error);
  }
}
