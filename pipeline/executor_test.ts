import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { type Job, workerExecutor } from "./executor.ts";

const REGISTRY = new URL("./testing/executor_stages.ts", import.meta.url).href;

/** A job of kind `kind` writing into a fresh directory under `dir`. */
function job(dir: string, kind: string, id: string, ms = 0): Job {
  const outDir = `${dir}/${id}`;
  Deno.mkdirSync(outDir);
  return { kind, id, params: { ms }, inputs: {}, outDir };
}

Deno.test("workerExecutor: twice as many jobs as workers, each computed once, one at a time per worker", async () => {
  const dir = await Deno.makeTempDir();
  const executor = workerExecutor(REGISTRY, 2);
  try {
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
    const ran = ids.map((id) =>
      JSON.parse(Deno.readTextFileSync(`${dir}/${id}/ran.json`)) as {
        worker: string;
        start: number;
        end: number;
      }
    );
    const byWorker = Map.groupBy(ran, (r) => r.worker);
    assertEquals([...byWorker.values()].map((rs) => rs.length), [2, 2], "two jobs per worker");
    for (const [a, b] of byWorker.values()) {
      assert(a.end <= b.start || b.end <= a.start, "a worker computes its jobs one at a time");
    }
    for (const id of ids) {
      assertEquals(Deno.readTextFileSync(`${dir}/${id}/out.txt`), id);
      assertEquals(logs.get(id), [`echo ${id}`], "each job's log lines reach its own callbacks");
    }
  } finally {
    executor.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("workerExecutor: a dying worker fails the job it computed; the job queued behind it runs elsewhere", async () => {
  const dir = await Deno.makeTempDir();
  const executor = workerExecutor(REGISTRY, 1);
  try {
    const on = { progress() {}, log() {} };
    const crash = executor.run(job(dir, "crash", "x"), on);
    const queued = executor.run(job(dir, "echo", "y"), on);
    await assertRejects(() => crash, /crashed on purpose/);
    await queued;
    assertEquals(Deno.readTextFileSync(`${dir}/y/out.txt`), "y");
    // The pool replaced its worker: a later job runs too.
    await executor.run(job(dir, "echo", "z"), on);
    assert(Deno.statSync(`${dir}/z/out.txt`).isFile);
  } finally {
    executor.close();
    await Deno.remove(dir, { recursive: true });
  }
});
