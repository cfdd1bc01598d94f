/**
 * Reading claim data: run selection by name pattern, the value of a metric at a checkpoint, and
 * the numeric argument helpers evaluators share. Missing or non-finite data raise
 * {@linkcode Inconclusive}, so a claim never passes on absent evidence.
 * @module
 */
import { type ClaimData, Inconclusive, type MeasureRow, type RunRecord } from "./types.ts";

/** Whether a run name matches a pattern where `*` is any run of characters. */
export function matchesRun(name: string, pattern: string): boolean {
  const re = new RegExp(
    "^" + pattern.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$",
  );
  return re.test(name);
}

/**
 * The runs matching `pattern` (a string or list of strings). Inconclusive when none match or when
 * one diverged (a diverged run's final values are not the prediction's limit).
 */
export function selectRuns(data: ClaimData, pattern: unknown): RunRecord[] {
  const patterns = Array.isArray(pattern) ? pattern.map(String) : [stringArg(pattern, "runs")];
  const runs = data.runs.filter((r) => patterns.some((p) => matchesRun(r.run, p)));
  if (runs.length === 0) throw new Inconclusive(`no run matches ${patterns.join(", ")}`);
  const bad = runs.find((r) => r.diverged !== "");
  if (bad) throw new Inconclusive(`run ${bad.run} ${bad.diverged}`);
  return runs;
}

/** A required string argument. */
export function stringArg(v: unknown, name: string): string {
  if (typeof v !== "string" || v === "") {
    throw new TypeError(
      `claim argument ${name} must be a non-empty string (got ${JSON.stringify(v)})`,
    );
  }
  return v;
}

/** A required finite number argument (or its default). */
export function numberArg(v: unknown, name: string, fallback?: number): number {
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new TypeError(
      `claim argument ${name} must be a finite number (got ${JSON.stringify(v)})`,
    );
  }
  return v;
}

/** Which checkpoint of a run: the first or last logged, or the one nearest a fraction of the run. */
export type At = "first" | "last" | number;

/** Parses an `at` argument: "first", "last" (default) or a fraction of the run in [0, 1]. */
export function atArg(v: unknown, name = "at"): At {
  if (v === undefined) return "last";
  if (v === "first" || v === "last") return v;
  if (typeof v === "number" && v >= 0 && v <= 1) return v;
  throw new TypeError(`claim argument ${name} must be "first", "last" or a fraction in [0, 1]`);
}

/** The rows of one run and metric, in step order. */
export function series(rows: readonly MeasureRow[], run: string, metric: string): MeasureRow[] {
  return rows.filter((r) => r.run === run && r.metric === metric).sort((a, b) => a.step - b.step);
}

/**
 * The value of `metric` for `run` at checkpoint `at` (for a fraction f: the logged step nearest
 * f × last step). Inconclusive when the metric is absent or not finite there.
 */
export function valueAt(
  rows: readonly MeasureRow[],
  run: string,
  metric: string,
  at: At = "last",
): MeasureRow {
  const s = series(rows, run, metric);
  if (s.length === 0) throw new Inconclusive(`no ${metric} for run ${run}`);
  let row: MeasureRow;
  if (at === "first") row = s[0];
  else if (at === "last") row = s[s.length - 1];
  else {
    const target = at * s[s.length - 1].step;
    row = s.reduce((best, r) =>
      Math.abs(r.step - target) < Math.abs(best.step - target) ? r : best
    );
  }
  if (!Number.isFinite(row.value)) {
    throw new Inconclusive(`${metric} of run ${run} at step ${row.step} is ${row.value}`);
  }
  return row;
}

/** Spectral metrics that describe the flow to Φ itself, usable whether or not it converged. */
const PHI_DIAGNOSTICS = new Set([
  "phi_converged",
  "phi_method",
  "phi_flow_time",
  "phi_steps",
  "phi_grad_norm",
]);

/**
 * The row of a spectral metric when present there, else of a trajectory metric, for a run at a
 * checkpoint. A value measured at Φ(x) (`phi_*`, `dist_to_manifold`) is used only where that
 * checkpoint's flow to Φ converged (`phi_converged` = 1); otherwise the claim is inconclusive.
 */
export function pointAt(data: ClaimData, run: string, metric: string, at: At = "last"): MeasureRow {
  const inSpectra = data.spectra.some((r) => r.run === run && r.metric === metric);
  const row = valueAt(inSpectra ? data.spectra : data.trajectory, run, metric, at);
  const atPhi = (metric.startsWith("phi_") && !PHI_DIAGNOSTICS.has(metric)) ||
    metric === "dist_to_manifold";
  if (inSpectra && atPhi) {
    const conv = data.spectra.find((r) =>
      r.run === run && r.metric === "phi_converged" && r.step === row.step
    );
    if (conv && conv.value !== 1) {
      throw new Inconclusive(`${metric} of run ${run} at step ${row.step}: Φ did not converge`);
    }
  }
  return row;
}

/** The value of {@linkcode pointAt}. */
export function metricAt(data: ClaimData, run: string, metric: string, at: At = "last"): number {
  return pointAt(data, run, metric, at).value;
}

/** Mean and sample standard deviation (0 for one value). */
export function meanStd(values: readonly number[]): { mean: number; std: number } {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const v2 = n > 1 ? values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(v2) };
}

/** Least-squares slope and its standard error of y on x. */
export function fitSlope(
  x: readonly number[],
  y: readonly number[],
): { slope: number; se: number } {
  const n = x.length;
  if (n < 2) throw new Inconclusive(`a slope needs ≥ 2 points (got ${n})`);
  const mx = x.reduce((s, v) => s + v, 0) / n, my = y.reduce((s, v) => s + v, 0) / n;
  let sxx = 0, sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (x[i] - mx) ** 2;
    sxy += (x[i] - mx) * (y[i] - my);
  }
  if (sxx === 0) throw new Inconclusive("a slope needs ≥ 2 distinct x values");
  const slope = sxy / sxx;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (y[i] - my - slope * (x[i] - mx)) ** 2;
  const se = n > 2 ? Math.sqrt(sse / (n - 2) / sxx) : 0;
  return { slope, se };
}
