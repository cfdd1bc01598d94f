/**
 * Timing, statistics and output of the benchmark: per-call times after warm-up and calibration,
 * the CSV of `results/bench.csv`, and the short console table.
 * @module
 */
import * as aq from "arquero";

/** How one measurement repeats its body. */
export interface TimingOptions {
  /** Rounds: each gives one per-call time of every row measured in it. */
  readonly reps: number;
  /** Untimed calls before calibration (JIT, kernel compilation). */
  readonly warmup: number;
  /** `inner` grows until one repetition takes at least this long (ms). */
  readonly targetMs: number;
  /** Upper bound on `inner`. */
  readonly maxInner: number;
}

/**
 * The measured body: runs the operation `n` times. A body may return a promise (async operations,
 * or a read-back that waits for the device); it is awaited before the clock stops.
 */
export type Body = (n: number) => void | Promise<void>;

/**
 * Warms `body` up and returns `inner`, the number of calls per repetition: grown until one
 * repetition takes at least `targetMs` (or reaches `maxInner`).
 */
export async function calibrate(
  body: Body,
  opts: TimingOptions,
  reset?: () => void,
): Promise<number> {
  if (opts.warmup > 0) {
    reset?.();
    await body(opts.warmup);
  }
  let inner = 1;
  for (;;) {
    const elapsed = await repetition(body, inner, reset) * inner;
    if (elapsed >= opts.targetMs || inner >= opts.maxInner) return inner;
    // Jump close to the target instead of doubling from 1 (microsecond bodies).
    const guess = elapsed > 0 ? Math.ceil((inner * opts.targetMs) / elapsed) : inner * 16;
    inner = Math.min(opts.maxInner, Math.max(inner * 2, guess));
  }
}

/** One timed repetition of `inner` calls (after `reset`): ms per call. */
export async function repetition(body: Body, inner: number, reset?: () => void): Promise<number> {
  reset?.();
  const t0 = performance.now();
  await body(inner);
  return (performance.now() - t0) / inner;
}

/** The 1-minute load average (NaN without `--allow-sys=loadavg` or off Linux/macOS). */
export function loadAverage(): number {
  try {
    return Deno.loadavg()[0];
  } catch {
    return Number.NaN;
  }
}

/** Median, minimum and maximum of a non-empty list. */
export function summarize(times: readonly number[]): { median: number; min: number; max: number } {
  if (times.length === 0) throw new RangeError("summarize needs at least one time");
  const s = [...times].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1] };
}

/**
 * One row of results/bench.csv: one implementation (ours or a baseline) of one operation on one
 * workload. Times in ms per call; NaN where not measured.
 */
export interface BenchRow {
  /** Workload id (toy4d, quadratic-1000, mlp-1024, mlp-5.1). */
  workload: string;
  /** Ours: "f64" or "tfjs"; baselines: "numpy" or "torch". */
  engine: string;
  /** Ours: f64, cpu, wasm or webgpu; baselines: the library version. */
  backend: string;
  /** float32 or float64. */
  dtype: string;
  /** Threads the implementation ran on. */
  threads: number;
  /** gd, sam, 1sam (one optimizer step), hvp, lanczos20, hutch100. */
  operation: string;
  /** Median per-call time over the rounds. */
  medianMs: number;
  /** 1000 / medianMs (calls per second). */
  stepsPerS: number;
  /** Fastest round. */
  minMs: number;
  /** Slowest round. */
  maxMs: number;
  /** Rounds timed. */
  reps: number;
  /** Floating-point operations per call (GEMM-level count, NaN where not counted). */
  gflop: number;
  /** gflop / median time: the achieved GFLOP/s. */
  gflops: number;
  /** Measured GEMM GFLOP/s on this workload's shapes, float width and thread count, same run. */
  rooflineGflops: number;
  /** Median 1-minute load average over the row's rounds. */
  loadAvg: number;
  /** The BLAS this implementation actually ran on (library, version, kernel, threads). */
  blas: string;
  /** Headline baseline: the fastest 1-thread optimized-BLAS baseline row of the same float width. */
  baseline: string;
  /** Its median over the rounds interleaved with this row. */
  baselineMs: number;
  /** Median over rounds of ours / baseline (below 1: faster than the baseline). */
  ratio: number;
  /** The fastest all-cores optimized-BLAS baseline row of the same float width. */
  baselineAllCores: string;
  /** Its median over the rounds interleaved with this row. */
  baselineAllCoresMs: number;
  /** Median over rounds of ours / all-cores baseline. */
  ratioAllCores: number;
  /** CPU, cores, Deno and tfjs versions. */
  machine: string;
  /** Max-norm relative difference of the row's result from the float64 closed-form reference. */
  relDiff: number;
  /** Why a measurement is missing or unusual. */
  note: string;
}

/** The baseline and ratio columns of a row that has none (a baseline's own row, an absent one). */
export const NO_BASELINE: Pick<
  BenchRow,
  "baseline" | "baselineMs" | "ratio" | "baselineAllCores" | "baselineAllCoresMs" | "ratioAllCores"
> = {
  baseline: "",
  baselineMs: NaN,
  ratio: NaN,
  baselineAllCores: "",
  baselineAllCoresMs: NaN,
  ratioAllCores: NaN,
};

/** The CSV header, in column order. */
export const CSV_COLUMNS = [
  "workload",
  "engine",
  "backend",
  "dtype",
  "threads",
  "operation",
  "median_ms",
  "steps_per_s",
  "min_ms",
  "max_ms",
  "reps",
  "gflop",
  "gflops",
  "roofline_gflops",
  "load_avg",
  "blas",
  "baseline",
  "baseline_ms",
  "ratio",
  "baseline_all_cores",
  "baseline_all_cores_ms",
  "ratio_all_cores",
  "rel_diff",
  "machine",
  "note",
] as const;

/** A finite number to 6 significant digits; a missing value (NaN) is an empty field. */
function num(x: number): number | null {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : null;
}

/** The CSV records of the rows (numbers rounded, NaN as null), in column order. */
function records(rows: readonly BenchRow[]): Record<string, unknown>[] {
  return rows.map((r) => ({
    workload: r.workload,
    engine: r.engine,
    backend: r.backend,
    dtype: r.dtype,
    threads: r.threads,
    operation: r.operation,
    median_ms: num(r.medianMs),
    steps_per_s: num(r.stepsPerS),
    min_ms: num(r.minMs),
    max_ms: num(r.maxMs),
    reps: r.reps,
    gflop: num(r.gflop),
    gflops: num(r.gflops),
    roofline_gflops: num(r.rooflineGflops),
    load_avg: num(r.loadAvg),
    blas: r.blas,
    baseline: r.baseline,
    baseline_ms: num(r.baselineMs),
    ratio: num(r.ratio),
    baseline_all_cores: r.baselineAllCores,
    baseline_all_cores_ms: num(r.baselineAllCoresMs),
    ratio_all_cores: num(r.ratioAllCores),
    rel_diff: num(r.relDiff),
    machine: r.machine,
    note: r.note,
  }));
}

/** The rows as CSV (header line, one line per row, one trailing newline), written by arquero. */
export function toCsv(rows: readonly BenchRow[]): string {
  return aq.from(records(rows), [...CSV_COLUMNS]).toCSV();
}

/**
 * What identifies a row across runs: workload, engine, the backend's first word (webgpu, wasm,
 * numpy, torch-cuda: a library version or adapter change replaces the row), dtype, threads, operation.
 */
export function rowKey(r: Record<string, unknown>): string {
  return [r.workload, r.engine, String(r.backend).split(" ")[0], r.dtype, r.threads, r.operation]
    .join("|");
}

/**
 * `existing` CSV text (as {@link toCsv} wrote it; "" for none) with `rows` merged in: every old
 * row with the key ({@link rowKey}) of a new row is replaced, the rest kept in their order, the new
 * rows appended. Old fields are kept verbatim (read as text). Throws when the old header differs.
 */
export function mergeCsv(existing: string, rows: readonly BenchRow[]): string {
  if (existing.trim() === "") return toCsv(rows);
  const header = existing.slice(0, existing.indexOf("\n")).trim();
  if (header !== CSV_COLUMNS.join(",")) {
    throw new Error(`cannot merge: the existing CSV's header is not bench's (${header})`);
  }
  const fresh = records(rows);
  const keys = new Set(fresh.map(rowKey));
  const old = (aq.fromCSV(existing, { autoType: false }).objects() as Record<string, unknown>[])
    .filter((r) => !keys.has(rowKey(r)));
  return aq.from([...old, ...fresh], [...CSV_COLUMNS]).toCSV();
}

function ms(x: number): string {
  if (!Number.isFinite(x)) return "-";
  return x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

function fixed(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "-";
}

/** A short fixed-width table of the rows for the console. */
export function formatTable(rows: readonly BenchRow[]): string {
  const head = [
    "workload",
    "engine",
    "backend",
    "dtype",
    "thr",
    "op",
    "median ms",
    "GFLOP/s",
    "roof",
    "load",
    "ratio 1t",
    "ratio all",
  ];
  const body = rows.map((r) => [
    r.workload,
    r.engine,
    r.backend,
    r.dtype,
    String(r.threads),
    r.operation,
    r.note && !Number.isFinite(r.medianMs) ? "skipped" : ms(r.medianMs),
    fixed(r.gflops, 1),
    fixed(r.rooflineGflops, 0),
    fixed(r.loadAvg, 2),
    Number.isFinite(r.ratio) ? r.ratio.toPrecision(3) : "-",
    Number.isFinite(r.ratioAllCores) ? r.ratioAllCores.toPrecision(3) : "-",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(head), ...body.map(line)].join("\n");
}

/** ‖a − b‖∞ / ‖b‖∞ (NaN when either is missing or the lengths differ). */
export function relDiff(
  a: ArrayLike<number> | undefined,
  b: ArrayLike<number> | undefined,
): number {
  if (!a || !b || a.length !== b.length) return Number.NaN;
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return den === 0 ? num : num / den;
}
