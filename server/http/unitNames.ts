/**
 * GET /v1/unit-names: the operator's unit directory, public and read-only, so the console shows
 * units by name. Unit names are those of public offices (村委会, 乡镇), never of people, and each
 * id is a hash of its name that anyone could compute; the directory adds no reading right.
 * Served on Node's HTTP server in front of the other routes, as readPath.ts serves its own.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { UnitName } from "../core/unitDirectory.ts";
import { type NodeRouteOptions, serveOnNode, writeBody } from "./serveOnNode.ts";

export interface UnitNamesOptions extends NodeRouteOptions {
  /** The directory's units with their ids (server/catalog/UnitDirectory.ts). */
  units: () => UnitName[];
}

/** The route's path, as /openapi.json and the route table name it. */
export const unitNamesPath = "/v1/unit-names";

/** Returns a handler that answers GET and HEAD /v1/unit-names and returns false for any other request. */
export function unitNamesHandler(options: UnitNamesOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const path = (req.url ?? "").split("?")[0]!.replace(/\/$/, "").toLowerCase();
    if (path !== unitNamesPath || (req.method !== "GET" && req.method !== "HEAD")) return false;
    serveOnNode(
      options,
      req,
      res,
      () => unitNamesPath,
      () => unitNamesPath,
      async () => {
        // For HEAD, Node sends the headers only.
        writeBody(res, 200, JSON.stringify({ units: options.units() }));
      },
    );
    return true;
  };
}
