/**
 * The public listener: the routes residents reach from the Internet (confirmation links; other
 * resident-facing features add theirs to the same list), and nothing else of the API, on a port
 * of their own with a per-address rate limit of their own (docs/operations.md, "Resident
 * confirmations"). Any other path is the dispatcher's 404 "no route".
 */
import type { RequestListener } from "node:http";
import { type DispatchOptions, dispatcher } from "./dispatch.ts";
import type { Route } from "./route.ts";

/** A listener serving exactly `routes`. Precondition: every route is `public` auth. */
export function publicRequestListener(routes: readonly Route[], options: DispatchOptions): RequestListener {
  const guarded = routes.filter((r) => r.auth.kind === "public");
  if (guarded.length !== routes.length) throw new Error("the public listener serves public routes only");
  return dispatcher(guarded, options);
}
