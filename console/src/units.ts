/**
 * Unit ids as the CLI derives them (keccak256("unit:" + name), or a 0x id as given), and the
 * names this browser has seen for ids, so that pages can show "qingshui-1" instead of a hash.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex } from "../../server/core/bytes.ts";

export function unitIdOf(nameOrId: string): string {
  const value = nameOrId.trim();
  return /^0x[0-9a-f]{64}$/.test(value) ? value : bytesToHex(keccak_256(new TextEncoder().encode(`unit:${value}`)));
}

const storageKey = "dutyproof.unitNames";

function load(): Record<string, string> {
  try {
    return JSON.parse(localStorage.getItem(storageKey) ?? "{}") as Record<string, string>;
  } catch {
    return {};
  }
}

/** Remembers the name a user typed for a unit (ids are one-way hashes of names). */
export function rememberUnitName(nameOrId: string): void {
  const value = nameOrId.trim();
  if (!value || /^0x[0-9a-f]{64}$/.test(value)) return;
  const names = load();
  names[unitIdOf(value)] = value;
  try {
    localStorage.setItem(storageKey, JSON.stringify(names));
  } catch {
    // storage full or disabled: names are a convenience
  }
}

export function unitNameOf(unitId: string): string | undefined {
  return load()[unitId];
}
