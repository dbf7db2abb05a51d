/**
 * The witness: a small HTTP server another organisation runs on its own machine, answering
 * tlog-witness `POST /add-checkpoint` with cosignature/v1 lines. It cosigns a checkpoint only if
 * the log's key signed it, it extends the last checkpoint the witness cosigned (consistency
 * proof), and — with a chain reader — the chain anchors exactly that root and still anchors the
 * one cosigned before. Requests for one log are handled one at a time, and the new state is on
 * disk before the cosignature leaves, so no two roots are ever cosigned for one size.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import { bytesEqual, bytesToHex } from "../core/bytes.ts";
import type { Clock } from "../core/clock.ts";
import { DutyproofError } from "../core/errors.ts";
import {
  type NoteSigner,
  type NoteVerifier,
  NOTE_COSIGNATURE_V1,
  cosign,
  formatSignatureLine,
  parseCheckpoint,
  parseNote,
} from "../core/note.ts";
import { checkAddCheckpoint, parseAddCheckpointRequest, parseLogOrigin } from "../core/witness.ts";
import { faultPoint } from "../faultPoint.ts";
import type { AnchoredRootReader } from "./chainAnchors.ts";
import type { WitnessStateDir } from "./WitnessStateDir.ts";

/** Largest request body read: a checkpoint with its signatures and 63 proof lines fit many times over. */
export const MAX_REQUEST_BYTES = 64 * 1024;

/** One event the witness reports (a JSON log line): no key material, no note text. */
export interface WitnessEvent {
  event: "cosigned" | "refused" | "error";
  origin?: string;
  size?: number;
  status?: number;
  code?: string;
  message?: string;
}

export interface WitnessOptions {
  /** The witness's own key, type 0x04 (cosignature/v1). */
  signer: NoteSigner;
  /** The logs it follows: their type 0x01 verifier keys, named by their origins. */
  logs: readonly NoteVerifier[];
  state: WitnessStateDir;
  clock: Clock;
  /** With a chain to check against: the roots the log's contract anchored. */
  anchoredRoot?: AnchoredRootReader;
  report?: (event: WitnessEvent) => void;
}

class BodyTooLarge extends Error {}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    request.on("data", (chunk: Buffer) => {
      length += chunk.length;
      if (length > MAX_REQUEST_BYTES) {
        reject(new BodyTooLarge());
        request.pause();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function answer(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { "content-type": contentType, "cache-control": "no-store" });
  response.end(body);
}

/** Builds the witness's request handler and server (not yet listening). */
export function createWitnessServer(options: WitnessOptions): Server {
  if (options.signer.type !== NOTE_COSIGNATURE_V1) throw new Error("a witness signs with a cosignature/v1 key");
  const report = options.report ?? (() => {});
  const queues = new Map<string, Promise<unknown>>();

  /** Runs `body` after every earlier request for the same log has finished. */
  const serialised = <T>(origin: string, body: () => Promise<T>): Promise<T> => {
    const previous = queues.get(origin) ?? Promise.resolve();
    const run = previous.then(body, body);
    const settled = run.catch(() => undefined);
    queues.set(origin, settled);
    void settled.then(() => {
      if (queues.get(origin) === settled) queues.delete(origin);
    });
    return run;
  };

  const chainCheck = async (origin: string, size: number, rootHash: Uint8Array, what: string) => {
    if (!options.anchoredRoot || size === 0) return;
    const log = parseLogOrigin(origin);
    if (!log) {
      throw new DutyproofError("witness.chain_disagrees", `${origin} names no chain, contract and log to check`);
    }
    const anchored = await options.anchoredRoot(log, size);
    if (!anchored || !bytesEqual(anchored, rootHash)) {
      throw new DutyproofError(
        "witness.chain_disagrees",
        anchored
          ? `the chain anchors another root for ${what} (size ${size})`
          : `the chain anchors no checkpoint of ${what} (size ${size})`,
        { size, anchoredRoot: anchored ? bytesToHex(anchored) : null, root: bytesToHex(rootHash) },
      );
    }
  };

  const addCheckpoint = async (body: string): Promise<{ origin: string; size: number; line: string }> => {
    const request = parseAddCheckpointRequest(body);
    let origin: string;
    try {
      origin = parseCheckpoint(parseNote(request.note).text).origin;
    } catch (error) {
      if (error instanceof DutyproofError) throw new DutyproofError("witness.malformed", error.message);
      throw error;
    }
    return serialised(origin, async () => {
      const last = options.state.read(origin);
      const { checkpoint, text } = checkAddCheckpoint(request, options.logs, last);
      // A rolled-back or rewritten chain no longer anchors what the witness cosigned before.
      if (last) await chainCheck(origin, last.size, last.rootHash, "the checkpoint this witness cosigned before");
      await chainCheck(origin, checkpoint.size, checkpoint.rootHash, "this checkpoint");
      faultPoint("witness.checked");
      if (!last || last.size !== checkpoint.size) {
        options.state.write({ origin, size: checkpoint.size, rootHash: checkpoint.rootHash, note: request.note });
      }
      faultPoint("witness.persisted");
      const line = formatSignatureLine(cosign(text, options.signer, Math.floor(options.clock.now() / 1000)));
      return { origin, size: checkpoint.size, line };
    });
  };

  return createServer((request, response) => {
    if (request.url !== "/add-checkpoint") return answer(response, 404, "text/plain; charset=utf-8", "not found\n");
    if (request.method !== "POST") {
      response.setHeader("allow", "POST");
      return answer(response, 405, "text/plain; charset=utf-8", "use POST\n");
    }
    readBody(request)
      .then(addCheckpoint)
      .then(
        ({ origin, size, line }) => {
          report({ event: "cosigned", origin, size });
          answer(response, 200, "text/plain; charset=utf-8", line);
        },
        (error: unknown) => {
          if (error instanceof BodyTooLarge) {
            answer(response, 413, "text/plain; charset=utf-8", "request body too large\n");
            request.destroy();
            return;
          }
          if (!(error instanceof DutyproofError)) {
            report({ event: "error", message: error instanceof Error ? error.message : String(error) });
            return answer(response, 500, "text/plain; charset=utf-8", "internal error\n");
          }
          report({ event: "refused", status: error.status, code: error.code, message: error.message });
          if (error.code === "witness.old_size_mismatch") {
            return answer(response, 409, "text/x.tlog.size", `${String(error.details.size)}\n`);
          }
          answer(response, error.status, "text/plain; charset=utf-8", `${error.code}: ${error.message}\n`);
        },
      );
  });
}
