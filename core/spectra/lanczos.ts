/**
 * Top eigenpairs of a symmetric operator by (block) Lanczos with full re-orthogonalization.
 *
 * Vectors live in float64 whatever precision the matvec runs in. The basis Q and the products HQ are
 * both kept, so the Rayleigh–Ritz matrix QᵀHQ and the TRUE residuals ‖Hy − θy‖ of the Ritz pairs
 * come without extra matvecs; iteration stops when those residuals are small, not when θ stalls.
 * @module
 */
import { Rng } from "../rng.ts";
import { dot, type Matvec, norm, orthogonalize, symmetricEigen } from "./linalg.ts";

export type { Matvec } from "./linalg.ts";

/** Options of {@link lanczos}. */
export interface LanczosOptions {
  /** Number of largest (algebraic) eigenpairs wanted (default 1). */
  k?: number;
  /**
   * Relative residual tolerance: stop once ‖Hy_i − θ_i y_i‖ ≤ tol·s for i = 1..k, where s is the
   * largest |Ritz value| (= |λ1| for a PSD operator). Default 1e-8; with a float32 matvec use ≥ 1e-5.
   */
  tol?: number;
  /** Maximum number of matvecs (basis size); capped at the dimension, which is also the default. */
  maxIter?: number;
  /** Seed of the random start block (default 0). */
  seed?: number;
  /**
   * Block size p (default 1). A single start vector cannot resolve a repeated eigenvalue (its
   * Krylov space meets each eigenspace in one line); use p ≥ the multiplicity to get all copies.
   */
  blockSize?: number;
  /** Optional first start vector (need not be normalized); the rest of the start block is random. */
  start?: Float64Array;
}

/** Result of {@link lanczos}. */
export interface LanczosResult {
  /** The k largest Ritz values, descending. */
  values: Float64Array;
  /** Their unit Ritz vectors, sign fixed so that the entry of largest magnitude is positive. */
  vectors: Float64Array[];
  /** True residual norms ‖H v_i − λ_i v_i‖ (from the stored products, no extra matvecs). */
  residuals: Float64Array;
  /** Number of matvecs applied (= final basis size). */
  iterations: number;
  /** Whether every residual met the tolerance. */
  converged: boolean;
}

/** Relative norm below which a new direction counts as linearly dependent (Krylov space exhausted). */
const BREAKDOWN = 1e-10;

/**
 * The k largest eigenpairs of the symmetric operator `matvec` on R^dim.
 *
 * Each iteration applies the operator to the newest block, orthogonalizes the results against the
 * whole basis (twice), and solves the projected eigenproblem QᵀHQ densely. When the Krylov space
 * becomes invariant (rank-deficient operators, lucky start) the basis is extended with a fresh random
 * direction. Cost: `iterations` matvecs, O(dim·m²) flops for orthogonalization and O(m³) per
 * projected solve, memory 2·dim·m floats, for a final basis size m ≤ maxIter.
 */
export async function lanczos(
  matvec: Matvec,
  dim: number,
  opts: LanczosOptions = {},
): Promise<LanczosResult> {
  const k = opts.k ?? 1, tol = opts.tol ?? 1e-8, p = opts.blockSize ?? 1;
  const maxIter = Math.min(dim, opts.maxIter ?? dim);
  if (!(Number.isInteger(dim) && dim >= 1)) throw new RangeError(`dim must be ≥ 1 (got ${dim})`);
  if (!(Number.isInteger(k) && k >= 1 && k <= dim)) {
    throw new RangeError(`k must be an integer in [1, ${dim}] (got ${k})`);
  }
  if (!(Number.isInteger(p) && p >= 1 && p <= dim)) {
    throw new RangeError(`blockSize must be an integer in [1, ${dim}] (got ${p})`);
  }
  if (!(maxIter >= k)) throw new RangeError(`maxIter (${maxIter}) must be ≥ k (${k})`);
  if (opts.start && opts.start.length !== dim) {
    throw new RangeError(`start has length ${opts.start.length}, expected ${dim}`);
  }
  const rng = new Rng(opts.seed ?? 0);
  const q: Float64Array[] = [], hq: Float64Array[] = [];
  // Rayleigh–Ritz matrix QᵀHQ, stored with leading dimension maxIter.
  const t = new Float64Array(maxIter * maxIter);

  const candidates: Float64Array[] = [];
  if (opts.start) candidates.push(opts.start.slice());
  while (candidates.length < p) candidates.push(rng.fillNormal(new Float64Array(dim)));

  let result: LanczosResult | undefined;
  while (result === undefined) {
    const first = q.length;
    for (const w of candidates) {
      if (q.length >= maxIter) break;
      const before = norm(w);
      let after = orthogonalize(w, q);
      // Dependent direction: the Krylov space is (numerically) invariant; continue with a random one.
      while (!(after > BREAKDOWN * before)) {
        rng.fillNormal(w);
        after = orthogonalize(w, q);
      }
      for (let i = 0; i < dim; i++) w[i] /= after;
      const hw = new Float64Array(dim);
      await matvec(w, hw);
      const m = q.length;
      q.push(w);
      hq.push(hw);
      for (let i = 0; i <= m; i++) {
        // Symmetrized: a float32 HVP is only symmetric up to rounding.
        t[i * maxIter + m] = t[m * maxIter + i] = (dot(q[i], hw) + dot(hq[i], w)) / 2;
      }
    }
    const m = q.length;
    if (m >= k) {
      const ritz = ritzPairs(q, hq, t, maxIter, k);
      const scale = ritz.scale;
      const converged = ritz.residuals.every((r) => r <= tol * scale);
      if (converged || m >= maxIter) {
        result = {
          values: ritz.values,
          vectors: ritz.vectors,
          residuals: ritz.residuals,
          iterations: m,
          converged,
        };
      }
    }
    candidates.length = 0;
    for (let j = first; j < m; j++) candidates.push(hq[j].slice());
  }
  return result;
}

/** The top-k Ritz pairs of the basis q (with products hq), their true residuals and max |θ|. */
function ritzPairs(
  q: readonly Float64Array[],
  hq: readonly Float64Array[],
  t: Float64Array,
  ld: number,
  k: number,
): { values: Float64Array; vectors: Float64Array[]; residuals: Float64Array; scale: number } {
  const m = q.length, dim = q[0].length;
  const small = new Float64Array(m * m);
  for (let i = 0; i < m; i++) small.set(t.subarray(i * ld, i * ld + m), i * m);
  const eig = symmetricEigen(small, m);
  const scale = Math.max(Math.abs(eig.values[0]), Math.abs(eig.values[m - 1]));
  const values = eig.values.slice(0, k);
  const vectors: Float64Array[] = [];
  const residuals = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const s = eig.vectors[j];
    const y = new Float64Array(dim), hy = new Float64Array(dim);
    for (let i = 0; i < m; i++) {
      const c = s[i], qi = q[i], hqi = hq[i];
      for (let l = 0; l < dim; l++) {
        y[l] += c * qi[l];
        hy[l] += c * hqi[l];
      }
    }
    const ny = norm(y);
    let big = 0;
    for (let l = 0; l < dim; l++) if (Math.abs(y[l]) > Math.abs(y[big])) big = l;
    const f = (y[big] < 0 ? -1 : 1) / ny;
    let r2 = 0;
    for (let l = 0; l < dim; l++) {
      y[l] *= f;
      hy[l] *= f;
      const r = hy[l] - values[j] * y[l];
      r2 += r * r;
    }
    vectors.push(y);
    residuals[j] = Math.sqrt(r2);
  }
  return { values, vectors, residuals, scale };
}

/**
 * λ_m: the m-th largest eigenvalue of `matvec` (m = 1 is λ1). For a rank-M PSD Hessian on the
 * manifold of minimizers Γ, λ_M is its smallest non-zero eigenvalue. Runs {@link lanczos} with k = m.
 */
export async function lambdaM(
  matvec: Matvec,
  dim: number,
  opts: Omit<LanczosOptions, "k"> & { m: number },
): Promise<number> {
  const { m, ...rest } = opts;
  const res = await lanczos(matvec, dim, { ...rest, k: m });
  return res.values[m - 1];
}
