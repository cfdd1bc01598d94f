/**
 * Closed-form predictions near a minimum: Theorem 4.8's 2-cycle, the distance of SAM's iterate to
 * Γ, Corollary 4.6's worst-direction sharpness, and USAM's stability threshold (docs/theory.md §3, §8).
 * @module
 */

function check(name: string, v: number, positive = false): void {
  if (!Number.isFinite(v) || v < 0 || (positive && v === 0)) {
    throw new RangeError(`${name} must be a finite number ${positive ? "> 0" : "≥ 0"} (got ${v})`);
  }
}

/**
 * Theorem 4.8: SAM on L = ½xᵀAx with ηλ1 < 1 ends in the 2-cycle ±x* along v1 with
 * ‖x*‖ = ηρλ1/(2 − ηλ1). The same expression is the distance of SAM's iterate to Γ in Phase II
 * (docs/theory.md §3), with λ1 = λ1(∇²L(Φ(x))). Throws unless 0 < ηλ1 < 2 (no 2-cycle otherwise).
 */
export function samLimitNorm(lr: number, rho: number, lambda1: number): number {
  check("lr", lr, true);
  check("rho", rho);
  check("lambda1", lambda1, true);
  if (lr * lambda1 >= 2) throw new RangeError(`needs ηλ1 < 2 (got ${lr * lambda1})`);
  return lr * rho * lambda1 / (2 - lr * lambda1);
}

/** Corollary 4.6: along SAM's flow R^Max_ρ(x) = (ρ²/2)·λ1(Φ(x)) up to O(ηρ² ln(1/ρ)). */
export function maxSharpnessOnFlow(rho: number, lambda1: number): number {
  check("rho", rho);
  check("lambda1", lambda1);
  return rho * rho * lambda1 / 2;
}

/**
 * [derived] Corollary 4.6 with the finite-η offset: SAM's iterate sits d = ηρλ1/(2 − ηλ1) from Γ
 * along v1, so R^Max = ρλ1d + (ρ²/2)λ1 = (ρ²/2)λ1(2 + ηλ1)/(2 − ηλ1), up to O(ρ³).
 */
export function maxSharpnessFiniteEta(lr: number, rho: number, lambda1: number): number {
  const d = samLimitNorm(lr, rho, lambda1);
  return rho * lambda1 * d + maxSharpnessOnFlow(rho, lambda1);
}

/**
 * USAM x ← x − ηA(x + ρAx) contracts along an eigenvector of eigenvalue λ iff
 * |1 − ηλ(1 + ρλ)| < 1, i.e. ηλ(1 + ρλ) < 2 (Dai, Ahn, Sra 2023). True when stable.
 */
export function usamStable(lr: number, rho: number, lambda: number): boolean {
  check("lr", lr, true);
  check("rho", rho);
  check("lambda", lambda);
  return lr * lambda * (1 + rho * lambda) < 2;
}
