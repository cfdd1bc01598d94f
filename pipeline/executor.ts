/**
 * Where stage code runs: in this thread, or in a pool of Web Workers so that CPU-bound stages of
 * independent instances really run in parallel (JavaScript stages do not yield while computing).
 * @module
 */
import type { InputArtifact, StageContext, StageRegistry } from "./stage.ts";
import { type PackIndex, PackWriter, writeToDir } from "./pack.ts";

/** The serializable part of a stage context. */
export interface Job {
  /** Stage kind name. */
  readonly kind: string;
  /** Instance id. */
  readonly id: string;
  /** Instance params. */
  readonly params: Readonly<Record<string, unknown>>;
  /** Role → upstream artifacts. */
  readonly inputs: Readonly<Record<string, InputArtifact[]>>;
  /** Empty directory to write into. */
  readonly outDir: string;
  /**
   * Instances of the same group computed with this one (by the kind's `runGroup`): their ids and
   * params; they read this job's inputs (a group's members share their upstream entries) and
   * write into its outDir.
   */
  readonly with?: readonly Pick<Job, "id" | "params">[];
  /** For a group: the pack file its members' artifacts are written to (pipeline/pack.ts). */
  readonly pack?: string;
}

/** Callbacks a running job reports through. */
export interface JobEvents {
  /** Progress of the job. */
  progress(done: number, total: number, note?: string): void;
  /** One log line of the job. */
  log(message: string): void;
}

/** Runs jobs. */
export interface Executor {
  /**
   * Runs one job to completion; rejects with the stage's error. Resolves to the pack's index for
   * a group's job.
   */
  run(job: Job, on: JobEvents): Promise<PackIndex | undefined>;
  /** Frees the executor's resources (workers). */
  close(): void;
}

/**
 * Runs a job with the registry's stage code: `run` for one instance, `runGroup` for a job with
 * group members (one `progress` and `log` for them all).
 */
export async function runJob(
  registry: StageRegistry,
  job: Job,
  on: JobEvents,
): Promise<PackIndex | undefined> {
  const kind = registry[job.kind];
  if (!kind) throw new Error(`no stage kind ${JSON.stringify(job.kind)} is registered`);
  const members = [
    job,
    ...(job.with ?? []).map((m) => ({ ...m, inputs: job.inputs, outDir: job.outDir })),
  ];
  const pack = job.pack === undefined ? undefined : new PackWriter(members.map((j) => j.id));
  const context = (j: Omit<Job, "kind" | "with" | "pack">): StageContext => ({
    id: j.id,
    params: j.params,
    inputs: j.inputs,
    outDir: j.outDir,
    write: pack
      ? (name, data) => Promise.resolve(pack.add(j.id, name, data))
      : writeToDir(j.outDir),
    progress: (done: number, total: number, note?: string) => on.progress(done, total, note),
    log: (message: string) => on.log(message),
  });
  if (!pack) {
    await kind.run(context(job));
    return undefined;
  }
  if (!kind.runGroup) throw new Error(`stage kind ${job.kind} cannot compute a group`);
  await kind.runGroup(members.map(context));
  return await pack.write(job.pack!);
}

/** Runs stages in the calling thread (concurrency only where stages await). */
export function inProcessExecutor(registry: StageRegistry): Executor {
  return {
    run: (job, on) => runJob(registry, job, on),
    close() {},
  };
}

/** Messages from the worker script. */
type FromWorker =
  | { type: "ready" }
  | { type: "progress"; done: number; total: number; note?: string }
  | { type: "log"; message: string }
  | { type: "done"; packed?: PackIndex }
  | { type: "error"; message: string; stack?: string };

/**
 * Runs stages in up to `size` Web Workers (created on demand, reused), each of which imports the
 * registry module at `registryUrl` (a module exporting `stageKinds`). The caller limits how many
 * jobs run at once to at most `size`.
 */
export function workerExecutor(registryUrl: string, size: number): Executor {
  const idle: Worker[] = [];
  const all = new Set<Worker>();

  const spawn = (): Promise<Worker> =>
    new Promise((resolve, reject) => {
      const w = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
      const fail = (e: Error) => {
        w.terminate();
        all.delete(w);
        reject(e);
      };
      w.onmessage = (ev: MessageEvent<FromWorker>) => {
        if (ev.data.type === "ready") resolve(w);
        else if (ev.data.type === "error") fail(workerError(ev.data));
      };
      w.onerror = (ev) => {
        ev.preventDefault();
        fail(new Error(`stage worker failed to start: ${ev.message}`));
      };
      all.add(w);
      w.postMessage({ type: "init", registryUrl });
    });

  return {
    async run(job, on) {
      if (all.size > size) throw new Error("more concurrent jobs than workers");
      const w = idle.pop() ?? await spawn();
      let healthy = true;
      try {
        return await new Promise<PackIndex | undefined>((resolve, reject) => {
          w.onmessage = (ev: MessageEvent<FromWorker>) => {
            const m = ev.data;
            if (m.type === "progress") on.progress(m.done, m.total, m.note);
            else if (m.type === "log") on.log(m.message);
            else if (m.type === "done") resolve(m.packed);
            else if (m.type === "error") reject(workerError(m));
          };
          w.onerror = (ev) => {
            // An uncaught error (e.g. an unhandled rejection inside the stage) kills the worker.
            ev.preventDefault();
            healthy = false;
            reject(new Error(ev.message));
          };
          w.postMessage({ type: "run", job });
        });
      } finally {
        if (healthy) idle.push(w);
        else {
          w.terminate();
          all.delete(w);
        }
      }
    },
    close() {
      for (const w of all) w.terminate();
      all.clear();
      idle.length = 0;
    },
  };
}

function workerError(m: { message: string; stack?: string }): Error {
  const e = new Error(m.message);
  if (m.stack) e.stack = m.stack;
  return e;
}
