/**
 * The one dispatcher of the HTTP API, on Node's HTTP server: it routes a request to its entry in
 * the route table, gives it its request id (request log line, metrics), spends the client's
 * rate-limit token, reads and checks its body, parameters and query, checks its credentials
 * against the route's auth scope, runs the handler and writes its answer, or the problem+json
 * of whatever it threw (docs/architecture.md, "HTTP").
 *
 * Paths match case-insensitively, with one optional trailing slash, a path parameter
 * percent-decoded (400 when it cannot be). The query string is read as node:querystring reads
 * it: the first 1,000 pairs, a repeated key as an array, which the schemas then refuse. HEAD is
 * GET without the body. Anything else is answered 404 "no route".
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { Clock } from "../core/clock.ts";
import { DutyproofError } from "../core/errors.ts";
import type { RateLimiter } from "../core/rateLimit.ts";
import type { RequestObserver } from "../observability/httpObservability.ts";
import { readJsonBody } from "./bodyLimit.ts";
import { parseParameters } from "./parseQuery.ts";
import { writeBody, writeProblem } from "./problem.ts";
import type { Route } from "./route.ts";

export interface DispatchOptions {
  /** Request ids, request log lines and metrics. */
  observe?: RequestObserver | undefined;
  /** Per-client (remote address) request limit; none when absent. */
  clientLimiter?: RateLimiter | undefined;
  /** The rate limiter's clock. */
  clock: Clock;
  log?: ((message: string) => void) | undefined;
}

/** querystring.parse's default `maxKeys`: it reads no further than this many `&`-separated pairs. */
const MAX_PAIRS = 1000;

/**
 * The query string as node:querystring gives it: a null-prototype object, one string per key,
 * an array of strings for a key given more than once.
 */
export function queryOf(search: string): Record<string, string | string[]> {
  let end = -1;
  for (let pairs = 0; pairs < MAX_PAIRS && end < search.length; pairs++) {
    end = search.indexOf("&", end + 1);
    if (end === -1) end = search.length;
  }
  const query: Record<string, string | string[]> = Object.create(null);
  for (const [key, value] of new URLSearchParams(end < search.length ? search.slice(0, end) : search)) {
    const earlier = query[key];
    if (earlier === undefined) query[key] = value;
    else if (typeof earlier === "string") query[key] = [earlier, value];
    else earlier.push(value);
  }
  return query;
}

/** A path parameter percent-decoded; a 400 problem when it is not valid. */
function decodeParameter(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new DutyproofError("request.unreadable", "the request could not be read (encoding, length or path)");
  }
}

/**
 * Path and query string of a request target: without a fragment, and an absolute-form target
 * (`GET http://host/path`) reduced to its path.
 */
function targetOf(url: string): { path: string; search: string } | undefined {
  const hash = url.indexOf("#");
  if (hash !== -1) url = url.slice(0, hash);
  if (url.charCodeAt(0) !== 0x2f /* "/" */) {
    if (!URL.canParse(url)) return undefined;
    const absolute = new URL(url);
    return { path: absolute.pathname, search: absolute.search.slice(1) };
  }
  const question = url.indexOf("?");
  return question === -1
    ? { path: url, search: "" }
    : { path: url.slice(0, question), search: url.slice(question + 1) };
}

const noCache = /(?:^|,)\s*?no-cache\s*?(?:,|$)/;

/**
 * Whether a 2xx answer is "not modified": answers carry no ETag or Last-Modified, so only
 * `If-None-Match: *` (some representation exists, RFC 9110 §13.1.2) without Cache-Control
 * no-cache makes it so.
 */
function notModified(req: IncomingMessage): boolean {
  return req.headers["if-none-match"] === "*" && !noCache.test(req.headers["cache-control"] ?? "");
}

/** The route's template in log lines and metrics: `/v1/attestations/:recordId`. */
export const templateOf = (path: string): string => path.replace(/\{([^}]+)\}/g, ":$1");

interface CompiledRoute {
  route: Route;
  template: string;
  pattern: RegExp;
  names: string[];
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const name = /^\{([^}]+)\}$/.exec(part)?.[1];
      if (name === undefined) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      names.push(name);
      return "([^/]+)";
    })
    .join("");
  const tail = route.prefix ? "(?:/.*)?$" : "/?$";
  return {
    route,
    template: templateOf(route.path),
    pattern: new RegExp(`^${source.replace(/\/$/, "")}${tail}`, "i"),
    names,
  };
}

/** The bearer token of a request: the one parser of the Authorization header's Bearer scheme. */
export function bearerToken(req: IncomingMessage): string | undefined {
  return req.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
}

const bearerMissing = (route: Route) =>
  new DutyproofError(
    "request.unauthorized",
    `${route.method} ${route.path} needs a bearer token (${route.auth.kind === "bearer" ? route.auth.scopes.join(", ") : ""})`,
  );

/** A request listener serving `routes`; a path none of them matches is answered 404 "no route". */
export function dispatcher(routes: readonly Route[], options: DispatchOptions): RequestListener {
  const compiled = routes.map(compile);
  const byMethod = new Map<string, CompiledRoute[]>();
  for (const c of compiled) byMethod.set(c.route.method, [...(byMethod.get(c.route.method) ?? []), c]);

  const answer = async (
    req: IncomingMessage,
    res: ServerResponse,
    found: CompiledRoute,
    match: RegExpExecArray,
    search: string,
  ) => {
    const { route } = found;
    if (route.raw) {
      await route.handle({
        req,
        res,
        params: {},
        query: {},
        body: undefined,
        token: undefined,
        operatorSignature: undefined,
        authorization: req.headers.authorization,
      });
      return;
    }
    let body: unknown = route.body ? await readJsonBody(req, route.body.limitBytes) : undefined;
    const raw = Object.fromEntries(found.names.map((name, i) => [name, decodeParameter(match[i + 1]!)]));
    const params = route.params ? parseParameters(route.params, raw, "path.") : raw;
    const query = route.query ? parseParameters(route.query, queryOf(search), "query.") : {};
    const token = bearerToken(req);
    let operatorSignature: string | undefined;
    if (route.auth.kind === "bearer" && !route.auth.optional && !token) throw bearerMissing(route);
    if (route.auth.kind === "operator-signature") {
      operatorSignature = req.headers.authorization?.match(/^DutyproofOperator\s+(0x[0-9a-fA-F]{130})$/)?.[1];
      if (!operatorSignature)
        throw new DutyproofError("request.unauthorized", 'send "Authorization: DutyproofOperator <signature>"');
    }
    if (route.body?.schema) body = parseParameters(route.body.schema, body, "", "field");
    const reply = await route.handle({
      req,
      res,
      params,
      query,
      body,
      token,
      operatorSignature,
      authorization: req.headers.authorization,
    });
    if (!reply || res.headersSent) return;
    const status = reply.status ?? 200;
    for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
    if (status >= 200 && status < 300 && req.method !== "POST" && req.method !== "PATCH" && notModified(req)) {
      res.writeHead(304);
      res.end();
    } else if (reply.text !== undefined) writeBody(res, status, reply.text, reply.type ?? "text/plain; charset=utf-8");
    else writeBody(res, status, JSON.stringify(reply.json));
  };

  return (req, res) => {
    const url = req.url ?? "";
    const target = targetOf(url);
    const method = req.method === "HEAD" ? "GET" : (req.method ?? "");
    let found: CompiledRoute | undefined;
    let match: RegExpExecArray | null = null;
    if (target) {
      for (const candidate of byMethod.get(method) ?? []) {
        match = candidate.pattern.exec(target.path);
        if (match) {
          found = candidate;
          break;
        }
      }
    }
    // A request refused before its route ran (rate limit, undecodable path) counts as "unmatched".
    let routed = false;
    const anonymous = found?.route.anonymous === true;
    const requestId = (anonymous ? undefined : options.observe)?.(
      req,
      res,
      () => (routed && found ? found.template : "unmatched"),
      () => (found?.route.secretPath ? found.template : (target?.path ?? url)),
    );
    const run = async () => {
      const limiter = options.clientLimiter;
      if (limiter?.enabled && !found?.route.unlimited && !anonymous) {
        // The socket's address: a forwarded-for header is the client's own claim.
        const decision = limiter.take(req.socket.remoteAddress ?? "unknown", options.clock.now());
        if (!decision.allowed) {
          req.resume();
          throw new DutyproofError("request.rate_limited", "too many requests from this client", {
            retryAfter: decision.retryAfterSeconds,
          });
        }
      }
      if (!found || !match || !target) {
        req.resume();
        throw new DutyproofError("request.not_found", `no route ${req.method} ${target?.path ?? url}`);
      }
      routed = true;
      await answer(req, res, found, match, target.search);
    };
    run().catch((error: unknown) =>
      writeProblem(res, error, {
        method: req.method ?? "",
        url: found?.route.secretPath ? found.template : url,
        requestId,
        log: options.log,
      }),
    );
  };
}
