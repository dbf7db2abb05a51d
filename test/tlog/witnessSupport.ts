/**
 * A log as the witness tests drive it: a Merkle tree of made-up leaf data, the log's Ed25519
 * note key named by its origin, signed checkpoints of any size, and add-checkpoint requests
 * sent over real HTTP. Forks are separate trees sharing a prefix.
 */
import { randomBytes } from "node:crypto";
import { MemoryTree } from "../../server/core/merkle/index.ts";
import {
  type NoteSigner,
  NOTE_ED25519,
  formatCheckpoint,
  formatVerifierKey,
  noteSigner,
  signNote,
} from "../../server/core/note.ts";
import { tlogOrigin } from "../../server/core/tlog.ts";
import { formatAddCheckpointRequest } from "../../server/core/witness.ts";

export class SimulatedLog {
  readonly origin: string;
  readonly signer: NoteSigner;
  readonly tree = new MemoryTree();

  constructor(
    origin = tlogOrigin(31337, "0x" + "ab".repeat(20), "0x" + "cd".repeat(32)),
    seed: Uint8Array = randomBytes(32),
  ) {
    this.origin = origin;
    this.signer = noteSigner(origin, NOTE_ED25519, seed);
  }

  get verifierKey(): string {
    return formatVerifierKey(this.signer);
  }

  /** Appends `count` leaves of random data; returns the new size. */
  grow(count: number, tag = "DPL1"): number {
    for (let i = 0; i < count; i++) this.tree.appendLeafData(Buffer.concat([Buffer.from(tag), randomBytes(16)]));
    return this.tree.size;
  }

  /** A copy of the first `size` leaves: the start of a fork. */
  fork(size: number): SimulatedLog {
    const other = new SimulatedLog(this.origin, this.signer.seed);
    for (let i = 0; i < size; i++) other.tree.appendLeafHash(this.tree.leafHash(i));
    return other;
  }

  text(size = this.tree.size): string {
    return formatCheckpoint({ origin: this.origin, size, rootHash: this.tree.root(size), extensions: [] });
  }

  note(size = this.tree.size): string {
    return signNote(this.text(size), this.signer);
  }

  /** The add-checkpoint body from `oldSize` to `size` (proof from this tree). */
  request(oldSize: number, size = this.tree.size): string {
    const proof = oldSize === 0 || oldSize === size ? [] : this.tree.consistencyProof(oldSize, size);
    return formatAddCheckpointRequest({ oldSize, proof, note: this.note(size) });
  }
}

export interface WitnessAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** POSTs a body to a witness's add-checkpoint. */
export async function addCheckpoint(url: string, body: string): Promise<WitnessAnswer> {
  const response = await fetch(`${url}/add-checkpoint`, { method: "POST", body });
  return {
    status: response.status,
    contentType: response.headers.get("content-type") ?? "",
    body: await response.text(),
  };
}
