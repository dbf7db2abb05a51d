/**
 * What the web console needs from the gateway: its static files (built by
 * scripts/build-console.ts into build/console/, served under a strict Content-Security-Policy),
 * the chain facts its in-browser verifier checks evidence against, and a unit's records for
 * the timeline. Registered by createApp with one line.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import express, { type NextFunction, type Request, type Response } from "express";
import { z } from "zod";
import { DutyproofError } from "../core/errors.ts";
import { ChainUnreachableError, fetchChainFacts } from "../chain/chainFacts.ts";
import type { Receipt } from "../core/verifier.ts";
import { type TrustAnchors, trustFileOf, trustedDeploymentOf } from "../core/trust.ts";
import type { CatalogEntry } from "../catalog/loadCatalog.ts";
import { hash32, parseParameters } from "./parseQuery.ts";
import type { LedgerStore, StoredRecord } from "../store/LedgerStore.ts";

/** Where scripts/build-console.ts writes the bundle. */
export const consoleBuildDir = join(import.meta.dirname, "..", "..", "build", "console");

/**
 * No inline script or style, nothing from another origin: every script, style sheet, font and
 * chart library comes from this gateway. ECharts draws on canvas; downloads are blob: URLs.
 */
export const consoleContentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "font-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export interface ConsoleRoutesOptions {
  store: LedgerStore;
  /** The RPC endpoint chain facts are read from (the gateway's own). */
  rpcUrl: string;
  /** The deployments this gateway's verification trusts; chain facts are read for no other. */
  trust: TrustAnchors;
  /**
   * The duty types of a unit a token reads (undefined: all); throws request.forbidden when
   * it reads none. No records are served when absent.
   */
  readableDutyTypes?: (token: string, unitId: string, dutyTypeId?: string) => Promise<ReadonlySet<string> | undefined>;
  /** The duty types, whose documents say which fields are personal. */
  catalog: () => CatalogEntry[];
  /** Where the built console lives (tests may build elsewhere). */
  buildDir?: string;
}

// Built once, not per request: zod compiles a schema on its first parse.
const chainFactsQuery = z
  .object({
    chainId: z.coerce.number().int().min(1),
    contract: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be an address"),
    logId: hash32,
    treeSize: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    unitId: hash32,
    signedLogId: hash32.optional().describe("a carried-over record's log (its receipt's signedLogId)"),
  })
  .strict();
const unitPath = z.object({ unitId: hash32 });
const unitRecordsQuery = z
  .object({
    dutyTypeId: hash32.optional(),
    from: z.coerce.number().int().optional().describe("performedAt lower bound, Unix seconds"),
    to: z.coerce.number().int().optional().describe("performedAt upper bound (exclusive), Unix seconds"),
    limit: z.coerce.number().int().min(1).max(5000).default(500),
  })
  .strict();

/** Status of a record in a unit's timeline. */
export type TimelineStatus = "pending" | "anchored" | "superseded" | "withdrawn";

/**
 * The envelope without the fields its duty type marks personal; every field when the duty type
 * is unknown (a list errs on the side of showing less). The salt goes too: with the fields
 * gone it opens nothing, and the list is not the evidence.
 */
function withoutPersonalFields(envelope: StoredRecord["envelope"], personal: ReadonlySet<string> | undefined) {
  const shown: Partial<StoredRecord["envelope"]> = { ...envelope };
  delete shown.salt;
  shown.fields = Object.fromEntries(Object.entries(envelope.fields).filter(([name]) => personal?.has(name) === false));
  return shown;
}

export function consoleRoutes(options: ConsoleRoutesOptions): express.Router {
  const router = express.Router();
  const buildDir = options.buildDir ?? consoleBuildDir;

  router.get("/", (_req, res) => res.redirect(302, "/console/"));

  const securityHeaders = (_req: Request, res: Response, next: NextFunction) => {
    res.set({
      "content-security-policy": consoleContentSecurityPolicy,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "cross-origin-opener-policy": "same-origin",
      "cache-control": "no-cache",
    });
    next();
  };
  router.use("/console", securityHeaders, (req, _res, next) => {
    if (!existsSync(join(buildDir, "index.html"))) {
      next(
        new DutyproofError(
          "request.not_found",
          "the web console is not built: npm start builds it (or node scripts/build-console.ts)",
        ),
      );
      return;
    }
    next();
  });
  router.use("/console", express.static(buildDir, { index: "index.html", redirect: true, fallthrough: true }));

  /**
   * The facts the chain states about a receipt, read through the gateway's RPC endpoint so that
   * a browser on an isolated network needs no route to the chain. The record itself never comes
   * here: the browser verifies it with the same core verifier as the CLI.
   */
  router.get("/v1/chain-facts", async (req, res) => {
    const query = parseParameters(chainFactsQuery, req.query, "query.");
    if (!trustedDeploymentOf(options.trust, query.chainId, query.contract, query.logId))
      throw new DutyproofError(
        "receipt.untrusted_deployment",
        "this gateway does not trust that chain, contract and log (see /v1/trust)",
      );
    try {
      res.json(await fetchChainFacts(options.rpcUrl, query as unknown as Receipt, options.trust));
    } catch (error) {
      if (error instanceof ChainUnreachableError)
        throw new DutyproofError("chain.unreachable", "the chain node does not answer");
      throw error;
    }
  });

  /**
   * The deployments this gateway trusts, as a trust file (docs/protocol.md, "Trust files"): what
   * the console verifies against, and what an operator hands to inspectors.
   */
  router.get("/v1/trust", (_req, res) => {
    res.json(trustFileOf(options.trust));
  });

  /** A unit's records, newest first, with their status: for the unit and authorised inspectors. */
  router.get("/v1/units/:unitId/records", async (req, res) => {
    const { unitId } = parseParameters(unitPath, req.params, "path.");
    const query = parseParameters(unitRecordsQuery, req.query, "query.");
    const token = req.get("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) throw new DutyproofError("request.unauthorized", "a unit's records need a bearer token");
    if (!options.readableDutyTypes)
      throw new DutyproofError("request.forbidden", "this token cannot read that unit's records");
    const readable = await options.readableDutyTypes(token, unitId, query.dutyTypeId);

    // A scan of the log, as the export does: fine at county scale until records are indexed by unit.
    const { store } = options;
    const mine: StoredRecord[] = [];
    const amendedBy = new Map<string, { recordId: string; kind: "correction" | "withdrawal" }>();
    for (let from = 0; from < store.treeSize; from += 2000) {
      for (const { record } of await store.recordsFrom(from, 2000)) {
        if (record.envelope.unitId !== unitId) continue;
        const amends = record.envelope.amends;
        if (amends) amendedBy.set(amends.recordId, { recordId: record.recordId, kind: amends.kind });
        const e = record.envelope;
        if (query.dutyTypeId && e.dutyTypeId !== query.dutyTypeId) continue;
        if (readable && !readable.has(e.dutyTypeId)) continue;
        if (
          (query.from !== undefined && e.performedAt < query.from) ||
          (query.to !== undefined && e.performedAt >= query.to)
        )
          continue;
        mine.push(record);
      }
    }
    const anchoredSize = (await store.listCheckpoints({ reverse: true, limit: 50 })).find(
      (c) => c.status === "anchored",
    )?.size;
    mine.sort((a, b) => b.envelope.performedAt - a.envelope.performedAt || b.leafIndex - a.leafIndex);
    // A list shows no personal field (README, "Console"): the record itself
    // (GET /v1/attestations/{recordId}) carries them, for the reader entitled to it.
    const personal = new Map(
      options.catalog().map((e) => [e.id, new Set(e.document.fields.filter((f) => f.personal).map((f) => f.name))]),
    );
    const records = mine.slice(0, query.limit).map((r) => {
      const link = amendedBy.get(r.recordId);
      const anchored = anchoredSize !== undefined && r.leafIndex < anchoredSize;
      const status: TimelineStatus = link
        ? link.kind === "correction"
          ? "superseded"
          : "withdrawn"
        : anchored
          ? "anchored"
          : "pending";
      return {
        recordId: r.recordId,
        leafIndex: r.leafIndex,
        leafHash: r.leafHash,
        envelope: withoutPersonalFields(r.envelope, personal.get(r.envelope.dutyTypeId)),
        signature: r.signature,
        signer: r.signer,
        acceptedAt: Math.floor(r.receivedAt / 1000),
        anchored,
        status,
        ...(link ? { amendedBy: link.recordId } : {}),
      };
    });
    res.json({ unitId, total: mine.length, records });
  });

  return router;
}
