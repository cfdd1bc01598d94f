/**
 * For models with per-sample residuals r_k = f_k(x) − y_k (Setting 5.1 of the paper, and the
 * sanity toy): a Levenberg–Marquardt projection onto Γ = {r = 0}, a second estimate of the point of
 * Γ near x beside the gradient flow's Φ(x), and the Gram matrix c·JJᵀ whose eigenvalues are the
 * non-zero Hessian eigenvalues on Γ (∇²L = c·JᵀJ there).
 *
 * Minimum-norm steps make the projection land near the orthogonal projection of x onto Γ, which
 * agrees with Φ(x) to first order in ‖x − Φ(x)‖ (exactly, for a linear model); far from Γ it may
 * reach a different interpolant, so its distance to Φ(x) is a check, not a substitute.
 * @module
 */
import { choleskySolve, norm, symmetricEigen } from "./linalg.ts";

/** Residuals and their Jacobian (M samples, D parameters). */
export interface ResidualModel {
  /** Number of parameters D. */
  readonly dim: number;
  /** Number of residuals M. */
  readonly numSamples: number;
  /** out ← r(x) (length M). */
  residuals(x: Float64Array, out: Float64Array): void;
  /** out ← ∂r_k/∂x_i, M×D row-major. */
  jacobian(x: Float64Array, out: Float64Array): void;
}

/** Options of {@link gaussNewtonProjection}. */
export interface GaussNewtonOptions {
  /** Converged when the RMS residual ‖r‖/√M ≤ tol (default 1e-12). */
  tol?: number;
  /** Maximum accepted plus rejected iterations (default 100). */
  maxIter?: number;
}

/** Result of {@link gaussNewtonProjection}. */
export interface GaussNewtonResult {
  /** The end point. */
  x: Float64Array;
  /** Whether the RMS residual reached tol. */
  converged: boolean;
  /** Iterations (accepted and rejected). */
  iterations: number;
  /** RMS residual at the end point. */
  residualRms: number;
}

/**
 * Levenberg–Marquardt iteration x ← x − Jᵀ(JJᵀ + μI)⁻¹r from `x0`: with μ → 0 the minimum-norm
 * Gauss–Newton step, which converges quadratically near Γ where J has full row rank. μ starts at
 * 1e-8·Tr(JJᵀ)/M, shrinks ×10 after a step that lowers ‖r‖ and grows ×10 (retrying) otherwise.
 */
export function gaussNewtonProjection(
  model: ResidualModel,
  x0: Float64Array,
  opts: GaussNewtonOptions = {},
): GaussNewtonResult {
  const tol = opts.tol ?? 1e-12, maxIter = opts.maxIter ?? 100;
  const m = model.numSamples, dim = model.dim;
  const x = x0.slice(), trial = new Float64Array(dim);
  const r = new Float64Array(m), rTrial = new Float64Array(m);
  const jac = new Float64Array(m * dim), gram = new Float64Array(m * m);
  model.residuals(x, r);
  let rn = norm(r), mu = Number.NaN, iterations = 0, fresh = true;
  while (rn / Math.sqrt(m) > tol && iterations < maxIter) {
    if (fresh) {
      model.jacobian(x, jac);
      gramInto(jac, m, dim, 1, gram);
      let tr = 0;
      for (let k = 0; k < m; k++) tr += gram[k * m + k];
      if (Number.isNaN(mu)) mu = 1e-8 * tr / m;
      mu = Math.max(mu, 1e-15 * tr / m);
      fresh = false;
    }
    iterations++;
    const damped = gram.slice();
    for (let k = 0; k < m; k++) damped[k * m + k] += mu;
    const w = choleskySolve(damped, m, r);
    let accepted = false;
    if (w) {
      trial.set(x);
      for (let k = 0; k < m; k++) {
        for (let i = 0; i < dim; i++) trial[i] -= jac[k * dim + i] * w[k];
      }
      model.residuals(trial, rTrial);
      const rnTrial = norm(rTrial);
      if (rnTrial < rn) {
        accepted = true;
        x.set(trial);
        r.set(rTrial);
        rn = rnTrial;
        mu /= 10;
        fresh = true;
      }
    }
    if (!accepted) mu *= 10;
  }
  const residualRms = rn / Math.sqrt(m);
  return { x, converged: residualRms <= tol, iterations, residualRms };
}

/** out ← c·JJᵀ (M×M) for a row-major M×D Jacobian. */
function gramInto(jac: Float64Array, m: number, dim: number, c: number, out: Float64Array): void {
  for (let a = 0; a < m; a++) {
    for (let b = 0; b <= a; b++) {
      let s = 0;
      for (let i = 0; i < dim; i++) s += jac[a * dim + i] * jac[b * dim + i];
      out[a * m + b] = out[b * m + a] = c * s;
    }
  }
}

/**
 * Eigenvalues (descending) of c·JJᵀ at x: on Γ the M non-zero eigenvalues of ∇²L = c·JᵀJ, so the
 * M-th is λ_M exactly, whatever D.
 */
export function gramEigenvalues(model: ResidualModel, x: Float64Array, c: number): Float64Array {
  const m = model.numSamples, dim = model.dim;
  const jac = new Float64Array(m * dim), gram = new Float64Array(m * m);
  model.jacobian(x, jac);
  gramInto(jac, m, dim, c, gram);
  return symmetricEigen(gram, m).values;
}
