/** A page mounts itself into the main element and may return a function that stops its timers. */
export type Page = (main: HTMLElement) => (() => void) | void;
