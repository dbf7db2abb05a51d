/** Loads the Merkle proof vector files of test/vectors (written by scripts/gen-vectors.ts). */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { ConsistencyVector, InclusionVector } from "../../scripts/gen-vectors.ts";

const root = join(import.meta.dirname, "..", "vectors");

function load<T>(kind: string): Array<{ name: string; vector: T }> {
  const dir = join(root, kind);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((group) =>
      readdirSync(join(dir, group.name))
        .filter((file) => file.endsWith(".json"))
        .map((file) => ({
          name: `${kind}/${group.name}/${file.replace(/\.json$/, "")}`,
          vector: JSON.parse(readFileSync(join(dir, group.name, file), "utf8")) as T,
        })),
    );
}

export const inclusionVectors = (): Array<{ name: string; vector: InclusionVector }> => load("inclusion");
export const consistencyVectors = (): Array<{ name: string; vector: ConsistencyVector }> => load("consistency");
