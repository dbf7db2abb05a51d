/**
 * A one-line progress bar for long runs, redrawn in place on a terminal. It writes only when
 * the stream is a TTY, so logs and pipes get nothing, and it redraws at most every 100 ms.
 */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

export function progressBar(
  stream: ProgressStream,
  label: string,
  width = 30,
): { update: (done: number, total: number) => void; finish: () => void } {
  if (!stream.isTTY) return { update: () => {}, finish: () => {} };
  const started = Date.now();
  let drawnAt = 0;
  let drawn = false;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - drawnAt < 100 && done < total) return;
      drawnAt = now;
      drawn = true;
      const share = total > 0 ? Math.min(1, done / total) : 0;
      const filled = Math.round(share * width);
      const seconds = (now - started) / 1000;
      const rate = seconds > 0 ? Math.round(done / seconds) : 0;
      stream.write(
        `\r${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}% ${done}/${total} (${rate}/s)`,
      );
    },
    finish() {
      if (drawn) stream.write("\n");
    },
  };
}
