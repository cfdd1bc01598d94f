/**
 * Trace of a symmetric operator given by its matvec: exact for small dimensions, otherwise the
 * Hutchinson or Hutch++ estimators with Rademacher probes and a standard error.
 * @module
 */
import { Rng } from "../rng.ts";
import { dot, type Matvec, orthogonalize } from "./linalg.ts";

/** A trace value with its standard error (0 when exact) and the number of matvecs it cost. */
export interface TraceEstimate {
  /** The trace (or its unbiased estimate). */
  estimate: number;
  /** Standard error of the estimate (0 for the exact method). */
  se: number;
  /** Matvecs used. */
  matvecs: number;
  /** Which method produced it. */
  method: "exact" | "hutchinson" | "hutch++";
}

/** Options of the stochastic estimators. */
export interface ProbeOptions {
  /** Matvec budget, i.e. number of probes (default 30). */
  probes?: number;
  /** Seed of the probe stream (default 0). */
  seed?: number;
}

/** Σ_i e_iᵀ H e_i with `dim` matvecs. */
export async function traceExact(matvec: Matvec, dim: number): Promise<TraceEstimate> {
  const e = new Float64Array(dim), out = new Float64Array(dim);
  let s = 0;
  for (let i = 0; i < dim; i++) {
    e.fill(0);
    e[i] = 1;
    await matvec(e, out);
    s += out[i];
  }
  return { estimate: s, se: 0, matvecs: dim, method: "exact" };
}

/** Mean and standard error of the quadratic forms zᵀHz over the probes, each first passed through `prep`. */
async function probeMean(
  matvec: Matvec,
  dim: number,
  probes: number,
  rng: Rng,
  prep: (z: Float64Array) => void,
): Promise<{ mean: number; se: number }> {
  const z = new Float64Array(dim), hz = new Float64Array(dim);
  // Welford's update: stable mean and variance in one pass.
  let mean = 0, m2 = 0;
  for (let j = 1; j <= probes; j++) {
    rng.fillRademacher(z);
    prep(z);
    await matvec(z, hz);
    const x = dot(z, hz);
    const d = x - mean;
    mean += d / j;
    m2 += d * (x - mean);
  }
  return { mean, se: probes > 1 ? Math.sqrt(m2 / (probes - 1) / probes) : Number.NaN };
}

/**
 * Hutchinson's estimator mean_j z_jᵀHz_j with Rademacher z_j; `se` is the sample standard deviation
 * over √probes (NaN for a single probe). Unbiased; variance 2(‖H‖_F² − Σ H_ii²)/probes.
 */
export async function hutchinson(
  matvec: Matvec,
  dim: number,
  opts: ProbeOptions = {},
): Promise<TraceEstimate> {
  const probes = opts.probes ?? 30;
  if (!(Number.isInteger(probes) && probes >= 1)) {
    throw new RangeError(`probes must be ≥ 1 (got ${probes})`);
  }
  const { mean, se } = await probeMean(matvec, dim, probes, new Rng(opts.seed ?? 0), () => {});
  return { estimate: mean, se, matvecs: probes, method: "hutchinson" };
}

/**
 * Hutch++ (Meyer, Musco, Musco, Woodruff 2021) with a budget of `probes` matvecs: a third sketch
 * H·S, whose orthonormal basis Q carries the top of the spectrum and is traced exactly (tr QᵀHQ);
 * the rest estimates tr((I−QQᵀ)H(I−QQᵀ)) by Hutchinson. `se` is that remainder's standard error
 * (conditional on Q; NaN if only one probe is left for it). Much lower variance than Hutchinson for the low-rank-dominated Hessians near Γ.
 * Needs probes ≥ 3.
 */
export async function hutchPlusPlus(
  matvec: Matvec,
  dim: number,
  opts: ProbeOptions = {},
): Promise<TraceEstimate> {
  const probes = opts.probes ?? 30;
  if (!(Number.isInteger(probes) && probes >= 3)) {
    throw new RangeError(`Hutch++ needs probes ≥ 3 (got ${probes})`);
  }
  const rng = new Rng(opts.seed ?? 0);
  const sketch = Math.min(Math.floor(probes / 3), dim);
  const q: Float64Array[] = [];
  for (let j = 0; j < sketch; j++) {
    const s = rng.fillRademacher(new Float64Array(dim)), hs = new Float64Array(dim);
    await matvec(s, hs);
    const before = Math.sqrt(dot(hs, hs));
    const after = orthogonalize(hs, q);
    // Dependent columns (H of low rank) add nothing to the range basis.
    if (after > 1e-10 * before) {
      for (let i = 0; i < dim; i++) hs[i] /= after;
      q.push(hs);
    }
  }
  let top = 0;
  const hq = new Float64Array(dim);
  for (const v of q) {
    await matvec(v, hq);
    top += dot(v, hq);
  }
  // probes ≥ 3 leaves at least one probe for the remainder.
  const rest = probes - sketch - q.length;
  if (q.length === dim) {
    return { estimate: top, se: 0, matvecs: sketch + q.length, method: "hutch++" };
  }
  const { mean, se } = await probeMean(matvec, dim, rest, rng, (z) => orthogonalize(z, q));
  return { estimate: top + mean, se, matvecs: probes, method: "hutch++" };
}

/** Options of {@link trace}. */
export interface TraceOptions extends ProbeOptions {
  /** Use the exact trace (dim matvecs) when dim ≤ exactUpTo (default 32). */
  exactUpTo?: number;
  /** Estimator above exactUpTo (default "hutch++"). */
  method?: "hutchinson" | "hutch++";
}

/** The trace by the exact method when dim ≤ exactUpTo, else by the chosen stochastic estimator. */
export function trace(
  matvec: Matvec,
  dim: number,
  opts: TraceOptions = {},
): Promise<TraceEstimate> {
  if (dim <= (opts.exactUpTo ?? 32)) return traceExact(matvec, dim);
  return (opts.method ?? "hutch++") === "hutch++"
    ? hutchPlusPlus(matvec, dim, opts)
    : hutchinson(matvec, dim, opts);
}
