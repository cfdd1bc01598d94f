/**
 * Gradient flow dx/dt = −∇L(x) on stiff problems, by the exponential Rosenbrock method exprb32
 * (Hochbruck, Ostermann & Schweitzer, SIAM J. Numer. Anal. 47, 2009): with H = ∇²L(xₙ) and
 * f = −∇L,
 *
 *   U = xₙ + h φ₁(−hH) f(xₙ),   xₙ₊₁ = U + 2h φ₃(−hH) Dₙ(U),   Dₙ(u) = f(u) − f(xₙ) + H(u − xₙ),
 *
 * third order, with U the embedded second-order solution. The method is exact on quadratics for
 * every h (φ₁ integrates the linear part in closed form), so its error estimate 2hφ₃Dₙ sees only
 * how much the Hessian changes along a step. Near the manifold of minimizers that change vanishes,
 * and the step grows geometrically while the slow normal modes (λ_M ≪ λ1) decay: the cost no longer
 * scales with λ1/λ_M as an explicit integrator's does.
 *
 * The φ-functions of H are applied through a dense eigendecomposition (D Hessian-vector products
 * per step) when D ≤ denseUpTo, else through an adaptive Lanczos (Krylov) approximation per vector.
 * @module
 */
import type { F64Oracle } from "../engine/oracle.ts";
import { denseHessian, dot, norm, orthogonalize, symmetricEigen } from "./linalg.ts";

/** φ₁(z) = (e^z − 1)/z, with φ₁(0) = 1. */
export function phi1(z: number): number {
  return Math.abs(z) < 1e-5 ? 1 + z / 2 + z * z / 6 : Math.expm1(z) / z;
}

/** φ₃(z) = (e^z − 1 − z − z²/2)/z³, with φ₃(0) = 1/6 (Taylor series below |z| = 0.5). */
export function phi3(z: number): number {
  if (Math.abs(z) < 0.5) {
    // Σ_{n≥0} z^n/(n+3)!, to n = 9: the first term dropped is below 0.5^10/13! ≈ 2e-13 · 1/6.
    let term = 1 / 6, sum = term;
    for (let n = 1; n <= 9; n++) {
      term *= z / (n + 3);
      sum += term;
    }
    return sum;
  }
  return (Math.expm1(z) - z - z * z / 2) / (z * z * z);
}

/** The Hessian at the current point, able to apply H and φⱼ(−hH) to vectors. */
interface FlowOperator {
  /** out ← H·v. */
  apply(v: Float64Array, out: Float64Array): Promise<void>;
  /** out ← φⱼ(−hH)·v; false when the result is not finite. */
  phiApply(
    phi: (z: number) => number,
    h: number,
    v: Float64Array,
    out: Float64Array,
  ): Promise<boolean>;
}

/** φ(−hH) through H = VΛVᵀ, computed once per point from D HVPs. */
async function denseOperator(oracle: F64Oracle, x: Float64Array): Promise<FlowOperator> {
  const dim = oracle.dim;
  const hess = await denseHessian(oracle, x);
  const eig = symmetricEigen(hess, dim);
  return {
    apply(v, out) {
      for (let i = 0; i < dim; i++) {
        let s = 0;
        for (let j = 0; j < dim; j++) s += hess[i * dim + j] * v[j];
        out[i] = s;
      }
      return Promise.resolve();
    },
    phiApply(phi, h, v, out) {
      out.fill(0);
      for (let i = 0; i < dim; i++) {
        const q = eig.vectors[i];
        const c = dot(q, v) * phi(-h * eig.values[i]);
        for (let j = 0; j < dim; j++) out[j] += c * q[j];
      }
      return Promise.resolve(out.every(Number.isFinite));
    },
  };
}

/**
 * φ(−hH)v ≈ ‖v‖ Q φ(−hT) e₁ from a Lanczos process started at v (full re-orthogonalization),
 * T = QᵀHQ tridiagonal. The basis grows (8, 16, 32, … up to krylovDim) until Saad's a-posteriori
 * estimate ‖v‖·β_{m+1}·|e_mᵀ φ(−hT_m) e₁| is below tol·‖result‖, or the space is invariant
 * (exact). Short of that at krylovDim the application fails, so the step is retried smaller, where
 * φ(−hH) is easier to approximate.
 */
function krylovOperator(
  oracle: F64Oracle,
  x: Float64Array,
  krylovDim: number,
  tol: number,
): FlowOperator {
  const dim = oracle.dim;
  const apply = (v: Float64Array, out: Float64Array) => oracle.hvp(x, v, out);
  return {
    apply,
    async phiApply(phi, h, v, out) {
      const beta0 = norm(v);
      out.fill(0);
      if (beta0 === 0) return true;
      const mMax = Math.min(dim, krylovDim);
      const q: Float64Array[] = [v.map((a) => a / beta0)];
      const alpha: number[] = [], beta: number[] = [];
      const w = new Float64Array(dim);
      let check = Math.min(8, mMax);
      for (;;) {
        const j = q.length - 1;
        await apply(q[j], w);
        alpha.push(dot(w, q[j]));
        const next = w.slice();
        const b = orthogonalize(next, q);
        const invariant = !(b > 1e-12 * Math.abs(alpha[0]) + 1e-300);
        const m = q.length;
        if (invariant || m === check || m === mMax) {
          const c = tridiagonalPhi(alpha, beta, phi, h);
          const estimate = invariant ? 0 : beta0 * b * Math.abs(c[m - 1]);
          if (estimate <= tol * beta0 * norm(c) || m === mMax) {
            for (let r = 0; r < m; r++) {
              for (let l = 0; l < dim; l++) out[l] += beta0 * c[r] * q[r][l];
            }
            return estimate <= tol * beta0 * norm(c) && out.every(Number.isFinite);
          }
          check = Math.min(2 * check, mMax);
        }
        beta.push(b);
        q.push(next.map((a) => a / b));
      }
    },
  };
}

/** c = φ(−hT)e₁ for the symmetric tridiagonal T with diagonal alpha and off-diagonal beta. */
function tridiagonalPhi(
  alpha: readonly number[],
  beta: readonly number[],
  phi: (z: number) => number,
  h: number,
): Float64Array {
  const n = alpha.length;
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    t[i * n + i] = alpha[i];
    if (i + 1 < n) t[i * n + i + 1] = t[(i + 1) * n + i] = beta[i];
  }
  const eig = symmetricEigen(t, n);
  const c = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = eig.vectors[i], f = s[0] * phi(-h * eig.values[i]);
    for (let r = 0; r < n; r++) c[r] += f * s[r];
  }
  return c;
}

/** Options of {@link stiffFlow}. */
export interface StiffFlowOptions {
  /** Stop when ‖∇L‖ < gradTol (default 1e-9). */
  gradTol?: number;
  /**
   * Local error tolerance relative to the step's displacement ‖Δx‖ (default 3e-4). Measured on the
   * Setting 5.1 MLPs against runs at 3e-5: endpoint errors ≈ 2e-6·‖x − Φ(x)‖, growing like rtol^1.7.
   */
  rtol?: number;
  /** Absolute local error tolerance (default 0). */
  atol?: number;
  /** Maximum attempted steps (default 500). */
  maxSteps?: number;
  /** First step size (default: one that moves x by ~1% of ‖x‖). */
  h0?: number;
  /** Dense eigendecomposition of the Hessian when D ≤ this (default 128), else Krylov. */
  denseUpTo?: number;
  /** Largest Krylov dimension of the φ-function approximation when D > denseUpTo (default 64). */
  krylovDim?: number;
  /** Relative accuracy of each Krylov φ-function application (default 1e-10). */
  krylovTol?: number;
  /** Stop at this flow time instead of at gradTol (for tests against closed forms). */
  timeLimit?: number;
}

/** Result of {@link stiffFlow}. */
export interface StiffFlowResult {
  /** The end point. */
  x: Float64Array;
  /** Whether ‖∇L‖ < gradTol was reached (or timeLimit, when given). */
  converged: boolean;
  /** Attempted steps (accepted and rejected). */
  steps: number;
  /** Gradient evaluations. */
  gradEvals: number;
  /** Hessian-vector products (D per accepted point on the dense path). */
  hvpEvals: number;
  /** ‖∇L‖ at the end point. */
  gradNorm: number;
  /** Flow time integrated. */
  time: number;
}

/**
 * Integrates gradient flow from `x0` with exprb32 under local error control (see the module
 * comment). A step is also rejected when it raises the loss, which the exact flow never does.
 * Cost per accepted step: 2 gradients, 1 loss, and D HVPs (dense) or ≤ 2·krylovDim + 1 HVPs (Krylov).
 */
export async function stiffFlow(
  oracle: F64Oracle,
  x0: Float64Array,
  opts: StiffFlowOptions = {},
): Promise<StiffFlowResult> {
  const gradTol = opts.gradTol ?? 1e-9, rtol = opts.rtol ?? 3e-4, atol = opts.atol ?? 0;
  const maxSteps = opts.maxSteps ?? 500, denseUpTo = opts.denseUpTo ?? 128;
  const timeLimit = opts.timeLimit ?? Infinity;
  const dim = oracle.dim;
  const x = x0.slice(), f0 = new Float64Array(dim), u = new Float64Array(dim);
  const fu = new Float64Array(dim), du = new Float64Array(dim), hdu = new Float64Array(dim);
  const e = new Float64Array(dim), xNew = new Float64Array(dim);
  let gradEvals = 0, hvpEvals = 0;
  const f = async (at: Float64Array, out: Float64Array) => {
    await oracle.grad(at, out);
    gradEvals++;
    for (let i = 0; i < dim; i++) out[i] = -out[i];
  };
  const countingOracle: F64Oracle = {
    dim,
    numSamples: oracle.numSamples,
    loss: (at, b) => oracle.loss(at, b),
    grad: (at, out, b) => oracle.grad(at, out, b),
    hvp: (at, v, out, b) => {
      hvpEvals++;
      return oracle.hvp(at, v, out, b);
    },
  };
  await f(x, f0);
  let gnorm = norm(f0);
  let loss = await oracle.loss(x);
  let h = opts.h0 ?? (gnorm > 0 ? 0.01 * Math.max(norm(x), 1e-6) / gnorm : 0);
  let steps = 0, time = 0;
  const done = () => (timeLimit < Infinity ? !(time < timeLimit) : gnorm < gradTol);
  while (!done() && steps < maxSteps) {
    const op = dim <= denseUpTo
      ? await denseOperator(countingOracle, x)
      : krylovOperator(countingOracle, x, opts.krylovDim ?? 64, opts.krylovTol ?? 1e-10);
    let accepted = false;
    while (!accepted && steps < maxSteps) {
      steps++;
      const hStep = Math.min(h, timeLimit - time);
      let ok = await op.phiApply(phi1, hStep, f0, u);
      for (let i = 0; i < dim; i++) u[i] = x[i] + hStep * u[i];
      let err = Infinity, lossNew = Infinity;
      if (ok) {
        await f(u, fu);
        for (let i = 0; i < dim; i++) du[i] = u[i] - x[i];
        await op.apply(du, hdu);
        for (let i = 0; i < dim; i++) du[i] = fu[i] - f0[i] + hdu[i];
        ok = await op.phiApply(phi3, hStep, du, e);
      }
      if (ok) {
        let e2 = 0, dx2 = 0;
        for (let i = 0; i < dim; i++) {
          e[i] *= 2 * hStep;
          xNew[i] = u[i] + e[i];
          e2 += e[i] * e[i];
          dx2 += (xNew[i] - x[i]) ** 2;
        }
        // As in the explicit solver: the hStep·gradTol/100 term ignores errors below what the
        // stopping test resolves, so gradient rounding noise cannot reject every step.
        const bound = atol + rtol * Math.sqrt(dx2) + hStep * gradTol / 100;
        err = e2 === 0 ? 0 : Math.sqrt(e2) / bound;
        if (err <= 1) lossNew = await oracle.loss(xNew);
      }
      // The flow decreases L; the slack covers the rounding of L itself near Γ.
      if (err <= 1 && lossNew <= loss + 1e-6 * Math.abs(loss) + 1e-30) {
        accepted = true;
        x.set(xNew);
        loss = lossNew;
        await f(x, f0);
        gnorm = norm(f0);
        time += hStep;
        h = hStep * Math.min(5, Math.max(0.2, 0.9 * err ** (-1 / 3)));
      } else {
        h = hStep * (Number.isFinite(err) && err > 1 ? Math.max(0.2, 0.9 * err ** (-1 / 3)) : 0.2);
      }
    }
  }
  return { x, converged: done(), steps, gradEvals, hvpEvals, gradNorm: gnorm, time };
}
