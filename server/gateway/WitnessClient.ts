/**
 * The gateway's side of tlog-witness: after each signed checkpoint, every configured witness is
 * sent it with a consistency proof from the size that witness last cosigned, and the
 * cosignatures that come back are stored on the note (SignedCheckpoints.addSignatures), so that
 * GET /tlog/checkpoint serves them. A witness's size is learnt from its 409 answers (the spec's
 * `text/x.tlog.size` body), so nothing about witnesses needs to be stored besides their lines.
 *
 * Witnesses that lag or refuse are reported: a log line per failed attempt, the lag in leaves of
 * each (metric), and the quorum's state for /readyz: not ready once the latest checkpoint has
 * lacked `quorum` cosignatures for longer than `maxWaitMs`.
 */
import { Gauge, type Registry } from "prom-client";
import type { Clock } from "../core/clock.ts";
import { DutyproofError } from "../core/errors.ts";
import type { Hash } from "../core/merkle/hasher.ts";
import { parseCheckpoint, parseNote } from "../core/note.ts";
import { type WitnessEndpoint, formatAddCheckpointRequest, readCosignatures } from "../core/witness.ts";
import type { SignedCheckpoints } from "./SignedCheckpoints.ts";

/** What the gateway knows of one witness. */
export interface WitnessStatus {
  /** The witness key's name. */
  name: string;
  url: string;
  /** Size of the latest checkpoint it cosigned for this gateway (0: none yet). */
  cosignedSize: number;
  /** Leaves between the latest signed checkpoint and the latest one it cosigned. */
  lagLeaves: number;
  /** Why the last attempt failed (status and reason, or the network error); absent after success. */
  lastError?: string;
}

export interface WitnessClientOptions {
  witnesses: readonly WitnessEndpoint[];
  /** Cosignatures a checkpoint needs; 1 ≤ quorum ≤ witnesses. */
  quorum: number;
  checkpoints: SignedCheckpoints;
  /** A consistency proof between two sizes of the log (LedgerStore.consistencyProof). */
  consistencyProof: (size1: number, size2: number) => Promise<Hash[]>;
  clock: Clock;
  /** How long the latest checkpoint may lack quorum before /readyz says not ready. */
  maxWaitMs: number;
  /** How often lagging witnesses are asked again when no new checkpoint comes. */
  retryMs?: number;
  /** Per-request time limit. */
  timeoutMs?: number;
  log?: (level: "info" | "warn", message: string) => void;
}

interface WitnessState extends WitnessStatus {
  endpoint: WitnessEndpoint;
  /** The size the witness last told us (200 or 409), the old size of the next request. */
  knownSize: number;
}

export class WitnessClient {
  private readonly options: WitnessClientOptions;
  private readonly states: WitnessState[];
  private sending: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  /** When the latest signed checkpoint was first seen without quorum; undefined while quorum holds. */
  private lackingSince: number | undefined;

  constructor(options: WitnessClientOptions) {
    if (!Number.isInteger(options.quorum) || options.quorum < 1 || options.quorum > options.witnesses.length) {
      throw new Error(`WITNESS_QUORUM must be between 1 and the ${options.witnesses.length} witnesses listed`);
    }
    this.options = options;
    this.states = options.witnesses.map((endpoint) => ({
      endpoint,
      name: endpoint.verifier.name,
      url: endpoint.url,
      cosignedSize: 0,
      lagLeaves: 0,
      knownSize: 0,
    }));
  }

  /** Sends the latest checkpoint now and then every `retryMs` to witnesses that lag. */
  start(): void {
    void this.sendLatest();
    const retryMs = this.options.retryMs ?? 30_000;
    this.timer = setInterval(() => {
      if (this.states.some((s) => s.lagLeaves > 0 || s.lastError)) void this.sendLatest();
    }, retryMs);
    this.timer.unref();
  }

  stop(): Promise<void> {
    clearInterval(this.timer);
    return this.sending;
  }

  /**
   * Sends the latest signed checkpoint to every witness that has not cosigned it; one round at a
   * time. Never rejects: a round that fails (the store unreadable) is logged and tried again later.
   */
  sendLatest(): Promise<void> {
    const run = this.sending.then(() =>
      this.round().catch((error: unknown) =>
        (this.options.log ?? (() => {}))("warn", `witnesses: the round failed: ${String(error)}`),
      ),
    );
    this.sending = run;
    return run;
  }

  /** Each witness's state, for /readyz and the metric. */
  status(): WitnessStatus[] {
    return this.states.map(({ name, url, cosignedSize, lagLeaves, lastError }) => ({
      name,
      url,
      cosignedSize,
      lagLeaves,
      ...(lastError ? { lastError } : {}),
    }));
  }

  /** Whether the latest checkpoint has quorum, or has lacked it for at most `maxWaitMs`. */
  quorumState(): { ready: boolean; cosigned: number; quorum: number; lackingForMs?: number } {
    const size = this.options.checkpoints.signedSize;
    const cosigned = this.states.filter((s) => s.cosignedSize === size).length;
    const quorum = this.options.quorum;
    if (size === 0 || cosigned >= quorum) return { ready: true, cosigned, quorum };
    const lackingForMs = this.options.clock.now() - (this.lackingSince ?? this.options.clock.now());
    return { ready: lackingForMs <= this.options.maxWaitMs, cosigned, quorum, lackingForMs };
  }

  private async round(): Promise<void> {
    const latest = this.options.checkpoints.latest();
    if (!latest) return;
    const text = parseNote(latest.note).text;
    const size = parseCheckpoint(text).size;
    await Promise.all(
      this.states.filter((s) => s.cosignedSize !== size).map((s) => this.sendTo(s, size, latest.note, text)),
    );
    for (const s of this.states) s.lagLeaves = Math.max(0, this.options.checkpoints.signedSize - s.cosignedSize);
    const cosigned = this.states.filter((s) => s.cosignedSize === size).length;
    if (cosigned >= this.options.quorum) this.lackingSince = undefined;
    else this.lackingSince ??= this.options.clock.now();
  }

  /** One witness: at most three tries, each after learning its size from a 409. */
  private async sendTo(state: WitnessState, size: number, note: string, text: string): Promise<void> {
    const log = this.options.log ?? (() => {});
    for (let attempt = 0; attempt < 3; attempt++) {
      const oldSize = state.knownSize <= size ? state.knownSize : 0;
      const proof = oldSize === 0 || oldSize === size ? [] : await this.options.consistencyProof(oldSize, size);
      let status: number;
      let body: string;
      let contentType: string;
      try {
        const response = await fetch(`${state.endpoint.url}/add-checkpoint`, {
          method: "POST",
          headers: { "content-type": "text/plain; charset=utf-8" },
          body: formatAddCheckpointRequest({ oldSize, proof, note }),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
        });
        status = response.status;
        contentType = response.headers.get("content-type") ?? "";
        body = await response.text();
      } catch (error) {
        state.lastError = `unreachable: ${error instanceof Error ? error.message : String(error)}`;
        log("warn", `witness ${state.name}: ${state.lastError}`);
        return;
      }
      if (status === 409 && contentType.startsWith("text/x.tlog.size") && /^(0|[1-9][0-9]{0,15})\n$/.test(body)) {
        const theirs = Number(body.trim());
        if (theirs > size) {
          // It cosigned a larger checkpoint of this log than the latest one signed here: the
          // gateway's state was restored from an older copy, or someone else signs with its key.
          state.lastError = `the witness holds size ${theirs}, above this log's signed size ${size}`;
          log("warn", `witness ${state.name}: ${state.lastError}`);
          return;
        }
        if (theirs === state.knownSize) break;
        state.knownSize = theirs;
        continue;
      }
      if (status === 200) {
        try {
          const lines = readCosignatures(text, body, state.endpoint.verifier);
          await this.options.checkpoints.addSignatures(size, lines);
        } catch (error) {
          if (!(error instanceof DutyproofError)) throw error;
          state.lastError = `answered without a valid cosignature: ${error.message}`;
          log("warn", `witness ${state.name}: ${state.lastError}`);
          return;
        }
        state.knownSize = size;
        state.cosignedSize = size;
        delete state.lastError;
        log("info", `witness ${state.name} cosigned size ${size}`);
        return;
      }
      state.lastError = `refused with ${status}: ${body.split("\n")[0]!.slice(0, 200)}`;
      log("warn", `witness ${state.name}: ${state.lastError}`);
      return;
    }
    state.lastError = `its size ${state.knownSize} did not settle`;
    log("warn", `witness ${state.name}: ${state.lastError}`);
  }
}

/** Registers `dutyproof_witness_lag_leaves{witness}` and `dutyproof_witness_quorum_ok` on a metrics registry. */
export function registerWitnessMetrics(registry: Registry, client: WitnessClient): void {
  new Gauge({
    name: "dutyproof_witness_lag_leaves",
    help: "Leaves between the latest signed checkpoint and the latest one each witness cosigned",
    labelNames: ["witness"],
    registers: [registry],
    collect() {
      this.reset();
      for (const w of client.status()) this.set({ witness: w.name }, w.lagLeaves);
    },
  });
  new Gauge({
    name: "dutyproof_witness_quorum_ok",
    help: "1 while the latest signed checkpoint has its quorum of cosignatures (or lacks it for less than WITNESS_MAX_WAIT_MS)",
    registers: [registry],
    collect() {
      this.set(client.quorumState().ready ? 1 : 0);
    },
  });
}

/** The /readyz check line of the witnesses: "ok", or why the quorum is missing. */
export function witnessReadiness(client: WitnessClient): { ready: boolean; check: string } {
  const q = client.quorumState();
  const lagging = client
    .status()
    .filter((w) => w.lagLeaves > 0 || w.lastError)
    .map((w) => `${w.name}${w.lastError ? ` (${w.lastError})` : ` lags ${w.lagLeaves} leaves`}`);
  if (q.cosigned >= q.quorum || lagging.length === 0) return { ready: true, check: "ok" };
  const check = `${q.cosigned} of ${q.quorum} cosignatures on the latest checkpoint; ${lagging.join("; ")}`;
  return { ready: q.ready, check };
}
