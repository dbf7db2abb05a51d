/**
 * Streams a JSON document to an HTTP response as it is assembled, with backpressure: the writer
 * waits while the socket's buffer is full, yields the event loop every few milliseconds of work,
 * and stops at its next write once the client has gone, so a slow or vanished client holds
 * neither memory nor the event loop.
 */
import type { ServerResponse } from "node:http";
import type { JsonSink } from "../gateway/evidenceAssembler.ts";

/** Thrown into a writer whose client disconnected; streamJson swallows it. */
export class ClientGoneError extends Error {
  constructor() {
    super("the client disconnected");
  }
}

/** Text kept before a write to the socket (one syscall per chunk, not per item). */
const CHUNK = 16 * 1024;
/** Longest run of work between two turns of the event loop. */
const SLICE_MS = 10;

let open = 0;
let abandoned = 0;

/** Documents being streamed right now (a gauge: it returns to 0 when every writer has ended). */
export function openJsonStreams(): number {
  return open;
}

/** Documents whose writer stopped early because the client went away (a counter). */
export function abandonedJsonStreams(): number {
  return abandoned;
}

/**
 * Sends `status` and the JSON that `write` produces. An error before the first chunk left leaves
 * the response untouched and is rethrown (so it becomes a problem+json answer); after that the
 * status is sent and the only honest signal left is to cut the connection, which a client sees
 * as a truncated body, never as a complete document.
 */
export async function streamJson(
  res: ServerResponse,
  write: (sink: JsonSink) => Promise<unknown>,
  status = 200,
): Promise<void> {
  open++;
  let buffered = "";
  let started = false;
  let gone = false;
  let sliceStart = performance.now();
  const onClose = () => {
    gone = gone || !res.writableFinished;
  };
  res.on("close", onClose);
  const flush = async () => {
    if (gone || res.destroyed) throw new ClientGoneError();
    if (!started) {
      res.statusCode = status;
      res.setHeader("content-type", "application/json; charset=utf-8");
      started = true;
    }
    const chunk = buffered;
    buffered = "";
    if (!res.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off("drain", done);
          res.off("close", done);
          resolve();
        };
        res.on("drain", done);
        res.on("close", done);
      });
    }
    if (gone || res.destroyed) throw new ClientGoneError();
  };
  const sink: JsonSink = {
    async write(text) {
      buffered += text;
      if (buffered.length >= CHUNK) await flush();
      if (performance.now() - sliceStart > SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
        if (gone) throw new ClientGoneError();
      }
    },
  };
  try {
    await write(sink);
    if (!started) {
      res.statusCode = status;
      res.setHeader("content-type", "application/json; charset=utf-8");
      res.setHeader("content-length", Buffer.byteLength(buffered));
      started = true;
      res.end(buffered);
    } else {
      await flush();
      res.end();
    }
  } catch (error) {
    if (error instanceof ClientGoneError) {
      abandoned++;
      return;
    }
    if (!started) throw error;
    res.destroy();
  } finally {
    res.off("close", onClose);
    open--;
  }
}
