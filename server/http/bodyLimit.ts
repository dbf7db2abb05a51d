/**
 * What happens to the rest of a body that is over its size limit. Left alone, Node (and
 * body-parser, which reads a refused body to its end before answering) would keep reading it:
 * a client could stream gigabytes into a connection that was already answered 413. Instead the
 * gateway stops reading, answers, and closes the connection once the answer is sent.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { NextFunction, Request, Response } from "express";
import { DutyproofError } from "../core/errors.ts";
import { problemOf, sendProblem } from "./problem.ts";

/**
 * Stops reading `req`'s body and has Node close the connection after the response: with
 * keep-alive off, Node sends "Connection: close" and ends the socket once the answer is out,
 * and a paused request is not drained first. Call before the response's headers are sent.
 */
export function stopReading(req: IncomingMessage, res: ServerResponse): void {
  req.removeAllListeners("data");
  req.unpipe();
  req.pause();
  res.shouldKeepAlive = false;
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
    const refuse = () => {
      stopReading(req, res);
      if (!res.headersSent) {
        sendProblem(
          res,
          problemOf(new DutyproofError("request.too_large", "the body exceeds the size limit"), req.originalUrl),
        );
      }
    };
    if (Number(req.headers["content-length"]) > limitBytes) {
      refuse();
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
