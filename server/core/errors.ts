/**
 * The error catalogue: every error dutyproof raises on purpose has a stable code listed here,
 * grouped by subsystem. The core throws these and knows nothing of HTTP; the HTTP adapter maps
 * `status` and `title` to an RFC 9457 problem document, and a CLI prints `message` on one line.
 */
export const errorCatalogue = {
  // Merkle log proofs (server/core/merkle)
  "proof.index_out_of_range": { status: 422, title: "Leaf index is not below the tree size" },
  "proof.size_out_of_range": { status: 422, title: "Tree sizes are not in an order a proof can relate" },
  "proof.wrong_length": { status: 422, title: "Proof has the wrong number of hashes for these sizes" },
  "proof.bad_hash": { status: 422, title: "Proof contains a value that is not a 32-byte hash" },
  "proof.root_mismatch": { status: 422, title: "Proof leads to a different root" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

/** The one base class of dutyproof's deliberate errors. */
export class DutyproofError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  /** Extra machine-readable facts (e.g. both roots of a mismatch); safe to show a user. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = "DutyproofError";
    this.code = code;
    this.status = errorCatalogue[code].status;
    this.title = errorCatalogue[code].title;
    this.details = details;
  }
}
