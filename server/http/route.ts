/**
 * What a route of the HTTP API is: declared once, in routes.ts, with its method, path, auth
 * scope, schemas and handler. The dispatcher (dispatch.ts) routes, authenticates, reads bodies
 * and writes errors from these declarations, and openApiDocument.ts describes them.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";

export type Method = "GET" | "POST" | "PATCH";

/** The token scopes a bearer route admits (gateway/AccessTokens.ts issues them). */
export type TokenScope = "unit" | "inspector:<department>" | "auditor" | "operator";

/**
 * Who may call a route.
 * - `public`: anyone.
 * - `bearer`: a token of one of `scopes` ("Authorization: Bearer <token>"); without one, 401.
 *   With `optional`, anyone may call and a token of those scopes sees more.
 * - `operator-signature`: the gateway's operator key signs the request
 *   ("Authorization: DutyproofOperator <signature>"); without one, 401.
 * - `inspector-signature`: the demanding inspector signs it
 *   ("Authorization: DutyproofInspector <signedAt>.<signature>").
 */
export type Auth =
  | { kind: "public" }
  | { kind: "bearer"; scopes: readonly TokenScope[]; optional?: boolean }
  | { kind: "operator-signature" }
  | { kind: "inspector-signature" };

/** The request as a handler sees it: parameters, query and body already checked. */
export interface RequestContext<P = Record<string, string>, Q = Record<string, unknown>, B = unknown> {
  req: IncomingMessage;
  res: ServerResponse;
  params: P;
  query: Q;
  body: B;
  /** The bearer token, when the request carries one. */
  token: string | undefined;
  /** The operator's signature, on `operator-signature` routes. */
  operatorSignature: string | undefined;
  /** The raw Authorization header (inspector signatures are checked against the demand). */
  authorization: string | undefined;
}

/** An answer: JSON (`json`), or text of a type (`text`); a handler that wrote the response returns nothing. */
export interface Reply {
  status?: number;
  json?: unknown;
  text?: string;
  type?: string;
  headers?: Record<string, string>;
}

/** An OpenAPI response of a route: a description and, for 2xx, optionally the schema of its body. */
export interface ResponseDoc {
  description: string;
  /** A JSON schema, or a `#/components/schemas` name. */
  schema?: object | string;
  /** Media type when not application/json. */
  type?: string;
}

// A table holds routes of every parameter type: route() ties each handler to its own schemas.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface Route<P = any, Q = any, B = any> {
  method: Method;
  /** The path, OpenAPI style: `/v1/attestations/{recordId}`; `prefix` routes also take what follows. */
  path: string;
  summary: string;
  auth: Auth;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  /**
   * The JSON body: its limit in bytes, and the schema it is checked against (after auth) or,
   * when the use case checks it itself, the component name of its schema for the document.
   */
  body?: { limitBytes: number; schema?: z.ZodType<B>; ref?: string };
  /** Responses besides the problem statuses listed in `problems`. */
  responses: Record<number, ResponseDoc>;
  /** The problem+json statuses the route answers with. */
  problems?: readonly number[];
  /** The handler reads the request itself (body and all): the chain's JSON-RPC, static files. */
  raw?: boolean;
  /** Matches the path and everything below it (static files). */
  prefix?: boolean;
  /** Not answered by the per-client rate limit (liveness and readiness probes). */
  unlimited?: boolean;
  /** The path holds a secret (a resident's link): log lines and problems name the route's template instead. */
  secretPath?: boolean;
  /**
   * Nothing about the caller is kept: no request log line or metrics (their times could point at
   * a sender) and no per-client rate limit (it keys on the address); the use case limits itself
   * without identifiers. Anonymous tips (server/app/tips.ts).
   */
  anonymous?: boolean;
  handle: (context: RequestContext<P, Q, B>) => Promise<Reply | void> | Reply | void;
}

/** Declares a route with its handler's types taken from its schemas. */
export function route<P = Record<string, string>, Q = Record<string, never>, B = unknown>(
  declared: Route<P, Q, B>,
): Route<P, Q, B> {
  return declared;
}
