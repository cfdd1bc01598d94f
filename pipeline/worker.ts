/**
 * Web Worker script of {@linkcode workerExecutor}: imports the stage registry once, then runs the
 * jobs it is sent one after another in the order they arrive (a job sent while another runs waits
 * here, unless the executor claims it back for an idle worker first), forwarding their start,
 * progress (at most every 200 ms) and log lines.
 * @module
 */
/// <reference lib="deno.worker" />
import { type Job, runJob } from "./executor.ts";
import type { StageRegistry } from "./stage.ts";

let registry: StageRegistry | undefined;
let queue: Promise<void> = Promise.resolve();

type Message =
  | { type: "init"; registryUrl: string }
  | { type: "run"; seq: number; job: Job; claim: Int32Array };

self.onmessage = (ev: MessageEvent) => {
  const msg = ev.data as Message;
  queue = queue.then(() => handle(msg));
};

async function handle(msg: Message): Promise<void> {
  const seq = msg.type === "run" ? msg.seq : undefined;
  try {
    if (msg.type === "init") {
      registry = (await import(msg.registryUrl)).stageKinds as StageRegistry;
      self.postMessage({ type: "ready" });
      return;
    }
    // Taken back by the executor for an idle worker (see workerExecutor): not ours to run.
    if (Atomics.compareExchange(msg.claim, 0, 0, 1) !== 0) return;
    let last = -Infinity;
    const packed = await runJob(registry ?? {}, msg.job, {
      start() {
        self.postMessage({ type: "start", seq });
      },
      progress(done, total, note) {
        const t = performance.now();
        if (t - last < 200 && done < total) return;
        last = t;
        self.postMessage({ type: "progress", seq, done, total, note });
      },
      log(message) {
        self.postMessage({ type: "log", seq, message });
      },
    });
    self.postMessage({ type: "done", seq, packed });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    self.postMessage({ type: "error", seq, message: err.message, stack: err.stack });
  }
}
