/**
 * The log served in the C2SP layout (c2sp.org/tlog-tiles), public and without authentication:
 *
 * - `GET /tlog/checkpoint`: the latest signed checkpoint, with the witnesses' cosignatures;
 * - `GET /tlog/tile/<L>/<N>[.p/<W>]`: hashes of level-L tiles (row 0 of the store's tiles);
 * - `GET /tlog/tile/entries/<N>[.p/<W>]`: entry bundles of the leaf data (`DPL1…`, `DPD1…`, `DPR1…`).
 *
 * Nothing beyond the latest signed checkpoint's size is served, so a client never sees a tree
 * no checkpoint commits to. Paths are read strictly (server/core/tlog.ts); any other path is a
 * 404 problem. A request reads one tile's or one bundle's worth of the store (at most 256
 * hashes or entries); full resources never change, so they are cached here and by clients.
 */
import type { ServerResponse } from "node:http";
import { hexToBytes } from "../core/bytes.ts";
import { leafDataOf } from "../core/record.ts";
import { demandLeafDataOf } from "../core/demand.ts";
import { confirmationLeafDataOf } from "../core/confirmation.ts";
import { DutyproofError } from "../core/errors.ts";
import { TLOG_TILE_WIDTH, type TileRequest, encodeEntryBundle, leavesNeeded, parseTilePath } from "../core/tlog.ts";
import type { LedgerStore, StoredEntry, StoredRecord } from "../store/LedgerStore.ts";
import { requestLeafDataOf } from "../core/request.ts";
import { tipLeafDataOf } from "../core/tip.ts";
import type { SignedCheckpoints } from "../gateway/SignedCheckpoints.ts";
import { type Route, route } from "./route.ts";

export interface TlogRouteOptions {
  store: LedgerStore;
  checkpoints: SignedCheckpoints;
}

const IMMUTABLE = "public, max-age=31536000, immutable";
// A partial resource is a prefix of a full one and never changes either, but the spec lets a
// log drop it once the full one exists, so clients are told to come back for the full one.
const SHORT_LIVED = "public, max-age=60";
/** Full tiles and bundles kept in memory: about 9 MB at most (bundles of 256 entries of ~135 bytes). */
const CACHED_RESOURCES = 256;

/** The bytes a log entry holds: the data whose RFC 9162 leaf hash is the log's leaf. */
export function leafDataOfStored(item: {
  record?: StoredRecord | undefined;
  entry?: StoredEntry | undefined;
}): Uint8Array {
  if (item.record) {
    // An erased record keeps its id (the digest the unit signed) and signature: its entry stays.
    return leafDataOf(hexToBytes(item.record.recordId), item.record.signature);
  }
  const entry = item.entry!;
  if (entry.kind === "confirmation")
    return confirmationLeafDataOf(hexToBytes(entry.value.recordId), hexToBytes(entry.entryId));
  if (entry.kind === "tip") return tipLeafDataOf(entry.value.body.type, hexToBytes(entry.entryId));
  const value = entry.value;
  if (entry.kind === "request") {
    return requestLeafDataOf(hexToBytes(entry.entryId), value.signature, hexToBytes(value.outcomeDigest));
  }
  return demandLeafDataOf(hexToBytes(entry.entryId), value.signature, hexToBytes(value.outcomeDigest));
}

/** A least-recently-used map of full resources by path. */
class ResourceCache {
  private readonly entries = new Map<string, Uint8Array>();
  get(key: string): Uint8Array | undefined {
    const value = this.entries.get(key);
    if (value) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }
  set(key: string, value: Uint8Array): void {
    this.entries.set(key, value);
    if (this.entries.size > CACHED_RESOURCES) this.entries.delete(this.entries.keys().next().value!);
  }
}

function notFound(path: string, why: string): DutyproofError {
  return new DutyproofError("request.not_found", `no log resource ${path}: ${why}`);
}

export function tlogRoutes(options: TlogRouteOptions): Route[] {
  const { store, checkpoints } = options;
  const cache = new ResourceCache();

  const hashTile = async (request: TileRequest): Promise<Uint8Array> => {
    return store.tileRow(request.level, request.index, request.width);
  };

  const entryBundle = async (request: TileRequest): Promise<Uint8Array> => {
    const first = request.index * TLOG_TILE_WIDTH;
    const items = await store.entriesFrom(first, request.width);
    if (items.length !== request.width || items.some((item, i) => item.position !== first + i)) {
      throw new Error(`the store lacks log entries in [${first}, ${first + request.width})`);
    }
    return encodeEntryBundle(items.map(leafDataOfStored));
  };

  const send = (res: ServerResponse, cacheControl: string, type: string, body: Uint8Array) => {
    res.writeHead(200, { "content-type": type, "cache-control": cacheControl, "content-length": body.byteLength });
    res.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  };
  const octets = (description: string) => ({ description, type: "application/octet-stream" });

  return [
    route({
      method: "GET",
      path: "/tlog/checkpoint",
      summary:
        "The latest signed checkpoint (c2sp.org/tlog-checkpoint) with the witnesses' cosignatures; signed once anchored on chain",
      auth: { kind: "public" },
      responses: { 200: { description: "a signed note", type: "text/plain; charset=utf-8" } },
      problems: [404],
      handle: () => {
        const latest = checkpoints.latest();
        if (!latest) throw new DutyproofError("request.not_found", "no checkpoint has been anchored and signed yet");
        return { text: latest.note, type: "text/plain; charset=utf-8", headers: { "cache-control": "no-store" } };
      },
    }),
    route({
      method: "GET",
      path: "/tlog/tile",
      summary:
        "Tiles of hashes /tlog/tile/<L>/<N>[.p/<W>] and entry bundles /tlog/tile/entries/<N>[.p/<W>] (c2sp.org/tlog-tiles; N in three-digit groups, x001/x234/067), up to the signed size only; full ones are immutable",
      auth: { kind: "public" },
      prefix: true,
      responses: { 200: octets("a tile (W × 32-byte hashes) or an entry bundle (uint16-length-prefixed entries)") },
      problems: [404],
      handle: async ({ req, res }) => {
        const full = (req.url ?? "").split("?")[0]!;
        const path = full.slice("/tlog/".length);
        const request = parseTilePath(path);
        if (!request) throw notFound(full, "not a tile or entry bundle path (c2sp.org/tlog-tiles)");
        if (leavesNeeded(request) > BigInt(checkpoints.signedSize)) {
          throw notFound(full, `beyond the latest signed checkpoint (size ${checkpoints.signedSize})`);
        }
        let body = request.partial ? undefined : cache.get(path);
        if (!body) {
          body = request.kind === "entries" ? await entryBundle(request) : await hashTile(request);
          if (!request.partial) cache.set(path, body);
        }
        send(res, request.partial ? SHORT_LIVED : IMMUTABLE, "application/octet-stream", body);
      },
    }),
  ];
}
