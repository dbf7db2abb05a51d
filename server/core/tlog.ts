/**
 * The log in the C2SP layout (c2sp.org/tlog-tiles, tlog-checkpoint): its origin, the resource
 * paths of its tiles and entry bundles, and the entry bundle encoding. Pure: no I/O; the HTTP
 * adapter (server/http/tlogRoutes.ts) reads the store and serves what this module names.
 */

/** Hashes in a full tile, and leaves in a full entry bundle. */
export const TLOG_TILE_WIDTH = 256;
/** The highest tile level the spec allows in a path. */
export const TLOG_MAX_LEVEL = 63;
/** Longest entry an entry bundle can carry (its length prefix is a uint16). */
export const TLOG_MAX_ENTRY = 0xffff;

/**
 * The origin line of a log's checkpoints, which is also the name of its signing key:
 * `dutyproof/<chainId>/<DutyLedger address>/<logId>`, address and log id lower-case 0x hex.
 * It binds a checkpoint to one log of one contract on one chain.
 */
export function tlogOrigin(chainId: number, contract: string, logId: string): string {
  return `dutyproof/${chainId}/${contract.toLowerCase()}/${logId.toLowerCase()}`;
}

/** A tile or entry bundle named by a request path. */
export interface TileRequest {
  /** "hash": a level-`level` tile of hashes; "entries": an entry bundle (no level). */
  kind: "hash" | "entries";
  level: number;
  index: number;
  /** Hashes (or entries) in the resource: 256 for a full one, 1..255 for a partial one. */
  width: number;
  partial: boolean;
}

/** Path elements `x001/x234/067` of tile index 1234067 (tlog-tiles). */
export function formatTileIndex(index: number): string {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError("a tile index is a non-negative integer");
  const groups: string[] = [];
  let rest = index;
  do {
    groups.unshift((rest % 1000).toString().padStart(3, "0"));
    rest = Math.floor(rest / 1000);
  } while (rest > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join("/");
}

/** The path (below the log's prefix) of a tile or entry bundle. */
export function formatTilePath(request: Omit<TileRequest, "partial">): string {
  const head = request.kind === "entries" ? "tile/entries" : `tile/${request.level}`;
  const tail = request.width < TLOG_TILE_WIDTH ? `.p/${request.width}` : "";
  return `${head}/${formatTileIndex(request.index)}${tail}`;
}

/** At most this many index groups are read: 6 groups reach 10^18, past every safe tile index. */
const MAX_INDEX_GROUPS = 6;

/**
 * Reads a path below the log's prefix (`tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`)
 * exactly as tlog-tiles spells it: no leading zeros in L or W, zero-padded three-digit index
 * groups, all but the last prefixed with "x", and no leading "x000" group (one spelling per
 * index). Null for anything else.
 */
export function parseTilePath(path: string): TileRequest | null {
  const parts = path.split("/");
  if (parts[0] !== "tile" || parts.length < 3) return null;
  let kind: TileRequest["kind"];
  let level = 0;
  if (parts[1] === "entries") kind = "entries";
  else if (/^(0|[1-9][0-9]?)$/.test(parts[1]!) && Number(parts[1]) <= TLOG_MAX_LEVEL) {
    kind = "hash";
    level = Number(parts[1]);
  } else return null;
  let groups = parts.slice(2);
  let width = TLOG_TILE_WIDTH;
  let partial = false;
  const last = groups[groups.length - 1]!;
  if (groups.length >= 2 && /^[0-9]{3}\.p$/.test(groups[groups.length - 2]!)) {
    if (!/^[1-9][0-9]{0,2}$/.test(last) || Number(last) >= TLOG_TILE_WIDTH) return null;
    width = Number(last);
    partial = true;
    groups = [...groups.slice(0, -2), groups[groups.length - 2]!.slice(0, 3)];
  }
  if (groups.length > MAX_INDEX_GROUPS) return null;
  for (const [i, group] of groups.entries()) {
    const pattern = i < groups.length - 1 ? /^x[0-9]{3}$/ : /^[0-9]{3}$/;
    if (!pattern.test(group)) return null;
  }
  if (groups.length > 1 && groups[0] === "x000") return null;
  const index = Number(groups.map((g) => g.replace("x", "")).join(""));
  if (!Number.isSafeInteger(index)) return null;
  return { kind, level, index, width, partial };
}

/**
 * Leaves a tree must hold for the resource to exist: a level-L tile's last hash covers leaves
 * up to (index·256 + width)·256^L. A bigint, as L up to 63 overflows any number.
 */
export function leavesNeeded(request: TileRequest): bigint {
  return (BigInt(request.index) * 256n + BigInt(request.width)) * 256n ** BigInt(request.level);
}

/**
 * An entry bundle: each entry as a big-endian uint16 length and its bytes.
 * Precondition: every entry is at most {@link TLOG_MAX_ENTRY} bytes.
 */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const entry of entries) {
    if (entry.length > TLOG_MAX_ENTRY) throw new RangeError("an entry of a bundle is at most 65,535 bytes");
    length += 2 + entry.length;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const entry of entries) {
    out[at] = entry.length >> 8;
    out[at + 1] = entry.length & 0xff;
    out.set(entry, at + 2);
    at += 2 + entry.length;
  }
  return out;
}

/**
 * The entries of an entry bundle (the inverse of {@link encodeEntryBundle}), or null when the
 * bytes are not a whole number of length-prefixed entries.
 */
export function splitEntryBundle(bundle: Uint8Array): Uint8Array[] | null {
  const entries: Uint8Array[] = [];
  let at = 0;
  while (at < bundle.length) {
    if (at + 2 > bundle.length) return null;
    const length = (bundle[at]! << 8) | bundle[at + 1]!;
    if (at + 2 + length > bundle.length) return null;
    entries.push(bundle.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  return entries;
}
