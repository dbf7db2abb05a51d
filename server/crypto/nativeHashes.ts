/**
 * Node's native SHA-256 for the core's hashing seam (server/core/sha256.ts). Called once by
 * every process or worker that hashes in bulk: the gateway, its verify workers, the CLI.
 */
import { hash } from "node:crypto";
import { useSha256 } from "../core/sha256.ts";

function nativeSha256(data: Uint8Array): Uint8Array {
  const digest = hash("sha256", data, "buffer");
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

export function installNativeHashes(): void {
  useSha256(nativeSha256);
}
