/**
 * The limiting flows of SAM and 1-SAM on the 4-D toy (docs/theory.md §3, §7), with and without the
 * finite-η correction, and the gradient flow Φ that starts them. Both toy4d families have
 * F1 = 3 + ‖X − c1‖², F2 = 1 + ½‖X − c2‖² with X = (x1, x2) and c1 = argmin F1, c2 = argmin F2,
 * and on Γ = {x3 = x4 = 0} the Hessian eigenvalues are F1 and F2 (per-sample: 2F1, 2F2).
 * @module
 */
import { toy4dArgmins, type Toy4dFamily } from "../problems/toy4d.ts";
import { rk4 } from "./ode.ts";

/** The predicted limit point of each method on Γ (Figure 1, Table 1). */
export interface ToyTargets {
  /** argmin F1 = argmin λ1: SAM, GD on L^Max. */
  readonly lambda1: [number, number];
  /** argmin F2 = argmin λ_M: GD on L^Asc. */
  readonly lambdaM: [number, number];
  /** argmin F1 + F2 = argmin Tr: 1-SAM, average-direction. */
  readonly trace: [number, number];
}

/** The argmins of λ1, λ_M and Tr on Γ for a family. */
export function toyTargets(family: Toy4dFamily): ToyTargets {
  const a = toy4dArgmins(family);
  return { lambda1: a.f1, lambdaM: a.f2, trace: a.sum };
}

/** F1, F2 and their gradients in X = (x1, x2). */
export function toyCoefficients(family: Toy4dFamily): {
  f1: (x: readonly number[]) => number;
  f2: (x: readonly number[]) => number;
  gradF1: (x: readonly number[]) => [number, number];
  gradF2: (x: readonly number[]) => [number, number];
} {
  const { f1: c1, f2: c2 } = toy4dArgmins(family);
  return {
    f1: ([a, b]) => 3 + (a - c1[0]) ** 2 + (b - c1[1]) ** 2,
    f2: ([a, b]) => 1 + 0.5 * ((a - c2[0]) ** 2 + (b - c2[1]) ** 2),
    gradF1: ([a, b]) => [2 * (a - c1[0]), 2 * (b - c1[1])],
    gradF2: ([a, b]) => [a - c2[0], b - c2[1]],
  };
}

/** Options of the toy flows. */
export interface ToyFlowOptions {
  /**
   * Learning rate η of the finite-η correction (docs/theory.md §3): the drift of a step whose loss has
   * top eigenvalue λ is multiplied by (1 − ηλ/2)⁻². Omit for the η → 0 flow of the theorems.
   */
  readonly lr?: number;
  /** RK4 steps per unit of τ (default 1000). */
  readonly stepsPerUnit?: number;
}

function steps(T: number, perUnit = 1000): number {
  return Math.max(1, Math.ceil(T * perUnit));
}

/**
 * Φ(x0) of the toy: gradient flow of L = ½(F1x3² + F2x4²) from the 4-D point x0 until time T
 * (default 40; x3, x4 decay at least like e^{−t}, so Φ is reached to ~1e-17).
 */
export function toyPhi(
  family: Toy4dFamily,
  x0: readonly number[],
  opts: { time?: number; stepsPerUnit?: number } = {},
): number[] {
  if (x0.length !== 4) throw new RangeError(`x0 must have 4 entries (got ${x0.length})`);
  const c = toyCoefficients(family);
  const T = opts.time ?? 40;
  return rk4(
    (x) => {
      const [p, q] = [x[2], x[3]];
      const g1 = c.gradF1(x), g2 = c.gradF2(x);
      return [
        -0.5 * (g1[0] * p * p + g2[0] * q * q),
        -0.5 * (g1[1] * p * p + g2[1] * q * q),
        -c.f1(x) * p,
        -c.f2(x) * q,
      ];
    },
    x0,
    T,
    steps(T, opts.stepsPerUnit ?? 100),
  );
}

/**
 * Theorem 4.5 on the toy: SAM's λ1-flow dX/dτ = −½∇λ1(X) = −½∇F1(X) from X0 = (x1, x2) ∈ Γ until
 * τ; with `lr`, times (1 − ηF1/2)⁻².
 */
export function toySamFlow(
  family: Toy4dFamily,
  X0: readonly number[],
  tau: number,
  opts: ToyFlowOptions = {},
): [number, number] {
  const c = toyCoefficients(family);
  const lr = opts.lr ?? 0;
  const [a, b] = rk4(
    (x) => {
      const k = (1 - lr * c.f1(x) / 2) ** -2;
      const g = c.gradF1(x);
      return [-0.5 * k * g[0], -0.5 * k * g[1]];
    },
    X0.slice(0, 2),
    tau,
    steps(tau, opts.stepsPerUnit),
  );
  return [a, b];
}

/**
 * Theorem 5.4 on the toy: 1-SAM's Tr-flow dX/dτ = −½∇Tr(∇²L(X)) = −½∇(F1 + F2) from X0 until τ.
 * With `lr`, each sample's drift −½∇λ1(∇²L_k) (λ1(∇²L_k) = 2F_k) is multiplied by (1 − ηF_k)⁻²
 * before the average over k.
 */
export function toyOneSamFlow(
  family: Toy4dFamily,
  X0: readonly number[],
  tau: number,
  opts: ToyFlowOptions = {},
): [number, number] {
  const c = toyCoefficients(family);
  const lr = opts.lr ?? 0;
  const [a, b] = rk4(
    (x) => {
      const k1 = (1 - lr * c.f1(x)) ** -2, k2 = (1 - lr * c.f2(x)) ** -2;
      const g1 = c.gradF1(x), g2 = c.gradF2(x);
      return [-0.5 * (k1 * g1[0] + k2 * g2[0]), -0.5 * (k1 * g1[1] + k2 * g2[1])];
    },
    X0.slice(0, 2),
    tau,
    steps(tau, opts.stepsPerUnit),
  );
  return [a, b];
}
