/**
 * What a Node process holds: its memory after a full garbage collection in the main thread and
 * in every worker thread, read through the V8 inspector of a child started with
 * `--inspect=127.0.0.1:PORT` (a flag only tests pass: the product never opens the inspector).
 *
 * Why not resident memory as sampled: a process that allocates fast runs only minor collections
 * for long stretches, and what they promote waits in the old generation until V8 decides a full
 * collection is due (at a few times the live heap; in the hostile campaign the gateway ran 80 s
 * between two, its heap going from 38 to 141 MB and back to 47). Resident memory then rises and
 * falls with V8's schedule and says nothing about whether anything is kept. After a forced full
 * collection in each isolate, what is left is what the process holds.
 */
import { rssMiB } from "../../scripts/benchPhases.ts";

export type HeldMemory = {
  /** Resident set size after the collections, MB. */
  rssMb: number;
  /** The main thread's V8 heap in use after its collection, MB. */
  heapMb: number;
  /** Each worker thread's V8 heap in use after its collection, MB. */
  workerHeapMb: number[];
};

type Reply = { id?: number; result?: { result?: { value?: unknown } }; error?: { message: string } };
type Event = { method?: string; params?: { sessionId: string; message?: string } };

const heapUsedMb = {
  expression: "process.memoryUsage().heapUsed / 1048576",
  returnByValue: true,
};

/** Collects garbage everywhere in the child listening at `inspectPort`, then reads its memory. */
export async function heldMemory(pid: number, inspectPort: number): Promise<HeldMemory> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as Array<{
    webSocketDebuggerUrl: string;
  }>;
  const socket = new WebSocket(targets[0]!.webSocketDebuggerUrl);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve(), { once: true });
    socket.addEventListener("error", () => reject(new Error("the inspector refused a session")), { once: true });
  });

  // Replies by "session:id" ("" for the main thread); worker replies arrive wrapped in events.
  const waiting = new Map<string, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  const workers: string[] = [];
  const settle = (key: string, reply: Reply) => {
    const waiter = waiting.get(key);
    if (!waiter) return;
    waiting.delete(key);
    if (reply.error) waiter.reject(new Error(reply.error.message));
    else waiter.resolve(reply);
  };
  socket.addEventListener("message", (event: MessageEvent) => {
    const message = JSON.parse(String(event.data)) as Reply & Event;
    if (message.id !== undefined) settle(`:${message.id}`, message);
    else if (message.method === "NodeWorker.attachedToWorker") workers.push(message.params!.sessionId);
    else if (message.method === "NodeWorker.receivedMessageFromWorker") {
      const reply = JSON.parse(message.params!.message!) as Reply;
      if (reply.id !== undefined) settle(`${message.params!.sessionId}:${reply.id}`, reply);
    }
  });
  let nextId = 1;
  const call = (method: string, params: object = {}, sessionId = "") => {
    const id = nextId++;
    const reply = new Promise<Reply>((resolve, reject) => waiting.set(`${sessionId}:${id}`, { resolve, reject }));
    const command = JSON.stringify({ id, method, params });
    if (sessionId === "") socket.send(command);
    else {
      // The wrapper's own reply says only that the message was passed on; its error fails the call.
      const wrapper = nextId++;
      waiting.set(`:${wrapper}`, { resolve: () => {}, reject: (error) => settle(`${sessionId}:${id}`, { error }) });
      socket.send(
        JSON.stringify({
          id: wrapper,
          method: "NodeWorker.sendMessageToWorker",
          params: { sessionId, message: command },
        }),
      );
    }
    return reply;
  };

  try {
    // Attaching reports the workers already running; give the reports a moment to arrive.
    await call("NodeWorker.enable", { waitForDebuggerOnStart: false });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const workerHeapMb: number[] = [];
    for (const sessionId of workers) {
      // Twice: what the first collection's finalizers let go, only the second reclaims.
      await call("HeapProfiler.collectGarbage", {}, sessionId);
      await call("HeapProfiler.collectGarbage", {}, sessionId);
      workerHeapMb.push(Number((await call("Runtime.evaluate", heapUsedMb, sessionId)).result?.result?.value));
    }
    await call("NodeWorker.disable");
    await call("HeapProfiler.collectGarbage");
    await call("HeapProfiler.collectGarbage");
    const heapMb = Number((await call("Runtime.evaluate", heapUsedMb)).result?.result?.value);
    return { rssMb: rssMiB(pid), heapMb, workerHeapMb };
  } finally {
    socket.close();
  }
}
