/**
 * Small closed-form float64 objectives for the optimizer tests (written here, independently of the
 * problem modules, so the tests check the optimizers against hand-derived derivatives).
 * @module
 */
import type { Objective } from "../engine/types.ts";

type F64Objective = Objective<Float64Array, number>;

/** 0..M−1, the indices of the full batch. */
function range(M: number): Int32Array {
  return Int32Array.from({ length: M }, (_, i) => i);
}

/** L = ½ xᵀAx with A symmetric D×D row-major, M = 1. */
export function quadratic(A: Float64Array, D: number): F64Objective {
  const mul = (v: Float64Array, out: Float64Array) => {
    for (let i = 0; i < D; i++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += A[i * D + j] * v[j];
      out[i] = s;
    }
  };
  return {
    dim: D,
    numSamples: 1,
    loss(x) {
      let s = 0;
      for (let i = 0; i < D; i++) {
        for (let j = 0; j < D; j++) s += x[i] * A[i * D + j] * x[j];
      }
      return s / 2;
    },
    grad: (x, out) => mul(x, out),
    hvp: (_x, v, out) => mul(v, out),
  };
}

/** Q diag(λ) Qᵀ for a fixed rotation Q given column by column (orthonormal). */
export function rotated(eigenvalues: number[], Q: number[][]): Float64Array {
  const D = eigenvalues.length;
  const A = new Float64Array(D * D);
  for (let i = 0; i < D; i++) {
    for (let j = 0; j < D; j++) {
      let s = 0;
      for (let k = 0; k < D; k++) s += Q[k][i] * eigenvalues[k] * Q[k][j];
      A[i * D + j] = s;
    }
  }
  return A;
}

/** Diagonal matrix as row-major D×D. */
export function diag(eigenvalues: number[]): Float64Array {
  return rotated(
    eigenvalues,
    eigenvalues.map((_, k) => eigenvalues.map((_, i) => i === k ? 1 : 0)),
  );
}

/**
 * The paper's 4-D toy (science.md §5): F1 = 3 + a² + b², F2 = 1 + ½((a+1)² + b²),
 * L_0 = F1 x3², L_1 = F2 x4², M = 2.
 */
export function toy4d(): F64Objective {
  const F1 = (a: number, b: number) => 3 + a * a + b * b;
  const F2 = (a: number, b: number) => 1 + 0.5 * ((a + 1) * (a + 1) + b * b);
  const all = range(2);
  return {
    dim: 4,
    numSamples: 2,
    loss(x, batch) {
      const [a, b, p, q] = x;
      const ks = batch ?? all;
      let s = 0;
      for (let i = 0; i < ks.length; i++) s += ks[i] === 0 ? F1(a, b) * p * p : F2(a, b) * q * q;
      return s / ks.length;
    },
    grad(x, out, batch) {
      const [a, b, p, q] = x;
      const ks = batch ?? all;
      out.fill(0);
      for (let i = 0; i < ks.length; i++) {
        if (ks[i] === 0) {
          out[0] += 2 * a * p * p;
          out[1] += 2 * b * p * p;
          out[2] += 2 * F1(a, b) * p;
        } else {
          out[0] += (a + 1) * q * q;
          out[1] += b * q * q;
          out[3] += 2 * F2(a, b) * q;
        }
      }
      for (let i = 0; i < 4; i++) out[i] /= ks.length;
    },
    hvp(x, v, out, batch) {
      const [a, b, p, q] = x;
      const ks = batch ?? all;
      out.fill(0);
      for (let i = 0; i < ks.length; i++) {
        if (ks[i] === 0) {
          out[0] += 2 * p * p * v[0] + 4 * a * p * v[2];
          out[1] += 2 * p * p * v[1] + 4 * b * p * v[2];
          out[2] += 4 * a * p * v[0] + 4 * b * p * v[1] + 2 * F1(a, b) * v[2];
        } else {
          out[0] += q * q * v[0] + 2 * (a + 1) * q * v[3];
          out[1] += q * q * v[1] + 2 * b * q * v[3];
          out[3] += 2 * (a + 1) * q * v[0] + 2 * b * q * v[1] + 2 * F2(a, b) * v[3];
        }
      }
      for (let i = 0; i < 4; i++) out[i] /= ks.length;
    },
  };
}

/** The 2-D sanity toy L = ½(1 − x1 x2)², M = 1. */
export function sanity2d(): F64Objective {
  return {
    dim: 2,
    numSamples: 1,
    loss: (x) => 0.5 * (1 - x[0] * x[1]) ** 2,
    grad(x, out) {
      const r = x[0] * x[1] - 1;
      out[0] = r * x[1];
      out[1] = r * x[0];
    },
    hvp(x, v, out) {
      const c = 2 * x[0] * x[1] - 1;
      out[0] = x[1] * x[1] * v[0] + c * v[1];
      out[1] = c * v[0] + x[0] * x[0] * v[1];
    },
  };
}

/**
 * Linear regression f_k = ⟨x, z_k⟩, L_k = (f_k − y_k)², with the label-noise gradient
 * (a Setting 5.1 model with a constant Jacobian).
 */
export function linearRegression(z: Float64Array, y: Float64Array, d: number): F64Objective {
  const M = y.length;
  const all = range(M);
  const residual = (x: Float64Array, k: number) => {
    let f = 0;
    for (let i = 0; i < d; i++) f += x[i] * z[k * d + i];
    return f - y[k];
  };
  const gradWith = (
    x: Float64Array,
    out: Float64Array,
    ks: ArrayLike<number>,
    shift?: Float64Array,
  ) => {
    out.fill(0);
    for (let j = 0; j < ks.length; j++) {
      const k = ks[j];
      const r = residual(x, k) - (shift ? shift[j] : 0);
      for (let i = 0; i < d; i++) out[i] += 2 * r * z[k * d + i];
    }
    for (let i = 0; i < d; i++) out[i] /= ks.length;
  };
  return {
    dim: d,
    numSamples: M,
    loss(x, batch) {
      const ks = batch ?? all;
      let s = 0;
      for (let j = 0; j < ks.length; j++) s += residual(x, ks[j]) ** 2;
      return s / ks.length;
    },
    grad: (x, out, batch) => gradWith(x, out, batch ?? all),
    hvp(_x, v, out, batch) {
      const ks = batch ?? all;
      out.fill(0);
      for (let j = 0; j < ks.length; j++) {
        let zv = 0;
        for (let i = 0; i < d; i++) zv += z[ks[j] * d + i] * v[i];
        for (let i = 0; i < d; i++) out[i] += 2 * zv * z[ks[j] * d + i];
      }
      for (let i = 0; i < d; i++) out[i] /= ks.length;
    },
    labelNoiseGrad: (x, out, batch, noise) => gradWith(x, out, batch, noise),
  };
}
