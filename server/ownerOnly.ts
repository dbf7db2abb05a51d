/**
 * DATA_DIR holds the records (with personal fields), the operator's keys and the chain state:
 * only the gateway's own user may read it, whatever modes the directory had before the gateway
 * first ran (a DATA_DIR created by hand or by an installer is often 0755 with 0644 files).
 */
import { chmodSync, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";

/**
 * Files and directories the gateway creates from now on are owner-only: directories 0700,
 * files 0600 (LevelDB, the anvil state and the keys are all written through this umask).
 */
export function createOwnerOnly(): void {
  process.umask(0o077);
}

/**
 * Takes every permission from group and others under `dir` (itself included): directories
 * become 0700, files keep only their owner's bits (0644 becomes 0600). Symbolic links are left alone (their target may be elsewhere).
 */
export function restrictToOwner(dir: string): void {
  const walk = (path: string) => {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) return;
    if (stat.isDirectory()) {
      chmodSync(path, 0o700);
      for (const name of readdirSync(path)) walk(join(path, name));
    } else if ((stat.mode & 0o077) !== 0) {
      chmodSync(path, stat.mode & 0o700); // 0644 becomes 0600; a read-only 0444 stays read-only
    }
  };
  walk(dir);
}
