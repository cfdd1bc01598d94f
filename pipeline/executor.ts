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
  /** For a group: the pack file the group's files are written to (pipeline/pack.ts). */
  readonly pack?: string;
}

/** Callbacks a running job reports through. */
export interface JobEvents {
  /** The job's stage code starts (a job may wait in its executor first). */
  start?(): void;
  /** Progress of the job. */
  progress(done: number, total: number, note?: string): void;
  /** One log line of the job. */
  log(message: string): void;
}

/** Runs jobs. */
export interface Executor {
  /**
   * How many jobs it takes at once (the caller starts at most this many): more than it computes
   * at once where it queues jobs next to the computing ones. Absent: one.
   */
  readonly capacity?: number;
  /**
   * Runs one job to completion; rejects with the stage's error. Resolves to the pack's index for
   * a group's job.
   */
  run(job: Job, on: JobEvents): Promise<PackIndex | undefined>;
  /**
   * Starts what running a job needs ahead of the first job (a worker importing the stage code),
   * so that it is ready when the caller has planned; absent: nothing to start.
   */
  warm?(): void;
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
  on.start?.();
  const kind = registry[job.kind];
  if (!kind) throw new Error(`no stage kind ${JSON.stringify(job.kind)} is registered`);
  const members = [
    job,
    ...(job.with ?? []).map((m) => ({ ...m, inputs: job.inputs, outDir: job.outDir })),
  ];
  const pack = job.pack === undefined ? undefined : new PackWriter();
  const context = (j: Omit<Job, "kind" | "with" | "pack">): StageContext => ({
    id: j.id,
    params: j.params,
    inputs: j.inputs,
    outDir: j.outDir,
    write: pack ? (name, data) => Promise.resolve(pack.add(name, data)) : writeToDir(j.outDir),
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

/** Messages from the worker script; those of a job carry its sequence number. */
type FromWorker =
  | { type: "ready" }
  | { type: "start"; seq: number }
  | { type: "progress"; seq: number; done: number; total: number; note?: string }
  | { type: "log"; seq: number; message: string }
  | { type: "done"; seq: number; packed?: PackIndex }
  | { type: "error"; seq?: number; message: string; stack?: string };

/** Jobs a worker holds at once: the one it computes and the next, queued in the worker. */
const WORKER_DEPTH = 2;

/**
 * Runs stages in up to `size` Web Workers (created on demand, reused), each of which imports the
 * registry module at `registryUrl` (a module exporting `stageKinds`). A worker computes one job at
 * a time, and holds the next one queued so that it starts on it at once instead of waiting for
 * this thread to hand it over ({@linkcode Executor.capacity}: twice `size`). A queued job is
 * claimed through shared memory, by its worker when it starts it or by this thread when another
 * worker falls idle first, which then gets it: a short job never waits behind a long one while a
 * worker idles. A worker that dies fails the job it was computing; its queued jobs go elsewhere.
 */
export function workerExecutor(registryUrl: string, size: number): Executor {
  interface Held {
    readonly job: Job;
    readonly on: JobEvents;
    /** 0 while queued; the worker sets 1 when it starts the job, this thread 2 to take it back. */
    readonly claim: Int32Array;
    resolve(packed: PackIndex | undefined): void;
    reject(e: Error): void;
  }
  interface Slot {
    readonly worker: Worker;
    /** Its jobs by sequence number: computing or queued in it. */
    readonly held: Map<number, Held>;
    ready: boolean;
  }
  const slots: Slot[] = [];
  let seq = 0;

  /** A new worker; jobs posted to it wait in it until it has imported the registry. */
  const spawn = (): Slot => {
    const w = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
    const slot: Slot = { worker: w, held: new Map(), ready: false };
    const die = (e: Error) => {
      const at = slots.indexOf(slot);
      if (at < 0) return;
      w.terminate();
      slots.splice(at, 1);
      const held = [...slot.held.values()];
      slot.held.clear();
      for (const h of held) {
        // A job it never started runs on another worker, unless no worker could start.
        if (Atomics.load(h.claim, 0) === 1 || !slot.ready) h.reject(e);
        else redispatch(h);
      }
    };
    w.onmessage = (ev: MessageEvent<FromWorker>) => {
      const m = ev.data;
      if (m.type === "ready") {
        slot.ready = true;
        return;
      }
      const h = m.seq === undefined ? undefined : slot.held.get(m.seq);
      if (m.type === "error" && h === undefined) return die(workerError(m));
      if (h === undefined) return;
      if (m.type === "start") h.on.start?.();
      else if (m.type === "progress") h.on.progress(m.done, m.total, m.note);
      else if (m.type === "log") h.on.log(m.message);
      else {
        slot.held.delete(m.seq!);
        if (m.type === "done") h.resolve(m.packed);
        else h.reject(workerError(m));
        if (slot.held.size === 0) steal();
      }
    };
    w.onerror = (ev) => {
      // An uncaught error (e.g. an unhandled rejection inside the stage) kills the worker.
      ev.preventDefault();
      die(new Error(slot.ready ? ev.message : `stage worker failed to start: ${ev.message}`));
    };
    slots.push(slot);
    w.postMessage({ type: "init", registryUrl });
    return slot;
  };

  /**
   * An idle worker, else a new one while fewer than `size` exist, else the least busy with room.
   * While the pool is not full, one worker more than the jobs need is started in advance: a
   * worker takes about half a second to import the stage code, which a sweep's second job would
   * otherwise wait out on a busy first worker.
   */
  const pick = (): Slot => {
    const idle = slots.find((s) => s.held.size === 0);
    const slot = idle ?? (slots.length < size ? spawn() : undefined);
    if (slots.length < size && !slots.some((s) => s !== slot && s.held.size === 0)) spawn();
    if (slot) return slot;
    const free = slots.filter((s) => s.held.size < WORKER_DEPTH);
    if (free.length === 0) throw new Error("more concurrent jobs than the workers hold");
    return free.reduce((a, b) => (b.held.size < a.held.size ? b : a));
  };

  const dispatch = (job: Job, on: JobEvents): Promise<PackIndex | undefined> =>
    new Promise((resolve, reject) => {
      const slot = pick();
      const n = seq++;
      const claim = new Int32Array(new SharedArrayBuffer(4));
      slot.held.set(n, { job, on, claim, resolve, reject });
      slot.worker.postMessage({ type: "run", seq: n, job, claim });
    });

  const redispatch = (h: Held) => dispatch(h.job, h.on).then(h.resolve, h.reject);

  /** Moves one job queued in a busy worker to an idle one, if its worker has not started it. */
  const steal = () => {
    for (const s of slots) {
      for (const [n, h] of s.held) {
        if (Atomics.compareExchange(h.claim, 0, 0, 2) !== 0) continue;
        s.held.delete(n);
        redispatch(h);
        return;
      }
    }
  };

  return {
    capacity: WORKER_DEPTH * size,
    run: dispatch,
    warm() {
      if (slots.length === 0) spawn();
    },
    close() {
      for (const s of slots) s.worker.terminate();
      slots.length = 0;
    },
  };
}

function workerError(m: { message: string; stack?: string }): Error {
  const e = new Error(m.message);
  if (m.stack) e.stack = m.stack;
  return e;
}
