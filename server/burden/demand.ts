/**
 * The evidence-demand format lives in the core (server/core/demand.ts), which the audit replay
 * checks demand entries with; this path stays for the burden gate and its many importers.
 */
export * from "../core/demand.ts";
