/**
 * A fixed-step classical Runge–Kutta integrator: the float64 reference for the limiting flows.
 * @module
 */

/**
 * Integrates ṗ = f(p) over [0, T] with n classical RK4 steps and returns p(T). Global error
 * O((T/n)⁴) for smooth f, so n = 1000·T steps give ~1e-12 on the flows of this module's callers.
 */
export function rk4(
  f: (p: readonly number[]) => number[],
  p0: readonly number[],
  T: number,
  n: number,
): number[] {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be an integer ≥ 1 (got ${n})`);
  if (!(T >= 0)) throw new RangeError(`T must be ≥ 0 (got ${T})`);
  const h = T / n;
  let p = p0.slice();
  const along = (q: readonly number[], k: readonly number[], s: number) =>
    q.map((v, j) => v + s * k[j]);
  for (let i = 0; i < n; i++) {
    const k1 = f(p),
      k2 = f(along(p, k1, h / 2)),
      k3 = f(along(p, k2, h / 2)),
      k4 = f(along(p, k3, h));
    p = p.map((v, j) => v + (h / 6) * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]));
  }
  return p;
}
