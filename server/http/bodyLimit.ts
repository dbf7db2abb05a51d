/**
 * What happens to the rest of a body that is over its size limit. Left alone, Node (and
 * body-parser, which reads a refused body to its end before answering) would keep reading it:
 * a client could stream gigabytes into a connection that was already answered 413. Instead the
 * gateway answers at once, throws away at most DISCARD_LIMIT_BYTES more, then closes the
 * connection.
 */
import type { IncomingMessage } from "node:http";
import type { NextFunction, Request, Response } from "express";
import { DutyproofError } from "../core/errors.ts";
import { problemOf, sendProblem } from "./problem.ts";

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

/**
 * Express middleware for the routes that parse bodies with express.json: a body declared or
 * found to be over `limitBytes` (the largest of those routes' limits) is answered 413 at once,
 * and not read further. Routes with a smaller limit refuse earlier through body-parser, whose
 * reading of the rest is then bounded here.
 */
export function bodyLimit(limitBytes: number) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method === "GET" || req.method === "HEAD") {
      next();
      return;
    }
    const refuse = (budget?: number) => {
      stopReading(req, budget);
      if (!res.headersSent) {
        sendProblem(
          res,
          problemOf(new DutyproofError("request.too_large", "the body exceeds the size limit"), req.originalUrl),
        );
      }
    };
    if (Number(req.headers["content-length"]) > limitBytes) {
      refuse(limitBytes + DISCARD_LIMIT_BYTES);
      return;
    }
    let received = 0;
    const count = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limitBytes) refuse();
    };
    req.on("data", count);
    next();
  };
}
