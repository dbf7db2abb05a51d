/**
 * Where the CLI (scripts/dutyproof.ts) imports the operator message from; the message and the
 * erase use case live in server/app/erase.ts, the route in routes.ts.
 */
export { operatorMessage } from "../app/erase.ts";
