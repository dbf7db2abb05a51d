/**
 * Units by name. Ids are one-way hashes of names (keccak256("unit:" + name), server/core/
 * unitDirectory.ts), so names come from the gateway's unit directory (GET /v1/unit-names), each
 * checked here against its id, and from the names this browser's user typed. A unit neither
 * knows is shown by its shortened id.
 */
import { type UnitName, checkedUnitNames, unitIdOf } from "../../server/core/unitDirectory.ts";
import { request } from "./api.ts";
import { type Child, h } from "./dom.ts";
import { shortHash } from "./format.ts";
import { localTitle } from "./i18n.ts";

export { unitIdOf };

const storageKey = "dutyproof.unitNames";
let directory = new Map<string, UnitName>();
let directoryLoad: Promise<void> | null = null;

/**
 * Loads the gateway's unit directory once per page load; resolves when it is here (or could not
 * be had: names are a convenience, and a failed load is tried again on the next call).
 */
export function loadUnitNames(): Promise<void> {
  directoryLoad ??= request("/v1/unit-names").then(
    ({ status, body }) => {
      if (status === 200) directory = checkedUnitNames(body);
      else directoryLoad = null;
    },
    () => {
      directoryLoad = null;
    },
  );
  return directoryLoad;
}

function typedNames(): Record<string, string> {
  try {
    return JSON.parse(localStorage.getItem(storageKey) ?? "{}") as Record<string, string>;
  } catch {
    return {};
  }
}

/** Remembers the name a user typed for a unit, for the units the directory does not list. */
export function rememberUnitName(nameOrId: string): void {
  const value = nameOrId.trim();
  if (!value || /^0x[0-9a-f]{64}$/.test(value) || directory.has(unitIdOf(value))) return;
  const names = typedNames();
  names[unitIdOf(value)] = value;
  try {
    localStorage.setItem(storageKey, JSON.stringify(names));
  } catch {
    // storage full or disabled: names are a convenience
  }
}

/** The unit's name as people say it in the page's language, its directory name, or undefined. */
export function unitNameOf(unitId: string): string | undefined {
  const entry = directory.get(unitId);
  if (entry) return entry.title ? localTitle(entry.title) : entry.name;
  return typedNames()[unitId];
}

/** The unit's name, else its shortened id. */
export function unitText(unitId: string, keep?: number): string {
  return unitNameOf(unitId) ?? shortHash(unitId, keep);
}

/** The unit's name with its full id in a tooltip, else the shortened id. */
export function unitLabel(unitId: string): Child {
  const name = unitNameOf(unitId);
  return name
    ? h("span", { class: "unit-name", title: unitId, "data-unit": unitId }, name)
    : h("code", { class: "hash", title: unitId }, shortHash(unitId));
}

/** The directory's units, for a unit field's suggestions (`<datalist id="unit-directory">`). */
export function unitSuggestions(): HTMLDataListElement {
  return h(
    "datalist",
    { id: "unit-directory" },
    [...directory.values()].map((unit) =>
      h("option", { value: unit.name }, unit.title ? localTitle(unit.title) : unit.name),
    ),
  );
}
