/**
 * Two quadratics with different top eigenvectors, L_k = ½ xᵀA_k x, M = 2 (Example 5.8).
 * @module
 */
import type { Batch } from "../engine/types.ts";
import { Rng } from "../rng.ts";
import { identity, matrixWithSpectrum, matVec, randomOrthogonal } from "./quadratic.ts";
import type { Dataset, F64Problem } from "./types.ts";
import {
  boolField,
  checkFields,
  datasetArray,
  datasetShape,
  fail,
  finiteList,
} from "./validate.ts";

/** Spec of a two-quadratics data set: A_k = Q_k diag(eigenvalues_k) Q_kᵀ, independent seeded Q_k. */
export interface TwoQuadraticsSpec {
  /** Discriminant. */
  readonly kind: "two-quadratics";
  /** Spectrum of A1, length D. */
  readonly eigenvalues1: readonly number[];
  /** Spectrum of A2, length D. */
  readonly eigenvalues2: readonly number[];
  /** Rotate each A_k by its own seeded random orthogonal matrix (default true). */
  readonly rotate?: boolean;
}

/** Builds a two-quadratics data set: arrays A1, A2 (D×D) and their eigenvector matrices Q1, Q2. */
export function twoQuadraticsDataset(spec: TwoQuadraticsSpec, seed: number): Dataset {
  const kind = "two-quadratics";
  checkFields(kind, spec, ["kind", "eigenvalues1", "eigenvalues2", "rotate"]);
  const eigenvalues1 = finiteList(kind, "eigenvalues1", spec.eigenvalues1);
  const eigenvalues2 = finiteList(kind, "eigenvalues2", spec.eigenvalues2);
  if (eigenvalues1.length !== eigenvalues2.length) {
    fail(
      kind,
      `eigenvalues1 and eigenvalues2 must have the same length (got ${eigenvalues1.length} and ${eigenvalues2.length})`,
    );
  }
  const rotate = boolField(kind, "rotate", spec.rotate, true);
  const dim = eigenvalues1.length;
  const rng = new Rng(seed);
  const q1 = rotate ? randomOrthogonal(dim, rng) : identity(dim);
  const q2 = rotate ? randomOrthogonal(dim, rng) : identity(dim);
  return {
    kind,
    params: { eigenvalues1, eigenvalues2, rotate, dim },
    arrays: {
      A1: matrixWithSpectrum(eigenvalues1, q1),
      A2: matrixWithSpectrum(eigenvalues2, q2),
      Q1: q1,
      Q2: q2,
    },
    shapes: { A1: [dim, dim], A2: [dim, dim], Q1: [dim, dim], Q2: [dim, dim] },
  };
}

/**
 * L = (L_0 + L_1)/2 with L_k = ½ xᵀA_k x; a batch weighs A_k by its share of the batch's indices.
 * Φ = 0 when one A_k is positive definite and the other positive semi-definite (then A1 + A2 ≻ 0).
 */
export class TwoQuadraticsProblem implements F64Problem {
  /** Problem kind. */
  readonly kind = "two-quadratics";
  /** Number of parameters D. */
  readonly dim: number;
  /** M = 2. */
  readonly numSamples = 2;
  /** Φ(x) = 0, present when A1 + A2 is known to be positive definite. */
  readonly phi?: (x: Float64Array) => Float64Array;
  readonly #a1: Float64Array;
  readonly #a2: Float64Array;
  readonly #t1: Float64Array;
  readonly #t2: Float64Array;

  /** Wraps a "two-quadratics" data set (arrays A1, A2). */
  constructor(dataset: Dataset) {
    const [dim] = datasetShape(dataset, "A1", 2);
    this.dim = dim;
    this.#a1 = datasetArray(dataset, "A1", [dim, dim]);
    this.#a2 = datasetArray(dataset, "A2", [dim, dim]);
    this.#t1 = new Float64Array(dim);
    this.#t2 = new Float64Array(dim);
    const e1 = dataset.params.eigenvalues1, e2 = dataset.params.eigenvalues2;
    if (Array.isArray(e1) && Array.isArray(e2)) {
      const pos = (e: number[]) => e.every((l) => l > 0),
        psd = (e: number[]) => e.every((l) => l >= 0);
      if ((pos(e1) && psd(e2)) || (psd(e1) && pos(e2))) this.phi = () => new Float64Array(dim);
    }
  }

  /** Weights (w_1, w_2) of A1 and A2: ½ each for the full batch, else index counts / batch size. */
  #weight1(batch: Batch): number {
    if (batch === undefined) return 0.5;
    let c = 0;
    for (let i = 0; i < batch.length; i++) if (batch[i] === 0) c++;
    return c / batch.length;
  }

  /** out ← (w1 A1 + (1 − w1) A2) v. */
  #apply(v: Float64Array, out: Float64Array, w1: number): void {
    matVec(this.#a1, v, this.#t1, this.dim);
    matVec(this.#a2, v, this.#t2, this.dim);
    const w2 = 1 - w1;
    for (let i = 0; i < this.dim; i++) out[i] = w1 * this.#t1[i] + w2 * this.#t2[i];
  }

  /** Mean of ½ xᵀA_k x over the batch. */
  loss(x: Float64Array, batch?: Batch): number {
    this.#apply(x, this.#t1, this.#weight1(batch));
    let s = 0;
    for (let i = 0; i < this.dim; i++) s += x[i] * this.#t1[i];
    return 0.5 * s;
  }

  /** out ← mean of A_k x over the batch. */
  grad(x: Float64Array, out: Float64Array, batch?: Batch): void {
    this.#apply(x, out, this.#weight1(batch));
  }

  /** out ← mean of A_k v over the batch. */
  hvp(_x: Float64Array, v: Float64Array, out: Float64Array, batch?: Batch): void {
    this.#apply(v, out, this.#weight1(batch));
  }

  /** w1 A1 + w2 A2. */
  hessian(_x: Float64Array, batch?: Batch): Float64Array {
    const w1 = this.#weight1(batch), w2 = 1 - w1;
    const h = new Float64Array(this.dim * this.dim);
    for (let i = 0; i < h.length; i++) h[i] = w1 * this.#a1[i] + w2 * this.#a2[i];
    return h;
  }
}
