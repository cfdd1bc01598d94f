/**
 * The quadratic L(x) = ½ xᵀAx with a prescribed spectrum (Theorem 4.8; docs/theory.md §4).
 * @module
 */
import type { Batch } from "../engine/types.ts";
import { Rng } from "../rng.ts";
import type { Dataset, F64Problem } from "./types.ts";
import { boolField, checkFields, datasetArray, datasetShape, finiteList } from "./validate.ts";

/** Spec of a quadratic data set: A = Q diag(eigenvalues) Qᵀ, Q seeded-random or I (rotate: false). */
export interface QuadraticSpec {
  /** Discriminant. */
  readonly kind: "quadratic";
  /** Spectrum of A, length D. */
  readonly eigenvalues: readonly number[];
  /** Rotate by a seeded random orthogonal Q (default true); false gives A = diag(eigenvalues). */
  readonly rotate?: boolean;
}

/**
 * A seeded D×D orthogonal matrix (row-major): modified Gram–Schmidt on the columns of a standard
 * Gaussian matrix, run twice so the columns are orthonormal to rounding.
 */
export function randomOrthogonal(dim: number, rng: Rng): Float64Array {
  const q = rng.fillNormal(new Float64Array(dim * dim));
  for (let c = 0; c < dim; c++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < c; p++) {
        let dot = 0;
        for (let r = 0; r < dim; r++) dot += q[r * dim + p] * q[r * dim + c];
        for (let r = 0; r < dim; r++) q[r * dim + c] -= dot * q[r * dim + p];
      }
    }
    let n2 = 0;
    for (let r = 0; r < dim; r++) n2 += q[r * dim + c] ** 2;
    const inv = 1 / Math.sqrt(n2);
    for (let r = 0; r < dim; r++) q[r * dim + c] *= inv;
  }
  return q;
}

/** The identity matrix of order `dim` (row-major). */
export function identity(dim: number): Float64Array {
  const q = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) q[i * dim + i] = 1;
  return q;
}

/** Q diag(λ) Qᵀ for row-major Q, exactly symmetric (the lower triangle mirrors the upper). */
export function matrixWithSpectrum(eigenvalues: readonly number[], q: Float64Array): Float64Array {
  const dim = eigenvalues.length;
  const a = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    for (let j = i; j < dim; j++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += q[i * dim + k] * eigenvalues[k] * q[j * dim + k];
      a[i * dim + j] = s;
      a[j * dim + i] = s;
    }
  }
  return a;
}

/** Builds a quadratic data set: arrays A (D×D) and Q (its eigenvectors, as columns). */
export function quadraticDataset(spec: QuadraticSpec, seed: number): Dataset {
  const kind = "quadratic";
  checkFields(kind, spec, ["kind", "eigenvalues", "rotate"]);
  const eigenvalues = finiteList(kind, "eigenvalues", spec.eigenvalues);
  const rotate = boolField(kind, "rotate", spec.rotate, true);
  const dim = eigenvalues.length;
  const q = rotate ? randomOrthogonal(dim, new Rng(seed)) : identity(dim);
  return {
    kind,
    params: { eigenvalues, rotate, dim },
    arrays: { A: matrixWithSpectrum(eigenvalues, q), Q: q },
    shapes: { A: [dim, dim], Q: [dim, dim] },
  };
}

/** out ← A x for a row-major dim×dim matrix (no allocation). */
export function matVec(a: Float64Array, x: Float64Array, out: Float64Array, dim: number): void {
  for (let i = 0; i < dim; i++) out[i] = rowDot(a, i * dim, x, dim);
}

/**
 * Σ_j a[row + j]·x[j]. A function of its own rather than matVec's inner loop: V8 (Deno 2.9) kept
 * deoptimizing the nested loop ("exit from OSR'd inner loop") on every call once several callers
 * had run it, which made the D = 1000 matvec 4–5× slower (measured).
 */
function rowDot(a: Float64Array, row: number, x: Float64Array, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) s += a[row + j] * x[j];
  return s;
}

/**
 * L = ½ xᵀAx, M = 1 (every batch is sample 0, so the batch argument does not change anything).
 * Φ is known when A ⪰ 0: gradient flow removes the components along positive eigenvalues and
 * keeps those in the null space, so Φ(x) = Q₀Q₀ᵀx (Q₀: eigenvectors of zero eigenvalues).
 */
export class QuadraticProblem implements F64Problem {
  /** Problem kind. */
  readonly kind = "quadratic";
  /** Number of parameters D. */
  readonly dim: number;
  /** M = 1. */
  readonly numSamples = 1;
  /** Φ(x), present when all eigenvalues are ≥ 0. */
  readonly phi?: (x: Float64Array) => Float64Array;
  readonly #a: Float64Array;
  readonly #ax: Float64Array;

  /** Wraps a "quadratic" data set (arrays A, and Q when Φ with zero eigenvalues is wanted). */
  constructor(dataset: Dataset) {
    const [dim] = datasetShape(dataset, "A", 2);
    this.dim = dim;
    this.#a = datasetArray(dataset, "A", [dim, dim]);
    this.#ax = new Float64Array(dim);
    const eig = dataset.params.eigenvalues;
    if (Array.isArray(eig) && eig.length === dim && eig.every((l) => l >= 0)) {
      const nullCols = eig.flatMap((l, i) => (l === 0 ? [i] : []));
      if (nullCols.length === 0) {
        this.phi = () => new Float64Array(dim);
      } else if (dataset.arrays.Q) {
        const q = datasetArray(dataset, "Q", [dim, dim]);
        this.phi = (x) => projectOnColumns(q, nullCols, x, dim);
      }
    }
  }

  /** ½ xᵀAx. */
  loss(x: Float64Array, _batch?: Batch): number {
    matVec(this.#a, x, this.#ax, this.dim);
    let s = 0;
    for (let i = 0; i < this.dim; i++) s += x[i] * this.#ax[i];
    return 0.5 * s;
  }

  /** out ← Ax. */
  grad(x: Float64Array, out: Float64Array, _batch?: Batch): void {
    matVec(this.#a, x, out, this.dim);
  }

  /** out ← Av. */
  hvp(_x: Float64Array, v: Float64Array, out: Float64Array, _batch?: Batch): void {
    matVec(this.#a, v, out, this.dim);
  }

  /** A copy of A. */
  hessian(_x: Float64Array, _batch?: Batch): Float64Array {
    return this.#a.slice();
  }
}

/** Σ_{c ∈ cols} q_c q_cᵀ x for orthonormal columns q_c of a row-major matrix. */
function projectOnColumns(
  q: Float64Array,
  cols: readonly number[],
  x: Float64Array,
  dim: number,
): Float64Array {
  const out = new Float64Array(dim);
  for (const c of cols) {
    let dot = 0;
    for (let r = 0; r < dim; r++) dot += q[r * dim + c] * x[r];
    for (let r = 0; r < dim; r++) out[r] += dot * q[r * dim + c];
  }
  return out;
}
