/**
 * POST /v1/rpc: the embedded chain node as outside readers may see it. The node itself answers
 * only on an IPC socket only DATA_DIR's owner can open; this endpoint forwards read methods (what
 * ethers, `cast call` and `dutyproof verify`/`replay` need) and raw transactions to the
 * DutyLedger signed by a key that holds a role on it. Everything that could change the chain
 * otherwise (anvil_*, evm_*, debug_*, eth_sendTransaction, eth_sign…) is refused by name.
 * Answers carry no CORS headers: a page on another origin cannot read them.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Contract, Transaction, ZeroHash, id as keccakText } from "ethers";
import { DutyproofError, errorCatalogue } from "../core/errors.ts";
import type { JsonRpcAnswer } from "../chain/IpcJsonRpc.ts";
import { DISCARD_LIMIT_BYTES, readBodyText, stopReading } from "./bodyLimit.ts";
import { writeBody } from "./problem.ts";

/** Methods forwarded as they are: they read the chain and change nothing. */
export const READ_METHODS: ReadonlySet<string> = new Set([
  "eth_chainId",
  "net_version",
  "web3_clientVersion",
  "eth_syncing",
  "eth_blockNumber",
  "eth_gasPrice",
  "eth_maxPriorityFeePerGas",
  "eth_feeHistory",
  "eth_getBalance",
  "eth_getTransactionCount",
  "eth_getCode",
  "eth_getStorageAt",
  "eth_call",
  "eth_estimateGas",
  "eth_getLogs",
  "eth_getBlockByNumber",
  "eth_getBlockByHash",
  "eth_getTransactionByHash",
  "eth_getTransactionReceipt",
]);

/** Most requests in one batch; each is checked on its own. */
export const MAX_BATCH = 50;
/** Largest body: a duty type's schema document in a raw transaction fits with room to spare. */
export const MAX_BODY = "256kb";
const MAX_BODY_BYTES = 256 * 1024;

/**
 * Whether the body is declared JSON (any charset, as a JSON parser takes it): a browser cannot
 * send that cross-origin without a preflight.
 */
function isJsonMediaType(req: IncomingMessage): boolean {
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  return type === "application/json";
}

export interface ChainRpcEndpointOptions {
  /** Sends one request to the node (over its IPC socket) and returns its answer. */
  forward: (request: { method: string; params: unknown[]; id: unknown }) => Promise<JsonRpcAnswer>;
  chainId: number;
  /** The DutyLedger: the only contract a relayed transaction may call. */
  ledgerAddress: string;
  /** Whether `address` holds a role on the DutyLedger (admin, registrar, this log's operator). */
  holdsRole: (address: string) => Promise<boolean>;
  /** Called after a relayed transaction was accepted (the embedded node snapshots its state). */
  afterTransaction?: () => Promise<void>;
}

// JSON-RPC 2.0 error codes (section 5.1); -32003 is the de facto "transaction rejected".
const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const METHOD_NOT_FOUND = -32601;
const INVALID_PARAMS = -32602;
const INTERNAL_ERROR = -32603;
const TRANSACTION_REJECTED = -32003;

type Answer = {
  jsonrpc: "2.0";
  id: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
};

const failure = (id: unknown, code: number, message: string, data?: unknown): Answer => ({
  jsonrpc: "2.0",
  id,
  error: data === undefined ? { code, message } : { code, message, data },
});

/**
 * Whether `address` holds a role on `ledger` that sends transactions: DEFAULT_ADMIN_ROLE,
 * REGISTRAR_ROLE, or operator of the log `logId`.
 */
export function ledgerRoleHolder(ledger: Contract, logId: string): (address: string) => Promise<boolean> {
  const registrar = keccakText("REGISTRAR_ROLE");
  return async (address) => {
    const [admin, registers, head] = await Promise.all([
      ledger.getFunction("hasRole")(ZeroHash, address) as Promise<boolean>,
      ledger.getFunction("hasRole")(registrar, address) as Promise<boolean>,
      ledger.getFunction("logHead")(logId) as Promise<{ operator: string }>,
    ]);
    return admin || registers || String(head.operator).toLowerCase() === address.toLowerCase();
  };
}

/** The handler of POST /v1/rpc: it reads the request and writes the JSON-RPC answer itself. */
export function chainRpcEndpoint(
  options: ChainRpcEndpointOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const ledger = options.ledgerAddress.toLowerCase();

  const checkRawTransaction = async (params: unknown[]): Promise<string | null> => {
    if (params.length !== 1 || typeof params[0] !== "string") return "expects one signed transaction as hex";
    let tx: Transaction;
    try {
      tx = Transaction.from(params[0]);
    } catch {
      return "not a signed transaction";
    }
    const from = tx.from;
    if (!from) return "the transaction is not signed";
    if (tx.to?.toLowerCase() !== ledger) return "only transactions to the DutyLedger are relayed";
    if (tx.chainId !== BigInt(options.chainId)) return `the transaction is not for chain ${options.chainId}`;
    if (!(await options.holdsRole(from))) return `${from} holds no role on the DutyLedger`;
    return null;
  };

  const answer = async (request: unknown): Promise<Answer> => {
    if (request === null || typeof request !== "object" || Array.isArray(request))
      return failure(null, INVALID_REQUEST, "a request is a JSON object");
    const { jsonrpc, method, params = [], id = null } = request as Record<string, unknown>;
    if (jsonrpc !== "2.0" || typeof method !== "string" || !Array.isArray(params))
      return failure(id, INVALID_REQUEST, 'a request has jsonrpc "2.0", a method name and params as an array');
    if (method === "eth_accounts") return { jsonrpc: "2.0", id, result: [] };
    if (method === "eth_sendRawTransaction") {
      const refusal = await checkRawTransaction(params);
      if (refusal) {
        const code = refusal.includes("role") || refusal.includes("relayed") ? TRANSACTION_REJECTED : INVALID_PARAMS;
        return failure(id, code, `refused: ${refusal}`, { code: "rpc.transaction_refused" });
      }
    } else if (!READ_METHODS.has(method)) {
      return failure(id, METHOD_NOT_FOUND, `${method} is not available on this endpoint (read methods only)`, {
        code: "rpc.method_refused",
      });
    }
    try {
      const result = await options.forward({ method, params, id });
      // A registration relayed here must survive a kill -9 as the gateway's own transactions do.
      if (method === "eth_sendRawTransaction" && !result.error) await options.afterTransaction?.().catch(() => {});
      return { ...result, id };
    } catch {
      return failure(id, INTERNAL_ERROR, errorCatalogue["chain.unreachable"].title);
    }
  };

  const reply = (res: ServerResponse, status: number, body: unknown) => writeBody(res, status, JSON.stringify(body));

  return async (req, res) => {
    // No simple (text/plain) cross-origin POSTs: a browser must preflight, and the preflight finds
    // no CORS headers.
    if (!isJsonMediaType(req)) {
      stopReading(req, MAX_BODY_BYTES + DISCARD_LIMIT_BYTES);
      reply(res, 415, failure(null, INVALID_REQUEST, "send the request as application/json"));
      return;
    }
    let text: string;
    try {
      text = await readBodyText(req, MAX_BODY_BYTES);
    } catch (error) {
      if (error instanceof DutyproofError && error.code === "request.too_large")
        reply(res, 413, failure(null, INVALID_REQUEST, `the body is larger than ${MAX_BODY}`));
      else reply(res, 400, failure(null, INVALID_REQUEST, "the request cannot be read"));
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      reply(res, 400, failure(null, PARSE_ERROR, "the body is not valid JSON"));
      return;
    }
    if (!Array.isArray(body)) {
      reply(res, 200, await answer(body));
      return;
    }
    if (body.length === 0 || body.length > MAX_BATCH) {
      reply(res, 400, failure(null, INVALID_REQUEST, `a batch holds 1 to ${MAX_BATCH} requests`));
      return;
    }
    const answers: Answer[] = [];
    // One at a time: a batch must not hold a node's worth of work in flight at once.
    for (const request of body) answers.push(await answer(request));
    reply(res, 200, answers);
  };
}
