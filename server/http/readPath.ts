/**
 * The public read routes: inclusion and consistency proofs, the latest anchored checkpoint and
 * receipts, served on Node's HTTP server directly, in front of the Express app, as ingest.ts
 * serves the ingest routes.
 *
 * Why: these routes are the proof service, and Express's per-request machinery (router, request
 * and response decoration, res.json) was the largest share of the gateway's busy time when
 * serving inclusion proofs of a large log (`npm run bench:http-path` measures Express 5 against
 * node:http; docs/operations.md "Read path").
 *
 * The answers are the replaced Express routes' own. Paths match as Express matched them: case
 * aside, with one optional trailing slash, a path parameter percent-decoded (400 when it cannot
 * be). The query string is read as Express's "simple" parser (node:querystring) reads it: the
 * first 1,000 pairs, a repeated key as an array, which the schemas then refuse. Same zod schemas,
 * bodies and problem+json errors; HEAD is GET without the body. Any other request goes on to
 * Express, which answers a path it does not know with its 404 problem.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { bytesToHex } from "../core/bytes.ts";
import { DutyproofError } from "../core/errors.ts";
import type { Deployment } from "../chain/deployment.ts";
import { leafReceipt, recordReceipt } from "../gateway/evidenceAssembler.ts";
import { publicCheckpoint } from "../gateway/receipts.ts";
import type { LedgerStore } from "../store/LedgerStore.ts";
import { hash32, parseQuery } from "./parseQuery.ts";
import { type NodeRouteOptions, serveOnNode, writeBody } from "./serveOnNode.ts";

export interface ReadPathOptions extends NodeRouteOptions {
  store: LedgerStore;
  deployment: Deployment;
}

const size = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const inclusionQuery = z.object({ leafHash: hash32, treeSize: size }).strict();
const consistencyQuery = z.object({ from: size, to: size }).strict();

/** querystring.parse's default `maxKeys`: it reads no further than this many `&`-separated pairs. */
const MAX_PAIRS = 1000;

/**
 * The query string as Express's "simple" parser (querystring.parse) gives it: a null-prototype
 * object, one string per key, an array of strings for a key given more than once.
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

/** A path parameter percent-decoded, as Express decodes it; a 400 problem when it is not valid. */
function decodeParameter(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new DutyproofError("request.unreadable", "the request could not be read (encoding, length or path)");
  }
}

/**
 * Path and query string of a request target as Express reads them (parseurl): without a
 * fragment, and an absolute-form target (`GET http://host/path`) reduced to its path.
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

interface ReadRoute {
  /** The route in log lines and metrics, as Express named it. */
  template: string;
  /** Case-insensitive, one optional trailing slash, a group per path parameter (raw). */
  pattern: RegExp;
  /** The status and JSON body of the answer; throws a DutyproofError for a problem. */
  answer: (parameters: string[], search: string) => Promise<[status: number, body: unknown]>;
}

const noCache = /(?:^|,)\s*?no-cache\s*?(?:,|$)/;

/**
 * Whether Express would have answered 304: these answers carry no ETag or Last-Modified, so only
 * `If-None-Match: *` (some representation exists, RFC 9110 §13.1.2) without Cache-Control
 * no-cache makes a 2xx answer "not modified".
 */
function notModified(req: IncomingMessage): boolean {
  return req.headers["if-none-match"] === "*" && !noCache.test(req.headers["cache-control"] ?? "");
}

/**
 * A request listener for the public read routes, GET and HEAD. Returns false, touching nothing,
 * for any other request, which then goes to the Express app.
 */
export function readPathHandler(options: ReadPathOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { store, deployment } = options;
  /**
   * The receipt of a record by its record id (the holder's secret: the full receipt), or of a
   * leaf by its leaf hash (public: whether and when it was anchored, with its proof, nothing
   * about the record).
   */
  const receiptByHash = async ([parameter]: string[]): Promise<[number, unknown]> => {
    const hash = parseQuery(hash32, parameter);
    const record = await store.getRecord(hash);
    if (!record) {
      const index = await store.leafIndexOf(hash);
      if (index === undefined || (await store.recordIdAt(index)) === undefined)
        throw new DutyproofError("record.not_found", `no record or leaf ${hash}`);
      return leafReceipt({ store, deployment }, hash, index);
    }
    return recordReceipt({ store, deployment }, record);
  };

  const routes: ReadRoute[] = [
    {
      template: "/v1/proofs/inclusion",
      pattern: /^\/v1\/proofs\/inclusion\/?$/i,
      answer: async (_parameters, search) => {
        const query = parseQuery(inclusionQuery, queryOf(search));
        const index = await store.leafIndexOf(query.leafHash);
        if (index === undefined || index >= query.treeSize || query.treeSize > store.treeSize) {
          throw new DutyproofError("proof.not_available", "no such leaf below that tree size");
        }
        const proof = (await store.inclusionProof(index, query.treeSize)).map(bytesToHex);
        return [200, { leafHash: query.leafHash, leafIndex: index, treeSize: query.treeSize, proof }];
      },
    },
    {
      template: "/v1/proofs/consistency",
      pattern: /^\/v1\/proofs\/consistency\/?$/i,
      answer: async (_parameters, search) => {
        const query = parseQuery(consistencyQuery, queryOf(search));
        if (query.from > query.to || query.to > store.treeSize) {
          throw new DutyproofError("proof.not_available", "sizes must satisfy 1 <= from <= to <= log size");
        }
        const proof = (await store.consistencyProof(query.from, query.to)).map(bytesToHex);
        return [200, { from: query.from, to: query.to, proof }];
      },
    },
    {
      template: "/v1/checkpoints/latest",
      pattern: /^\/v1\/checkpoints\/latest\/?$/i,
      answer: async () => {
        const [latest] = (await store.listCheckpoints({ reverse: true, limit: 20 })).filter(
          (c) => c.status === "anchored",
        );
        if (!latest) throw new DutyproofError("request.not_found", "no checkpoint has been anchored yet");
        return [200, publicCheckpoint(latest, deployment)];
      },
    },
    {
      template: "/v1/attestations/:hash/receipt",
      pattern: /^\/v1\/attestations\/([^/]+)\/receipt\/?$/i,
      answer: receiptByHash,
    },
    // A bare hash is enough to ask; a leaf hash learns only where the leaf was anchored.
    { template: "/v1/receipts/:hash", pattern: /^\/v1\/receipts\/([^/]+)\/?$/i, answer: receiptByHash },
  ];

  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const target = targetOf(req.url ?? "");
    if (!target) return false;
    for (const route of routes) {
      const match = route.pattern.exec(target.path);
      if (!match) continue;
      // As in Express, a request refused before its route ran (rate limit, undecodable path)
      // counts as "unmatched" in the log line and metrics.
      let routed = false;
      serveOnNode(
        options,
        req,
        res,
        () => (routed ? route.template : "unmatched"),
        () => target.path,
        async () => {
          const parameters = match.slice(1).map(decodeParameter);
          routed = true;
          const [status, body] = await route.answer(parameters, target.search);
          if (notModified(req)) {
            res.writeHead(304);
            res.end();
          } else writeBody(res, status, JSON.stringify(body));
        },
      );
      return true;
    }
    return false;
  };
}
