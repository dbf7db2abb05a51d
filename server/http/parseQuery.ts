/** Validation of path parameters, query strings and bodies against the route table's schemas. */
import { z } from "zod";
import { DutyproofError } from "../core/errors.ts";
import { fieldErrors } from "../gateway/AttestationService.ts";

/** A record id, leaf hash, unit id or duty type id. */
export const hash32 = z.string().regex(/^0x[0-9a-f]{64}$/, "must be 0x followed by 64 lower-case hex digits");

/**
 * Parses `value` with `schema` (built once, at module level: zod compiles a schema on its first
 * parse). Throws request.invalid naming every parameter (or body `field`) at fault as
 * `<prefix><name>`.
 */
export function parseParameters<T>(schema: z.ZodType<T>, value: unknown, prefix: string, what = "parameter"): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error, prefix);
    throw new DutyproofError("request.invalid", `${errors.length} ${what}(s) at fault`, { errors });
  }
  return parsed.data;
}
