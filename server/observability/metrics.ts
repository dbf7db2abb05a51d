/**
 * Prometheus metrics of one gateway (prom-client), served at GET /metrics. Each gateway has its
 * own registry, so several gateways in one process (tests) do not mix their figures. Gauges are
 * read from their sources at scrape time; nothing is sampled in the background.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Where the figures come from; every function is called once a scrape. */
export interface MetricsSource {
  /** Leaves in the local log. */
  logSize: () => number;
  /** Size of the latest anchored checkpoint, and when the oldest leaf after it was accepted (ms). */
  anchored: () => Promise<{ size: number; oldestWaitingSince?: number }>;
  /** Anchoring attempts that failed since start. */
  anchorFailures: () => number;
  /** The chain's latest block number (throws when the node does not answer). */
  chainHead: () => Promise<number>;
  /** Bytes of the record store on disk. */
  storeBytes: () => number;
  /** Size of a checkpoint on chain that is not the gateway's tree (operator key stolen); 0 if none. */
  foreignCheckpointSize?: () => number;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<"method" | "route" | "status">;
  private readonly durations: Histogram<"method" | "route">;

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: "dutyproof_http_requests_total",
      help: "HTTP requests answered, by route template and status",
      labelNames: ["method", "route", "status"],
      registers,
    });
    this.durations = new Histogram({
      name: "dutyproof_http_request_duration_seconds",
      help: "Time to answer an HTTP request",
      labelNames: ["method", "route"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    let counted = source.logSize();
    new Counter({
      name: "dutyproof_records_accepted_total",
      help: "Records appended to the log since the gateway started (rate() of it is the ingest rate)",
      registers,
      collect() {
        const size = source.logSize();
        if (size > counted) this.inc(size - counted);
        counted = size;
      },
    });
    new Gauge({
      name: "dutyproof_log_size_leaves",
      help: "Leaves in the local Merkle log",
      registers,
      collect() {
        this.set(source.logSize());
      },
    });
    // One read of the store per scrape, shared by the three gauges that need it.
    let anchoredRead: { at: number; value: ReturnType<MetricsSource["anchored"]> } | null = null;
    const anchored = () => {
      if (!anchoredRead || Date.now() - anchoredRead.at > 250)
        anchoredRead = { at: Date.now(), value: source.anchored() };
      return anchoredRead.value;
    };
    new Gauge({
      name: "dutyproof_anchored_size_leaves",
      help: "Size of the latest checkpoint anchored on chain",
      registers,
      async collect() {
        this.set((await anchored()).size);
      },
    });
    new Gauge({
      name: "dutyproof_unanchored_leaves",
      help: "Leaves accepted but not yet covered by an anchored checkpoint (backlog)",
      registers,
      async collect() {
        this.set(Math.max(0, source.logSize() - (await anchored()).size));
      },
    });
    new Gauge({
      name: "dutyproof_checkpoint_lag_seconds",
      help: "How long the oldest unanchored leaf has waited; 0 when everything is anchored",
      registers,
      async collect() {
        const { oldestWaitingSince } = await anchored();
        this.set(oldestWaitingSince === undefined ? 0 : Math.max(0, (Date.now() - oldestWaitingSince) / 1000));
      },
    });
    let reportedFailures = 0;
    new Counter({
      name: "dutyproof_anchor_failures_total",
      help: "Anchoring attempts that failed (chain unreachable, transaction refused, ...)",
      registers,
      collect() {
        const failures = source.anchorFailures();
        if (failures > reportedFailures) this.inc(failures - reportedFailures);
        reportedFailures = failures;
      },
    });
    const chainUp = new Gauge({
      name: "dutyproof_chain_up",
      help: "1 when the chain's RPC endpoint answered this scrape, else 0",
      registers,
    });
    new Gauge({
      name: "dutyproof_chain_head_block",
      help: "Latest block number of the chain, as the gateway's endpoint reports it",
      registers,
      async collect() {
        try {
          this.set(await source.chainHead());
          chainUp.set(1);
        } catch {
          chainUp.set(0);
        }
      },
    });
    new Gauge({
      name: "dutyproof_foreign_checkpoint_size_leaves",
      help: "Size of a checkpoint the chain holds for this log that is not the gateway's tree (someone else anchored with the operator key; anchoring stopped); 0 if none",
      registers,
      collect() {
        this.set(source.foreignCheckpointSize?.() ?? 0);
      },
    });
    new Gauge({
      name: "dutyproof_store_size_bytes",
      help: "Bytes of the LevelDB record store on disk",
      registers,
      collect() {
        this.set(source.storeBytes());
      },
    });
  }

  /** Counts one answered request under its route template (never the raw path: ids are unbounded). */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.durations.observe({ method, route }, seconds);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
