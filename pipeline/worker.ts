/**
 * Web Worker script of {@linkcode workerExecutor}: imports the stage registry once, then runs the
 * jobs it is sent, forwarding progress (at most every 200 ms) and log lines.
 * @module
 */
/// <reference lib="deno.worker" />
import { type Job, runJob } from "./executor.ts";
import type { StageRegistry } from "./stage.ts";

let registry: StageRegistry | undefined;

self.onmessage = async (ev: MessageEvent) => {
  const msg = ev.data as { type: "init"; registryUrl: string } | { type: "run"; job: Job };
  try {
    if (msg.type === "init") {
      registry = (await import(msg.registryUrl)).stageKinds as StageRegistry;
      self.postMessage({ type: "ready" });
      return;
    }
    let last = -Infinity;
    const packed = await runJob(registry ?? {}, msg.job, {
      progress(done, total, note) {
        const t = performance.now();
        if (t - last < 200 && done < total) return;
        last = t;
        self.postMessage({ type: "progress", done, total, note });
      },
      log(message) {
        self.postMessage({ type: "log", message });
      },
    });
    self.postMessage({ type: "done", packed });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    self.postMessage({ type: "error", message: err.message, stack: err.stack });
  }
};
