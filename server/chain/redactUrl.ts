/**
 * An RPC_URL may carry credentials (https://user:pass@host/, ?apikey=…): the gateway publishes
 * the URL in /v1/info and mentions it in messages, so it shows only the redacted form.
 */
const CENSOR = "redacted";

/**
 * `url` without its user name and password and with every query value replaced; text that is
 * not a URL comes back unchanged.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  const credentials = parsed.username !== "" || parsed.password !== "";
  if (!credentials && parsed.search === "" && parsed.hash === "") return url;
  parsed.username = credentials ? CENSOR : "";
  parsed.password = "";
  for (const key of [...new Set(parsed.searchParams.keys())]) parsed.searchParams.set(key, CENSOR);
  parsed.hash = "";
  return parsed.toString();
}

/** The secret parts of `url` as they may appear in text (raw and percent-decoded), longest first. */
export function urlSecrets(url: string | undefined): string[] {
  if (!url) return [];
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  const raw = [parsed.username, parsed.password, parsed.hash.slice(1)];
  for (const part of parsed.search.slice(1).split("&")) raw.push(part.slice(part.indexOf("=") + 1));
  const found = new Set<string>();
  for (const value of raw) {
    // Short values (a chain id, "1") are no secret and would mangle every line they occur in.
    if (value.length < 4) continue;
    found.add(value);
    try {
      found.add(decodeURIComponent(value));
    } catch {
      // not percent-encoded
    }
  }
  return [...found].sort((a, b) => b.length - a.length);
}

/** `text` with every secret of `url` replaced, and the URL itself shown redacted. */
export function scrubUrlSecrets(text: string, url: string | undefined, secrets = urlSecrets(url)): string {
  if (!url || secrets.length === 0) return text;
  let out = text.split(url).join(redactUrl(url));
  for (const secret of secrets) out = out.split(secret).join(CENSOR);
  return out;
}
