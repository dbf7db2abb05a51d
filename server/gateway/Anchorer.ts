/**
 * The anchoring pipeline. Every `intervalMs`, or as soon as `maxLeaves` leaves are waiting, it
 * anchors the log's current size with a consistency proof from the size the chain holds. The
 * signed transaction is stored before it is sent; on every tick an unconfirmed checkpoint is
 * reconciled with the chain (confirmed, re-sent as is, or re-signed with a fresh nonce when the
 * chain lost it), so each checkpoint ends up anchored exactly once, across crashes too.
 *
 * It also watches the chain's head of its log: a checkpoint there that is not this store's tree
 * (someone else anchored with the operator key) stops the pipeline for good and raises the alarm
 * (`foreignCheckpoint`, /readyz, /metrics, an error log line); docs/operations.md, "Recovering
 * from a stolen operator key", says what the operator does next.
 */
import { type Contract, type JsonRpcProvider, Transaction, type Wallet } from "ethers";
import { bytesToHex } from "../core/bytes.ts";
import type { Clock } from "../core/clock.ts";
import { systemClock } from "../clock.ts";
import type { LedgerStore, StoredCheckpoint } from "../store/LedgerStore.ts";
import { faultPoint } from "../faultPoint.ts";

export interface AnchorerOptions {
  store: LedgerStore;
  ledger: Contract;
  wallet: Wallet;
  provider: JsonRpcProvider;
  logId: string;
  intervalMs: number;
  maxLeaves: number;
  confirmations?: number;
  /** How long one tick waits for its transaction to be mined before leaving it to the next tick. */
  receiptTimeoutMs?: number;
  /** Makes the chain's state durable before a checkpoint is marked anchored (embedded node). */
  persistChain?: () => Promise<void>;
  log?: (message: string) => void;
  /** Called once when a foreign checkpoint is found, with a one-line description. */
  onForeignCheckpoint?: (foreign: ForeignCheckpoint, message: string) => void;
  /**
   * Called when a checkpoint is confirmed on chain, before it is stored as anchored: what every
   * receipt of it must carry (its signed note) is made here, so no receipt is served anchored
   * without it. If it throws, the checkpoint stays 'sent' and a later tick calls it again.
   */
  onConfirmed?: (checkpoint: StoredCheckpoint) => Promise<void>;
  /** Called once a checkpoint is stored as anchored, e.g. to send it to witnesses. */
  onAnchored?: (checkpoint: StoredCheckpoint) => Promise<void>;
  /**
   * What "now" is: when an interval is due and when a checkpoint was created (the system clock
   * when absent). The ticks themselves stay timers: a clock set by a test decides what is due.
   */
  clock?: Clock;
}

/** A checkpoint the chain holds for this log that is not the gateway's own tree. */
export interface ForeignCheckpoint {
  size: number; // leaves in the foreign checkpoint
  chainRoot: string; // the root the chain holds for that size
  storeRoot: string | null; // the store's root at that size; null when the store has fewer leaves
  storeSize: number; // leaves in the store when it was found
  lastOwnSize: number; // the latest checkpoint this gateway anchored itself: where to seal the log
}

export class Anchorer {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private lastAttempt = 0;
  private stopped = false;
  /** Size of the latest checkpoint this pipeline created (sent or anchored). */
  private checkpointSize = 0;
  /** Last error seen, for /readyz and logs; cleared by a successful tick. */
  lastError: string | null = null;
  /** Failed ticks since start (for /metrics). */
  failures = 0;
  /** Set when the chain holds a checkpoint of this log that the store does not give; anchoring stops. */
  foreignCheckpoint: ForeignCheckpoint | null = null;
  /** The chain head size last found to be this store's tree, so an idle gateway reads no roots. */
  private checkedChainSize = 0;
  private lastHeadCheck = 0;

  private readonly options: AnchorerOptions;

  private readonly clock: Clock;

  constructor(options: AnchorerOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
  }

  start(): void {
    this.stopped = false;
    const period = Math.max(50, Math.min(this.options.intervalMs, 500));
    this.timer = setInterval(() => void this.tick(), period);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    while (this.running) await this.running;
  }

  /** The store grew: anchor now if `maxLeaves` leaves are waiting, else at the next interval. */
  poke(): void {
    if (!this.stopped && this.options.store.treeSize - this.checkpointSize >= this.options.maxLeaves) void this.tick();
  }

  /** One step of the pipeline; concurrent calls share the step in progress. */
  tick(): Promise<void> {
    this.running ??= this.step()
      .then(() => {
        this.lastError = null;
      })
      .catch((error: unknown) => {
        this.failures++;
        this.lastError = this.describe(error);
        this.options.log?.(`anchoring: ${this.lastError}`);
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  /** An error in one line; a revert of the ledger by its custom error ("DutyLedgerNotLogOperator(…)"). */
  private describe(error: unknown): string {
    const e = error as { data?: unknown; info?: { error?: { data?: unknown } }; shortMessage?: string };
    const data = [e?.data, e?.info?.error?.data].find((d): d is string => typeof d === "string" && d.length >= 10);
    if (data) {
      const revert = this.options.ledger.interface.parseError(data);
      if (revert) return `the ledger refused the anchor: ${revert.name}(${[...revert.args].join(", ")})`;
    }
    return e?.shortMessage ?? (error instanceof Error ? error.message : String(error));
  }

  private async step(): Promise<void> {
    const { store } = this.options;
    // Nothing this gateway anchors can extend a foreign checkpoint; only the admin's seal helps.
    if (this.foreignCheckpoint) return;
    if (this.clock.now() - this.lastHeadCheck >= this.options.intervalMs) {
      this.lastHeadCheck = this.clock.now();
      const [chainSize, chainCheckpoint] = await this.options.ledger.getFunction("latestCheckpoint")(
        this.options.logId,
      );
      await this.checkChainHead(Number(chainSize), chainCheckpoint.root);
    }
    const [latest] = await store.listCheckpoints({ reverse: true, limit: 1 });
    this.checkpointSize = latest?.size ?? 0;
    if (latest?.status === "sent") {
      await this.reconcile(latest);
      return;
    }
    const anchoredSize = latest?.size ?? 0;
    const waiting = store.treeSize - anchoredSize;
    if (waiting <= 0) return;
    const due = waiting >= this.options.maxLeaves || this.clock.now() - this.lastAttempt >= this.options.intervalMs;
    if (!due) return;
    this.lastAttempt = this.clock.now();
    await this.send(store.treeSize);
  }

  private async onChainCheckpoint(
    size: number,
  ): Promise<{ found: boolean; root: string; anchoredAt: number; blockNumber: number }> {
    const [found, checkpoint] = await this.options.ledger.getFunction("checkpointAt")(this.options.logId, size);
    return {
      found,
      root: checkpoint.root,
      anchoredAt: Number(checkpoint.anchoredAt),
      blockNumber: Number(checkpoint.blockNumber),
    };
  }

  /**
   * Throws, and stops the pipeline, unless the chain's latest checkpoint of the log (`size`,
   * `root`) is the store's own tree. Every checkpoint this gateway anchors is of its store, which
   * never shrinks, so a head beyond the store or with another root was anchored by someone else
   * holding the operator key.
   */
  private async checkChainHead(size: number, root: string): Promise<void> {
    if (size === 0 || size === this.checkedChainSize) return;
    const { store } = this.options;
    const storeSize = store.treeSize;
    const storeRoot = size <= storeSize ? bytesToHex(await store.rootAt(size)) : null;
    if (storeRoot === root) {
      this.checkedChainSize = size;
      return;
    }
    const own = (await store.listCheckpoints({ reverse: true, limit: 50 })).find(
      (c) => c.status === "anchored" && c.logId === undefined && c.size < size,
    );
    const foreign: ForeignCheckpoint = { size, chainRoot: root, storeRoot, storeSize, lastOwnSize: own?.size ?? 0 };
    const message =
      `foreign checkpoint on chain: log ${this.options.logId} size ${size} has root ${root} on chain, ` +
      (storeRoot === null
        ? `but the store has only ${storeSize} leaves`
        : `the store's root at that size is ${storeRoot}`) +
      `; the last checkpoint this gateway anchored is size ${foreign.lastOwnSize}; anchoring stopped: the operator key ` +
      `is in other hands (docs/operations.md, "Recovering from a stolen operator key")`;
    if (!this.foreignCheckpoint) {
      this.foreignCheckpoint = foreign;
      (this.options.onForeignCheckpoint ?? ((_, m) => this.options.log?.(m)))(foreign, message);
    }
    throw new Error(message);
  }

  /** Signs, stores, then sends the anchor transaction for `size`. */
  private async send(size: number, replacing?: StoredCheckpoint): Promise<void> {
    const { store, ledger, wallet, provider, logId } = this.options;
    const [chainSizeRaw, chainCheckpoint] = await ledger.getFunction("latestCheckpoint")(logId);
    const chainSize = Number(chainSizeRaw);
    // Before the size comparison: a thief's checkpoint beyond the store is foreign, not "backwards".
    await this.checkChainHead(chainSize, chainCheckpoint.root);
    if (chainSize >= size) {
      throw new Error(`the chain already holds size ${chainSize} >= ${size}; refusing to anchor backwards`);
    }
    await this.checkChainHead(chainSize, chainCheckpoint.root);
    const root = bytesToHex(await store.rootAt(size));
    const proof = chainSize === 0 ? [] : (await store.consistencyProof(chainSize, size)).map(bytesToHex);
    const nonce = await provider.getTransactionCount(wallet.address, "pending");
    const request = await ledger.getFunction("anchor").populateTransaction(logId, size, root, proof);
    const populated = await wallet.populateTransaction({ ...request, nonce });
    const rawTransaction = await wallet.signTransaction(populated);
    const txHash = Transaction.from(rawTransaction).hash!;
    const checkpoint: StoredCheckpoint = {
      size,
      root,
      previousSize: chainSize,
      status: "sent",
      createdAt: replacing?.createdAt ?? this.clock.now(),
      nonce,
      txHash,
      rawTransaction,
    };
    await store.putCheckpoint(checkpoint);
    faultPoint("anchor.stored");
    this.checkpointSize = size;
    await this.broadcast(rawTransaction);
    faultPoint("anchor.sent");
    await this.reconcile(checkpoint);
  }

  private async broadcast(rawTransaction: string): Promise<void> {
    try {
      await this.options.provider.broadcastTransaction(rawTransaction);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // Already known or already mined: the reconciliation below sorts it out.
      if (!/already known|nonce too low|already imported|known transaction/i.test(message)) throw error;
    }
  }

  /** Brings a stored 'sent' checkpoint to 'anchored', re-sending or re-signing as needed. */
  private async reconcile(checkpoint: StoredCheckpoint): Promise<void> {
    const { provider, store } = this.options;
    const onChain = await this.onChainCheckpoint(checkpoint.size);
    if (onChain.found) {
      if (onChain.root !== checkpoint.root) {
        throw new Error(`the chain holds another root for size ${checkpoint.size}: ${onChain.root}`);
      }
      // Final only with enough blocks on top of it (CONFIRMATIONS); until then it stays 'sent'
      // and its receipts pending, and a later tick looks again.
      const confirmations = this.options.confirmations ?? 1;
      if (confirmations > 1 && (await provider.getBlockNumber()) - onChain.blockNumber + 1 < confirmations) return;
      await this.options.persistChain?.();
      faultPoint("anchor.confirmed");
      const anchored: StoredCheckpoint = {
        ...checkpoint,
        status: "anchored",
        blockNumber: onChain.blockNumber,
        anchoredAt: onChain.anchoredAt,
        rawTransaction: undefined,
      };
      await this.options.onConfirmed?.(anchored);
      await store.putCheckpoint(anchored);
      faultPoint("anchor.marked");
      await this.options.onAnchored?.(anchored);
      this.options.log?.(`anchored size ${checkpoint.size} in block ${onChain.blockNumber}`);
      return;
    }
    const receipt = await provider.getTransactionReceipt(checkpoint.txHash!);
    if (receipt && receipt.status === 0) {
      // Reverted (the chain's head moved under it): sign again from the chain's current head.
      await this.send(checkpoint.size, checkpoint);
      return;
    }
    const known = receipt ?? (await provider.getTransaction(checkpoint.txHash!));
    if (!known) {
      // Dropped, or lost with blocks the node forgot: the same bytes if the nonce still fits,
      // else a fresh signature.
      const chainNonce = await provider.getTransactionCount(this.options.wallet.address, "pending");
      if (chainNonce === checkpoint.nonce) await this.broadcast(checkpoint.rawTransaction!);
      else {
        await this.send(checkpoint.size, checkpoint);
        return;
      }
    }
    const mined = await this.waitMined(checkpoint.txHash!);
    if (mined?.status === 1) await this.reconcile(checkpoint);
  }

  /**
   * Polls for the receipt until it has enough confirmations or the time is up (null). A plain
   * loop rather than ethers' block subscriptions, whose background polling would turn an
   * endpoint that goes away into an unhandled rejection. The time is counted in polls 100 ms
   * apart (a timer, like the ticks): a clock a test holds still must not make it wait forever.
   */
  private async waitMined(txHash: string) {
    const { provider } = this.options;
    const polls = Math.ceil((this.options.receiptTimeoutMs ?? 30_000) / 100);
    for (let poll = 0; !this.stopped; poll++) {
      const receipt = await provider.getTransactionReceipt(txHash);
      if (receipt && (await receipt.confirmations()) >= (this.options.confirmations ?? 1)) return receipt;
      if (poll >= polls) return null;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return null;
  }
}
