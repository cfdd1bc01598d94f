/**
 * Φ(x): the limit of gradient flow dx/dt = −∇L(x) started at x, i.e. the point of the minimizer
 * manifold Γ "below" x, and the distance ‖x − Φ(x)‖.
 *
 * The flow is integrated with the Dormand–Prince 5(4) pair under local error control rather than
 * by gradient descent: GD with a finite step converges to a different minimizer (it drifts along Γ
 * by O(step) — e.g. on ½(1 − x1x2)² it does not conserve x1² − x2² as the flow does).
 *
 * On stiff problems (λ_M ≪ λ1 near Γ, as on the Setting 5.1 MLPs) the explicit pair's step is held
 * at ≈ 3.3/λ1 by stability while the slow modes need a flow time ≈ log(1/gradTol)/λ_M, so `phi`
 * hands over to the exponential Rosenbrock integrator of stiff_flow.ts when the explicit budget is
 * spent, continuing the same flow from where the explicit solver stopped.
 * @module
 */
import type { F64Oracle } from "../engine/oracle.ts";
import { norm } from "./linalg.ts";
import { stiffFlow } from "./stiff_flow.ts";

/** Options of {@link phi}. */
export interface PhiOptions {
  /** Stop when ‖∇L‖ < gradTol (default 1e-9; with float32 gradients use ~1e-5·scale). */
  gradTol?: number;
  /**
   * Local error tolerance per step relative to that step's displacement ‖Δx‖ (default 1e-8), so
   * the error accumulated along the path is ≲ rtol × path length.
   */
  rtol?: number;
  /** Absolute local error tolerance per step (default 0). */
  atol?: number;
  /**
   * Maximum attempted explicit steps, accepted or rejected (default 2000; 6 gradients each). With
   * method "auto" the stiff solver takes over from there.
   */
  maxSteps?: number;
  /** Local error tolerance of the stiff solver (default 3e-4, see stiff_flow.ts). */
  stiffRtol?: number;
  /** Maximum attempted stiff steps (default 2000; see stiff_flow.ts for their cost). */
  stiffMaxSteps?: number;
  /** "auto" (default): explicit, then stiff if it did not converge; or only one of them. */
  method?: "auto" | "explicit" | "stiff";
  /** Dense Hessian eigendecomposition in the stiff solver when D ≤ this (default 128). */
  denseUpTo?: number;
}

/** Which integrator produced the end point of {@link phi}. */
export type PhiMethod = "explicit" | "stiff";

/** Result of {@link phi}. */
export interface PhiResult {
  /** The end point (≈ Φ(x) when converged). */
  x: Float64Array;
  /** Whether ‖∇L‖ < gradTol was reached within the step caps. */
  converged: boolean;
  /** The integrator that produced `x` (the last one run). */
  method: PhiMethod;
  /** Attempted integration steps, explicit and stiff together. */
  steps: number;
  /** Gradient evaluations used. */
  gradEvals: number;
  /** Hessian-vector products used (stiff solver only). */
  hvpEvals: number;
  /** ‖∇L‖ at the end point. */
  gradNorm: number;
  /** Flow time integrated. */
  time: number;
}

// Dormand–Prince 5(4) tableau: stage weights a, 5th-order weights b (= last row, FSAL) and
// error weights e = b − b̂ (b̂ the embedded 4th-order solution).
const A = [
  [],
  [1 / 5],
  [3 / 40, 9 / 40],
  [44 / 45, -56 / 15, 32 / 9],
  [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
  [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
  [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
];
const E = [
  71 / 57600,
  0,
  -71 / 16695,
  71 / 1920,
  -17253 / 339200,
  22 / 525,
  -1 / 40,
];

/**
 * Integrates gradient flow of the full loss from `x0` until ‖∇L‖ < gradTol: explicitly (Dormand–
 * Prince) for up to `maxSteps` steps, then — method "auto" — by the stiff solver from that point.
 * An explicit step costs 6 gradients (the last stage is reused as the next first stage); near Γ its
 * size is limited by stability (≈ 3.3/λ1), so the explicit cost grows like (λ1/λ_M)·log(1/gradTol).
 */
export async function phi(
  oracle: F64Oracle,
  x0: Float64Array,
  opts: PhiOptions = {},
): Promise<PhiResult> {
  const method = opts.method ?? "auto";
  if (method === "stiff") return await stiffPhi(oracle, x0, opts, undefined);
  const { lastStep, ...res } = await explicitPhi(oracle, x0, opts);
  if (res.converged || method === "explicit") return res;
  const stiff = await stiffPhi(oracle, res.x, opts, lastStep);
  return {
    ...stiff,
    steps: res.steps + stiff.steps,
    gradEvals: res.gradEvals + stiff.gradEvals,
    time: res.time + stiff.time,
  };
}

async function stiffPhi(
  oracle: F64Oracle,
  x0: Float64Array,
  opts: PhiOptions,
  h0: number | undefined,
): Promise<PhiResult> {
  const res = await stiffFlow(oracle, x0, {
    gradTol: opts.gradTol,
    rtol: opts.stiffRtol,
    atol: opts.atol,
    maxSteps: opts.stiffMaxSteps ?? 2000,
    denseUpTo: opts.denseUpTo,
    h0,
  });
  return { ...res, method: "stiff" };
}

/** The Dormand–Prince integration of {@link phi}, with its last step size for a hand-over. */
async function explicitPhi(
  oracle: F64Oracle,
  x0: Float64Array,
  opts: PhiOptions,
): Promise<PhiResult & { lastStep: number }> {
  const gradTol = opts.gradTol ?? 1e-9, rtol = opts.rtol ?? 1e-8, atol = opts.atol ?? 0;
  const maxSteps = opts.maxSteps ?? 2000;
  const dim = oracle.dim;
  const x = x0.slice(), y = new Float64Array(dim), xNew = new Float64Array(dim);
  // k[s] holds stage s of f(x) = −∇L(x).
  const k = Array.from({ length: 7 }, () => new Float64Array(dim));
  let gradEvals = 0;
  const f = async (at: Float64Array, out: Float64Array) => {
    await oracle.grad(at, out);
    gradEvals++;
    for (let i = 0; i < dim; i++) out[i] = -out[i];
  };
  await f(x, k[0]);
  let gnorm = norm(k[0]);
  const xnorm = norm(x);
  // A first step that moves x by ~1% of its size; the controller adapts from there.
  let h = gnorm > 0 ? 0.01 * Math.max(xnorm, 1e-6) / gnorm : 0;
  let steps = 0, time = 0;
  while (!(gnorm < gradTol) && steps < maxSteps) {
    steps++;
    for (let s = 1; s < 7; s++) {
      y.set(x);
      for (let j = 0; j < s; j++) {
        const c = h * A[s][j];
        if (c !== 0) { for (let i = 0; i < dim; i++) y[i] += c * k[j][i]; }
      }
      if (s === 6) xNew.set(y);
      await f(y, k[s]);
    }
    // Error relative to the step's own displacement, not to |x|: near Γ the distance left is far
    // below rtol·|x|, and an |x|-relative test accepts neutrally stable (non-contracting) steps.
    let e2 = 0, dx2 = 0;
    for (let i = 0; i < dim; i++) {
      let e = 0;
      for (let s = 0; s < 7; s++) e += E[s] * k[s][i];
      e2 += (h * e) ** 2;
      dx2 += (xNew[i] - x[i]) ** 2;
    }
    // The h·gradTol/100 term ignores increments' errors below what the stopping test can resolve;
    // without it, gradient rounding noise (~1e-16 absolute) eventually rejects every step.
    const bound = atol + rtol * Math.sqrt(dx2) + h * gradTol / 100;
    const err = e2 === 0 ? 0 : Math.sqrt(e2) / bound;
    if (err <= 1 && Number.isFinite(err)) {
      x.set(xNew);
      k[0].set(k[6]);
      gnorm = norm(k[0]);
      time += h;
      h *= Math.min(5, Math.max(0.2, 0.9 * err ** -0.2));
    } else {
      h *= Number.isFinite(err) ? Math.max(0.2, 0.9 * err ** -0.2) : 0.2;
    }
  }
  return {
    x,
    converged: gnorm < gradTol,
    method: "explicit",
    steps,
    gradEvals,
    hvpEvals: 0,
    gradNorm: gnorm,
    time,
    lastStep: h,
  };
}

/** ‖x − Φ(x)‖ (see {@link phi} for options and cost); NaN when the flow did not converge. */
export async function distToManifold(
  oracle: F64Oracle,
  x: Float64Array,
  opts: PhiOptions = {},
): Promise<number> {
  const res = await phi(oracle, x, opts);
  if (!res.converged) return Number.NaN;
  let d2 = 0;
  for (let i = 0; i < x.length; i++) d2 += (x[i] - res.x[i]) ** 2;
  return Math.sqrt(d2);
}
