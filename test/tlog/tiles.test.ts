/**
 * The C2SP tiles and entry bundles the gateway serves, against a from-scratch computation: a
 * real LevelDB store filled directly (the gateway's ingest path would take minutes for 65,539
 * records), checkpoints signed by the real SignedCheckpoints, the real routes on loopback HTTP.
 * Sizes 1, 255, 256, 257 and 65,536 + 3 cover the first leaf, a tile one short of full, a full
 * tile with the first level-1 tile, one past it, and a second level of full tiles.
 */
import { expect } from "chai";
import { createHash, randomBytes } from "node:crypto";
import type { Server } from "node:http";
import { join } from "node:path";
import express from "express";
import { bytesToHex } from "../../server/core/bytes.ts";
import {
  NOTE_COSIGNATURE_V1,
  NOTE_ED25519,
  cosign,
  noteSigner,
  openCheckpoint,
  parseVerifierKey,
} from "../../server/core/note.ts";
import { leafDataOf } from "../../server/core/record.ts";
import type { RecordEnvelope } from "../../server/core/record.ts";
import { hashLeaf } from "../../server/core/merkle/index.ts";
import { formatTileIndex, parseTilePath, tlogOrigin } from "../../server/core/tlog.ts";
import { SignedCheckpoints } from "../../server/gateway/SignedCheckpoints.ts";
import { problemHandler } from "../../server/http/problem.ts";
import { tlogRoutes } from "../../server/http/tlogRoutes.ts";
import { LedgerStore } from "../../server/store/LedgerStore.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";

const sha256 = (...parts: Uint8Array[]) => {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
};
const nodeHash = (left: Uint8Array, right: Uint8Array) => sha256(Uint8Array.of(1), left, right);

/** Every complete node level by level, from the leaf hashes, pairing left to right. */
function levelsOf(leaves: Uint8Array[]): Uint8Array[][] {
  const levels = [leaves];
  while (levels[levels.length - 1]!.length > 1) {
    const below = levels[levels.length - 1]!;
    const above: Uint8Array[] = [];
    for (let i = 0; i + 1 < below.length; i += 2) above.push(nodeHash(below[i]!, below[i + 1]!));
    levels.push(above);
  }
  return levels;
}

/** RFC 9162 MTH by its definition (recursive split at the largest power of two below n). */
function mth(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

const signature = "0x" + "ab".repeat(64) + "1b";
const ORIGIN = tlogOrigin(31337, "0x" + "12".repeat(20), "0x" + "34".repeat(32));

describe("tlog: tiles and entry bundles as C2SP tlog-tiles defines them", function () {
  this.timeout(300_000);
  const dir = tempDir("tlog-tiles");
  let store: LedgerStore;
  let checkpoints: SignedCheckpoints;
  let server: Server;
  let base: string;
  const data: Uint8Array[] = [];
  const leafHashes: Uint8Array[] = [];
  const recordIds: string[] = [];
  const signer = noteSigner(ORIGIN, NOTE_ED25519, new Uint8Array(32).fill(5));
  const signedSizes: number[] = [];

  const grow = async (size: number) => {
    const appends: Array<Promise<unknown>> = [];
    while (data.length < size) {
      const digest = new Uint8Array(randomBytes(32));
      const leaf = leafDataOf(digest, signature);
      data.push(leaf);
      leafHashes.push(hashLeaf(leaf));
      recordIds.push(bytesToHex(digest));
      appends.push(
        store.append({
          recordId: bytesToHex(digest),
          envelope: { unitId: "0x" + "00".repeat(32) } as RecordEnvelope,
          signature,
          signer: "0x" + "00".repeat(20),
          leafHash: leafHashes[leafHashes.length - 1]!,
        }),
      );
    }
    await Promise.all(appends);
    const previous = (await store.listCheckpoints({ reverse: true, limit: 1 }))[0]?.size ?? 0;
    await store.putCheckpoint({
      size,
      root: bytesToHex(await store.rootAt(size)),
      previousSize: previous,
      status: "anchored",
      createdAt: 0,
    });
    await checkpoints.signAnchored();
  };
  const get = (path: string) => fetch(`${base}/tlog/${path}`);
  const bytesOf = async (res: Response) => new Uint8Array(await res.arrayBuffer());

  before(async () => {
    store = new LedgerStore(join(dir.path, "ledger"));
    await store.open();
    checkpoints = new SignedCheckpoints({ store, signer, onSigned: (latest) => signedSizes.push(latest.size) });
    const app = express();
    app.use(tlogRoutes({ store, checkpoints }));
    app.use(problemHandler(() => {}));
    const port = testPort("tlog");
    await new Promise<void>((resolve) => {
      server = app.listen(port, "127.0.0.1", () => resolve());
    });
    base = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await store?.close();
    dir.remove();
  });

  /** Checks every tile and bundle a tree of `size` leaves consists of against the computation. */
  const checkTree = async (size: number) => {
    const levels = levelsOf(leafHashes.slice(0, size));
    const res = await get("checkpoint");
    expect(res.status).to.equal(200);
    expect(res.headers.get("content-type")).to.equal("text/plain; charset=utf-8");
    const { checkpoint } = openCheckpoint(await res.text(), parseVerifierKey(checkpoints.verifierKey), ORIGIN);
    expect(checkpoint.size).to.equal(size);
    expect(bytesToHex(checkpoint.rootHash)).to.equal(bytesToHex(mth(leafHashes.slice(0, size))));
    for (let level = 0; Math.floor(size / 256 ** level) > 0; level++) {
      const hashes = levels[8 * level]!;
      const width = Math.floor(size / 256 ** level);
      const tiles = Math.ceil(width / 256);
      for (let n = 0; n < tiles; n++) {
        const w = Math.min(256, width - n * 256);
        const path = `tile/${level}/${formatTileIndex(n)}${w < 256 ? `.p/${w}` : ""}`;
        const tile = await get(path);
        expect(tile.status, path).to.equal(200);
        expect(tile.headers.get("content-type")).to.equal("application/octet-stream");
        expect(tile.headers.get("cache-control")).to.equal(
          w < 256 ? "public, max-age=60" : "public, max-age=31536000, immutable",
        );
        const expected = Buffer.concat(hashes.slice(n * 256, n * 256 + w));
        expect(Buffer.from(await bytesOf(tile)).equals(expected), path).to.equal(true);
      }
    }
    for (let n = 0; n * 256 < size; n++) {
      const w = Math.min(256, size - n * 256);
      const path = `tile/entries/${formatTileIndex(n)}${w < 256 ? `.p/${w}` : ""}`;
      const bundle = await get(path);
      expect(bundle.status, path).to.equal(200);
      const expected = Buffer.concat(
        data.slice(n * 256, n * 256 + w).map((d) => Buffer.concat([Buffer.from([d.length >> 8, d.length & 255]), d])),
      );
      expect(Buffer.from(await bytesOf(bundle)).equals(expected), path).to.equal(true);
    }
  };

  it("serves no checkpoint and no tile before the first signed checkpoint", async () => {
    expect((await get("checkpoint")).status).to.equal(404);
    const res = await get("tile/0/000.p/1");
    expect(res.status).to.equal(404);
    expect(res.headers.get("content-type")).to.match(/^application\/problem\+json/);
  });

  for (const size of [1, 255, 256, 257, 65_536 + 3]) {
    it(`serves the tiles and bundles of a ${size}-leaf tree byte for byte as computed from scratch`, async () => {
      await grow(size);
      expect(signedSizes[signedSizes.length - 1]).to.equal(size);
      await checkTree(size);
    });
  }

  it("keeps serving the partial tiles of earlier checkpoints, and nothing beyond the signed size", async () => {
    const early = await get("tile/0/000.p/1");
    expect(Buffer.from(await bytesOf(early)).equals(Buffer.from(leafHashes[0]!))).to.equal(true);
    // Leaves appended but not yet in a signed checkpoint stay unserved.
    const signedSize = data.length;
    const appends = [];
    for (let i = 0; i < 300; i++) {
      const digest = new Uint8Array(randomBytes(32));
      const leafHash = hashLeaf(leafDataOf(digest, signature));
      appends.push(
        store.append({
          recordId: bytesToHex(digest),
          envelope: { unitId: "0x" + "00".repeat(32) } as RecordEnvelope,
          signature,
          signer: "0x" + "00".repeat(20),
          leafHash,
        }),
      );
    }
    await Promise.all(appends);
    expect(store.treeSize).to.equal(signedSize + 300);
    const lastFull = Math.floor(signedSize / 256); // 256: tile 256 is partial (3 leaves) at the signed size
    expect((await get(`tile/0/${formatTileIndex(lastFull)}`)).status).to.equal(404);
    expect((await get(`tile/entries/${formatTileIndex(lastFull)}`)).status).to.equal(404);
    expect((await get(`tile/0/${formatTileIndex(lastFull)}.p/4`)).status).to.equal(404);
    expect((await get(`tile/0/${formatTileIndex(lastFull)}.p/3`)).status).to.equal(200);
    expect((await get("tile/2/000.p/2")).status).to.equal(404);
    expect((await get("tile/2/000.p/1")).status).to.equal(200);
  });

  it("answers every malformed path with a 404 problem, never a server error", async () => {
    const bad = [
      "tile/0/0",
      "tile/0/00",
      "tile/0/0000",
      "tile/0/x000/001",
      "tile/0/001/000",
      "tile/0/x1/000",
      "tile/00/000",
      "tile/01/000",
      "tile/64/000",
      "tile/-1/000",
      "tile/0/000.p/0",
      "tile/0/000.p/256",
      "tile/0/000.p/01",
      "tile/0/000.p/",
      "tile/0/000.p",
      "tile/0/000.q/1",
      "tile/0/000/",
      "tile/0/x000",
      "tile/entries/0",
      "tile/entries/000.p/0",
      "tile/entries",
      "tile/entries/",
      "tile/data/000",
      "tile/0/x001/x002/x003/x004/x005/x006/007",
      "tile/63/x999/x999/x999/x999/x999/999",
      "tile/0/%30%30%30",
      "tile//000",
      "tile/0//000",
    ];
    for (const path of bad) {
      const res = await get(path);
      expect(res.status, path).to.equal(404);
      expect(res.headers.get("content-type"), path).to.match(/^application\/problem\+json/);
    }
  });

  it("reads tile paths exactly as tlog-tiles spells them", () => {
    expect(formatTileIndex(1234067)).to.equal("x001/x234/067");
    expect(formatTileIndex(0)).to.equal("000");
    expect(parseTilePath("tile/0/x001/x234/067")).to.deep.equal({
      kind: "hash",
      level: 0,
      index: 1234067,
      width: 256,
      partial: false,
    });
    expect(parseTilePath("tile/entries/x001/x234/067.p/8")).to.deep.equal({
      kind: "entries",
      level: 0,
      index: 1234067,
      width: 8,
      partial: true,
    });
    expect(parseTilePath("tile/63/000.p/255")).to.include({ level: 63, width: 255 });
  });

  it("keeps the entry of an erased record byte for byte", async () => {
    const before = Buffer.from(await bytesOf(await get("tile/entries/000")));
    const stored = (await store.getRecord(recordIds[7]!))!;
    await store.replaceErased({
      ...stored,
      envelope: { unitId: stored.envelope.unitId } as RecordEnvelope,
      erasure: { erasedAt: 1, order: "order-1", fields: ["address"] },
    });
    expect((await store.getRecord(recordIds[7]!))!.erasure).to.not.equal(undefined);
    // A fresh routes object: the first one has the full bundle cached.
    const app = express();
    app.use(tlogRoutes({ store, checkpoints }));
    const port = testPort("tlog");
    const other = await new Promise<Server>((resolve) => {
      const s = app.listen(port, "127.0.0.1", () => resolve(s));
    });
    try {
      const after = Buffer.from(await (await fetch(`http://127.0.0.1:${port}/tlog/tile/entries/000`)).arrayBuffer());
      expect(after.equals(before)).to.equal(true);
      expect(bytesToHex(hashLeaf(new Uint8Array(after.subarray(2 + 7 * 103, 2 + 7 * 103 + 101))))).to.equal(
        bytesToHex(leafHashes[7]!),
      );
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it("adds witnesses' cosignature lines to a stored note, one line per witness key", async () => {
    const latest = checkpoints.latest()!;
    const text = latest.note.slice(0, latest.note.indexOf("\n\n") + 1);
    const witness = noteSigner("audit.example/witness", NOTE_COSIGNATURE_V1, new Uint8Array(32).fill(9));
    await checkpoints.addSignatures(latest.size, [cosign(text, witness, 1_800_000_000)]);
    const updated = await checkpoints.addSignatures(latest.size, [cosign(text, witness, 1_800_000_060)]);
    expect(updated.split("\n\u2014 ").length, "the log's line and one witness line").to.equal(3);
    const served = await (await get("checkpoint")).text();
    expect(served).to.equal(updated);
    const opened = openCheckpoint(served, parseVerifierKey(checkpoints.verifierKey), ORIGIN, [witness]);
    expect(opened.cosignatures.map((c) => c.timestamp)).to.deep.equal([1_800_000_060]);
    expect(await checkpoints.noteAt(latest.size)).to.equal(updated);
    let refused = "";
    await checkpoints.addSignatures(12_345_678, []).catch((e: { code: string }) => (refused = e.code));
    expect(refused).to.equal("proof.not_available");
  });

  it("keeps the signed notes across a reopen of the store and signs only what is anchored", async () => {
    const latest = checkpoints.latest()!;
    await store.close();
    await store.open();
    const reopened = new SignedCheckpoints({ store, signer });
    await reopened.signAnchored();
    expect(reopened.latest()).to.deep.equal(latest);
    // A checkpoint still being sent is not signed.
    await store.putCheckpoint({
      size: store.treeSize,
      root: bytesToHex(await store.rootAt(store.treeSize)),
      previousSize: latest.size,
      status: "sent",
      createdAt: 0,
    });
    await reopened.signAnchored();
    expect(reopened.latest()!.size).to.equal(latest.size);
    expect(await reopened.noteAt(store.treeSize)).to.equal(undefined);
  });
});
