/**
 * The one place where logging, metrics and request ids hook into the HTTP API: the dispatcher
 * (server/http/dispatch.ts) calls it for every request. Every request gets an id (the caller's
 * X-Request-Id when it is a plain token, else a new UUID), echoed in the X-Request-Id header and
 * in problem+json bodies; when the response is done, one log line (id, method, path, route,
 * status, time) and the metrics.
 * Query strings and bodies are never logged: they carry record contents and tokens.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "./logger.ts";
import type { GatewayMetrics } from "./metrics.ts";

const acceptableId = /^[A-Za-z0-9._:-]{1,128}$/;

export interface ObservabilityOptions {
  logger: Logger;
  metrics: GatewayMetrics;
  /** True while the gateway drains for shutdown: clients are told to close their connections. */
  draining: () => boolean;
}

/**
 * Gives a request its id (returned), sets the X-Request-Id and draining headers, and when the
 * response is done writes its log line and metrics. `route` and `path` are read at that time.
 */
export type RequestObserver = (
  req: IncomingMessage,
  res: ServerResponse,
  route: () => string,
  path: () => string,
) => string;

export function requestObserver(options: ObservabilityOptions): RequestObserver {
  const { logger, metrics } = options;
  return (req, res, route, path) => {
    const given = req.headers["x-request-id"];
    const requestId = typeof given === "string" && acceptableId.test(given) ? given : randomUUID();
    res.setHeader("X-Request-Id", requestId);
    if (options.draining()) res.setHeader("Connection", "close");
    const started = process.hrtime.bigint();
    res.once("close", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const template = route();
      metrics.observeRequest(req.method ?? "", template, res.statusCode, seconds);
      const line = {
        requestId,
        method: req.method,
        path: path(),
        route: template,
        status: res.statusCode,
        ms: Math.round(seconds * 10_000) / 10,
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      if (res.statusCode >= 500) logger.error(line, "request failed");
      else logger.info(line, "request");
    });
    return requestId;
  };
}
