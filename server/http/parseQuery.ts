/** Validation of query and path parameters, shared by the Express app and the node:http read path. */
import { z } from "zod";
import { DutyproofError } from "../core/errors.ts";
import { fieldErrors } from "../gateway/AttestationService.ts";

/** A record id, leaf hash, unit id or duty type id. */
export const hash32 = z.string().regex(/^0x[0-9a-f]{64}$/, "must be 0x followed by 64 lower-case hex digits");

/**
 * Parses `value` with `schema` (built once, at module level: zod compiles a schema on its first
 * parse). Throws request.invalid naming every parameter at fault as `<prefix><name>`.
 */
export function parseParameters<T extends z.ZodType>(schema: T, value: unknown, prefix: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error, prefix);
    throw new DutyproofError("request.invalid", `${errors.length} parameter(s) at fault`, { errors });
  }
  return parsed.data;
}

/** parseParameters for a query string: parameters at fault are named `query.<name>`. */
export function parseQuery<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  return parseParameters(schema, value, "query.");
}
