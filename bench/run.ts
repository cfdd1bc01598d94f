/**
 * The benchmark run: every selected (workload, backend, operation) through the project's own code,
 * each interleaved round by round with the matching NumPy and PyTorch baselines (one long-lived
 * process per program and thread count), joined into `BenchRow`s: ours, then every baseline.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { probeWebGpu } from "../core/engine/backend.ts";
import { type Blas, blasStatus, FALLBACK_KERNEL, loadBlas } from "../core/engine/blas.ts";
import { f64Engine } from "../core/engine/f64.ts";
import { createTfEngine } from "../core/engine/tfjs.ts";
import { createF64Problem } from "../core/problems/registry.ts";
import { createTfProblem } from "../core/problems/tf_registry.ts";
import {
  type BaselineJob,
  BaselineProcess,
  type BaselineProgram,
  type BaselineWorkload,
  findPython,
} from "./baselines.ts";
import {
  type BenchRow,
  loadAverage,
  NO_BASELINE,
  relDiff,
  summarize,
  type TimingOptions,
} from "./harness.ts";
import { Baton } from "./turns.ts";
import {
  type BenchBackend,
  gflopOf,
  type Instance,
  instantiate,
  measure,
  type Operation,
  OPERATIONS,
  type Reference,
  reference,
  roundsFor,
  tfBackendOf,
  type Timed,
  timesOperation,
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
  /** Thread counts of the CPU baseline processes (default 1 and all cores). */
  readonly threads?: readonly number[];
  /** The baseline programs to run (default NumPy and PyTorch on the CPU). */
  readonly programs?: readonly BaselineProgram[];
  /**
   * Measure a workload's backends together, alternating round by round (one backend's
   * calibration or round at a time, tfjs's global backend switched at each turn), instead of one
   * backend after another.
   */
  readonly interleave?: boolean;
  /** Progress and notices (default: nothing). */
  readonly log?: (line: string) => void;
  /** The OpenBLAS of the `wasm-sgemm` rows (default: the process's, as `SAM_BLAS` says). */
  readonly sgemm?: Blas;
}

const SCRIPTS: Record<BaselineProgram, string> = {
  numpy: new URL("./baselines/numpy_baseline.py", import.meta.url).pathname,
  torch: new URL("./baselines/torch_baseline.py", import.meta.url).pathname,
  "torch-cuda": new URL("./baselines/torch_baseline.py", import.meta.url).pathname,
};

/** Extra environment per program: the CUDA one is the PyTorch program on the device. */
const PROGRAM_ENV: Partial<Record<BaselineProgram, Record<string, string>>> = {
  "torch-cuda": { BENCH_DEVICE: "cuda" },
};

/**
 * Timing per backend: WebGPU on a software adapter (`fallback`) is slow, so it gets few
 * repetitions of one call each; a real adapter is timed as the CPU engines are.
 */
function timingFor(backend: BenchBackend, quick: boolean, fallback: boolean): TimingOptions {
  const base: TimingOptions = quick
    ? { reps: 3, warmup: 1, targetMs: 10, maxInner: 1e7 }
    : { reps: 5, warmup: 1, targetMs: 100, maxInner: 1e8 };
  return backend === "webgpu" && fallback ? { ...base, reps: 3, targetMs: 0 } : base;
}

/** The programs that implement a workload kind (PyTorch has the MLP only). */
function programsFor(kind: string): BaselineProgram[] {
  return kind === "mlp"
    ? ["numpy", "torch", "torch-cuda"]
    : kind === "toy4d" || kind === "quadratic"
    ? ["numpy"]
    : [];
}

/** What our engines run on, for the blas column. */
function oursBlas(
  backend: BenchBackend,
  kind: string,
  extra: Record<string, string>,
  sgemm?: Blas,
): string {
  switch (backend) {
    case "f64": {
      const blas = loadBlas();
      return kind === "mlp" && blas
        ? `${blas.identity}, via FFI (full-batch products; the rest TypeScript)`
        : `none (TypeScript loops${kind === "mlp" ? `; ${blasStatus()}` : ""})`;
    }
    case "cpu":
      return "none (JavaScript loops, tfjs cpu)";
    case "wasm-xnnpack":
      return `XNNPACK in tfjs-backend-wasm (${extra.wasm ?? "simd"}), 1 thread`;
    case "wasm":
      return kind === "mlp" && extra.gemm
        ? `${oursBlas("wasm-xnnpack", kind, extra)}; the fused SAM step's products: the ` +
          `project's relaxed-SIMD kernel (multiply-add ${extra.gemm})`
        : oursBlas("wasm-xnnpack", kind, extra);
    case "wasm-sgemm":
      return `${oursBlas("wasm-xnnpack", kind, extra)}; the fused step's two products per ` +
        `gradient: ${sgemm?.identity}, sgemm via FFI`;
    case "webgpu":
      return `WebGPU: ${extra.webgpu ?? "adapter"}`;
  }
}

/** One baseline task in one process: its calibration check and every repetition of the run. */
interface Series {
  readonly key: string;
  readonly proc: BaselineProcess;
  readonly label: string;
  readonly workload: string;
  readonly dtype: string;
  readonly operation: Operation;
  readonly check?: number[];
  readonly times: number[];
  readonly loads: number[];
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

/**
 * Removes `OPENBLAS_CORETYPE` from this process's environment, which the baselines inherit, and
 * returns the value it had. A machine may set it machine-wide to a kernel family below what the CPU
 * runs (one of this project's 2-core AMD machines set `Haswell`, AVX2, on a CPU with AVX-512: NumPy's
 * sgemm at 107 instead of 200 GFLOP/s), which would make every baseline a crippled one. Without the
 * variable each OpenBLAS makes its own choice, and one that falls back to its SSE3 kernels is
 * corrected as before (`core/engine/blas.ts`, and the baselines' restart in {@linkcode runBench}).
 * Call it before anything loads OpenBLAS: the library reads the variable once, when it loads.
 */
export function dropOpenblasCoretype(): string | undefined {
  const value = Deno.env.get("OPENBLAS_CORETYPE");
  if (value !== undefined) Deno.env.delete("OPENBLAS_CORETYPE");
  return value;
}

/** Runs the benchmark and returns its rows (the caller writes them). */
export async function runBench(opts: RunOptions = {}): Promise<BenchRow[]> {
  const quick = opts.quick ?? false;
  const log = opts.log ?? (() => {});
  const only = opts.only ? new RegExp(opts.only, "i") : undefined;
  const selected = (w: string, b: string, op: string) => !only || only.test(`${w}/${b}/${op}`);
  const maxCallMs = opts.maxCallMs ?? (quick ? 2_000 : 5_000);
  const gpu = await probeWebGpu();
  const sgemm = opts.sgemm ?? loadBlas();
  const extra: Record<string, string> = {};
  if (gpu.available) extra.webgpu = gpu.description;

  const plans = WORKLOADS.map((w) => ({
    workload: w,
    backends: w.backends.map((b) => ({
      backend: b,
      ops: OPERATIONS.filter((op) => selected(w.id, b, op) && timesOperation(w, b, op)),
    })).filter((p) => p.ops.length > 0),
  })).filter((p) => p.backends.length > 0);
  const instances = plans.map((p) => instantiate(p.workload));
  const refs = new Map<string, Reference>(instances.map((i) => [i.workload.id, reference(i)]));

  // One process per program and thread count, started before anything is timed and kept for the
  // whole run, so every round of ours is followed by one round of each baseline.
  const procs: BaselineProcess[] = [];
  let cpu: string | undefined;
  if (opts.baselines ?? true) {
    const threads = [...new Set(opts.threads ?? [1, navigator.hardwareConcurrency])];
    const job = baselineJob(instances);
    for (const program of opts.programs ?? ["numpy", "torch"]) {
      if (!instances.some((i) => programsFor(i.dataset.kind).includes(program))) continue;
      const found = await findPython(program, opts.pythons ?? ["python3", "/usr/bin/python3"]);
      if (!found.python) {
        log(`${program} baseline skipped: ${found.reason}`);
        continue;
      }
      // The device program's CPU threads only launch kernels: one process.
      for (const t of program === "torch-cuda" ? [1] : threads) {
        try {
          const start = (env?: Record<string, string>) =>
            BaselineProcess.start(found.python!, SCRIPTS[program], {
              program,
              threads: t,
              job,
              env: { ...PROGRAM_ENV[program], ...env },
            });
          let proc = await start();
          // The same correction as ours (core/engine/blas.ts): an OpenBLAS older than the CPU runs
          // its fallback kernels, a baseline a skeptic would not accept.
          const kernel = proc.blas?.name === "OpenBLAS" && proc.blas.core === FALLBACK_KERNEL &&
            !Deno.env.get("OPENBLAS_CORETYPE") && sgemm?.bestKernel;
          if (kernel) {
            log(
              `${program}, ${t} thread(s): OpenBLAS fell back to ${FALLBACK_KERNEL}; ` +
                `restarted with OPENBLAS_CORETYPE=${kernel}`,
            );
            await proc.close();
            proc = await start({ OPENBLAS_CORETYPE: kernel });
          }
          procs.push(proc);
          if (typeof proc.info.cpu === "string") cpu = proc.info.cpu;
          log(`${program} ${found.version} (${found.python}), ${t} thread(s): ${proc.blasText}`);
          if (proc.blas?.reference) {
            log(`  ${program} runs on the reference BLAS: its ratios are withheld`);
          }
        } catch (e) {
          log(`${program} baseline failed: ${e instanceof Error ? e.message : e}`);
        }
      }
    }
  }
  const version = (p: BaselineProcess) => String(p.info[p.program] ?? "");
  const series = new Map<string, Series>();
  const timing = timingFor("f64", quick, false);
  /** The baseline series interleaved with one of our rows, calibrated on first use. */
  const seriesFor = async (inst: Instance, dtype: string, rowOp: Operation): Promise<Series[]> => {
    // The batched runs are compared with the baselines' one-run 1-SAM step.
    const op: Operation = rowOp === "1sam-x64" ? "1sam" : rowOp;
    const out: Series[] = [];
    for (const proc of procs) {
      if (!programsFor(inst.dataset.kind).includes(proc.program)) continue;
      const key = `${inst.workload.id}|${proc.program}|${proc.threads}|${dtype}|${op}`;
      let s = series.get(key);
      if (!s) {
        const { check } = await proc.calibrate({
          key,
          workload: inst.workload.id,
          op,
          dtype,
          warmup: timing.warmup,
          target_ms: timing.targetMs,
          max_inner: timing.maxInner,
          sample: refs.get(inst.workload.id)!.sample,
        });
        const label = proc.info.device
          ? `${proc.program} ${version(proc)} ${dtype} on ${proc.info.device}`
          : `${proc.program} ${version(proc)} ${dtype} ${proc.threads} thread` +
            (proc.threads > 1 ? "s" : "");
        s = {
          key,
          proc,
          label,
          workload: inst.workload.id,
          dtype,
          operation: op,
          check,
          times: [],
          loads: [],
        };
        series.set(key, s);
      }
      out.push(s);
    }
    return out;
  };

  type Measured = {
    inst: Instance;
    backend: BenchBackend;
    timed: Timed[];
    loads: Map<Operation, number[]>;
    paired: Map<Operation, Map<Series, number[]>>;
  };
  const measured: Measured[] = [];
  /** Measures one backend of a workload; with a baton, holds it except between rounds. */
  const measureBackend = async (
    inst: Instance,
    backend: BenchBackend,
    operations: readonly Operation[],
    reps: number,
    baton?: Baton,
  ): Promise<Measured> => {
    const w = inst.workload;
    let release = baton ? await baton.acquire() : () => {};
    // Another holder may have switched tfjs's global backend since this one's last turn.
    const takeTurn = async () => {
      if (!baton) return;
      release();
      release = await baton.acquire();
      if (backend !== "f64") await tf.setBackend(tfBackendOf(backend));
    };
    try {
      const dtype = backend === "f64" ? "float64" : "float32";
      const loads = new Map<Operation, number[]>();
      const paired = new Map<Operation, Map<Series, number[]>>();
      const rounds = async (op: Operation, ours: () => Promise<number>) => {
        const base = await seriesFor(inst, dtype, op);
        const times: number[] = [], load: number[] = [];
        const pairs = new Map<Series, number[]>(base.map((s) => [s, []]));
        for (let r = 0, n = roundsFor(w, op, { reps, quick }); r < n; r++) {
          await takeTurn();
          times.push(await ours());
          load.push(loadAverage());
          for (const s of base) {
            const b = await s.proc.rep(s.key);
            s.times.push(b.ms);
            s.loads.push(b.load);
            pairs.get(s)!.push(b.ms);
          }
        }
        loads.set(op, load);
        paired.set(op, pairs);
        return times;
      };
      const onTimed = (t: Timed) => {
        const s = t.times.length ? summarize(t.times).median : Number.NaN;
        log(`${w.id}/${backend}/${t.operation}: ${t.note ?? `${s.toPrecision(4)} ms`}`);
      };
      const timing = { ...timingFor(backend, quick, gpu.fallback), reps };
      const mopts = { timing, operations, maxCallMs, onTimed, rounds };
      let timed: Timed[];
      if (backend === "f64") {
        const problem = createF64Problem(inst.dataset);
        timed = await measure(inst, f64Engine.ops(problem.dim), problem, mopts);
      } else {
        const engine = await createTfEngine(tfBackendOf(backend));
        if (engine.runtime.wasmSimd) {
          extra.wasm = `simd=${engine.runtime.wasmSimd} threads=${engine.runtime.wasmThreads}`;
          if (engine.runtime.wasmGemm !== "unsupported") extra.gemm = engine.runtime.wasmGemm;
        }
        // Plain wasm keeps the project's products even with SAM_BLAS set (as the bench task does).
        const objective = createTfProblem(inst.dataset, {
          blas: backend === "wasm-sgemm" ? sgemm : backend === "wasm-xnnpack" ? "tfjs" : null,
        });
        timed = await measure(inst, engine.ops(objective.dim), objective, mopts);
        objective.dispose?.();
      }
      return { inst, backend, timed, loads, paired };
    } finally {
      release();
    }
  };
  try {
    for (const [pi, plan] of plans.entries()) {
      const inst = instances[pi], w = plan.workload;
      const backends = plan.backends.filter(({ backend }) => {
        if (backend === "wasm-sgemm" && !sgemm) {
          log(`${w.id}/wasm-sgemm: skipped (BLAS ${blasStatus()})`);
          return false;
        }
        if (backend !== "webgpu" || gpu.available) return true;
        log(`${w.id}/webgpu: skipped (${gpu.description})`);
        return false;
      });
      const repsOf = (b: BenchBackend) => timingFor(b, quick, gpu.fallback).reps;
      if (opts.interleave) {
        // Alternating rounds need the same number of rounds on every backend.
        const reps = Math.min(...backends.map((b) => repsOf(b.backend)));
        const baton = new Baton();
        measured.push(
          ...await Promise.all(
            backends.map((b) => measureBackend(inst, b.backend, b.ops, reps, baton)),
          ),
        );
      } else {
        for (const b of backends) {
          measured.push(await measureBackend(inst, b.backend, b.ops, repsOf(b.backend)));
        }
      }
    }

    // Rooflines: GEMM GFLOP/s on each workload's shapes, per process and float width.
    const roof = new Map<string, number>();
    for (const s of series.values()) {
      // The roofline is a CPU GEMM: a device program has none.
      if (s.proc.program === "torch-cuda") continue;
      const key = `${s.workload}|${s.proc.program}|${s.proc.threads}|${s.dtype}`;
      if (!roof.has(key)) roof.set(key, await s.proc.roofline(s.workload, s.dtype));
    }
    const rooflineOf = (workload: string, program: string, threads: number, dtype: string) =>
      roof.get(`${workload}|${program}|${threads}|${dtype}`) ?? Number.NaN;

    const machineText = machine(cpu, extra);
    const rows: BenchRow[] = [];
    for (const m of measured) {
      const ref = refs.get(m.inst.workload.id)!;
      const dtype = m.backend === "f64" ? "float64" : "float32";
      for (const t of m.timed) {
        const s = t.times.length ? summarize(t.times) : { median: NaN, min: NaN, max: NaN };
        const expected = t.operation === "hvp"
          ? ref.hv
          : ref.deltas[t.operation === "1sam-x64" ? "1sam" : t.operation];
        const gflop = gflopOf(m.inst.dataset, t.operation);
        const pairs = m.paired.get(t.operation) ?? new Map<Series, number[]>();
        const best = (threads: (n: number) => boolean) => {
          let pick: { s: Series; ms: number; ratio: number } | undefined;
          for (const [b, times] of pairs) {
            if (!threads(b.proc.threads) || b.proc.blas?.reference || times.length === 0) continue;
            // The ratio columns compare with CPU baselines; a CUDA baseline has rows of its own.
            if (b.proc.program === "torch-cuda") continue;
            const ms = summarize(times).median;
            const ratio = summarize(t.times.map((x, i) => x / times[i])).median;
            if (!pick || ms < pick.ms) pick = { s: b, ms, ratio };
          }
          return pick;
        };
        const one = t.times.length ? best((n) => n === 1) : undefined;
        const all = t.times.length ? best((n) => n > 1) : undefined;
        const notes = [t.note ?? ""];
        if ([...pairs.keys()].some((b) => b.proc.blas?.reference)) {
          notes.push("reference-BLAS baselines not used for ratios");
        }
        rows.push({
          workload: m.inst.workload.id,
          engine: m.backend === "f64" ? "f64" : "tfjs",
          backend: m.backend,
          dtype,
          threads: 1,
          operation: t.operation,
          medianMs: s.median,
          stepsPerS: 1000 / s.median,
          minMs: s.min,
          maxMs: s.max,
          reps: t.times.length,
          gflop,
          gflops: gflop / s.median * 1e3,
          rooflineGflops: rooflineOf(m.inst.workload.id, "numpy", 1, dtype),
          loadAvg: median(m.loads.get(t.operation) ?? []),
          blas: oursBlas(m.backend, m.inst.dataset.kind, extra, sgemm),
          baseline: one?.s.label ?? "",
          baselineMs: one?.ms ?? NaN,
          ratio: one?.ratio ?? NaN,
          baselineAllCores: all?.s.label ?? "",
          baselineAllCoresMs: all?.ms ?? NaN,
          ratioAllCores: all?.ratio ?? NaN,
          machine: machineText,
          relDiff: relDiff(t.result, expected),
          note: notes.filter(Boolean).join("; "),
        });
      }
    }
    for (const s of series.values()) {
      const ref = refs.get(s.workload)!;
      const inst = instances.find((i) => i.workload.id === s.workload)!;
      const st = summarize(s.times);
      const gflop = gflopOf(inst.dataset, s.operation);
      let check: Float64Array | undefined;
      if (s.check && s.operation !== "hvp") {
        check = Float64Array.from(s.check, (v, i) => v - inst.x0[i]);
      } else if (s.check) check = Float64Array.from(s.check);
      const expected = s.operation === "hvp" ? ref.hv : ref.deltas[s.operation];
      rows.push({
        workload: s.workload,
        engine: s.proc.program,
        backend: `${s.proc.program} ${version(s.proc)}`,
        dtype: s.dtype,
        threads: s.proc.threads,
        operation: s.operation,
        medianMs: st.median,
        stepsPerS: 1000 / st.median,
        minMs: st.min,
        maxMs: st.max,
        reps: s.times.length,
        gflop,
        gflops: gflop / st.median * 1e3,
        rooflineGflops: rooflineOf(s.workload, s.proc.program, s.proc.threads, s.dtype),
        loadAvg: median(s.loads),
        blas: s.proc.blasText,
        ...NO_BASELINE,
        machine: machineText,
        relDiff: relDiff(check, expected),
        note: s.proc.blas?.reference ? "reference BLAS: not a fair baseline, no ratio uses it" : "",
      });
    }
    return rows;
  } finally {
    for (const p of procs) await p.close();
  }
}

function median(xs: readonly number[]): number {
  const f = xs.filter(Number.isFinite);
  return f.length ? summarize(f).median : Number.NaN;
}

/** The job the baseline programs read: workloads with their arrays. */
function baselineJob(instances: Instance[]): BaselineJob {
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
  return { workloads, arrays };
}
