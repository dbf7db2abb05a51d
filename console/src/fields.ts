/** Form pieces several console pages share. */
import { type Child, h } from "./dom.ts";
import { t } from "./i18n.ts";

/** An input or change handler that passes the control's value to `setter`. */
export const bindValue = (setter: (value: string) => void) => (event: Event) =>
  setter((event.target as HTMLInputElement).value);

/** The from/to date pair of a search form; ids are `<prefix>-from` and `<prefix>-to`. */
export function dateRangeField(
  prefix: string,
  range: { from: string; to: string },
  setFrom: (value: string) => void,
  setTo: (value: string) => void,
): Child {
  const date = (id: string, label: string, value: string, setter: (value: string) => void) =>
    h("div", null, h("label", { for: id }, label), h("input", { id, type: "date", value, oninput: bindValue(setter) }));
  return h(
    "div",
    { class: "field field-pair" },
    date(`${prefix}-from`, t("tl.from"), range.from, setFrom),
    date(`${prefix}-to`, t("tl.to"), range.to, setTo),
  );
}

/** Where the pages keep the read token for the browser tab's session. */
const tokenKey = "dutyproof.token";

/** The token this tab was last given, or "" (also where session storage is unavailable). */
export function sessionToken(): string {
  try {
    return sessionStorage.getItem(tokenKey) ?? "";
  } catch {
    return "";
  }
}

/** Keeps `token` for this tab; without session storage it is simply asked again next time. */
export function rememberToken(token: string): void {
  try {
    sessionStorage.setItem(tokenKey, token);
  } catch {
    // no session storage
  }
}
