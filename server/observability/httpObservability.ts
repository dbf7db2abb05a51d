/**
 * The one place where logging, metrics and request ids hook into the HTTP API: a router mounted
 * first. Every request gets an id (the caller's X-Request-Id when it is a plain token, else a new
 * UUID), echoed in the X-Request-Id header and, through res.locals, in problem+json bodies; when
 * the response is done, one log line (id, method, path, route, status, time) and the metrics.
 * Query strings and bodies are never logged: they carry record contents and tokens.
 */
import { randomUUID } from "node:crypto";
import { type Request, type Response, Router } from "express";
import type { Logger } from "./logger.ts";
import type { GatewayMetrics } from "./metrics.ts";

const acceptableId = /^[A-Za-z0-9._:-]{1,128}$/;

/** The route template that answered (`/v1/attestations/:recordId`), or "unmatched". */
function routeOf(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === "string" ? req.baseUrl + path : "unmatched";
}

export function httpObservability(options: {
  logger: Logger;
  metrics: GatewayMetrics;
  /** True while the gateway drains for shutdown: clients are told to close their connections. */
  draining: () => boolean;
}): Router {
  const { logger, metrics } = options;
  const router = Router();
  router.use((req: Request, res: Response, next) => {
    const given = req.get("x-request-id");
    const requestId = given && acceptableId.test(given) ? given : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader("X-Request-Id", requestId);
    if (options.draining()) res.setHeader("Connection", "close");
    const started = process.hrtime.bigint();
    res.once("close", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeOf(req);
      metrics.observeRequest(req.method, route, res.statusCode, seconds);
      const line = {
        requestId,
        method: req.method,
        path: req.path,
        route,
        status: res.statusCode,
        ms: Math.round(seconds * 10_000) / 10,
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      if (res.statusCode >= 500) logger.error(line, "request failed");
      else logger.info(line, "request");
    });
    next();
  });
  router.get("/metrics", async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.render());
  });
  return router;
}
