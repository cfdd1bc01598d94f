/**
 * The report's view of one experiment's published tables, and small helpers over their rows.
 * @module
 */

/** One CSV row as parsed by arquero (numbers as numbers, empty cells as null). */
export type Row = Readonly<Record<string, unknown>>;

/** What the report knows about one experiment: its tables (any may be missing) and its config. */
export interface ExperimentTables {
  /** Experiment id, e.g. `fig1-toy`. */
  readonly id: string;
  /** The experiment's `description` from the experiment file, when the plan passes it. */
  readonly description?: string;
  /** The experiment's `dataset` block, when the plan passes it (selects e.g. the toy's family). */
  readonly dataset?: Readonly<Record<string, unknown>>;
  /** Tidy `trajectory.csv` rows. */
  readonly trajectory: readonly Row[];
  /** `params.csv` rows: run × step × coordinate (1-based) × value; empty for older tables. */
  readonly params?: readonly Row[];
  /** Tidy `spectra.csv` rows. */
  readonly spectra: readonly Row[];
  /** Wide `summary.csv` rows, one per run. */
  readonly summary: readonly Row[];
  /** `claims.csv` rows. */
  readonly claims: readonly Row[];
  /** Any other CSV of the tabulate artifact, by file name. */
  readonly extra: Readonly<Record<string, readonly Row[]>>;
}

/** A run's identity, as in the tables' run columns. */
export interface RunInfo {
  /** Run name, e.g. `sam-rho0.01`. */
  readonly run: string;
  /** Optimizer kind. */
  readonly optimizer: string;
  /** Learning rate η. */
  readonly lr: number;
  /** Perturbation radius ρ. */
  readonly rho: number;
  /** Seed. */
  readonly seed: number;
}

/** A number from a cell, NaN when absent or not numeric. */
export function num(v: unknown): number {
  return typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
}

/** The distinct runs of some tables, in order of first appearance. */
export function runsOf(...tables: (readonly object[])[]): RunInfo[] {
  const seen = new Map<string, RunInfo>();
  for (const rows of tables) {
    for (const r of rows as readonly Row[]) {
      const run = String(r.run ?? "");
      if (run === "" || seen.has(run)) continue;
      seen.set(run, {
        run,
        optimizer: String(r.optimizer ?? ""),
        lr: num(r.lr),
        rho: num(r.rho),
        seed: num(r.seed),
      });
    }
  }
  return [...seen.values()];
}

/** The distinct metric names of a tidy table, in order of first appearance. */
export function metricsOf(rows: readonly Row[]): string[] {
  return [...new Set(rows.map((r) => String(r.metric)))];
}

/** One point of a tidy series. */
export interface SeriesPoint {
  /** Run name. */
  readonly run: string;
  /** Optimizer kind. */
  readonly optimizer: string;
  /** Step count t. */
  readonly step: number;
  /** Slow time τ = ηρ²t. */
  readonly tau: number;
  /** Metric value. */
  readonly value: number;
}

/** The rows that pass `keep` with a finite value, as points, in table order. */
function points(rows: readonly Row[], keep: (r: Row) => boolean): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  for (const r of rows) {
    if (!keep(r)) continue;
    const value = num(r.value);
    if (!Number.isFinite(value)) continue;
    out.push({
      run: String(r.run),
      optimizer: String(r.optimizer),
      step: num(r.step),
      tau: num(r.tau),
      value,
    });
  }
  return out;
}

/** The finite values of one metric of a tidy table, in table order. */
export function series(rows: readonly Row[], metric: string): SeriesPoint[] {
  return points(rows, (r) => r.metric === metric);
}

/**
 * Coordinate `i` (1-based) of the parameters along training: from `params.csv` when present, else
 * from the trajectory's `x<i>` metric (tables written before parameters had their own table).
 */
export function coordinateSeries(exp: ExperimentTables, i: number): SeriesPoint[] {
  if (exp.params && exp.params.length > 0) {
    return points(exp.params, (r) => num(r.coordinate) === i);
  }
  return series(exp.trajectory, `x${i}`);
}

/** First and last point of each run of a series, keyed by run (runs in order of appearance). */
export function endpoints(points: readonly SeriesPoint[]): Map<string, [SeriesPoint, SeriesPoint]> {
  const out = new Map<string, [SeriesPoint, SeriesPoint]>();
  for (const p of points) {
    const e = out.get(p.run);
    if (!e) out.set(p.run, [p, p]);
    else {
      if (p.step < e[0].step) e[0] = p;
      if (p.step >= e[1].step) e[1] = p;
    }
  }
  return out;
}

/** Formats a number for captions and tables: 4 significant digits, no trailing zeros. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e5) return String(Number(x.toPrecision(4)));
  const [m, e] = x.toExponential(3).split("e");
  return `${String(Number(m))}e${Number(e)}`;
}

/** Mean of finite values (NaN when none). */
export function mean(xs: readonly number[]): number {
  const f = xs.filter(Number.isFinite);
  return f.length ? f.reduce((s, x) => s + x, 0) / f.length : NaN;
}

/** Least-squares slope of log y against log x over the points with x, y > 0 (NaN if < 2 points). */
export function logLogSlope(points: readonly (readonly [number, number])[]): number {
  const p = points.filter(([x, y]) => x > 0 && y > 0).map(([x, y]) => [Math.log(x), Math.log(y)]);
  if (p.length < 2) return NaN;
  const mx = mean(p.map((q) => q[0])), my = mean(p.map((q) => q[1]));
  let sxy = 0, sxx = 0;
  for (const [x, y] of p) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) * (x - mx);
  }
  return sxx > 0 ? sxy / sxx : NaN;
}
