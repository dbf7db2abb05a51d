/**
 * A log served the C2SP way from memory, for the monitor's tests: a signed checkpoint, level-0
 * hash tiles and entry bundles over real HTTP on loopback, and `/v1/info` naming its origin and
 * key. Written from the tlog-tiles spec, not from the gateway's code, and with hooks that let a
 * test play a dishonest log (serve altered bundles, re-sign another tree, swap its key).
 */
import { type Server, createServer } from "node:http";
import { MemoryTree } from "../../server/core/merkle/index.ts";
import {
  NOTE_COSIGNATURE_V1,
  NOTE_ED25519,
  type NoteSigner,
  cosign,
  formatCheckpoint,
  formatVerifierKey,
  noteSigner,
  parseNote,
  formatNote,
  signNote,
} from "../../server/core/note.ts";
import { LEAF_MAGIC } from "../../server/core/record.ts";

export const CHAIN_ID = 31337;
export const CONTRACT = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
export const LOG_ID = "0x" + "33".repeat(32);
export const ORIGIN = `dutyproof/${CHAIN_ID}/${CONTRACT}/${LOG_ID}`;

/** A DPL1 leaf, distinct for each n. */
export function recordLeaf(n: number): Uint8Array {
  const data = new Uint8Array(101);
  data.set(LEAF_MAGIC, 0);
  new DataView(data.buffer).setUint32(4, n);
  data[100] = 27;
  return data;
}

export class StaticLog {
  readonly origin: string;
  signer: NoteSigner;
  readonly witnesses: NoteSigner[];
  /** The tree the checkpoint and the hash tiles are of. */
  tree = new MemoryTree();
  /** The entries behind `tree`. */
  entries: Uint8Array[] = [];
  /** The entries served in bundles; by default the true ones. A test alters this to lie. */
  served: Uint8Array[] | null = null;
  /** Witnesses that cosign the next checkpoints (all by default). */
  cosigning: NoteSigner[];
  /** When set, the log serves no checkpoint (404), as a log that has signed none yet. */
  withoutCheckpoint = false;
  /** Requests for bundles and tiles, by path, so a test can see what a monitor read. */
  readonly requests: string[] = [];
  private server: Server | undefined;

  constructor(origin = ORIGIN, witnessCount = 0) {
    this.origin = origin;
    this.signer = noteSigner(origin, NOTE_ED25519, new Uint8Array(32).fill(7));
    this.witnesses = Array.from({ length: witnessCount }, (_, i) =>
      noteSigner(`witness-${i}.example`, NOTE_COSIGNATURE_V1, new Uint8Array(32).fill(20 + i)),
    );
    this.cosigning = [...this.witnesses];
  }

  /** Appends leaves n = from … from + count − 1. */
  append(count: number, from = this.entries.length): void {
    for (let i = 0; i < count; i++) {
      const leaf = recordLeaf(from + i);
      this.entries.push(leaf);
      this.tree.appendLeafData(leaf);
    }
  }

  /** Replaces the log's whole content (a dishonest log rewriting its history). */
  rewrite(entries: Uint8Array[]): void {
    this.entries = entries;
    this.tree = new MemoryTree();
    for (const e of entries) this.tree.appendLeafData(e);
  }

  checkpointNote(): string {
    const text = formatCheckpoint({
      origin: this.origin,
      size: this.tree.size,
      rootHash: this.tree.root(),
      extensions: [],
    });
    const note = parseNote(signNote(text, this.signer));
    note.signatures.push(...this.cosigning.map((w) => cosign(text, w, 1_790_000_000)));
    return formatNote(note);
  }

  private bundle(index: number, width: number): Uint8Array {
    const source = this.served ?? this.entries;
    const last = index * 256 + width === this.tree.size;
    // The last bundle carries whatever the (possibly lying) source has past its start.
    const slice = source.slice(index * 256, last ? undefined : index * 256 + width);
    const out = new Uint8Array(slice.reduce((n, e) => n + 2 + e.length, 0));
    let at = 0;
    for (const e of slice) {
      out[at] = e.length >> 8;
      out[at + 1] = e.length & 0xff;
      out.set(e, at + 2);
      at += 2 + e.length;
    }
    return out;
  }

  private hashTile(index: number, width: number): Uint8Array {
    const out = new Uint8Array(width * 32);
    for (let i = 0; i < width; i++) out.set(this.tree.leafHash(index * 256 + i), i * 32);
    return out;
  }

  async listen(port: number): Promise<string> {
    this.server = createServer((req, res) => {
      const url = req.url ?? "";
      if (url === "/v1/info") {
        res.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({
            chainId: CHAIN_ID,
            contracts: { DutyLedger: CONTRACT },
            logId: LOG_ID,
            deployBlock: 1,
            tlog: { origin: this.origin, verifierKey: formatVerifierKey(this.signer) },
          }),
        );
        return;
      }
      if (url === "/tlog/checkpoint" && this.withoutCheckpoint) {
        res.writeHead(404).end();
        return;
      }
      if (url === "/tlog/checkpoint") {
        res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end(this.checkpointNote());
        return;
      }
      const match = /^\/tlog\/tile\/(0|entries)\/((?:x\d{3}\/)*\d{3})(?:\.p\/(\d+))?$/.exec(url);
      if (match) {
        this.requests.push(url);
        const index = Number(match[2]!.replaceAll("x", "").replaceAll("/", ""));
        const width = match[3] === undefined ? 256 : Number(match[3]);
        const end = index * 256 + width;
        if (end > this.tree.size || (match[3] === undefined && end !== this.tree.size && end > this.tree.size)) {
          res.writeHead(404).end();
          return;
        }
        const body = match[1] === "entries" ? this.bundle(index, width) : this.hashTile(index, width);
        res.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => this.server!.listen(port, "127.0.0.1", resolve));
    return `http://127.0.0.1:${port}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
