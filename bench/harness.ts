/**
 * Timing, statistics and output of the benchmark: per-call times after warm-up and calibration,
 * the CSV of `results/bench.csv`, and the short console table.
 * @module
 */

/** How one measurement repeats its body. */
export interface TimingOptions {
  /** Repetitions wanted (each gives one per-call time). */
  readonly reps: number;
  /** Fewest repetitions accepted when the budget is tight. */
  readonly minReps: number;
  /** Untimed calls before calibration (JIT, kernel compilation). */
  readonly warmup: number;
  /** `inner` doubles until one repetition takes at least this long (ms). */
  readonly targetMs: number;
  /** Upper bound on `inner`. */
  readonly maxInner: number;
  /** Wall-time budget of the timed repetitions (ms); fewer reps (≥ minReps) when exceeded. */
  readonly budgetMs: number;
}

/**
 * The measured body: runs the operation `n` times. A body may return a promise (async operations,
 * or a read-back that waits for the device); it is awaited before the clock stops.
 */
export type Body = (n: number) => void | Promise<void>;

/** Per-call times in ms of `body`, one per repetition, and the `inner` count used. */
export async function timePerCall(
  body: Body,
  opts: TimingOptions,
  reset?: () => void,
): Promise<{ times: number[]; inner: number }> {
  if (opts.warmup > 0) {
    reset?.();
    await body(opts.warmup);
  }
  let inner = 1, elapsed = 0;
  for (;;) {
    reset?.();
    const t0 = performance.now();
    await body(inner);
    elapsed = performance.now() - t0;
    if (elapsed >= opts.targetMs || inner >= opts.maxInner) break;
    // Jump close to the target instead of doubling from 1 (microsecond bodies).
    const guess = elapsed > 0 ? Math.ceil((inner * opts.targetMs) / elapsed) : inner * 16;
    inner = Math.min(opts.maxInner, Math.max(inner * 2, guess));
  }
  let reps = opts.reps;
  if (elapsed * reps > opts.budgetMs) {
    reps = Math.max(opts.minReps, Math.floor(opts.budgetMs / Math.max(elapsed, 1e-9)));
  }
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    reset?.();
    const t0 = performance.now();
    await body(inner);
    times.push((performance.now() - t0) / inner);
  }
  return { times, inner };
}

/** Median, minimum and maximum of a non-empty list. */
export function summarize(times: readonly number[]): { median: number; min: number; max: number } {
  if (times.length === 0) throw new RangeError("summarize needs at least one time");
  const s = [...times].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1] };
}

/** One row of results/bench.csv. Times in ms per call; NaN where not measured. */
export interface BenchRow {
  /** Workload id (toy4d, quadratic-1000, mlp-1024, mlp-5.1). */
  workload: string;
  /** "f64" or "tfjs". */
  engine: string;
  /** f64, cpu, wasm or webgpu. */
  backend: string;
  /** gd, sam, 1sam (one optimizer step), hvp, lanczos20, hutch100. */
  operation: string;
  /** Median per-call time. */
  medianMs: number;
  /** 1000 / medianMs (calls per second). */
  stepsPerS: number;
  /** Fastest repetition. */
  minMs: number;
  /** Slowest repetition. */
  maxMs: number;
  /** Timed repetitions. */
  reps: number;
  /** Baseline program and float width, or "" when none ran. */
  baseline: string;
  /** Baseline median per-call time. */
  baselineMs: number;
  /** medianMs / baselineMs (below 1: faster than the baseline). */
  ratio: number;
  /** CPU, cores, Deno and tfjs versions. */
  machine: string;
  /** Max-norm relative difference of our result from the float64 closed-form reference. */
  oursRelDiff: number;
  /** The same for the baseline's result (shows it computes the same step). */
  baselineRelDiff: number;
  /** Why a measurement is missing or unusual. */
  note: string;
}

/** The CSV header, in column order. */
export const CSV_COLUMNS = [
  "workload",
  "engine",
  "backend",
  "operation",
  "median_ms",
  "steps_per_s",
  "min_ms",
  "max_ms",
  "reps",
  "baseline",
  "baseline_ms",
  "ratio",
  "machine",
  "ours_rel_diff",
  "baseline_rel_diff",
  "note",
] as const;

function num(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(6))) : "";
}

function text(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** The rows as CSV (header line, one line per row, one trailing newline). */
export function toCsv(rows: readonly BenchRow[]): string {
  const lines = [CSV_COLUMNS.join(",")];
  for (const r of rows) {
    lines.push([
      text(r.workload),
      text(r.engine),
      text(r.backend),
      text(r.operation),
      num(r.medianMs),
      num(r.stepsPerS),
      num(r.minMs),
      num(r.maxMs),
      String(r.reps),
      text(r.baseline),
      num(r.baselineMs),
      num(r.ratio),
      text(r.machine),
      num(r.oursRelDiff),
      num(r.baselineRelDiff),
      text(r.note),
    ].join(","));
  }
  return lines.join("\n") + "\n";
}

function ms(x: number): string {
  if (!Number.isFinite(x)) return "-";
  return x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

/** A short fixed-width table of the rows for the console. */
export function formatTable(rows: readonly BenchRow[]): string {
  const head = [
    "workload",
    "backend",
    "op",
    "median ms",
    "calls/s",
    "baseline",
    "base ms",
    "ratio",
  ];
  const body = rows.map((r) => [
    r.workload,
    r.backend,
    r.operation,
    r.note && !Number.isFinite(r.medianMs) ? "skipped" : ms(r.medianMs),
    Number.isFinite(r.stepsPerS) ? Number(r.stepsPerS.toPrecision(3)).toLocaleString("en") : "-",
    r.baseline || "-",
    ms(r.baselineMs),
    Number.isFinite(r.ratio) ? r.ratio.toPrecision(3) : "-",
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
