/**
 * Accepting a signed duty record: every check in order (schema, duty type, fields, time,
 * signature, unit and key on the ledger), then a durable append. Nothing is stored unless
 * every check passes; the same record twice yields the same leaf.
 */
import type { Clock } from "../core/clock.ts";
import { z } from "zod";
import { bytesToHex, hexToBytes } from "../core/bytes.ts";
import { validateFields } from "../core/dutyType.ts";
import { type Eip712Domain, recordMessageDigest } from "../core/eip712.ts";
import { DutyproofError, type FieldError } from "../core/errors.ts";
import { recordEnvelopeSchema } from "../core/recordSchema.ts";
import { checkAmendment, isWithdrawal } from "../core/amendment.ts";
import type { CatalogEntry } from "../catalog/loadCatalog.ts";
import type { LedgerStore, StoredRecord } from "../store/LedgerStore.ts";
import type { RegistryCache } from "./RegistryCache.ts";
import { type DeriveOutcome, type DerivedRecord, deriveOutcome } from "../crypto/deriveRecord.ts";
import { faultPoint } from "../faultPoint.ts";
import { SUITE_SM2, smSigningBytes, suiteOfEnvelope } from "../core/smSuite.ts";

export const submissionSchema = z
  .object({
    envelope: recordEnvelopeSchema,
    signature: z
      .string()
      .regex(
        /^0x(?:[0-9a-fA-F]{130}|[0-9a-fA-F]{256})$/,
        "must be a 65-byte signature r ‖ s ‖ v, or for the SM suite the 128 bytes X ‖ Y ‖ r ‖ s, as 0x hex",
      )
      .describe(
        "EIP-712 signature of the record message by the unit's key; for the SM suite (envelope suite sm2-sm3) the SM2 public key and signature X ‖ Y ‖ r ‖ s",
      ),
  })
  .strict();

export type Submission = z.infer<typeof submissionSchema>;

export interface AcceptedRecord {
  created: boolean;
  record: StoredRecord;
}

export interface AttestationOptions {
  store: LedgerStore;
  registry: RegistryCache;
  catalog: { get(dutyTypeId: string): CatalogEntry | undefined };
  domain: Eip712Domain;
  /** The id of this gateway's log: a version 2 record must name it. */
  logId: string;
  /**
   * Whether version 1 envelopes, which do not bind the log, are still taken for new records:
   * false unless the operator allows them for a transition (ACCEPT_ENVELOPE_V1).
   */
  acceptVersion1?: boolean;
  /**
   * Derives many records at once, e.g. on worker threads (VerifyPool.deriveEach); an outcome per
   * item, so that one item's failure is that item's alone. Inline when absent.
   */
  deriveMany?: (domain: Eip712Domain, items: Submission[]) => Promise<DeriveOutcome[]>;
  /** The gateway's clock: a record's performedAt is judged against it. */
  clock: Clock;
  /** How far in the future a record's time may be (clock skew), seconds. */
  maxFutureSeconds?: number;
  /** How far in the past a record's time may be, seconds. */
  maxAgeSeconds?: number;
  /** Spends one of the unit's record allowance; throws (429) past its rate limit. */
  admitUnit?: (unitId: string) => void;
}

function parseSubmission(body: unknown): Submission {
  const parsed = submissionSchema.safeParse(body);
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error);
    throw new DutyproofError("request.invalid", `${errors.length} field(s) at fault`, { errors });
  }
  return parsed.data;
}

/** Turns zod issues into field errors with dotted paths. */
export function fieldErrors(error: z.ZodError, prefix = ""): FieldError[] {
  return issueErrors(error.issues, [], prefix);
}

function issueErrors(issues: readonly z.core.$ZodIssue[], at: PropertyKey[], prefix: string): FieldError[] {
  return issues.flatMap((issue) => {
    const path = [...at, ...issue.path];
    // A body that fits none of a union's forms: the faults of the form it came closest to, so
    // the field at fault is named rather than only "Invalid input".
    if (issue.code === "invalid_union" && issue.errors.length > 0) {
      const closest = issue.errors.reduce((a, b) => (b.length < a.length ? b : a));
      if (closest.length > 0) return issueErrors(closest, path, prefix);
    }
    return [
      {
        path: prefix + (path.length ? path.map(String).join(".") : "(body)"),
        // A key at fault: what is wrong with it, not only that it is wrong.
        message: issue.code === "invalid_key" && issue.issues[0] ? `key ${issue.issues[0].message}` : issue.message,
      },
    ];
  });
}

/**
 * The derivation of one submission, or its own 422 when it has none. Schemas refuse text without
 * a canonical form before this; this keeps anything else that cannot be hashed to its own item.
 */
function derivedOrThrow(outcome: DeriveOutcome): DerivedRecord {
  if (!("error" in outcome)) return outcome;
  throw new DutyproofError("record.not_canonical", "the record has no RFC 8785 canonical form", {
    errors: [{ path: "envelope", message: outcome.error }],
  });
}

export class AttestationService {
  private readonly options: AttestationOptions;
  /** Single submissions waiting for their signature work, sent to deriveMany together. */
  private waiting: Array<{
    submission: Submission;
    resolve: (d: DerivedRecord) => void;
    reject: (e: unknown) => void;
  }> = [];
  /** Amendments in flight, by the record they amend: two may not both pass as its one amendment. */
  private readonly amending = new Map<string, Promise<unknown>>();

  constructor(options: AttestationOptions) {
    this.options = options;
  }

  /** Validates and stores one submission (unknown JSON). Throws DutyproofError on any fault. */
  async submit(body: unknown): Promise<AcceptedRecord> {
    const submission = parseSubmission(body);
    return this.accept(submission, await this.deriveOne(submission));
  }

  /**
   * The signature work of one submission. With `deriveMany` (worker threads), the submissions
   * that arrive in the same turn of the event loop go together as one job, so the main thread
   * keeps serving HTTP while a worker recovers signers; without it, inline.
   */
  private deriveOne(submission: Submission): Promise<DerivedRecord> | DerivedRecord {
    const { deriveMany, domain } = this.options;
    if (!deriveMany) return derivedOrThrow(deriveOutcome(submission.envelope, submission.signature, domain));
    return new Promise((resolve, reject) => {
      if (this.waiting.length === 0) setImmediate(() => this.deriveWaiting(deriveMany));
      this.waiting.push({ submission, resolve, reject });
    });
  }

  private deriveWaiting(deriveMany: NonNullable<AttestationOptions["deriveMany"]>): void {
    const group = this.waiting;
    this.waiting = [];
    const { domain } = this.options;
    // The group holds several submitters' records: each is answered on its own outcome, and if a
    // worker itself fails, each is derived here rather than all failing together.
    const settle = (outcomes: DeriveOutcome[]) =>
      group.forEach((g, i) => {
        try {
          g.resolve(derivedOrThrow(outcomes[i]!));
        } catch (error) {
          g.reject(error);
        }
      });
    deriveMany(
      domain,
      group.map((g) => g.submission),
    ).then(settle, () =>
      settle(group.map((g) => deriveOutcome(g.submission.envelope, g.submission.signature, domain))),
    );
  }

  /**
   * Validates and stores many submissions, each on its own: one's fault does not affect the
   * others. The signature work for all of them is done first, in one go (on worker threads when
   * `deriveMany` is set), then each is checked and appended.
   */
  async submitMany(bodies: unknown[]): Promise<Array<PromiseSettledResult<AcceptedRecord>>> {
    const parsed = bodies.map((body) => {
      try {
        return { ok: true as const, submission: parseSubmission(body) };
      } catch (error) {
        return { ok: false as const, error };
      }
    });
    const valid = parsed.flatMap((p) => (p.ok ? [p.submission] : []));
    const { domain, deriveMany } = this.options;
    const inline = () => valid.map((v) => deriveOutcome(v.envelope, v.signature, domain));
    const derived = deriveMany ? await deriveMany(domain, valid).catch(inline) : inline();
    faultPoint("batch.derived");
    let next = 0;
    return Promise.allSettled(
      parsed.map(async (p) => {
        if (!p.ok) throw p.error;
        return this.accept(p.submission, derivedOrThrow(derived[next++]!));
      }),
    );
  }

  private async accept(submission: Submission, derived: DerivedRecord): Promise<AcceptedRecord> {
    try {
      return await this.checkAndAppend(submission, derived);
    } catch (error) {
      // A replay of an accepted record is answered from the store, whatever changed since (a
      // key rotated, a unit suspended). Valid replays never get here: the store's append
      // answers them; looking only on failure keeps a read off the hot path.
      // Only the same signed submission is a replay: the same envelope under another signature
      // (high-s, malformed, someone else's) is refused like any other bad signature.
      if (error instanceof DutyproofError && /^(record|amendment)\./.test(error.code)) {
        const existing = await this.options.store.getRecord(derived.recordId);
        if (existing && existing.leafHash === derived.leafHash) return { created: false, record: existing };
      }
      throw error;
    }
  }

  /**
   * The digests the gateway computed for a record whose signature does not check: a submitter
   * whose own digests differ has a canonicalisation mismatch (its JCS wrote other bytes), one
   * whose digests agree signed with the wrong key. Only on the refusal path: never computed twice
   * for an accepted record.
   */
  private digests(envelope: Submission["envelope"], recordId: string) {
    if (suiteOfEnvelope(envelope) === SUITE_SM2 && envelope.version === 2) {
      const { chainId, verifyingContract } = this.options.domain;
      const signed = smSigningBytes({ ...envelope, chainId, contract: verifyingContract }, hexToBytes(recordId));
      return { recordDigest: recordId, smSignedBytes: bytesToHex(signed) };
    }
    const eip712Digest = recordMessageDigest(this.options.domain, envelope, hexToBytes(recordId));
    return { recordDigest: recordId, eip712Digest: bytesToHex(eip712Digest) };
  }

  private digestsSaid(envelope: Submission["envelope"], recordId: string): string {
    const digests = this.digests(envelope, recordId);
    const message =
      "smSignedBytes" in digests
        ? `SM2 signed bytes ${digests.smSignedBytes}`
        : `EIP-712 digest ${digests.eip712Digest}`;
    return (
      `; the gateway computed record digest ${digests.recordDigest} and ${message}` +
      " (other digests on your side: your canonical form differs; the same: the key is wrong)"
    );
  }

  /** Runs `task` after every earlier amendment of the same record has been settled. */
  private async serialised<T>(target: string, task: () => Promise<T>): Promise<T> {
    const before = this.amending.get(target) ?? Promise.resolve();
    const run = before.then(task, task);
    const settled = run.catch(() => {});
    this.amending.set(target, settled);
    try {
      return await run;
    } finally {
      if (this.amending.get(target) === settled) this.amending.delete(target);
    }
  }

  private async checkAndAppend(submission: Submission, derived: DerivedRecord): Promise<AcceptedRecord> {
    const target = submission.envelope.amends?.recordId;
    if (target === undefined) return this.checkAndAppendOne(submission, derived);
    return this.serialised(target, () => this.checkAndAppendOne(submission, derived));
  }

  private async checkAndAppendOne(
    { envelope, signature }: Submission,
    derived: DerivedRecord,
  ): Promise<AcceptedRecord> {
    const { catalog, registry, store } = this.options;
    // Before anything else: a record meant for another log, or one that names no log, is refused
    // here whoever signed it, so a record erased on another gateway cannot land on this one.
    if (envelope.version === 1 && !this.options.acceptVersion1) {
      throw new DutyproofError("record.version_retired", "envelope version 1 does not bind the log; sign version 2", {
        errors: [{ path: "envelope.version", message: "must be 2" }],
      });
    }
    if (envelope.version === 2 && envelope.logId !== this.options.logId) {
      throw new DutyproofError(
        "record.wrong_log",
        `the record was signed for log ${envelope.logId}, this gateway's log is ${this.options.logId}`,
        { errors: [{ path: "envelope.logId", message: `must be this gateway's log id ${this.options.logId}` }] },
      );
    }
    const entry = catalog.get(envelope.dutyTypeId);
    if (!entry) {
      throw new DutyproofError("record.unknown_duty_type", `duty type ${envelope.dutyTypeId} is not in the catalog`, {
        errors: [{ path: "envelope.dutyTypeId", message: "unknown duty type" }],
      });
    }
    // A withdrawal has no fields (checkAmendment says so); everything else matches its duty type.
    const fieldIssues = isWithdrawal(envelope) ? [] : validateFields(entry.document, envelope.fields);
    if (fieldIssues.length > 0) {
      const errors = fieldIssues.map((i) => ({ path: `envelope.${i.path}`, message: i.message }));
      throw new DutyproofError("record.invalid_fields", `${errors.length} field(s) at fault`, { errors });
    }
    const now = Math.floor(this.options.clock.now() / 1000);
    const maxFuture = this.options.maxFutureSeconds ?? 300;
    const maxAge = this.options.maxAgeSeconds ?? 400 * 86_400;
    if (envelope.performedAt > now + maxFuture || envelope.performedAt < now - maxAge) {
      throw new DutyproofError("record.time_implausible", "performedAt is in the future or too old", {
        errors: [{ path: "envelope.performedAt", message: `must be between ${now - maxAge} and ${now + maxFuture}` }],
      });
    }

    const { signer, recordId } = derived;
    if (!signer) {
      throw new DutyproofError(
        "record.bad_signature",
        `the signature is malformed, high-s or does not recover${this.digestsSaid(envelope, recordId)}`,
        {
          errors: [
            {
              path: "signature",
              message:
                suiteOfEnvelope(envelope) === SUITE_SM2
                  ? "not a valid SM2 signature of the record's SM-suite message"
                  : "not a valid low-s secp256k1 signature of the record",
            },
          ],
          ...this.digests(envelope, recordId),
        },
      );
    }

    // Never acknowledge under a key revoked on chain before this check: the cache catches up first.
    await registry.current();
    const [unit, dutyType] = await Promise.all([
      registry.unit(envelope.unitId),
      registry.dutyType(envelope.dutyTypeId),
    ]);
    if (!unit.registered) {
      throw new DutyproofError("record.unknown_unit", `unit ${envelope.unitId} is not registered`, {
        errors: [{ path: "envelope.unitId", message: "not registered on the ledger" }],
      });
    }
    if (!unit.active) throw new DutyproofError("record.unit_suspended", `unit ${envelope.unitId} is suspended`);
    if (unit.signer !== signer) {
      throw new DutyproofError(
        "record.signer_not_authorized",
        `signer ${signer} is not the unit's current key${this.digestsSaid(envelope, recordId)}`,
        {
          errors: [{ path: "signature", message: "signed by a key that is not the unit's valid key" }],
          recoveredSigner: signer,
          ...this.digests(envelope, recordId),
        },
      );
    }
    // Only records the unit really signed spend its allowance: nobody else can exhaust it.
    this.options.admitUnit?.(envelope.unitId);
    if (!dutyType.registered || !dutyType.active) {
      throw new DutyproofError(
        "record.duty_type_inactive",
        `duty type ${envelope.dutyTypeId} is not active on the ledger`,
      );
    }
    const levels = entry.document.levels;
    if (levels && !levels.includes(unit.level)) {
      throw new DutyproofError(
        "record.duty_type_not_applicable",
        `duty type ${entry.document.code} does not apply to level ${unit.level}`,
      );
    }

    if (envelope.amends) {
      const stored = await store.getRecord(envelope.amends.recordId);
      const amendedBy = stored ? await store.amendmentOf(stored.recordId) : undefined;
      checkAmendment(
        envelope,
        stored && {
          recordId: stored.recordId,
          unitId: stored.envelope.unitId,
          dutyTypeId: stored.envelope.dutyTypeId,
          amendsKind: stored.envelope.amends?.kind,
          amendedBy,
        },
      );
    }

    let result;
    faultPoint("accept.checked");
    try {
      result = await store.append({
        recordId,
        envelope,
        signature: signature.toLowerCase(),
        signer,
        leafHash: hexToBytes(derived.leafHash),
      });
    } catch (error) {
      throw new DutyproofError(
        "store.unavailable",
        "the record could not be stored durably; nothing was kept",
        {},
        { cause: error },
      );
    }
    return result;
  }
}
