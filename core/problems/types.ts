/**
 * Problem data and the closed-form extras that make problems usable as test oracles.
 * @module
 */
import type { Batch, Objective } from "../engine/types.ts";

/**
 * A data set as the dataset stage produces it: a problem kind, its scalar parameters, and named
 * float64 arrays (row-major) with their shapes. Everything a problem needs is in here, so a train
 * stage depends on nothing but this artifact.
 */
export interface Dataset {
  /** Problem kind: "quadratic" | "two-quadratics" | "toy4d" | "sanity2d" | "diagnet" | "mlp". */
  readonly kind: string;
  /** Scalar/string parameters of the problem (eigenvalues, family, activation, hidden width, …). */
  readonly params: Readonly<Record<string, unknown>>;
  /** Named arrays, e.g. `A` (D×D), `z` (n×d inputs), `y` (n targets), `zTest`, `yTest`. */
  readonly arrays: Readonly<Record<string, Float64Array>>;
  /** Shapes of the arrays, e.g. `{ z: [n, d], y: [n] }`. */
  readonly shapes: Readonly<Record<string, readonly number[]>>;
  /** Where the data came from and under which license (for real data sets). */
  readonly provenance?: Readonly<Record<string, string>>;
}

/**
 * The float64 engine's view of a problem: an objective over `Float64Array` plus the closed forms that
 * exist for it. Closed forms are the independent oracles the generic routines are tested against.
 */
export interface F64Problem extends Objective<Float64Array, number> {
  /** Problem kind (as in the data set). */
  readonly kind: string;
  /** Dense Hessian of the mean loss over `batch` at x, D×D row-major (closed form). */
  hessian?(x: Float64Array, batch?: Batch): Float64Array;
  /** Φ(x): the limit of gradient flow from x, where known in closed form. */
  phi?(x: Float64Array): Float64Array;
  /** Setting 5.1 models: per-sample outputs f_k(x) into `out` (length M). */
  outputs?(x: Float64Array, out: Float64Array): void;
  /** Setting 5.1 models (and sanity2d): residuals r_k(x) = f_k(x) − y_k into `out` (length M). */
  residuals?(x: Float64Array, out: Float64Array): void;
  /** Setting 5.1 models (and sanity2d): the Jacobian ∂f_k/∂x_i into `out`, M×D row-major. */
  jacobian?(x: Float64Array, out: Float64Array): void;
  /**
   * With `jacobian`: the c of L = (c/2)·Σ_k r_k², so that ∇²L = c·JᵀJ on Γ = {r = 0} (2/M for
   * the mean squared error, 1 for sanity2d's ½r²).
   */
  readonly gaussNewtonScale?: number;
  /**
   * Problem-specific scalars of a point for the spectral tables (same keys at every x), e.g. the
   * sparsity of the diagonal net's w.
   */
  pointMetrics?(x: Float64Array): Record<string, number>;
  /** Setting 5.1 models: the test loss on held-out data, when the data set has it. */
  testLoss?(x: Float64Array): number;
}
