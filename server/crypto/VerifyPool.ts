/**
 * A pool of worker threads for the signature and hashing work of batch submissions, so that it
 * runs on the machine's other cores while the main thread serves HTTP and writes LevelDB.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { Eip712Domain } from "../core/eip712.ts";
import type { RecordEnvelope } from "../core/record.ts";
import type { DeriveOutcome, DerivedRecord } from "./deriveRecord.ts";

type Pending = { resolve: (r: DeriveOutcome[]) => void; reject: (e: Error) => void };

export class VerifyPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private nextWorker = 0;
  /** Resolves once every worker has loaded its code and can take work (rejects if one fails). */
  readonly ready: Promise<void>;

  /**
   * `size` workers, by default one per core: the main thread mostly waits on them and on
   * LevelDB while a batch is checked, so a worker on every core keeps every core busy.
   */
  constructor(size = availableParallelism()) {
    const loaded: Array<Promise<void>> = [];
    this.workers = Array.from({ length: size }, () => {
      const worker = new Worker(new URL("./verifyWorker.ts", import.meta.url));
      loaded.push(
        new Promise((resolve, reject) => {
          worker.once("message", () => resolve());
          worker.once("error", reject);
        }),
      );
      worker.on("message", (message: { id: number; results?: DeriveOutcome[]; error?: string }) => {
        const job = this.pending.get(message.id);
        if (!job) return;
        this.pending.delete(message.id);
        if (message.results) job.resolve(message.results);
        else job.reject(new Error(message.error ?? "worker failed"));
      });
      worker.on("error", (error) => {
        for (const job of this.pending.values()) job.reject(error);
        this.pending.clear();
      });
      return worker;
    });
    this.ready = Promise.all(loaded).then(() => undefined);
    this.ready.catch(() => {}); // also reported to whoever awaits it
  }

  /**
   * Derives every item, spread over the workers in chunks; results in input order. Rejects if
   * any item cannot be derived (see deriveEach for an answer per item).
   */
  async derive(
    domain: Eip712Domain,
    items: Array<{ envelope: RecordEnvelope; signature: string }>,
  ): Promise<DerivedRecord[]> {
    const outcomes = await this.deriveEach(domain, items);
    const failed = outcomes.find((o): o is { error: string } => "error" in o);
    if (failed) throw new Error(failed.error);
    return outcomes as DerivedRecord[];
  }

  /**
   * Derives every item, spread over the workers in chunks; an outcome per item, in input order:
   * an item that cannot be derived fails alone. Rejects only if a worker itself fails.
   */
  async deriveEach(
    domain: Eip712Domain,
    items: Array<{ envelope: RecordEnvelope; signature: string }>,
  ): Promise<DeriveOutcome[]> {
    const chunk = Math.max(1, Math.ceil(items.length / this.workers.length));
    const parts: Array<Promise<DeriveOutcome[]>> = [];
    for (let at = 0; at < items.length; at += chunk) {
      const id = this.nextId++;
      const worker = this.workers[this.nextWorker++ % this.workers.length]!;
      parts.push(
        new Promise((resolve, reject) => {
          this.pending.set(id, { resolve, reject });
          worker.postMessage({ id, domain, items: items.slice(at, at + chunk) });
        }),
      );
    }
    return (await Promise.all(parts)).flat();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
