/**
 * The one body reader of the HTTP API, and what happens to the rest of a body that is over its
 * size limit. Left alone, Node would keep reading it: a client could stream gigabytes into a
 * connection that was already answered 413. Instead the gateway answers at once, throws away
 * at most DISCARD_LIMIT_BYTES more, then closes the connection.
 */
import type { IncomingMessage } from "node:http";
import { StringDecoder } from "node:string_decoder";
import { bodyShapeFaults } from "../core/bodyShape.ts";
import { DutyproofError } from "../core/errors.ts";

/**
 * How much of a refused body is still read and thrown away: enough for an honest client that
 * sent a little too much to finish sending and read its 413 on a connection that stays usable
 * (a client cut off mid-send sees a broken pipe, not the answer), and no more.
 */
export const DISCARD_LIMIT_BYTES = 4 * 1024 * 1024;

/**
 * Stops keeping `req`'s body: what still arrives is counted and dropped, and once more than
 * `budget` bytes arrived the connection is closed. Call when the body was refused: with the
 * default budget once more than the limit was read, with `limit + DISCARD_LIMIT_BYTES` when the
 * declared length alone refused it (nothing read yet, so a client a little over the limit still
 * finishes sending and reads its 413).
 */
export function stopReading(req: IncomingMessage, budget = DISCARD_LIMIT_BYTES): void {
  req.removeAllListeners("data");
  req.unpipe();
  let discarded = 0;
  req.on("data", (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > budget) req.socket.destroy();
  });
  req.resume();
}

/** Whether the request says its body is JSON in UTF-8, unencoded. */
export function isJsonBody(req: IncomingMessage): boolean {
  const [type, ...params] = (req.headers["content-type"] ?? "").split(";").map((p) => p.trim().toLowerCase());
  const charset = params.find((p) => p.startsWith("charset="))?.slice(8);
  const encoding = (req.headers["content-encoding"] ?? "identity").toLowerCase();
  return type === "application/json" && (charset === undefined || charset === "utf-8") && encoding === "identity";
}

/**
 * Reads the body as UTF-8 text, refusing it (request.too_large) as soon as it is declared or
 * found to exceed `limit` bytes; what still arrives is dropped, and the connection closed past
 * DISCARD_LIMIT_BYTES.
 */
export function readBodyText(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (declared > limit) {
      stopReading(req, limit + DISCARD_LIMIT_BYTES);
      reject(new DutyproofError("request.too_large", "the body exceeds the size limit"));
      return;
    }
    // Each chunk is decoded as it arrives and its buffer let go, rather than joined into one
    // native buffer of up to the limit first (StringDecoder keeps a character split between
    // chunks whole).
    const decoder = new StringDecoder("utf8");
    const parts: string[] = [];
    let length = 0;
    req.on("data", (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) {
        stopReading(req);
        reject(new DutyproofError("request.too_large", "the body exceeds the size limit"));
        return;
      }
      parts.push(decoder.write(chunk));
    });
    req.on("error", () =>
      reject(new DutyproofError("request.unreadable", "the request could not be read (encoding, length or path)")),
    );
    req.on("end", () => {
      if (length > limit) return;
      parts.push(decoder.end());
      resolve(parts.join(""));
    });
  });
}

/**
 * Reads a JSON body: application/json in UTF-8 (else 415), at most `limit` bytes (else 413), an
 * object or an array at the top (else 400), and no nesting too deep or `__proto__`-like keys
 * (else 422) before any schema sees it.
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  if (!isJsonBody(req)) {
    stopReading(req, limit + DISCARD_LIMIT_BYTES);
    throw new DutyproofError("request.unsupported_media_type", "send the body as application/json");
  }
  const text = await readBodyText(req, limit);
  const first = /^[\s]*(.)/.exec(text)?.[1];
  let body: unknown;
  try {
    if (first !== "{" && first !== "[") throw new SyntaxError("not an object or array");
    body = JSON.parse(text);
  } catch {
    throw new DutyproofError("request.malformed_json", "the body is not valid JSON");
  }
  const errors = bodyShapeFaults(body);
  if (errors.length) throw new DutyproofError("request.invalid", "the body's shape is not allowed", { errors });
  return body;
}
