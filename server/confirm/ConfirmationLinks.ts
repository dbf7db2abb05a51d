/**
 * The one-time confirmation links residents answer (docs/protocol.md §8), in a sublevel of the
 * gateway's store. A link is reached by either of two secrets: a long token in the URL and a
 * short code a resident can type. Only SHA-256 digests of the secrets are kept, so a copy of
 * DATA_DIR opens no link; the resident's contact is never given to this class at all.
 */
import { createHash, randomBytes, randomInt } from "node:crypto";
import type { LedgerStore } from "../store/LedgerStore.ts";

/** A link's state. Times in Unix seconds. */
export interface ConfirmationLink {
  linkId: string;
  recordId: string;
  unitId: string;
  dutyTypeId: string;
  issuedAt: number;
  expiresAt: number;
  /** "hook": sent to the resident by the delivery hook; "shown": handed to the unit's caller. */
  delivery: "hook" | "shown";
  /** Set once answered: the answer's entry id (its log entry follows). */
  answerId?: string;
  answeredAt?: number;
}

/** The two secrets of a new link, returned once and never stored. */
export interface LinkSecrets {
  token: string;
  code: string;
}

/** Crockford's base32 without I, L, O, U: a code read aloud or typed is not misread. */
const CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/** Ten characters: 50 bits, far beyond what the public listener's rate limit lets anyone try. */
const CODE_LENGTH = 10;

/** A resident's typed code, normalised: upper case, without spaces or dashes. */
export function normaliseCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, "");
}

/** Synced writes: a link acknowledged or answered survives a crash. The sublevel passes it to LevelDB. */
const SYNCED = { sync: true } as never;

const digestOf = (secret: string) =>
  createHash("sha256").update("dutyproof/confirmation-link\0").update(secret).digest("hex");

export class ConfirmationLinks {
  private readonly db: ReturnType<LedgerStore["sublevel"]>;
  /** Links being answered now: a second answer in the same instant is refused, not raced. */
  private readonly answering = new Set<string>();

  constructor(store: LedgerStore) {
    this.db = store.sublevel("confirmation-links");
  }

  /** A new link's secrets; the link is stored only by `save`, after delivery. */
  static newSecrets(): LinkSecrets {
    const code = Array.from({ length: CODE_LENGTH }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join("");
    return { token: randomBytes(32).toString("base64url"), code };
  }

  static newLinkId(): string {
    return randomBytes(16).toString("hex");
  }

  /** The link of a record, if one was issued (one per record, ever). */
  async ofRecord(recordId: string): Promise<ConfirmationLink | undefined> {
    const linkId = await this.db.get(`r!${recordId}`);
    return linkId === undefined ? undefined : this.get(linkId);
  }

  async get(linkId: string): Promise<ConfirmationLink | undefined> {
    const value = await this.db.get(`l!${linkId}`);
    return value === undefined ? undefined : (JSON.parse(value) as ConfirmationLink);
  }

  /** The link a token or a code opens, if any. */
  async bySecret(secret: string): Promise<ConfirmationLink | undefined> {
    const candidates = [secret, normaliseCode(secret)];
    for (const candidate of candidates) {
      const linkId = await this.db.get(`s!${digestOf(candidate)}`);
      if (linkId !== undefined) return this.get(linkId);
    }
    return undefined;
  }

  /** Stores a new link under the digests of its secrets. */
  async save(link: ConfirmationLink, secrets: LinkSecrets): Promise<void> {
    await this.db.batch(
      [
        { type: "put", key: `l!${link.linkId}`, value: JSON.stringify(link) },
        { type: "put", key: `r!${link.recordId}`, value: link.linkId },
        { type: "put", key: `s!${digestOf(secrets.token)}`, value: link.linkId },
        { type: "put", key: `s!${digestOf(secrets.code)}`, value: link.linkId },
      ],
      SYNCED,
    );
  }

  /**
   * Runs `answer` holding the link, then marks it answered. The link is marked before its entry
   * is logged (`answer` logs it): a crash between the two loses that one answer, but never lets
   * a link be answered twice. Resolves to false when the link was answered or is being answered.
   */
  async answerOnce<T>(
    linkId: string,
    answerId: string,
    answeredAt: number,
    answer: () => Promise<T>,
  ): Promise<{ done: true; value: T } | { done: false }> {
    if (this.answering.has(linkId)) return { done: false };
    this.answering.add(linkId);
    try {
      const link = await this.get(linkId);
      if (!link || link.answerId !== undefined) return { done: false };
      const answered: ConfirmationLink = { ...link, answerId, answeredAt };
      await this.db.batch([{ type: "put", key: `l!${linkId}`, value: JSON.stringify(answered) }], SYNCED);
      return { done: true, value: await answer() };
    } finally {
      this.answering.delete(linkId);
    }
  }

  /**
   * Every link (for evaluation reports: how many were issued, and how delivered), read at once:
   * no iterator stays open while the caller works (an open one pins a snapshot of the whole
   * store, which would keep an erased record's old value on disk; LedgerStore.replaceErased).
   */
  async all(): Promise<ConfirmationLink[]> {
    const values = await this.db.values({ gte: "l!", lt: "l~" }).all();
    return values.map((value) => JSON.parse(value) as ConfirmationLink);
  }
}
