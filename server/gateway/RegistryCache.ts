/**
 * A cache of the on-chain registry (units, duty types) so that checking a record does not cost
 * a chain call each time, and that is never behind the chain when a record is acknowledged.
 *
 * Before the checks of a record, `current()` brings the cache up to the chain's latest block:
 * one eth_blockNumber, and when blocks were added, one eth_getLogs for the registry's events in
 * them (a unit registered, its key rotated, its status changed; a duty type registered or its
 * status changed), which drop the entries they concern. A key revoked or rotated on chain
 * before a submission arrives is therefore refused, not accepted for a cache lifetime. The
 * submissions that arrive while one such round trip is in flight share the next, so the chain
 * sees about one call per group of concurrent submissions, not one per record.
 */
import { type Contract, type Provider, id } from "ethers";
import { DutyproofError } from "../core/errors.ts";

export interface UnitView {
  registered: boolean;
  active: boolean;
  level: number;
  signer: string; // lower-case
}

export interface DutyTypeView {
  registered: boolean;
  active: boolean;
}

/** Most units (and, separately, duty types) held; the oldest entries go first. */
const maxEntries = 10_000;

/** Registry events whose first indexed argument is a unit id. */
const unitEvents = [
  "UnitRegistered(bytes32,bytes32,uint8,address)",
  "UnitKeyRotated(bytes32,address,address)",
  "UnitStatusChanged(bytes32,uint8)",
].map((signature) => id(signature));
/** Registry events whose first indexed argument is a duty type id. */
const dutyTypeEvents = ["DutyTypeRegistered(bytes32,bytes32,uint256)", "DutyTypeStatusChanged(bytes32,bool)"].map(
  (signature) => id(signature),
);

type Entry<T> = { at: number; view: Promise<T> };

export class RegistryCache {
  private readonly units = new Map<string, Entry<UnitView>>();
  private readonly dutyTypes = new Map<string, Entry<DutyTypeView>>();

  private readonly ledger: Contract;
  private readonly provider: Provider;
  private readonly ttlMs: number;
  /** The cache holds every registry event up to this block; null before the first round trip. */
  private syncedBlock: number | null = null;
  private syncing: Promise<void> | null = null;
  private nextSync: Promise<void> | null = null;

  /** `ttlMs` bounds an entry's life as well (a backstop: events drop changed entries at once). */
  constructor(ledger: Contract, ttlMs = 60_000) {
    this.ledger = ledger;
    this.provider = ledger.runner!.provider!;
    this.ttlMs = ttlMs;
  }

  /**
   * Resolves once the cache reflects every registry event up to a block the chain reached after
   * this call was made. Throws chain.unreachable (503) when the chain does not answer: the
   * gateway cannot then tell whether a key is still valid, and acknowledges nothing.
   */
  current(): Promise<void> {
    if (!this.syncing) {
      this.syncing = this.sync().finally(() => (this.syncing = null));
      return this.syncing;
    }
    // The round trip in flight may have read the block number before this call: take the next.
    this.nextSync ??= this.syncing
      .catch(() => {})
      .then(() => {
        this.nextSync = null;
        return this.current();
      });
    return this.nextSync;
  }

  private async sync(): Promise<void> {
    try {
      const latest = await this.provider.getBlockNumber();
      if (this.syncedBlock === null) {
        // Entries loaded before the first round trip may predate events no one has read.
        this.units.clear();
        this.dutyTypes.clear();
      } else if (latest > this.syncedBlock) {
        const logs = await this.provider.getLogs({
          address: await this.ledger.getAddress(),
          fromBlock: this.syncedBlock + 1,
          toBlock: latest,
          topics: [[...unitEvents, ...dutyTypeEvents]],
        });
        for (const log of logs) {
          const subject = log.topics[1]?.toLowerCase();
          if (subject === undefined) continue;
          if (unitEvents.includes(log.topics[0]!)) this.units.delete(subject);
          else this.dutyTypes.delete(subject);
        }
      }
      if (this.syncedBlock === null || latest > this.syncedBlock) this.syncedBlock = latest;
    } catch (error) {
      throw new DutyproofError("chain.unreachable", "the chain node does not answer", {}, { cause: error });
    }
  }

  unit(unitId: string): Promise<UnitView> {
    return this.cached(this.units, unitId.toLowerCase(), async () => {
      const u = await this.ledger.getFunction("unit")(unitId);
      return {
        registered: u.status !== 0n,
        active: u.status === 1n,
        level: Number(u.level),
        signer: String(u.signer).toLowerCase(),
      };
    });
  }

  dutyType(dutyTypeId: string): Promise<DutyTypeView> {
    return this.cached(this.dutyTypes, dutyTypeId.toLowerCase(), async () => {
      const d = await this.ledger.getFunction("dutyType")(dutyTypeId);
      return { registered: d.registeredAt !== 0n, active: Boolean(d.active) };
    });
  }

  private cached<T>(map: Map<string, Entry<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const hit = map.get(key);
    // An entry's age in elapsed time, not the gateway's clock: a simulated clock may stand still.
    const now = performance.now();
    if (hit && now - hit.at < this.ttlMs) return hit.view;
    const view = load();
    map.delete(key);
    const entry = { at: now, view };
    map.set(key, entry);
    // Bounded: ids of units that do not exist cost a lookup each, but no memory that lasts.
    for (const oldest of map.keys()) {
      if (map.size <= maxEntries) break;
      map.delete(oldest);
    }
    view.catch(() => {
      if (map.get(key) === entry) map.delete(key);
    });
    return view;
  }
}
