/** The burden API's answer shapes live in the core, where the web console imports them too. */
export * from "../core/burdenResponses.ts";
