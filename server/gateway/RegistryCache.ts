/**
 * A short-lived cache of the on-chain registry (units, duty types) so that checking a record
 * does not cost a chain round trip each time. Entries expire after `ttlMs`; a miss asks the chain.
 */
import type { Contract } from "ethers";

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

export class RegistryCache {
  private readonly units = new Map<string, { at: number; view: Promise<UnitView> }>();
  private readonly dutyTypes = new Map<string, { at: number; view: Promise<DutyTypeView> }>();

  private readonly ledger: Contract;
  private readonly ttlMs: number;

  constructor(ledger: Contract, ttlMs = 5_000) {
    this.ledger = ledger;
    this.ttlMs = ttlMs;
  }

  unit(unitId: string): Promise<UnitView> {
    return this.cached(this.units, unitId, async () => {
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
    return this.cached(this.dutyTypes, dutyTypeId, async () => {
      const d = await this.ledger.getFunction("dutyType")(dutyTypeId);
      return { registered: d.registeredAt !== 0n, active: Boolean(d.active) };
    });
  }

  private cached<T>(
    map: Map<string, { at: number; view: Promise<T> }>,
    key: string,
    load: () => Promise<T>,
  ): Promise<T> {
    const hit = map.get(key);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.view;
    const view = load();
    map.delete(key);
    map.set(key, { at: Date.now(), view });
    // Bounded: ids of units that do not exist cost a lookup each, but no memory that lasts.
    for (const oldest of map.keys()) {
      if (map.size <= maxEntries) break;
      map.delete(oldest);
    }
    view.catch(() => map.delete(key));
    return view;
  }
}
