/**
 * The one HTTP client of the CLI: every command that talks to the gateway goes through it. A
 * problem document (RFC 9457) becomes a typed `GatewayRefusal`; no answer at all becomes an
 * `UnreachableError` (exit 3).
 */
import { configFromEnvironment } from "../../server/config.ts";
import { GatewayRefusal, type Problem, UnreachableError, UsageError } from "./errors.ts";

/** The gateway: GATEWAY_URL, or this machine's on PORT. */
export const gatewayUrl = (): string => process.env.GATEWAY_URL ?? `http://127.0.0.1:${configFromEnvironment().port}`;

export interface GatewayRequest {
  method?: "GET" | "POST" | "PATCH";
  /** Sent as JSON. */
  body?: unknown;
  /** A bearer token (`dutyproof token issue`). */
  token?: string;
  /** A full Authorization header value, for the operator's signed admin requests. */
  authorization?: string;
  timeoutMs?: number;
}

export interface GatewayAnswer<T> {
  status: number;
  body: T;
}

/** Sends a request; answers of any status come back, only an absent answer throws. */
async function send(path: string, request: GatewayRequest): Promise<Response> {
  const headers: Record<string, string> = {};
  if (request.body !== undefined) headers["content-type"] = "application/json";
  if (request.token) headers.authorization = `Bearer ${request.token}`;
  if (request.authorization) headers.authorization = request.authorization;
  try {
    return await fetch(gatewayUrl() + path, {
      method: request.method ?? "GET",
      headers,
      ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
      signal: AbortSignal.timeout(request.timeoutMs ?? 30_000),
    });
  } catch (error) {
    throw new UnreachableError(`the gateway at ${gatewayUrl()} does not answer`, { cause: error });
  }
}

function problemOf(status: number, text: string): Problem {
  try {
    const body = JSON.parse(text) as Partial<Problem>;
    return { ...body, status };
  } catch {
    return { status, detail: text.slice(0, 200) || "no detail" };
  }
}

/** GET/POST/PATCH `path`; any status comes back with its parsed JSON body (for 202, 404 …). */
export async function gatewayAnswer<T = Record<string, unknown>>(
  path: string,
  request: GatewayRequest = {},
): Promise<GatewayAnswer<T>> {
  const res = await send(path, request);
  const text = await res.text();
  if (res.status >= 400) return { status: res.status, body: problemOf(res.status, text) as T };
  try {
    return { status: res.status, body: JSON.parse(text) as T };
  } catch {
    throw new GatewayRefusal({ status: res.status, detail: "the gateway's answer is not JSON" });
  }
}

/** `path`'s JSON body on success; a `GatewayRefusal` for a problem document. */
export async function gatewayJson<T = Record<string, unknown>>(path: string, request: GatewayRequest = {}): Promise<T> {
  const res = await send(path, request);
  const text = await res.text();
  if (res.status >= 400) throw new GatewayRefusal(problemOf(res.status, text));
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new GatewayRefusal({ status: res.status, detail: "the gateway's answer is not JSON" });
  }
}

/** `path`'s body as text on success (CSV reports); a `GatewayRefusal` for a problem document. */
export async function gatewayText(path: string, request: GatewayRequest = {}): Promise<string> {
  const res = await send(path, request);
  const text = await res.text();
  if (res.status >= 400) throw new GatewayRefusal(problemOf(res.status, text));
  return text;
}

/** A duty type of the gateway's catalog, by code or id. */
export interface CatalogEntry {
  id: string;
  code: string;
}

/** The ids of comma-separated duty-type codes (or ids); an unknown one is a usage error. */
export async function dutyTypeIds(codes: string): Promise<string[]> {
  const catalog = (await gatewayJson<{ dutyTypes: CatalogEntry[] }>("/v1/duty-types")).dutyTypes;
  return codes.split(",").map((wanted) => {
    const found = catalog.find((d) => d.code === wanted.trim() || d.id === wanted.trim());
    if (!found) throw new UsageError(`unknown duty type ${wanted}; known: ${catalog.map((d) => d.code).join(", ")}`);
    return found.id;
  });
}
