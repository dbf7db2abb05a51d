/**
 * SHA-256 of a file in the browser: WebCrypto where the browser offers it (secure contexts:
 * HTTPS and localhost), else the same pure-JavaScript SHA-256 the core uses, because a gateway
 * on a county intranet is often plain HTTP, where crypto.subtle does not exist.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "../../server/core/bytes.ts";

export type HashMethod = "webcrypto" | "purejs";

export async function sha256Hex(bytes: Uint8Array): Promise<{ hex: string; method: HashMethod }> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle) {
    try {
      const digest = await subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
      return { hex: bytesToHex(new Uint8Array(digest)), method: "webcrypto" };
    } catch {
      // fall through to the pure-JavaScript hash
    }
  }
  return { hex: bytesToHex(sha256(bytes)), method: "purejs" };
}
