/**
 * Native hashes for the core's hashing seams: Node's SHA-256 (server/core/sha256.ts) and the
 * `keccak` package's Keccak-256 (server/core/keccak256.ts). Called once by every process or
 * worker that hashes in bulk: the gateway, its verify workers, the CLI.
 */
import { hash } from "node:crypto";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { type Keccak256, useKeccak256 } from "../core/keccak256.ts";
import { useSha256 } from "../core/sha256.ts";
import { useSm3 } from "../core/sm3.ts";

/** Node's OpenSSL SM3 (GB/T 32905), exported for the test that compares it with the core's. */
export function nativeSm3(data: Uint8Array): Uint8Array {
  const digest = hash("sm3", data, "buffer");
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

function nativeSha256(data: Uint8Array): Uint8Array {
  const digest = hash("sha256", data, "buffer");
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

/** The `keccak` addon's sponge (XKCP's KeccakWidth1600_Sponge), one object per instance. */
interface KeccakSponge {
  /** Rate and capacity in bits; resets the sponge. */
  initialize(rate: number, capacity: number): void;
  /** Reads a typed array's bytes through its own offset and length (a Buffer or not). */
  absorb(data: Uint8Array): void;
  /** Pads with Keccak's 0x01 on the first call after absorbing, then squeezes `length` bytes. */
  squeeze(length: number): Buffer;
}

/**
 * The addon itself, loaded the way the package loads it (node-gyp-build: its prebuilds/, no
 * compiler). The package's own entry point wraps it in a stream object per hash, which costs
 * more than the hash on inputs this short; one sponge, re-initialised each time, does not.
 * Null where the addon cannot load: the pure implementation stays.
 */
function loadKeccakSponge(): (new () => KeccakSponge) | null {
  try {
    const packageJson = createRequire(import.meta.url).resolve("keccak/package.json");
    const addon: unknown = createRequire(packageJson)("node-gyp-build")(dirname(packageJson));
    // Runtimes without N-API (bun) return an empty object instead of the sponge class.
    return typeof addon === "function" ? (addon as new () => KeccakSponge) : null;
  } catch {
    return null;
  }
}

function keccak256With(sponge: KeccakSponge): Keccak256 {
  return (data) => {
    // One sponge for every call, so each starts by resetting it.
    sponge.initialize(1088, 512); // Keccak-256: rate 1088 bits, capacity 512
    sponge.absorb(data);
    const digest = sponge.squeeze(32);
    // A plain Uint8Array, like the pure one returns: a Buffer's slice() would be a view.
    return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
  };
}

const KeccakSpongeClass = loadKeccakSponge();

/** The native Keccak-256, or null where the `keccak` addon cannot load on this platform. */
export const nativeKeccak256: Keccak256 | null = KeccakSpongeClass ? keccak256With(new KeccakSpongeClass()) : null;

export function installNativeHashes(): void {
  useSha256(nativeSha256);
  useKeccak256(nativeKeccak256); // null where the addon cannot load: the pure one
  useSm3(nativeSm3);
}
