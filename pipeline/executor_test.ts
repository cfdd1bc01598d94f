import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { type Executor, type Job, workerExecutor } from "./executor.ts";

const REGISTRY = new URL("./testing/executor_stages.ts", import.meta.url).href;

/** A job of kind `kind` writing into a fresh directory under `dir`. */
function job(dir: string, kind: string, id: string, ms = 0, spin = false): Job {
  const outDir = `${dir}/${id}`;
  Deno.mkdirSync(outDir);
  return { kind, id, params: { ms, spin }, inputs: {}, outDir };
}

/** Which worker ran an echo job (and when it was created), and when. */
function ran(
  dir: string,
  id: string,
): { worker: string; origin: number; start: number; end: number } {
  return JSON.parse(Deno.readTextFileSync(`${dir}/${id}/ran.json`));
}

/** Runs `fn` with a pool of `size` workers and a temporary directory, both removed after. */
async function withExecutor(
  size: number,
  fn: (executor: Executor, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const executor = workerExecutor(REGISTRY, size);
  try {
    await fn(executor, dir);
  } finally {
    executor.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("workerExecutor: twice as many jobs as workers, each computed once, one at a time per worker", async () => {
  await withExecutor(2, async (executor, dir) => {
    assertEquals(executor.capacity, 4);
    const logs = new Map<string, string[]>();
    const started: string[] = [];
    const ids = ["a", "b", "c", "d"];
    await Promise.all(ids.map((id) => {
      logs.set(id, []);
      return executor.run(job(dir, "echo", id, 20), {
        start: () => started.push(id),
        progress() {},
        log: (m) => logs.get(id)!.push(m),
      });
    }));
    assertEquals(started.sort(), ids);
    // However the jobs were spread (an idle worker takes over queued ones), none overlapped
    // another on its worker.
    const byWorker = Map.groupBy(ids.map((id) => ran(dir, id)), (r) => r.worker);
    for (const rs of byWorker.values()) {
      const sorted = rs.sort((a, b) => a.start - b.start);
      for (let i = 1; i < sorted.length; i++) {
        assert(sorted[i - 1].end <= sorted[i].start, "a worker computes its jobs one at a time");
      }
    }
    for (const id of ids) {
      assertEquals(Deno.readTextFileSync(`${dir}/${id}/out.txt`), id);
      assertEquals(logs.get(id), [`echo ${id}`], "each job's log lines reach its own callbacks");
    }
  });
});

Deno.test("workerExecutor: a dying worker fails the job it computed; the job queued behind it runs elsewhere", async () => {
  await withExecutor(1, async (executor, dir) => {
    const on = { progress() {}, log() {} };
    const crash = executor.run(job(dir, "crash", "x"), on);
    const queued = executor.run(job(dir, "echo", "y"), on);
    await assertRejects(() => crash, /crashed on purpose/);
    await queued;
    assertEquals(Deno.readTextFileSync(`${dir}/y/out.txt`), "y");
    // The pool replaced its worker: a later job runs too.
    await executor.run(job(dir, "echo", "z"), on);
    assert(Deno.statSync(`${dir}/z/out.txt`).isFile);
  });
});

Deno.test("workerExecutor: a job queued behind a long one moves to a worker that falls idle", async () => {
  await withExecutor(2, async (executor, dir) => {
    const on = { progress() {}, log() {} };
    // long → worker 1 (computing without yielding), short → worker 2, queued → behind long. The
    // others are handed over once long has started: before, a second worker that imported the
    // stage code sooner could finish short and take long over while its own worker still imports.
    let started!: () => void;
    const running = new Promise<void>((r) => started = r);
    const long = executor.run(job(dir, "echo", "long", 2500, true), { ...on, start: started });
    await running;
    const short = executor.run(job(dir, "echo", "short", 0), on);
    const queued = executor.run(job(dir, "echo", "queued", 0), on);
    await Promise.all([short, queued]);
    await long;
    const [l, s, q] = ["long", "short", "queued"].map((id) => ran(dir, id));
    assert(l.worker !== s.worker, "the short job ran beside the long one");
    assertEquals(q.worker, s.worker, "the queued job moved to the idle worker");
    assert(q.end < l.end, "and finished before the long one");
  });
});

Deno.test("workerExecutor: warm starts a worker before the first job, which then runs on it", async () => {
  await withExecutor(2, async (executor, dir) => {
    executor.warm!();
    await new Promise((r) => setTimeout(r, 50));
    const dispatched = performance.timeOrigin + performance.now();
    await executor.run(job(dir, "echo", "a"), { progress() {}, log() {} });
    assert(ran(dir, "a").origin < dispatched, "the job ran on the worker warm had started");
  });
});

Deno.test("workerExecutor: warm and close without a job leave nothing running", async () => {
  const executor = workerExecutor(REGISTRY, 2);
  executor.warm!();
  executor.close();
  await new Promise((r) => setTimeout(r, 20));
});
