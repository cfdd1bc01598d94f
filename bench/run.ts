/**
 * The benchmark run: every selected (workload, backend, operation), then the Python baselines on the
 * same data, joined into `BenchRow`s with ratios and result checks.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { probeWebGpu } from "../core/engine/backend.ts";
import { f64Engine } from "../core/engine/f64.ts";
import { createTfEngine } from "../core/engine/tfjs.ts";
import type { BackendName } from "../core/engine/types.ts";
import { createF64Problem } from "../core/problems/registry.ts";
import { createTfProblem } from "../core/problems/tf_registry.ts";
import {
  type BaselineProgram,
  type BaselineResult,
  type BaselineTask,
  type BaselineWorkload,
  findPython,
  runBaseline,
} from "./baselines.ts";
import { type BenchRow, relDiff, summarize, type TimingOptions } from "./harness.ts";
import {
  type Instance,
  instantiate,
  measure,
  OPERATIONS,
  type Reference,
  reference,
  type Timed,
  WORKLOADS,
} from "./workloads.ts";

/** Options of {@link runBench}. */
export interface RunOptions {
  /** Fewer repetitions and shorter calibration (smoke test). */
  readonly quick?: boolean;
  /** Only rows whose "workload/backend/operation" matches this regular expression. */
  readonly only?: string;
  /** Run the Python baselines (default true). */
  readonly baselines?: boolean;
  /** Interpreters to try for the baselines, in order. */
  readonly pythons?: readonly string[];
  /** Skip spectral operations estimated to take longer than this per call (ms). */
  readonly maxCallMs?: number;
  /** Progress and notices (default: nothing). */
  readonly log?: (line: string) => void;
}

const SCRIPTS: Record<BaselineProgram, string> = {
  numpy: new URL("./baselines/numpy_baseline.py", import.meta.url).pathname,
  torch: new URL("./baselines/torch_baseline.py", import.meta.url).pathname,
};

/** Timing per backend: WebGPU on a software adapter is slow, so it gets few repetitions. */
function timingFor(backend: BackendName, quick: boolean): TimingOptions {
  const base: TimingOptions = quick
    ? { reps: 3, minReps: 3, warmup: 1, targetMs: 10, maxInner: 1e7, budgetMs: 2_000 }
    : { reps: 5, minReps: 5, warmup: 1, targetMs: 100, maxInner: 1e8, budgetMs: 20_000 };
  return backend === "webgpu" ? { ...base, reps: 3, minReps: 1, targetMs: 0 } : base;
}

/** Which baseline a row is compared with: NumPy float64 or PyTorch in the row's float width. */
function baselineOf(
  kind: string,
  backend: BackendName,
): { program: BaselineProgram; dtype: string } | undefined {
  if (kind === "toy4d" || kind === "quadratic") {
    return backend === "f64" ? { program: "numpy", dtype: "float64" } : undefined;
  }
  if (kind === "mlp") {
    return { program: "torch", dtype: backend === "f64" ? "float64" : "float32" };
  }
  return undefined;
}

/** CPU (from the Python baselines: Deno reads /proc/cpuinfo only with --allow-all), cores, versions. */
function machine(cpu: string | undefined, extra: Record<string, string>): string {
  const parts = [
    `${cpu || "CPU model unknown"} x${navigator.hardwareConcurrency}`,
    `${Deno.build.os}-${Deno.build.arch}`,
    `deno ${Deno.version.deno}`,
    `tfjs ${tf.version.tfjs}`,
    ...Object.entries(extra).map(([k, v]) => `${k} ${v}`),
  ];
  return parts.join("; ");
}

/** Runs the benchmark and returns its rows (the caller writes them). */
export async function runBench(opts: RunOptions = {}): Promise<BenchRow[]> {
  const quick = opts.quick ?? false;
  const log = opts.log ?? (() => {});
  const only = opts.only ? new RegExp(opts.only, "i") : undefined;
  const selected = (w: string, b: string, op: string) => !only || only.test(`${w}/${b}/${op}`);
  const maxCallMs = opts.maxCallMs ?? (quick ? 2_000 : 5_000);
  const gpu = await probeWebGpu();
  const extra: Record<string, string> = {};
  if (gpu.available) extra.webgpu = gpu.description;

  type Measured = { inst: Instance; ref: Reference; backend: BackendName; timed: Timed[] };
  const measured: Measured[] = [];
  const instances: Instance[] = [];
  const refs = new Map<string, Reference>();
  for (const w of WORKLOADS) {
    const plan = w.backends.map((b) => ({
      backend: b,
      ops: OPERATIONS.filter((op) => selected(w.id, b, op)),
    })).filter((p) => p.ops.length > 0);
    if (plan.length === 0) continue;
    const inst = instantiate(w);
    const ref = reference(inst);
    instances.push(inst);
    refs.set(w.id, ref);
    for (const { backend, ops: operations } of plan) {
      if (backend === "webgpu" && !gpu.available) {
        log(`${w.id}/webgpu: skipped (${gpu.description})`);
        continue;
      }
      const onTimed = (t: Timed) => {
        const s = t.times.length ? summarize(t.times).median : Number.NaN;
        log(`${w.id}/${backend}/${t.operation}: ${t.note ?? `${s.toPrecision(4)} ms`}`);
      };
      const mopts = { timing: timingFor(backend, quick), operations, maxCallMs, onTimed };
      let timed: Timed[];
      if (backend === "f64") {
        const problem = createF64Problem(inst.dataset);
        timed = await measure(inst, f64Engine.ops(problem.dim), problem, mopts);
      } else {
        const engine = await createTfEngine(backend);
        if (engine.runtime.wasmSimd) {
          extra.wasm = `simd=${engine.runtime.wasmSimd} threads=${engine.runtime.wasmThreads}`;
        }
        const objective = createTfProblem(inst.dataset);
        timed = await measure(inst, engine.ops(objective.dim), objective, mopts);
        objective.dispose?.();
      }
      measured.push({ inst, ref, backend, timed });
    }
  }

  // Baselines, after our timings so the two never compete for the cores.
  const wanted = new Map<BaselineProgram, BaselineTask[]>();
  // The baselines get the timing of the f64/cpu rows, so both sides are measured alike.
  const timing = timingFor("f64", quick);
  for (const m of measured) {
    for (const t of m.timed) {
      const b = baselineOf(m.inst.dataset.kind, m.backend);
      if (!b || t.times.length === 0) continue;
      if (b.program === "numpy" && m.inst.dataset.kind === "mlp" && t.operation === "hvp") continue;
      const key = `${m.inst.workload.id}|${b.program}|${b.dtype}|${t.operation}`;
      const list = wanted.get(b.program) ?? [];
      if (list.some((x) => x.key === key)) continue;
      list.push({
        key,
        workload: m.inst.workload.id,
        op: t.operation,
        dtype: b.dtype,
        reps: timing.reps,
        min_reps: timing.minReps,
        warmup: timing.warmup,
        target_ms: timing.targetMs,
        max_inner: timing.maxInner,
        budget_ms: timing.budgetMs,
        sample: m.ref.sample,
      });
      wanted.set(b.program, list);
    }
  }
  const baselineResults = new Map<string, BaselineResult>();
  const baselineNames = new Map<BaselineProgram, string>();
  let cpu: string | undefined;
  if (opts.baselines ?? true) {
    const pythons = opts.pythons ?? ["python3", "/usr/bin/python3"];
    for (const [program, tasks] of wanted) {
      const found = await findPython(program, pythons);
      if (!found.python) {
        log(`${program} baseline skipped: ${found.reason}`);
        continue;
      }
      const job = baselineJob(
        instances.filter((i) => tasks.some((t) => t.workload === i.workload.id)),
        tasks,
      );
      log(
        `${program} baseline: ${found.python} (${program} ${found.version}), ${tasks.length} tasks`,
      );
      try {
        const { info, results } = await runBaseline(found.python, SCRIPTS[program], job);
        if (typeof info.cpu === "string") cpu = info.cpu;
        baselineNames.set(program, `${program} ${found.version}`);
        for (const [k, r] of results) baselineResults.set(k, r);
      } catch (e) {
        log(`${program} baseline failed: ${e instanceof Error ? e.message : e}`);
      }
    }
  }

  const machineText = machine(cpu, extra);
  const rows: BenchRow[] = [];
  for (const m of measured) {
    for (const t of m.timed) {
      const s = t.times.length ? summarize(t.times) : { median: NaN, min: NaN, max: NaN };
      const b = baselineOf(m.inst.dataset.kind, m.backend);
      const key = b && `${m.inst.workload.id}|${b.program}|${b.dtype}|${t.operation}`;
      const br = key ? baselineResults.get(key) : undefined;
      const bMs = br ? summarize(br.timesMs).median : NaN;
      const expected = t.operation === "hvp" ? m.ref.hv : m.ref.deltas[t.operation];
      let baselineCheck: Float64Array | undefined;
      if (br?.check && t.operation !== "hvp") {
        baselineCheck = Float64Array.from(br.check, (v, i) => v - m.inst.x0[i]);
      } else if (br?.check) baselineCheck = Float64Array.from(br.check);
      rows.push({
        workload: m.inst.workload.id,
        engine: m.backend === "f64" ? "f64" : "tfjs",
        backend: m.backend,
        operation: t.operation,
        medianMs: s.median,
        stepsPerS: 1000 / s.median,
        minMs: s.min,
        maxMs: s.max,
        reps: t.times.length,
        baseline: br && b
          ? `${baselineNames.get(b.program)} ${b.dtype}` +
            (br.threads ? ` ${br.threads} thread${br.threads > 1 ? "s" : ""}` : "")
          : "",
        baselineMs: bMs,
        ratio: s.median / bMs,
        machine: machineText,
        oursRelDiff: relDiff(t.result, expected),
        baselineRelDiff: relDiff(baselineCheck, expected),
        note: t.note ?? "",
      });
    }
  }
  return rows;
}

/** The job the baseline programs read: workloads with their arrays, and the tasks. */
function baselineJob(instances: Instance[], tasks: BaselineTask[]) {
  const workloads: Record<string, BaselineWorkload> = {};
  const arrays: Record<string, Float64Array> = {};
  for (const inst of instances) {
    const id = inst.workload.id, ds = inst.dataset;
    const names: Record<string, string> = { x0: `${id}.x0`, v: `${id}.v` };
    arrays[names.x0] = inst.x0;
    arrays[names.v] = inst.v;
    for (const a of Object.keys(ds.arrays)) {
      if (a === "A" || a === "z" || a === "y") {
        names[a] = `${id}.${a}`;
        arrays[names[a]] = ds.arrays[a];
      }
    }
    const [n, d] = ds.shapes.z ?? [];
    workloads[id] = {
      kind: ds.kind,
      lr: inst.workload.lr,
      rho: inst.workload.rho,
      arrays: names,
      family: ds.params.family,
      dim: inst.x0.length,
      n,
      d,
      hidden: ds.params.hidden,
      activation: ds.params.activation,
    };
  }
  return { workloads, tasks, arrays };
}
