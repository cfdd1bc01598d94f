/**
 * Stage kinds for the worker executor's tests: `echo` waits `ms` milliseconds (busy, without
 * yielding, with `spin: true`), logs its id and writes `out.txt` (its id) and `ran.json` (which
 * worker ran it, when that worker was created, and when the job started and ended); `crash` throws from a timer (an uncaught error,
 * which kills its worker) and never finishes.
 * @module
 */
import type { StageRegistry } from "../stage.ts";

/** Names the worker (the module is imported once per worker). */
const WORKER = crypto.randomUUID();

/** The registry the worker script imports. */
export const stageKinds: StageRegistry = {
  echo: {
    kind: "echo",
    version: 1,
    sources: [],
    async run(ctx) {
      const start = performance.timeOrigin + performance.now();
      const ms = Number(ctx.params.ms ?? 0);
      const until = start + ms;
      if (ctx.params.spin) {
        while (performance.timeOrigin + performance.now() < until) continue;
      } else await new Promise((r) => setTimeout(r, ms));
      ctx.log(`echo ${ctx.id}`);
      await ctx.write("out.txt", ctx.id);
      const end = performance.timeOrigin + performance.now();
      const origin = performance.timeOrigin;
      await ctx.write("ran.json", JSON.stringify({ worker: WORKER, origin, start, end }));
    },
  },
  crash: {
    kind: "crash",
    version: 1,
    sources: [],
    run() {
      setTimeout(() => {
        throw new Error("crashed on purpose");
      }, 0);
      return new Promise(() => {});
    },
  },
};
