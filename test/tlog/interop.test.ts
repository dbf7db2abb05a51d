/**
 * Interoperability: a third party holding only the C2SP specifications (signed-note,
 * tlog-checkpoint, tlog-tiles) and RFC 9162 checks a running `dutyproof serve` over HTTP. It
 * opens /tlog/checkpoint with the verifier key /v1/info publishes, reads tiles and entry
 * bundles, recomputes the root from the entries, and proves the inclusion of an entry and the
 * consistency of two checkpoints from the tiles alone.
 *
 * The verifier (the section marked below) is written from the specs in this file with
 * node:crypto's SHA-256 and Ed25519: it imports nothing from server/ or scripts/, so a bug in
 * the gateway's own tile or proof code cannot hide behind the same bug here. Only the set-up
 * (a registered unit that signs records, the chain's anchored root) uses the test helpers.
 */
import { expect } from "chai";
import { createHash, createPublicKey, verify as verifySignature } from "node:crypto";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";
import { ServeProcess, ledgerReader, registerUnit, sleep } from "../faults/support.ts";

// ───────────── a verifier from the specs (nothing from server/ or scripts/) ─────────────

const sha256 = (...parts: Array<Uint8Array | string>): Buffer => {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest();
};
/** RFC 9162 §2.1.1: leaf hash and interior node hash. */
const hashLeaf = (data: Uint8Array) => sha256(Buffer.from([0]), data);
const hashNode = (left: Uint8Array, right: Uint8Array) => sha256(Buffer.from([1]), left, right);
const largestPowerOfTwoBelow = (n: number) => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};

interface VerifierKey {
  name: string;
  id: Buffer;
  publicKey: ReturnType<typeof createPublicKey>;
}

/** signed-note verifier key: `<name>+<hex key id>+<base64(0x01 ‖ 32-byte Ed25519 key)>`. */
function parseVerifierKey(text: string): VerifierKey {
  // Names hold no "+", base64 may: the first two "+" separate the fields.
  const [name, idHex, ...rest] = text.split("+");
  const bytes = Buffer.from(rest.join("+"), "base64");
  expect(bytes.length).to.equal(33);
  expect(bytes[0], "signature type Ed25519").to.equal(0x01);
  const id = sha256(Buffer.from(name! + "\n"), bytes).subarray(0, 4);
  expect(id.toString("hex"), "key id = SHA-256(name ‖ \\n ‖ 0x01 ‖ key)[:4]").to.equal(idHex);
  const publicKey = createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: bytes.subarray(1).toString("base64url") },
    format: "jwk",
  });
  return { name: name!, id, publicKey };
}

interface OpenedCheckpoint {
  origin: string;
  size: number;
  root: Buffer;
}

/** signed-note + tlog-checkpoint: the text up to the blank line, signed by the key's line. */
function openCheckpoint(note: string, key: VerifierKey): OpenedCheckpoint {
  const split = note.lastIndexOf("\n\n");
  expect(split).to.be.greaterThan(0);
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2).split("\n");
  expect(lines.pop(), "the note ends in a newline").to.equal("");
  const ours = lines
    .map((line) => /^\u2014 (\S+) (\S+)$/u.exec(line))
    .map((match) => (match ? { name: match[1]!, bytes: Buffer.from(match[2]!, "base64") } : null))
    .filter((line) => line !== null && line.name === key.name && line.bytes.subarray(0, 4).equals(key.id));
  expect(ours.length, "one signature line of the log's key").to.equal(1);
  const signature = ours[0]!.bytes.subarray(4);
  expect(verifySignature(null, Buffer.from(text), key.publicKey, signature), "the log's Ed25519 signature").to.equal(
    true,
  );
  const [origin, size, root, ...extensions] = text.slice(0, -1).split("\n");
  expect(extensions).to.deep.equal([]);
  expect(size).to.match(/^(0|[1-9][0-9]*)$/);
  const rootBytes = Buffer.from(root!, "base64");
  expect(rootBytes.length).to.equal(32);
  return { origin: origin!, size: Number(size), root: rootBytes };
}

/** tlog-tiles index path elements: 1234067 → x001/x234/067. */
function indexPath(index: number): string {
  const digits = index.toString();
  const groups: string[] = [];
  for (let end = digits.length; end > 0; end -= 3) groups.unshift(digits.slice(Math.max(0, end - 3), end));
  groups[0] = groups[0]!.padStart(3, "0");
  return groups.map((g, i) => (i < groups.length - 1 ? "x" + g : g)).join("/");
}

/** Reads a tree of `size` leaves from the tiles of a log at `prefix` (tlog-tiles). */
class TileTree {
  private readonly tiles = new Map<string, Buffer>();
  fetched = 0;
  constructor(
    private readonly prefix: string,
    readonly size: number,
  ) {}

  private widthOf(level: number, index: number): number {
    return Math.min(256, Math.floor(this.size / 256 ** level) - index * 256);
  }

  async resource(kind: string, index: number, width: number): Promise<Buffer> {
    const path = `${this.prefix}/tile/${kind}/${indexPath(index)}${width < 256 ? `.p/${width}` : ""}`;
    let body = this.tiles.get(path);
    if (!body) {
      const res = await fetch(path);
      expect(res.status, path).to.equal(200);
      expect(res.headers.get("content-type")).to.equal("application/octet-stream");
      body = Buffer.from(await res.arrayBuffer());
      this.tiles.set(path, body);
      this.fetched++;
    }
    return body;
  }

  /** The hash of the perfect subtree of 2^height leaves starting at leaf index·2^height. */
  async node(height: number, index: number): Promise<Buffer> {
    const level = Math.floor(height / 8);
    const within = height % 8;
    const first = index * 2 ** within; // first hash of the tile level that the node covers
    const tileIndex = Math.floor(first / 256);
    const width = this.widthOf(level, tileIndex);
    const tile = await this.resource(String(level), tileIndex, width);
    expect(tile.length, "a tile is its width in 32-byte hashes").to.equal(32 * width);
    let row: Buffer[] = [];
    for (let i = 0; i < 2 ** within; i++) {
      const at = (first % 256) + i;
      row.push(tile.subarray(32 * at, 32 * at + 32));
    }
    while (row.length > 1) row = row.flatMap((_, i) => (i % 2 === 0 ? [hashNode(row[i]!, row[i + 1]!)] : []));
    return row[0]!;
  }

  /** MTH(D[begin:end]) for a range a proof names (begin aligned to the subtree it splits). */
  async range(begin: number, end: number): Promise<Buffer> {
    const n = end - begin;
    if ((n & (n - 1)) === 0 && begin % n === 0) return this.node(Math.log2(n), begin / n);
    const k = largestPowerOfTwoBelow(n);
    return hashNode(await this.range(begin, begin + k), await this.range(begin + k, end));
  }

  /** RFC 9162 §2.1.3.1 PATH(m, D[0:size]). */
  async inclusionProof(m: number, begin = 0, end = this.size): Promise<Buffer[]> {
    if (end - begin === 1) return [];
    const k = largestPowerOfTwoBelow(end - begin);
    return m - begin < k
      ? [...(await this.inclusionProof(m, begin, begin + k)), await this.range(begin + k, end)]
      : [...(await this.inclusionProof(m, begin + k, end)), await this.range(begin, begin + k)];
  }

  /** RFC 9162 §2.1.4.1 PROOF(m, D[0:size]) via SUBPROOF. */
  async consistencyProof(m: number, begin = 0, end = this.size, complete = true): Promise<Buffer[]> {
    if (m === end - begin) return complete ? [] : [await this.range(begin, end)];
    const k = largestPowerOfTwoBelow(end - begin);
    return m <= k
      ? [...(await this.consistencyProof(m, begin, begin + k, complete)), await this.range(begin + k, end)]
      : [...(await this.consistencyProof(m - k, begin + k, end, false)), await this.range(begin, begin + k)];
  }

  /** Every entry, from the entry bundles (uint16 big-endian length, then the entry). */
  async entries(): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for (let index = 0; index * 256 < this.size; index++) {
      const bundle = await this.resource("entries", index, Math.min(256, this.size - index * 256));
      for (let at = 0; at < bundle.length;) {
        const length = bundle.readUInt16BE(at);
        out.push(bundle.subarray(at + 2, at + 2 + length));
        at += 2 + length;
      }
    }
    return out;
  }
}

/** RFC 9162 §2.1.1 MTH over leaf hashes, by its recursive definition. */
function rootOf(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0]!;
  const k = largestPowerOfTwoBelow(leaves.length);
  return hashNode(rootOf(leaves.slice(0, k)), rootOf(leaves.slice(k)));
}

/** RFC 9162 §2.1.3.2: verifies an inclusion proof. */
function verifyInclusion(index: number, size: number, leaf: Buffer, proof: Buffer[], root: Buffer): boolean {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = hashNode(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = hashNode(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 §2.1.4.2: verifies a consistency proof. */
function verifyConsistency(first: number, second: number, firstRoot: Buffer, secondRoot: Buffer, proof: Buffer[]) {
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  if (first === 0 || first > second || proof.length === 0) return false;
  const path = (first & (first - 1)) === 0 ? [firstRoot, ...proof] : proof;
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = hashNode(c, fr);
      sr = hashNode(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = hashNode(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return fr.equals(firstRoot) && sr.equals(secondRoot) && sn === 0;
}

// ───────────── the test ─────────────

describe("tlog interop: a verifier written from the C2SP specs checks a running gateway", function () {
  this.timeout(240_000);
  const dir = tempDir("tlog-interop");
  const port = testPort("tlog");
  const serve = new ServeProcess(dir.path, port, port + 1 >= 19_000 ? port - 1 : port + 1);
  let unit: Awaited<ReturnType<typeof registerUnit>>;
  const submitted: Array<{ recordId: string; signature: string; leafIndex: number }> = [];

  const submit = async (count: number) => {
    for (let done = 0; done < count; done += 100) {
      const items = Array.from({ length: Math.min(100, count - done) }, () => unit.sign(submitted.length + done));
      const res = await fetch(`${serve.url}/v1/attestations/batch`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ items }),
      });
      expect(res.status).to.equal(200);
      const { results } = (await res.json()) as {
        results: Array<{ status: number; recordId: string; leafIndex: number }>;
      };
      results.forEach((r, i) => {
        expect(r.status).to.equal(201);
        submitted.push({ recordId: r.recordId, signature: items[i]!.signature, leafIndex: r.leafIndex });
      });
    }
  };
  const checkpointOfSize = async (size: number): Promise<string> => {
    for (let i = 0; i < 300; i++) {
      const res = await fetch(`${serve.url}/tlog/checkpoint`);
      if (res.status === 200) {
        const note = await res.text();
        if (note.split("\n")[1] === String(size)) return note;
      }
      await sleep(100);
    }
    throw new Error(`no signed checkpoint of size ${size}`);
  };

  before(async () => {
    expect(await serve.start()).to.equal("ready");
    unit = await registerUnit(dir.path, serve.url);
  });

  after(async () => {
    await serve.stop();
    dir.remove();
  });

  it("opens checkpoints, recomputes the root from the entries, and proves inclusion and consistency from tiles", async () => {
    const info = (await (await fetch(`${serve.url}/v1/info`)).json()) as {
      chainId: number;
      contracts: { DutyLedger: string };
      logId: string;
      tlog: { origin: string; verifierKey: string };
    };
    expect(info.tlog.origin).to.equal(
      `dutyproof/${info.chainId}/${info.contracts.DutyLedger.toLowerCase()}/${info.logId.toLowerCase()}`,
    );
    const key = parseVerifierKey(info.tlog.verifierKey);
    expect(key.name, "the key's name is the log's origin").to.equal(info.tlog.origin);

    // First checkpoint: 300 leaves (a full tile and a partial one at level 0, width 1 at level 1).
    await submit(300);
    const first = openCheckpoint(await checkpointOfSize(300), key);
    expect(first).to.include({ origin: info.tlog.origin, size: 300 });
    const response = await fetch(`${serve.url}/tlog/checkpoint`);
    expect(response.headers.get("content-type")).to.equal("text/plain; charset=utf-8");
    expect(response.headers.get("cache-control")).to.equal("no-store");

    const chain = ledgerReader(dir.path, unit.deployment);
    try {
      expect(await chain.rootAt(300), "the signed checkpoint is the one anchored on chain").to.equal(
        "0x" + first.root.toString("hex"),
      );
    } finally {
      chain.provider.destroy();
    }

    const tree1 = new TileTree(`${serve.url}/tlog`, first.size);
    const entries1 = await tree1.entries();
    expect(entries1.length).to.equal(300);
    expect(rootOf(entries1.map(hashLeaf)).equals(first.root), "the root recomputed from the entries").to.equal(true);
    for (const [i, entry] of entries1.entries()) {
      const level0 = await tree1.node(0, i);
      expect(hashLeaf(entry).equals(level0), `entry ${i} hashes to its level-0 tile hash`).to.equal(true);
    }
    // An entry is the record's leaf data: "DPL1" ‖ record id ‖ signature.
    const chosen = submitted[257]!;
    expect(entries1[chosen.leafIndex]!.toString("hex")).to.equal(
      Buffer.from("DPL1").toString("hex") + chosen.recordId.slice(2) + chosen.signature.slice(2),
    );
    const proof1 = await tree1.inclusionProof(chosen.leafIndex);
    expect(
      verifyInclusion(chosen.leafIndex, first.size, hashLeaf(entries1[chosen.leafIndex]!), proof1, first.root),
    ).to.equal(true);

    // Second checkpoint: 600 leaves; consistency 300 → 600 and inclusion proofs from its tiles only.
    await submit(300);
    const second = openCheckpoint(await checkpointOfSize(600), key);
    const tree2 = new TileTree(`${serve.url}/tlog`, second.size);
    const consistency = await tree2.consistencyProof(first.size);
    expect(verifyConsistency(first.size, second.size, first.root, second.root, consistency)).to.equal(true);
    // A root of another size, or a proof with one hash flipped, does not pass.
    expect(verifyConsistency(first.size, second.size, second.root, second.root, consistency)).to.equal(false);
    const flipped = consistency.map((h, i) => (i === 0 ? Buffer.from(h.map((b, j) => (j === 0 ? b ^ 1 : b))) : h));
    expect(verifyConsistency(first.size, second.size, first.root, second.root, flipped)).to.equal(false);

    for (const leafIndex of [0, 255, 256, 299, 300, 511, 512, 599]) {
      const leaf = await tree2.node(0, leafIndex);
      const proof = await tree2.inclusionProof(leafIndex);
      expect(verifyInclusion(leafIndex, second.size, leaf, proof, second.root), `leaf ${leafIndex}`).to.equal(true);
      expect(verifyInclusion(leafIndex, second.size, leaf, proof, first.root)).to.equal(false);
    }
    // The tiles of the older tree are still served (partial tiles of a checkpointed size).
    const again = new TileTree(`${serve.url}/tlog`, first.size);
    expect(
      verifyInclusion(
        chosen.leafIndex,
        300,
        hashLeaf(entries1[chosen.leafIndex]!),
        await again.inclusionProof(chosen.leafIndex),
        first.root,
      ),
    ).to.equal(true);
    const entries2 = await tree2.entries();
    expect(rootOf(entries2.map(hashLeaf)).equals(second.root)).to.equal(true);
    expect(
      entries2.slice(0, 300).every((e, i) => e.equals(entries1[i]!)),
      "entries never change",
    ).to.equal(true);
  });
});
