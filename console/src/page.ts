/**
 * A page of the console: its route, its state and how it mounts. The state is one object per
 * page, created on the page's first visit and kept by the shell, so a page re-mounted (another
 * route and back, a language switch) finds what was entered, verified or unlocked; it lives in
 * this tab's memory only and is gone on reload, signing keys with it.
 */
import type { MessageKey } from "./i18n.ts";

export interface Page<S> {
  /** The hash route, `#/<path>`. */
  path: string;
  /** The navigation label. */
  label: MessageKey;
  /** The state of a first visit. */
  createState: () => S;
  /**
   * Renders the page into `main` with its state; may return a function that stops its timers
   * and listeners when another page is mounted.
   */
  mount: (main: HTMLElement, state: S) => (() => void) | void;
}

/** Every page with its state, as the shell keeps them. */
const states = new Map<Page<never>, unknown>();

/** The page's state object, created on first use. */
export function stateOf<S>(page: Page<S>): S {
  const key = page as unknown as Page<never>;
  if (!states.has(key)) states.set(key, page.createState());
  return states.get(key) as S;
}

/** Mounts `page` with its state. */
export function mountPage<S>(page: Page<S>, main: HTMLElement): (() => void) | void {
  return page.mount(main, stateOf(page));
}

/** What a state object holds to redraw its page while mounted (a no-op while it is not). */
export interface Redraw {
  rerender: () => void;
}

/** A no-op redraw, for a page's state before and after it is mounted. */
export const notMounted = (): void => {};
