/**
 * Structural checks on a parsed JSON body before any schema sees it: how deep it nests and
 * whether it uses keys that JavaScript objects treat specially. `__proto__` in particular is
 * dropped silently by object and record schemas, so a body could be accepted with content
 * other than what was sent; it is refused outright instead, naming where it was found.
 */
import type { FieldError } from "./errors.ts";

/** Keys refused anywhere in a request body. */
export const forbiddenKeys: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

/** Deepest nesting of arrays and objects any dutyproof request needs is 5; this leaves room. */
export const MAX_BODY_DEPTH = 16;

/**
 * Returns the faults of a parsed JSON value (empty when none): paths of forbidden keys, and the
 * first path that nests deeper than `maxDepth`. Stops descending at `maxDepth`, so its own work
 * is bounded by the body's size, never its depth.
 */
export function bodyShapeFaults(value: unknown, maxDepth = MAX_BODY_DEPTH, limit = 20): FieldError[] {
  const faults: FieldError[] = [];
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: "", depth: 0 }];
  while (stack.length > 0 && faults.length < limit) {
    const { value: node, path, depth } = stack.pop()!;
    if (node === null || typeof node !== "object") continue;
    if (depth >= maxDepth) {
      faults.push({ path: path || "(body)", message: `nested deeper than ${maxDepth} levels` });
      continue;
    }
    const entries = Array.isArray(node) ? node.map((v, i) => [String(i), v] as const) : Object.entries(node);
    for (const [key, child] of entries) {
      const childPath = path ? `${path}.${key}` : key;
      if (!Array.isArray(node) && forbiddenKeys.has(key)) {
        faults.push({ path: childPath, message: `the key ${key} is not allowed` });
        continue;
      }
      stack.push({ value: child, path: childPath, depth: depth + 1 });
    }
  }
  return faults;
}
