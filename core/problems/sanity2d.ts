/**
 * The 2-D sanity toy L = ½(1 − x1·x2)² (docs/theory.md §7): Γ = {x1·x2 = 1}, Hessian eigenvalues 0 and
 * x1² + x2² on Γ, so SAM and 1-SAM both drift to |x1| = |x2| = 1.
 * @module
 */
import type { Batch } from "../engine/types.ts";
import type { Dataset, F64Problem } from "./types.ts";
import { checkFields } from "./validate.ts";

/** Spec of the sanity2d data set (it has no parameters). */
export interface Sanity2dSpec {
  /** Discriminant. */
  readonly kind: "sanity2d";
}

/** Builds the sanity2d data set. */
export function sanity2dDataset(spec: Sanity2dSpec): Dataset {
  checkFields("sanity2d", spec, ["kind"]);
  return { kind: "sanity2d", params: { dim: 2 }, arrays: {}, shapes: {} };
}

/**
 * Φ for L = ½(1 − x1x2)², derived from the gradient flow ẋ1 = −r·x2, ẋ2 = −r·x1 (r = x1x2 − 1):
 * - c = x1² − x2² is conserved (d/dt c = −2r·x1x2 + 2r·x1x2 = 0), so x stays on its hyperbola branch;
 * - p = x1x2 moves monotonically to 1 (ṗ = −r(x1² + x2²)), and ∇L vanishes only on Γ and at 0.
 * So Φ(x) is the point of {x1x2 = 1, x1² − x2² = c} on the same branch:
 * x1² = (c + √(c² + 4))/2, x2 = 1/x1, with sign s = sign(x1) if c > 0 (branches split by x1),
 * sign(x2) if c < 0, sign(x1) on the line x1 = x2. On the line x1 = −x2 (c = 0, p ≤ 0) the flow runs
 * into the saddle at the origin, so Φ = 0 there.
 */
export function sanity2dPhi(x: ArrayLike<number>): Float64Array {
  const x1 = x[0], x2 = x[1];
  const c = x1 * x1 - x2 * x2;
  const s = c > 0 ? Math.sign(x1) : c < 0 ? Math.sign(x2) : x1 === x2 ? Math.sign(x1) : 0;
  if (s === 0) return new Float64Array(2);
  const root = Math.sqrt(c * c + 4);
  // Two algebraically equal forms of x1²; pick the one without cancellation.
  const x1sq = c >= 0 ? 0.5 * (c + root) : 2 / (root - c);
  const a = s * Math.sqrt(x1sq);
  return Float64Array.of(a, 1 / a);
}

/** L = ½(1 − x1x2)², M = 1, with its closed forms. */
export class Sanity2dProblem implements F64Problem {
  /** Problem kind. */
  readonly kind = "sanity2d";
  /** D = 2. */
  readonly dim = 2;
  /** M = 1. */
  readonly numSamples = 1;

  /** Wraps the "sanity2d" data set (nothing to read). */
  constructor(_dataset: Dataset) {}

  /** ½(1 − x1x2)². */
  loss(x: Float64Array, _batch?: Batch): number {
    const r = x[0] * x[1] - 1;
    return 0.5 * r * r;
  }

  /** r·(x2, x1). */
  grad(x: Float64Array, out: Float64Array, _batch?: Batch): void {
    const r = x[0] * x[1] - 1;
    const g0 = r * x[1];
    out[1] = r * x[0];
    out[0] = g0;
  }

  /** [[x2², 2x1x2 − 1], [2x1x2 − 1, x1²]]·v. */
  hvp(x: Float64Array, v: Float64Array, out: Float64Array, _batch?: Batch): void {
    const x1 = x[0], x2 = x[1], off = 2 * x1 * x2 - 1, v0 = v[0], v1 = v[1];
    out[0] = x2 * x2 * v0 + off * v1;
    out[1] = off * v0 + x1 * x1 * v1;
  }

  /** Dense Hessian (2×2). */
  hessian(x: Float64Array, _batch?: Batch): Float64Array {
    const x1 = x[0], x2 = x[1], off = 2 * x1 * x2 - 1;
    return Float64Array.of(x2 * x2, off, off, x1 * x1);
  }

  /** L = ½r², so ∇²L = JᵀJ on Γ. */
  readonly gaussNewtonScale = 1;

  /** r = x1x2 − 1 (the one "sample": f = x1x2, y = 1). */
  residuals(x: Float64Array, out: Float64Array): void {
    out[0] = x[0] * x[1] - 1;
  }

  /** ∂(x1x2)/∂x = (x2, x1). */
  jacobian(x: Float64Array, out: Float64Array): void {
    out[0] = x[1];
    out[1] = x[0];
  }

  /** Closed-form limit of gradient flow (see {@link sanity2dPhi}). */
  phi(x: Float64Array): Float64Array {
    return sanity2dPhi(x);
  }
}
