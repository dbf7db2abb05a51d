/**
 * Anonymous tips about formalism (匿名线索), the use case: units register their members' Semaphore
 * identity commitments in one tip group; a member proves membership anonymously to send a tip,
 * once per category per month; departments reply; the sender reads replies with a tracking
 * code only it knows. Every change is a "DPT1" leaf of the log (core/tip.ts).
 *
 * The index beside the log (members, roots, nullifiers, tracking ids, replies) is derived from
 * the log's entries and caught up after every append and on open, so a crash between the log
 * write and the index write loses nothing: the log is the truth.
 */
import { Group } from "@semaphore-protocol/group";
import { verifyTipProof } from "../audit/tipProofs.ts";
import { bytesToHex, hexToBytes } from "../core/bytes.ts";
import type { Clock } from "../core/clock.ts";
import { DutyproofError } from "../core/errors.ts";
import { RateLimiter } from "../core/rateLimit.ts";
import {
  type SemaphoreProof,
  TIP_CATEGORIES,
  TIP_PROOF_DEPTH,
  type TipBody,
  type TipContent,
  type TipLogBody,
  type TipReplyBody,
  monthOf,
  tipBodyDigest,
  tipContentDigest,
  tipLeafHashOf,
  tipMessage,
  tipScope,
  trackingIdOf,
} from "../core/tip.ts";
import type { LedgerStore, StoredTipEntry } from "../store/LedgerStore.ts";
import { type IndexPut, LogIndexCursor } from "../store/LogIndexCursor.ts";
import type { Access } from "./access.ts";

/** The SNARK scalar field: a commitment is an element of it. */
const SNARK_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

export interface TipSettings {
  /** A tip's group root must be one of the group's last this many roots. */
  rootWindow: number;
  /** Fewest active members a root's group may have for a tip proved against it. */
  minGroupSize: number;
  /** Tips accepted per minute from everyone together (no client is told apart). */
  tipsPerMinute: number;
}

export const defaultTipSettings: TipSettings = { rootWindow: 32, minGroupSize: 5, tipsPerMinute: 30 };

/** The tip settings from DUTYPROOF_TIP_MIN_GROUP, DUTYPROOF_TIP_ROOT_WINDOW and DUTYPROOF_TIPS_PER_MINUTE. */
export function tipSettingsFromEnvironment(env: NodeJS.ProcessEnv = process.env): TipSettings {
  const number = (name: string, fallback: number, min: number) => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer of at least ${min}`);
    return value;
  };
  return {
    minGroupSize: number("DUTYPROOF_TIP_MIN_GROUP", defaultTipSettings.minGroupSize, 2),
    rootWindow: number("DUTYPROOF_TIP_ROOT_WINDOW", defaultTipSettings.rootWindow, 1),
    tipsPerMinute: number("DUTYPROOF_TIPS_PER_MINUTE", defaultTipSettings.tipsPerMinute, 1),
  };
}

export interface TipServiceOptions {
  store: LedgerStore;
  /** The log's id: every tip's scope names it, so a proof made for another log is refused. */
  logId: string;
  clock: Clock;
  settings?: TipSettings;
  /** Called after an entry was appended (to wake the anchorer). */
  onAppended?: () => void;
}

interface MemberRow {
  commitment: string;
  unitId: string;
  removed?: boolean;
}

const pad = (n: number) => n.toString().padStart(12, "0");
const decimalText = /^(0|[1-9][0-9]{0,77})$/;

export class TipService {
  private readonly store: LedgerStore;
  private readonly index: ReturnType<LedgerStore["sublevel"]>;
  private readonly logId: string;
  private readonly clock: Clock;
  private readonly settings: TipSettings;
  private readonly limiter: RateLimiter;
  private readonly onAppended: (() => void) | undefined;
  private group = new Group();
  /** The group's recent roots, oldest first, each with its count of active members. */
  private roots: Array<{ root: string; active: number }> = [];
  private readonly cursor: LogIndexCursor;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: TipServiceOptions) {
    this.store = options.store;
    this.index = options.store.sublevel("tips");
    this.cursor = new LogIndexCursor(options.store, this.index);
    this.logId = options.logId;
    this.clock = options.clock;
    this.settings = options.settings ?? defaultTipSettings;
    this.onAppended = options.onAppended;
    this.limiter = new RateLimiter({
      perSecond: this.settings.tipsPerMinute / 60,
      burst: this.settings.tipsPerMinute,
      maxKeys: 1,
    });
  }

  /** Catches the index up with the log and loads the group. */
  async open(): Promise<void> {
    await this.catchUp();
    await this.loadGroup();
  }

  /** One change at a time: a nullifier is checked and used, a member index taken, atomically. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async loadGroup(): Promise<void> {
    const members: bigint[] = [];
    for await (const value of this.index.values({ gte: "member!", lt: "member!~" })) {
      const row = JSON.parse(value) as MemberRow;
      members.push(row.removed ? 0n : BigInt(row.commitment));
    }
    const group = new Group();
    // Removed members stay as 0 leaves, as Semaphore's removeMember leaves them.
    for (const [i, member] of members.entries()) {
      if (member === 0n) {
        group.addMember(1n);
        group.removeMember(i);
      } else group.addMember(member);
    }
    this.group = group;
    const roots: Array<{ root: string; active: number }> = [];
    for await (const value of this.index.values({
      gte: "root!",
      lt: "root!~",
      reverse: true,
      limit: this.settings.rootWindow,
    }))
      roots.unshift(JSON.parse(value) as { root: string; active: number });
    this.roots = roots;
  }

  /** Indexes every tip-group entry appended since the last call. */
  private async catchUp(): Promise<void> {
    await this.cursor.catchUp(async (page) => {
      const ops: IndexPut[] = [];
      for (const leaf of page) if (leaf.kind === "tip") ops.push(...(await this.indexOps(leaf.entry, ops)));
      return ops;
    });
  }

  /** The index rows of one entry; `pending` holds the rows of this page not yet written. */
  private async indexOps(entry: StoredTipEntry, pending: ReadonlyArray<{ key: string; value: string }>) {
    const body = entry.value.body;
    const at = pad(entry.leafIndex);
    const read = async (key: string) => pending.findLast((op) => op.key === key)?.value ?? (await this.index.get(key));
    switch (body.type) {
      case "member": {
        const seq = Number((await read("meta!changes")) ?? 0) + 1;
        const active = Number((await read("meta!active")) ?? 0) + (body.action === "add" ? 1 : -1);
        const row: MemberRow = { commitment: body.commitment, unitId: body.unitId, removed: body.action === "remove" };
        return [
          { type: "put" as const, key: `member!${pad(body.memberIndex)}`, value: JSON.stringify(row) },
          {
            type: "put" as const,
            key: `c!${body.commitment}`,
            value: JSON.stringify({ index: body.memberIndex, ...row }),
          },
          { type: "put" as const, key: `root!${pad(seq)}`, value: JSON.stringify({ root: body.root, active }) },
          { type: "put" as const, key: "meta!changes", value: String(seq) },
          { type: "put" as const, key: "meta!active", value: String(active) },
        ];
      }
      case "tip":
        return [
          { type: "put" as const, key: `n!${body.proof.nullifier}`, value: entry.entryId },
          ...(entry.value.content
            ? [{ type: "put" as const, key: `t!${entry.value.content.trackingId}`, value: entry.entryId }]
            : []),
          { type: "put" as const, key: `tip!${body.period}!${entry.entryId}`, value: "" },
        ];
      case "reply":
        return [{ type: "put" as const, key: `r!${body.tipId}!${at}`, value: entry.entryId }];
    }
  }

  private async append(body: TipLogBody, content?: TipContent): Promise<StoredTipEntry> {
    const digest = tipBodyDigest(body);
    const { entry } = await this.store.appendEntry({
      kind: "tip",
      entryId: bytesToHex(digest),
      value: content ? { body, content } : { body },
      leafHash: tipLeafHashOf(body.type, digest),
    });
    this.onAppended?.();
    await this.catchUp();
    return entry;
  }

  /** The group as a prover needs it: every leaf (removed members as "0"), root and depth. */
  groupView() {
    return {
      depth: TIP_PROOF_DEPTH,
      size: this.group.size,
      active: this.roots.at(-1)?.active ?? 0,
      root: this.group.root === undefined ? null : this.group.root.toString(),
      recentRoots: this.roots.map((r) => r.root),
      minGroupSize: this.settings.minGroupSize,
      members: this.group.members.map((m) => m.toString()),
      logId: this.logId,
      categories: TIP_CATEGORIES,
      period: monthOf(this.clock.now()),
    };
  }

  /** The scope of a category in a month of this log. */
  scope(category: (typeof TIP_CATEGORIES)[number], month: string): string {
    return tipScope(this.logId, category, month);
  }

  /** A unit registers (`add`) or withdraws (`remove`) a member's identity commitment. */
  changeMember(action: "add" | "remove", unitId: string, commitment: string) {
    return this.serial(async () => {
      if (!decimalText.test(commitment) || BigInt(commitment) === 0n || BigInt(commitment) >= SNARK_FIELD) {
        throw new DutyproofError("request.invalid", "a commitment is a decimal integer in the SNARK field, not 0", {
          errors: [{ path: "commitment", message: "not a field element" }],
        });
      }
      const known = await this.index.get(`c!${commitment}`);
      const row = known === undefined ? undefined : (JSON.parse(known) as MemberRow & { index: number });
      if (action === "add") {
        if (row) throw new DutyproofError("tip.member_exists", "this commitment is already in the tip group");
        const memberIndex = this.group.size;
        this.group.addMember(BigInt(commitment));
        return this.logMember({ action, unitId, commitment, memberIndex });
      }
      if (!row || row.removed || row.unitId !== unitId) {
        throw new DutyproofError("tip.member_unknown", "the unit has no active member with this commitment");
      }
      this.group.removeMember(row.index);
      return this.logMember({ action, unitId, commitment, memberIndex: row.index });
    });
  }

  private async logMember(change: Pick<TipMemberBodyFields, "action" | "unitId" | "commitment" | "memberIndex">) {
    try {
      const entry = await this.append({
        type: "member",
        ...change,
        root: this.group.root.toString(),
        size: this.group.size,
      });
      await this.loadGroup();
      return {
        entryId: entry.entryId,
        leafIndex: entry.leafIndex,
        root: this.group.root.toString(),
        size: this.group.size,
      };
    } catch (error) {
      await this.loadGroup(); // the group changed in memory only
      throw error;
    }
  }

  /**
   * An anonymous tip: the content and a Semaphore proof whose message is the content's digest
   * and scope its category and month. Nothing about the request but these is read or kept.
   */
  submit(content: TipContent, proof: SemaphoreProof) {
    return this.serial(async () => {
      const now = this.clock.now();
      const decision = this.limiter.take("tips", now);
      if (!decision.allowed) {
        throw new DutyproofError("request.rate_limited", "the gateway takes no more tips this minute", {
          retryAfter: decision.retryAfterSeconds,
        });
      }
      const month = monthOf(now);
      if (content.period !== month) {
        throw new DutyproofError("tip.wrong_period", `a tip is sent for the current month, ${month}`);
      }
      if (proof.scope !== tipScope(this.logId, content.category, content.period)) {
        throw new DutyproofError("tip.wrong_scope", "the proof's scope is not this log's category and month");
      }
      if (proof.message !== tipMessage(content)) {
        throw new DutyproofError("tip.wrong_message", "the proof's message is not the digest of this content");
      }
      const root = this.roots.find((r) => r.root === proof.merkleTreeRoot);
      if (!root)
        throw new DutyproofError("tip.unknown_root", "the proof is not against a recent root of the tip group");
      if (root.active < this.settings.minGroupSize) {
        throw new DutyproofError(
          "tip.group_too_small",
          `the group had ${root.active} members at that root; tips need ${this.settings.minGroupSize}`,
        );
      }
      if ((await this.index.get(`n!${proof.nullifier}`)) !== undefined) {
        throw new DutyproofError("tip.already_sent", "a tip in this category was already sent this month");
      }
      if (!(await verifyTipProof(proof)))
        throw new DutyproofError("tip.bad_proof", "the membership proof does not verify");
      if ((await this.index.get(`t!${content.trackingId}`)) !== undefined) {
        throw new DutyproofError("tip.already_sent", "a tip with this tracking id was already sent");
      }
      const body: TipBody = {
        type: "tip",
        category: content.category,
        period: content.period,
        target: content.target,
        contentDigest: tipContentDigest(content),
        proof,
      };
      const entry = await this.append(body, content);
      return { tipId: entry.entryId, leafIndex: entry.leafIndex, period: content.period };
    });
  }

  /** The sender's view, by the tracking code only the sender holds: its tip and the replies. */
  async followUp(code: string) {
    const tipId = await this.index.get(`t!${trackingIdOf(code)}`);
    if (tipId === undefined) throw new DutyproofError("tip.not_found", "no tip has this tracking code");
    return this.tipView(tipId);
  }

  private async tipView(tipId: string) {
    const tip = await this.store.getTipEntry(tipId);
    if (!tip || tip.value.body.type !== "tip") throw new DutyproofError("tip.not_found", "no tip with this id");
    const replies = [];
    for await (const replyId of this.index.values({ gte: `r!${tipId}!`, lt: `r!${tipId}!~` })) {
      const reply = await this.store.getTipEntry(replyId);
      const body = reply?.value.body as TipReplyBody | undefined;
      if (reply && body)
        replies.push({ replyId, leafIndex: reply.leafIndex, responder: body.responder, text: body.text });
    }
    const { category, period, target } = tip.value.body;
    return { tipId, leafIndex: tip.leafIndex, category, period, target, text: tip.value.content?.text, replies };
  }

  /**
   * Who may answer a tip: the department it names, or an auditor (any tip). Throws
   * request.forbidden otherwise.
   */
  private async responderFor(access: Access, token: string, target: TipBody["target"]): Promise<string> {
    if (await (access.mayAudit?.(token) ?? false)) return "auditor";
    const department = await access.departmentOf?.(token);
    if (department !== undefined && target.kind === "department" && target.id === department) return department;
    throw new DutyproofError("request.forbidden", "only the department a tip names, or an auditor, answers it");
  }

  /** A department's (or auditor's) reply to a tip, logged. */
  reply(access: Access, token: string, tipId: string, text: string) {
    return this.serial(async () => {
      const tip = await this.store.getTipEntry(tipId);
      if (!tip || tip.value.body.type !== "tip") throw new DutyproofError("tip.not_found", "no tip with this id");
      const responder = await this.responderFor(access, token, tip.value.body.target);
      const entry = await this.append({ type: "reply", tipId, responder, text });
      return { replyId: entry.entryId, leafIndex: entry.leafIndex, responder };
    });
  }

  /** Tips of a month a token may answer (its department's, or every tip for an auditor), with replies. */
  async list(access: Access, token: string, month: string) {
    const audit = await (access.mayAudit?.(token) ?? false);
    const department = audit ? undefined : await access.departmentOf?.(token);
    if (!audit && department === undefined)
      throw new DutyproofError("request.forbidden", "a department's or auditor's token");
    const tips = [];
    for await (const key of this.index.keys({ gte: `tip!${month}!`, lt: `tip!${month}!~` })) {
      const view = await this.tipView(key.slice(key.lastIndexOf("!") + 1));
      if (audit || (view.target.kind === "department" && view.target.id === department)) tips.push(view);
    }
    return { period: month, tips };
  }

  /** Counts of a month's tips by target and category: the dashboard's feed. */
  async summary(month: string) {
    const counts = new Map<string, { target: TipBody["target"]; category: string; count: number }>();
    for await (const key of this.index.keys({ gte: `tip!${month}!`, lt: `tip!${month}!~` })) {
      const tip = await this.store.getTipEntry(key.slice(key.lastIndexOf("!") + 1));
      const body = tip?.value.body;
      if (body?.type !== "tip") continue;
      const id = `${body.target.kind}:${body.target.id}:${body.category}`;
      const row = counts.get(id) ?? { target: body.target, category: body.category, count: 0 };
      row.count++;
      counts.set(id, row);
    }
    const rows = [...counts.values()].sort((a, b) => b.count - a.count);
    return { period: month, total: rows.reduce((n, r) => n + r.count, 0), rows };
  }
}

type TipMemberBodyFields = Extract<TipLogBody, { type: "member" }>;

/** A tracking code as the sender's browser makes it: 32 random bytes, 0x hex. */
export function isTrackingCode(code: string): boolean {
  return /^0x[0-9a-f]{64}$/.test(code) && hexToBytes(code).length === 32;
}
