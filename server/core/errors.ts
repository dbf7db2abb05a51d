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
  "proof.not_available": { status: 404, title: "No such leaf or tree size in this log" },

  // Requests (server/http)
  "request.malformed_json": { status: 400, title: "Request body is not valid JSON" },
  "request.unsupported_media_type": { status: 415, title: "Request body must be application/json" },
  "request.too_large": { status: 413, title: "Request body is too large" },
  "request.invalid": { status: 422, title: "Request does not match the schema" },
  "request.not_found": { status: 404, title: "No such resource" },
  "request.unauthorized": { status: 401, title: "A valid bearer token is required" },
  "request.forbidden": { status: 403, title: "The token does not grant access to this resource" },
  "request.rate_limited": { status: 429, title: "Too many requests; retry after the given seconds" },
  "request.unreadable": { status: 400, title: "Request could not be read" },

  // Records (attestation checks)
  "record.unknown_duty_type": { status: 422, title: "Duty type is not in this gateway's catalog" },
  "record.duty_type_inactive": { status: 422, title: "Duty type is not active on the ledger" },
  "record.duty_type_not_applicable": { status: 422, title: "Duty type does not apply to the unit's level" },
  "record.invalid_fields": { status: 422, title: "Record fields do not match the duty type" },
  "record.not_canonical": { status: 422, title: "Record has no RFC 8785 canonical form" },
  "record.unknown_unit": { status: 422, title: "Unit is not registered on the ledger" },
  "record.unit_suspended": { status: 403, title: "Unit is suspended" },
  "record.bad_signature": { status: 422, title: "Signature is malformed, high-s or does not recover" },
  "record.signer_not_authorized": { status: 403, title: "Signer is not the unit's valid key" },
  "record.time_implausible": { status: 422, title: "Record time is in the future or too far in the past" },
  "record.not_found": { status: 404, title: "No record with this id" },
  "record.wrong_log": { status: 422, title: "The record was signed for another log" },
  "record.version_retired": {
    status: 422,
    title: "Record envelope version 1 is no longer accepted; sign version 2, which binds the log",
  },

  // Corrections and withdrawals (the envelope's `amends` link)
  "amendment.target_not_found": { status: 422, title: "The record to amend is not in this log" },
  "amendment.other_unit": { status: 422, title: "A unit can only amend its own records" },
  "amendment.duty_type_mismatch": {
    status: 422,
    title: "A correction or withdrawal keeps the amended record's duty type",
  },
  "amendment.withdrawal_has_fields": { status: 422, title: "A withdrawal carries no fields" },
  "amendment.target_not_current": {
    status: 409,
    title: "The record to amend was already corrected or withdrawn, or is a withdrawal",
  },

  // Lawful erasure of personal fields (operator)
  "erasure.invalid_order": { status: 422, title: "An erasure needs the reference of the order that requires it" },
  "erasure.already_erased": { status: 409, title: "The record's personal content was already erased" },

  // Evidence demands (server/burden)
  "demand.bad_signature": { status: 422, title: "Demand signature is malformed or not by the stated inspector" },
  "demand.time_implausible": { status: 422, title: "Demand time is too far from the gateway's clock" },
  "demand.unknown_inspector": { status: 403, title: "Signer is not a registered inspector" },
  "demand.inspector_inactive": { status: 403, title: "Inspector is deactivated" },
  "demand.department_mismatch": { status: 422, title: "Department is not the inspector's registered department" },
  "demand.unknown_unit": { status: 422, title: "Unit is not registered on the ledger" },
  "demand.unit_suspended": { status: 422, title: "Unit is suspended" },
  "demand.not_found": { status: 404, title: "No demand with this id" },
  "demand.wrong_log": { status: 422, title: "The demand was signed for another log" },
  "demand.version_retired": {
    status: 422,
    title: "Demand envelope version 1 is no longer accepted; sign version 2, which binds the log",
  },
  "demand.not_entitled": {
    status: 403,
    title: "A duty type asked is neither owned by the inspector's department nor granted to it",
  },
  "demand.not_demanding_inspector": {
    status: 403,
    title: "Only the demanding inspector's signature fetches the evidence package",
  },

  // Anonymous tips (server/app/tips.ts, core/tip.ts)
  "tip.member_exists": { status: 409, title: "The identity commitment is already in the tip group" },
  "tip.member_unknown": { status: 404, title: "The unit has no active tip-group member with this commitment" },
  "tip.wrong_period": { status: 422, title: "A tip is sent for the current month" },
  "tip.wrong_scope": { status: 422, title: "The proof's scope is not this log's category and month" },
  "tip.wrong_message": { status: 422, title: "The proof's message is not the digest of the tip's content" },
  "tip.unknown_root": { status: 422, title: "The proof is not against a recent root of the tip group" },
  "tip.group_too_small": { status: 422, title: "The tip group had too few members at the proof's root" },
  "tip.already_sent": { status: 409, title: "A tip in this category was already sent this month" },
  "tip.bad_proof": { status: 422, title: "The membership proof does not verify" },
  "tip.not_found": { status: 404, title: "No such tip" },

  // Verification (trust anchors: docs/protocol.md, "Trust files")
  "receipt.untrusted_deployment": {
    status: 422,
    title: "The evidence names a chain, contract or log this verifier does not trust",
  },

  // Signed notes and checkpoints (c2sp.org/signed-note, tlog-checkpoint, tlog-cosignature)
  "note.malformed": { status: 422, title: "The signed note, checkpoint or key is not in the C2SP format" },
  "note.bad_signature": { status: 422, title: "A known key's signature on the note does not verify" },
  "note.unknown_signer": { status: 422, title: "No trusted key has signed the note" },
  "note.wrong_origin": { status: 422, title: "The checkpoint is for another log" },

  // Witnesses (c2sp.org/tlog-witness): the statuses are the ones the spec gives each case
  "witness.malformed": { status: 400, title: "The add-checkpoint request is not in the tlog-witness format" },
  "witness.unknown_log": { status: 404, title: "The witness follows no log of this origin" },
  "witness.bad_signature": { status: 403, title: "No key the witness trusts for this log has signed the checkpoint" },
  "witness.old_size_mismatch": { status: 409, title: "The old size is not the size the witness last cosigned" },
  "witness.root_conflict": { status: 409, title: "The witness cosigned another root for this tree size" },
  "witness.bad_proof": { status: 422, title: "The consistency proof does not verify" },
  "witness.chain_disagrees": {
    status: 409,
    title: "The chain does not anchor this checkpoint, or no longer anchors the one the witness cosigned",
  },
  "witness.chain_unreachable": { status: 503, title: "The witness cannot read the chain; retry later" },

  // Residents' confirmations (server/app/confirm.ts)
  "confirmation.not_confirmable": { status: 422, title: "The record's duty type does not ask residents to confirm" },
  "confirmation.already_requested": { status: 409, title: "A confirmation link was already issued for this record" },
  "confirmation.no_delivery": { status: 422, title: "No delivery hook is configured to send the link to a contact" },
  "confirmation.delivery_failed": { status: 502, title: "The delivery hook did not take the link" },
  "confirmation.link_unknown": { status: 404, title: "No confirmation link with this token or code" },
  "confirmation.link_expired": { status: 410, title: "The confirmation link has expired" },
  "confirmation.link_used": { status: 409, title: "The confirmation link was already answered" },
  "confirmation.not_found": { status: 404, title: "No resident's answer with this id" },

  // Infrastructure
  "store.unavailable": { status: 503, title: "The record store cannot be written" },
  "chain.unreachable": { status: 503, title: "The chain node does not answer" },
  // The gateway's JSON-RPC endpoint for the embedded node (answered as JSON-RPC errors, code in data)
  "rpc.method_refused": { status: 403, title: "The chain endpoint serves read methods only" },
  "rpc.transaction_refused": {
    status: 403,
    title: "The chain endpoint relays only transactions to the DutyLedger signed by a role holder",
  },
  internal: { status: 500, title: "Internal error" },

  // Burden requests of the other kinds (server/burden/RequestService.ts)
  "burden_request.bad_signature": {
    status: 422,
    title: "Request signature is malformed or not by the stated inspector",
  },
  "burden_request.wrong_log": { status: 422, title: "The request was signed for another log" },
  "burden_request.not_found": { status: 404, title: "No burden request with this id" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

/** One field at fault, by its path in the request ("envelope.fields.address"). */
export interface FieldError {
  path: string;
  message: string;
}

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
