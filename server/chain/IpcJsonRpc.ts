/**
 * JSON-RPC over the embedded node's IPC socket (a Unix socket in a 0700 directory of DATA_DIR):
 * the only way into the node, which runs in a network namespace of its own. One connection
 * carries every call; answers come back one JSON document a line, not in request order.
 */
import { type Socket, connect } from "node:net";
import { JsonRpcProvider, type JsonRpcApiProviderOptions, type JsonRpcPayload, type JsonRpcResult } from "ethers";

/** One JSON-RPC answer as the node wrote it. */
export interface JsonRpcAnswer {
  jsonrpc: "2.0";
  id: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

interface Pending {
  id: unknown;
  resolve: (answer: JsonRpcAnswer) => void;
  reject: (error: Error) => void;
}

/** A JSON-RPC client over a Unix socket; connects on first use and again after the node restarts. */
export class IpcJsonRpcClient {
  private socket: Socket | null = null;
  private buffer = "";
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  /**
   * Sends one request (not a batch) and resolves with the node's answer, carrying the caller's
   * id; rejects only when the socket fails, never for an error answer.
   */
  request(payload: { method: string; params?: unknown; id?: unknown }): Promise<JsonRpcAnswer> {
    const socket = this.connected();
    // Ids are this client's own, so callers sharing the connection can reuse theirs.
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { id: payload.id ?? null, resolve, reject });
      // A client with calls in flight keeps the process alive; an idle one does not.
      socket.ref();
      socket.write(JSON.stringify({ jsonrpc: "2.0", id, method: payload.method, params: payload.params ?? [] }) + "\n");
    });
  }

  /** One call; an error answer becomes an Error naming the method. */
  async call(method: string, params: unknown[] = []): Promise<unknown> {
    const answer = await this.request({ method, params });
    if (answer.error) throw new Error(`${method}: ${answer.error.message}`);
    return answer.result;
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private connected(): Socket {
    if (this.socket) return this.socket;
    const socket = connect(this.path);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.receive(chunk));
    const fail = (error: Error) => {
      if (this.socket === socket) this.socket = null;
      this.buffer = "";
      for (const [id, call] of this.pending) {
        this.pending.delete(id);
        call.reject(error);
      }
    };
    socket.on("error", (error) => fail(new Error(`the chain node's socket ${this.path}: ${error.message}`)));
    socket.on("close", () => fail(new Error(`the chain node closed its socket ${this.path}`)));
    this.socket = socket;
    return socket;
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      if (!line.trim()) continue;
      let answer: JsonRpcAnswer;
      try {
        answer = JSON.parse(line) as JsonRpcAnswer;
      } catch {
        continue;
      }
      const call = typeof answer.id === "number" ? this.pending.get(answer.id) : undefined;
      if (!call) continue;
      this.pending.delete(answer.id as number);
      call.resolve({ ...answer, id: call.id });
    }
    if (this.pending.size === 0) this.socket?.unref();
  }
}

/**
 * An ethers provider whose calls go over the node's IPC socket. It keeps JsonRpcProvider's
 * polling (receipts, blocks), which the anchorer and the CLI rely on, where ethers' own
 * IpcSocketProvider would subscribe instead.
 */
export class IpcJsonRpcProvider extends JsonRpcProvider {
  private readonly client: IpcJsonRpcClient;

  constructor(path: string, options: JsonRpcApiProviderOptions = {}) {
    super(undefined, undefined, { staticNetwork: true, cacheTimeout: -1, ...options, batchMaxCount: 1 });
    this.client = new IpcJsonRpcClient(path);
  }

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const payloads = Array.isArray(payload) ? payload : [payload];
    const answers = await Promise.all(payloads.map((p) => this.client.request(p)));
    return answers as unknown as JsonRpcResult[];
  }

  override destroy(): void {
    this.client.close();
    super.destroy();
  }
}
