/**
 * Small float64 linear-algebra kernels shared by the spectral routines: vector arithmetic,
 * Gram–Schmidt and a dense symmetric eigensolver (Householder tridiagonalization + implicit QL).
 *
 * The projected matrices Lanczos produces are tiny (at most the basis size), so a dense O(n³)
 * eigensolver is the simplest reliable choice.
 * @module
 */
import type { Batch } from "../engine/types.ts";
import type { F64Oracle } from "../engine/oracle.ts";

/** A symmetric linear operator given by its action: out ← H·v (may be async, e.g. an HVP on tfjs). */
export type Matvec = (v: Float64Array, out: Float64Array) => Promise<void> | void;

/** The Hessian of the oracle's mean loss over `batch` at x (x is captured, not copied), as a matvec. */
export function hessianMatvec(oracle: F64Oracle, x: Float64Array, batch?: Batch): Matvec {
  return (v, out) => oracle.hvp(x, v, out, batch);
}

/** ⟨a, b⟩. */
export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** ‖a‖₂. */
export function norm(a: Float64Array): number {
  return Math.sqrt(dot(a, a));
}

/** dst ← dst + a·x. */
export function axpy(dst: Float64Array, a: number, x: Float64Array): void {
  for (let i = 0; i < dst.length; i++) dst[i] += a * x[i];
}

/** dst ← x + a·y (dst may alias x), returned. */
export function addScaled(
  dst: Float64Array,
  x: Float64Array,
  a: number,
  y: Float64Array,
): Float64Array {
  for (let i = 0; i < dst.length; i++) dst[i] = x[i] + a * y[i];
  return dst;
}

/**
 * Removes from `w` its components along the orthonormal vectors `basis`, twice (classical
 * Gram–Schmidt repeated once, "CGS2": the second pass restores orthogonality lost to rounding).
 * Returns ‖w‖ after projection.
 */
export function orthogonalize(w: Float64Array, basis: readonly Float64Array[]): number {
  for (let pass = 0; pass < 2; pass++) {
    for (const q of basis) axpy(w, -dot(q, w), q);
  }
  return norm(w);
}

/** Eigen-decomposition of a dense symmetric matrix: values descending, vectors[j] the j-th unit eigenvector. */
export interface SymmetricEigen {
  /** Eigenvalues, largest first. */
  values: Float64Array;
  /** Unit eigenvectors in the same order (each of length n). */
  vectors: Float64Array[];
}

/**
 * All eigenpairs of the symmetric n×n matrix `a` (row-major, only read, assumed symmetric), by
 * Householder reduction to tridiagonal form and the implicit QL algorithm (the tred2/tql2 pair of
 * EISPACK, in the formulation of JAMA). O(n³); meant for small n.
 */
export function symmetricEigen(a: Float64Array, n: number): SymmetricEigen {
  if (a.length < n * n) throw new RangeError(`matrix has ${a.length} entries, need ${n * n}`);
  const v: Float64Array[] = [];
  for (let i = 0; i < n; i++) v.push(a.slice(i * n, i * n + n));
  const d = new Float64Array(n), e = new Float64Array(n);
  if (n > 0) {
    tred2(v, d, e, n);
    tql2(v, d, e, n);
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => d[j] - d[i]);
  // Plain loops: Float64Array.from with a mapping callback cost ~10% of a dense Φ flow.
  const values = new Float64Array(n), vectors: Float64Array[] = [];
  for (let c = 0; c < n; c++) {
    const j = order[c], q = new Float64Array(n);
    values[c] = d[j];
    for (let r = 0; r < n; r++) q[r] = v[r][j];
    vectors.push(q);
  }
  return { values, vectors };
}

/** Householder tridiagonalization: on exit v holds the orthogonal transform, d the diagonal, e the sub-diagonal. */
function tred2(v: Float64Array[], d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = v[n - 1][j];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0, h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = v[i - 1][j];
        v[i][j] = 0;
        v[j][i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        v[j][i] = f;
        g = e[j] + v[j][j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += v[k][j] * d[k];
          e[k] += v[k][j] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) v[k][j] -= f * e[k] + g * d[k];
        d[j] = v[i - 1][j];
        v[i][j] = 0;
      }
    }
    d[i] = h;
  }
  for (let i = 0; i < n - 1; i++) {
    v[n - 1][i] = v[i][i];
    v[i][i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = v[k][i + 1] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += v[k][i + 1] * v[k][j];
        for (let k = 0; k <= i; k++) v[k][j] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) v[k][i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = v[n - 1][j];
    v[n - 1][j] = 0;
  }
  v[n - 1][n - 1] = 1;
  e[0] = 0;
}

/** Implicit QL iterations on the tridiagonal (d, e), accumulating rotations into v. */
function tql2(v: Float64Array[], d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0, tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > eps * tst1) m++;
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 100) throw new Error("symmetricEigen: QL iteration did not converge");
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1, c2 = 1, c3 = 1, s = 0, s2 = 0;
        const el1 = e[l + 1];
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          for (let k = 0; k < n; k++) {
            h = v[k][i + 1];
            v[k][i + 1] = s * v[k][i] + c * h;
            v[k][i] = c * v[k][i] - s * h;
          }
        }
        p = -s * s2 * c3 * el1 * e[l] / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}

/**
 * The dense Hessian of the oracle's mean loss over `batch` at x, D×D row-major, from D HVPs on the
 * unit vectors, symmetrized ((H + Hᵀ)/2: a float32 HVP is symmetric only up to rounding).
 */
export async function denseHessian(
  oracle: F64Oracle,
  x: Float64Array,
  batch?: Batch,
): Promise<Float64Array> {
  const dim = oracle.dim;
  const h = new Float64Array(dim * dim), e = new Float64Array(dim), col = new Float64Array(dim);
  for (let j = 0; j < dim; j++) {
    e.fill(0);
    e[j] = 1;
    await oracle.hvp(x, e, col, batch);
    for (let i = 0; i < dim; i++) h[i * dim + j] = col[i];
  }
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j < i; j++) {
      h[i * dim + j] = h[j * dim + i] = (h[i * dim + j] + h[j * dim + i]) / 2;
    }
  }
  return h;
}

/**
 * Solves A·x = b for a symmetric positive definite n×n A (row-major, only read) by Cholesky
 * factorization; returns undefined when A is not numerically positive definite.
 */
export function choleskySolve(
  a: Float64Array,
  n: number,
  b: Float64Array,
): Float64Array | undefined {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (!(s > 0)) return undefined;
        l[i * n + i] = Math.sqrt(s);
      } else {
        l[i * n + j] = s / l[j * n + j];
      }
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * n + k] * y[k];
    y[i] = s / l[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * y[k];
    y[i] = s / l[i * n + i];
  }
  return y;
}
