/**
 * Test support only (imported by the `*_test.ts` files of this folder, never by library code):
 * matrices with known spectra and small objectives with closed-form derivatives, wrapped as
 * {@link F64Oracle} so the spectral routines can be checked against independent answers.
 *
 * Everything here is written with its own plain loops, independent of the code under test.
 * @module
 */
import type { Batch } from "../engine/types.ts";
import type { F64Oracle } from "../engine/oracle.ts";
import { Rng } from "../rng.ts";

/** A symmetric matrix A = Q diag(λ) Qᵀ with its known eigen-decomposition. */
export interface KnownSpectrum {
  /** Dimension n. */
  n: number;
  /** A, n×n row-major. */
  a: Float64Array;
  /** The eigenvalues as given. */
  eigenvalues: Float64Array;
  /** q[i] is the unit eigenvector of eigenvalues[i]. */
  q: Float64Array[];
}

/** n orthonormal vectors: modified Gram–Schmidt (applied twice) of seeded Gaussian vectors. */
export function randomOrthonormal(n: number, seed: number): Float64Array[] {
  const rng = new Rng(seed);
  const q: Float64Array[] = [];
  while (q.length < n) {
    const v = rng.fillNormal(new Float64Array(n));
    for (let pass = 0; pass < 2; pass++) {
      for (const u of q) {
        let c = 0;
        for (let i = 0; i < n; i++) c += u[i] * v[i];
        for (let i = 0; i < n; i++) v[i] -= c * u[i];
      }
    }
    let s = 0;
    for (let i = 0; i < n; i++) s += v[i] * v[i];
    s = Math.sqrt(s);
    for (let i = 0; i < n; i++) v[i] /= s;
    q.push(v);
  }
  return q;
}

/** A = Q diag(eigenvalues) Qᵀ with Q from {@link randomOrthonormal}. */
export function matrixWithSpectrum(eigenvalues: ArrayLike<number>, seed: number): KnownSpectrum {
  const n = eigenvalues.length;
  const q = randomOrthonormal(n, seed);
  const a = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const l = eigenvalues[k], u = q[k];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) a[i * n + j] += l * u[i] * u[j];
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) a[i * n + j] = a[j * n + i] = (a[i * n + j] + a[j * n + i]) / 2;
  }
  return { n, a, eigenvalues: Float64Array.from(eigenvalues), q };
}

/** out ← A·v for a dense n×n row-major A. */
export function denseMul(a: Float64Array, n: number, v: Float64Array, out: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += a[i * n + j] * v[j];
    out[i] = s;
  }
}

/**
 * L = (1/M) Σ_k ½ xᵀA_k x over the given symmetric matrices (M = 1 for a single quadratic), with
 * exact loss, gradient and HVP. Optional `counter` counts the calls of each kind.
 */
export function quadraticsOracle(
  mats: readonly Float64Array[],
  n: number,
  counter?: { loss: number; grad: number; hvp: number },
): F64Oracle {
  const tmp = new Float64Array(n);
  const indices = (batch: Batch) => batch ?? Int32Array.from(mats, (_, k) => k);
  const meanMul = (x: Float64Array, out: Float64Array, batch: Batch) => {
    const ks = indices(batch);
    out.fill(0);
    for (const k of ks) {
      denseMul(mats[k], n, x, tmp);
      for (let i = 0; i < n; i++) out[i] += tmp[i] / ks.length;
    }
  };
  return {
    dim: n,
    numSamples: mats.length,
    loss(x, batch) {
      if (counter) counter.loss++;
      const g = new Float64Array(n);
      meanMul(x, g, batch);
      let s = 0;
      for (let i = 0; i < n; i++) s += x[i] * g[i];
      return Promise.resolve(s / 2);
    },
    grad(x, out, batch) {
      if (counter) counter.grad++;
      meanMul(x, out, batch);
      return Promise.resolve();
    },
    hvp(_x, v, out, batch) {
      if (counter) counter.hvp++;
      meanMul(v, out, batch);
      return Promise.resolve();
    },
  };
}

/** The 2-D sanity toy L = ½(1 − x1·x2)² (M = 1) with its exact gradient and Hessian. */
export function sanityOracle(): F64Oracle {
  return {
    dim: 2,
    numSamples: 1,
    loss(x) {
      const r = 1 - x[0] * x[1];
      return Promise.resolve(r * r / 2);
    },
    grad(x, out) {
      const r = 1 - x[0] * x[1];
      out[0] = -r * x[1];
      out[1] = -r * x[0];
      return Promise.resolve();
    },
    hvp(x, v, out) {
      // ∇²L = [[x2², 2x1x2 − 1], [2x1x2 − 1, x1²]].
      const c = 2 * x[0] * x[1] - 1;
      out[0] = x[1] * x[1] * v[0] + c * v[1];
      out[1] = c * v[0] + x[0] * x[0] * v[1];
      return Promise.resolve();
    },
  };
}

/**
 * Underdetermined linear least squares L = ½‖Ax − b‖²/M for a dense M×D row-major A (M samples,
 * L_k = ½(a_kᵀx − b_k)²), with exact loss, gradient and HVP (AᵀA/M, or over a batch).
 */
export function leastSquaresOracle(
  a: Float64Array,
  m: number,
  n: number,
  b: Float64Array,
): F64Oracle {
  const rows = (batch: Batch) => batch ?? Int32Array.from({ length: m }, (_, k) => k);
  const rowDot = (k: number, x: Float64Array) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += a[k * n + i] * x[i];
    return s;
  };
  const accumulate = (x: Float64Array, out: Float64Array, batch: Batch, shift: boolean) => {
    const ks = rows(batch);
    out.fill(0);
    for (const k of ks) {
      const r = rowDot(k, x) - (shift ? b[k] : 0);
      for (let i = 0; i < n; i++) out[i] += r * a[k * n + i] / ks.length;
    }
  };
  return {
    dim: n,
    numSamples: m,
    loss(x, batch) {
      const ks = rows(batch);
      let s = 0;
      for (const k of ks) s += (rowDot(k, x) - b[k]) ** 2;
      return Promise.resolve(s / 2 / ks.length);
    },
    grad(x, out, batch) {
      accumulate(x, out, batch, true);
      return Promise.resolve();
    },
    hvp(_x, v, out, batch) {
      accumulate(v, out, batch, false);
      return Promise.resolve();
    },
  };
}
