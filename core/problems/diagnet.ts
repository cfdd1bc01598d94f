/**
 * Diagonal linear network on sparse regression (Woodworth et al. 2020; Andriushchenko & Flammarion
 * 2022): f_k = ⟨u⊙u − v⊙v, z_k⟩, L_k = (f_k − y_k)², x = [u, v], D = 2d, M = n.
 *
 * The difference of squares makes every sign of w = u⊙u − v⊙v reachable from u = v (w = 0), and
 * for n < d the interpolating set Γ = {Z(u⊙u − v⊙v) = y} is a manifold of dimension 2d − n on which
 * the Jacobian rows (2z_k⊙u, −2z_k⊙v) are independent wherever u and v have enough non-zeros, so
 * ∇²L = (2/n)JᵀJ has rank M = n there. Which interpolant an optimizer reaches depends on the
 * optimizer and on the initialization scale α (u = v = α): large α gives GD the minimum-ℓ2-like
 * "kernel" interpolant, small α the sparse one.
 * @module
 */
import type { Batch } from "../engine/types.ts";
import { Rng } from "../rng.ts";
import type { Dataset, F64Problem } from "./types.ts";
import {
  checkFields,
  datasetArray,
  datasetShape,
  fail,
  fillResiduals,
  heldOutMse,
  intField,
  regressionArrays,
  type RowModel,
} from "./validate.ts";

/** Spec of a diagnet data set; defaults are Andriushchenko & Flammarion's setup. */
export interface DiagnetSpec {
  /** Discriminant. */
  readonly kind: "diagnet";
  /** Training samples n (default 20). */
  readonly n?: number;
  /** Input dimension d (default 30). */
  readonly d?: number;
  /** Non-zeros of the target w* (default 3). */
  readonly k?: number;
  /** Held-out samples (default 1000; 0 for none). */
  readonly nTest?: number;
}

/**
 * Builds z ~ N(0, I) (n×d), y = ⟨w*, z⟩ and a held-out set from the same distribution. w* has k
 * non-zeros on a seeded support, each ±1/√k with seeded signs (unit norm).
 */
export function diagnetDataset(spec: DiagnetSpec, seed: number): Dataset {
  const kind = "diagnet";
  checkFields(kind, spec, ["kind", "n", "d", "k", "nTest"]);
  const n = intField(kind, "n", spec.n, { fallback: 20, min: 1 });
  const d = intField(kind, "d", spec.d, { fallback: 30, min: 1 });
  const k = intField(kind, "k", spec.k, { fallback: 3, min: 1 });
  const nTest = intField(kind, "nTest", spec.nTest, { fallback: 1000, min: 0 });
  if (k > d) fail(kind, `k must be ≤ d (got k = ${k}, d = ${d})`);
  const rng = new Rng(seed);
  const support = rng.sampleWithoutReplacement(d, new Int32Array(k), new Int32Array(d));
  const wStar = new Float64Array(d);
  for (const i of support) wStar[i] = (rng.int(2) === 0 ? -1 : 1) / Math.sqrt(k);
  const draw = (m: number) => {
    const z = rng.fillNormal(new Float64Array(m * d));
    const y = new Float64Array(m);
    for (let s = 0; s < m; s++) {
      let f = 0;
      for (let i = 0; i < d; i++) f += wStar[i] * z[s * d + i];
      y[s] = f;
    }
    return { z, y };
  };
  const train = draw(n), test = draw(nTest);
  const { arrays, shapes } = regressionArrays(train, test, { inputDim: d, extra: { wStar } });
  return { kind, params: { n, d, k, nTest, dim: 2 * d }, arrays, shapes };
}

/**
 * The diagonal network's MSE with closed-form derivatives. With r_k = f_k − y_k,
 * g_i = (2/|B|) Σ_k r_k z_ki: ∇_u = 2g⊙u, ∇_v = −2g⊙v; for a direction (p, q) and
 * s_i = (2/|B|) Σ_k (Σ_j 2z_kj(u_j p_j − v_j q_j)) z_ki: (Hv)_u = 2s⊙u + 2g⊙p,
 * (Hv)_v = −2s⊙v − 2g⊙q.
 */
export class DiagnetProblem implements F64Problem {
  /** Problem kind. */
  readonly kind = "diagnet";
  /** D = 2d. */
  readonly dim: number;
  /** M = n. */
  readonly numSamples: number;
  /** Input dimension d. */
  readonly inputDim: number;
  readonly #z: Float64Array;
  readonly #y: Float64Array;
  /** Mean squared error on the held-out samples; present when the data set has them. */
  readonly testLoss?: (x: Float64Array) => number;
  /** f for input row k of z (no derivatives). */
  readonly #row: RowModel = (x, z, k) => this.#f(x, z, k);
  readonly #g: Float64Array;
  readonly #s: Float64Array;
  readonly #wStar?: Float64Array;

  /** Wraps a "diagnet" data set (arrays z, y, optionally zTest, yTest). */
  constructor(dataset: Dataset) {
    const [n, d] = datasetShape(dataset, "z", 2);
    this.numSamples = n;
    this.inputDim = d;
    this.dim = 2 * d;
    this.#z = datasetArray(dataset, "z", [n, d]);
    this.#y = datasetArray(dataset, "y", [n]);
    this.testLoss = heldOutMse(dataset, d, this.#row);
    this.#g = new Float64Array(d);
    this.#s = new Float64Array(d);
    if (dataset.arrays.wStar) this.#wStar = datasetArray(dataset, "wStar", [d]);
  }

  /** f = ⟨u⊙u − v⊙v, z_k⟩ for row k of z. */
  #f(x: Float64Array, z: Float64Array, k: number): number {
    const d = this.inputDim, row = k * d;
    let f = 0;
    for (let i = 0; i < d; i++) f += (x[i] * x[i] - x[d + i] * x[d + i]) * z[row + i];
    return f;
  }

  /** Mean of (f_k − y_k)² over the batch. */
  loss(x: Float64Array, batch?: Batch): number {
    const m = batch ? batch.length : this.numSamples;
    let s = 0;
    for (let t = 0; t < m; t++) {
      const k = batch ? batch[t] : t;
      const r = this.#f(x, this.#z, k) - this.#y[k];
      s += r * r;
    }
    return s / m;
  }

  /** g ← (2/|B|) Σ_k (f_k − y_k − noise_t) z_k (noise optional). */
  #residualSum(x: Float64Array, batch: Batch, noise?: Float64Array): void {
    const d = this.inputDim, z = this.#z, g = this.#g;
    const m = batch ? batch.length : this.numSamples;
    g.fill(0);
    for (let t = 0; t < m; t++) {
      const k = batch ? batch[t] : t;
      let e = this.#f(x, z, k) - this.#y[k];
      if (noise) e -= noise[t];
      e *= 2 / m;
      const row = k * d;
      for (let i = 0; i < d; i++) g[i] += e * z[row + i];
    }
  }

  /** out ← [2g⊙u, −2g⊙v]. */
  #writeGrad(x: Float64Array, out: Float64Array): void {
    const d = this.inputDim, g = this.#g;
    for (let i = 0; i < d; i++) {
      out[i] = 2 * g[i] * x[i];
      out[d + i] = -2 * g[i] * x[d + i];
    }
  }

  /** out ← ∇ of the batch-mean loss. */
  grad(x: Float64Array, out: Float64Array, batch?: Batch): void {
    this.#residualSum(x, batch);
    this.#writeGrad(x, out);
  }

  /** out ← ∇ of mean_t (f_k − y_k − noise[t])² over the batch's indices k = batch[t]. */
  labelNoiseGrad(x: Float64Array, out: Float64Array, batch: Int32Array, noise: Float64Array): void {
    this.#residualSum(x, batch, noise);
    this.#writeGrad(x, out);
  }

  /** out ← Hessian · v, closed form (see the class comment). */
  hvp(x: Float64Array, v: Float64Array, out: Float64Array, batch?: Batch): void {
    const d = this.inputDim, z = this.#z, g = this.#g, s = this.#s;
    const m = batch ? batch.length : this.numSamples;
    g.fill(0);
    s.fill(0);
    for (let t = 0; t < m; t++) {
      const k = batch ? batch[t] : t;
      const row = k * d;
      let f = 0, df = 0;
      for (let i = 0; i < d; i++) {
        const zi = z[row + i], ui = x[i], vi = x[d + i];
        f += (ui * ui - vi * vi) * zi;
        df += 2 * (ui * v[i] - vi * v[d + i]) * zi;
      }
      const e = (2 / m) * (f - this.#y[k]), de = (2 / m) * df;
      for (let i = 0; i < d; i++) {
        g[i] += e * z[row + i];
        s[i] += de * z[row + i];
      }
    }
    for (let i = 0; i < d; i++) {
      out[i] = 2 * (s[i] * x[i] + g[i] * v[i]);
      out[d + i] = -2 * (s[i] * x[d + i] + g[i] * v[d + i]);
    }
  }

  /** Dense Hessian (2/|B|) Σ_k [∇f_k∇f_kᵀ + r_k ∇²f_k], ∇²f_k = diag(2z_k, −2z_k). */
  hessian(x: Float64Array, batch?: Batch): Float64Array {
    const d = this.inputDim, dim = this.dim, z = this.#z;
    const m = batch ? batch.length : this.numSamples;
    const h = new Float64Array(dim * dim), j = new Float64Array(dim);
    for (let t = 0; t < m; t++) {
      const k = batch ? batch[t] : t;
      const row = k * d;
      this.#jacobianRow(x, k, j);
      const c = 2 / m, r = this.#f(x, z, k) - this.#y[k];
      for (let a = 0; a < dim; a++) {
        for (let b = 0; b < dim; b++) h[a * dim + b] += c * j[a] * j[b];
      }
      for (let i = 0; i < d; i++) {
        h[i * dim + i] += 2 * c * r * z[row + i];
        h[(d + i) * dim + d + i] -= 2 * c * r * z[row + i];
      }
    }
    return h;
  }

  /** out ← f_k(x) for every training sample. */
  outputs(x: Float64Array, out: Float64Array): void {
    for (let k = 0; k < this.numSamples; k++) out[k] = this.#f(x, this.#z, k);
  }

  /**
   * The learned linear predictor w = u⊙u − v⊙v: `w_l1` = ‖w‖₁, `w_nnz` = #{i : |w_i| > 1e-3}
   * (the target's entries are ±1/√k), and with the target in the data set `w_dist_star` = ‖w − w*‖.
   */
  pointMetrics(x: Float64Array): Record<string, number> {
    const d = this.inputDim;
    let l1 = 0, nnz = 0, dist2 = 0;
    for (let i = 0; i < d; i++) {
      const w = x[i] * x[i] - x[d + i] * x[d + i];
      l1 += Math.abs(w);
      if (Math.abs(w) > 1e-3) nnz++;
      if (this.#wStar) dist2 += (w - this.#wStar[i]) ** 2;
    }
    return { w_l1: l1, w_nnz: nnz, ...(this.#wStar ? { w_dist_star: Math.sqrt(dist2) } : {}) };
  }

  /** L = mean_k r_k², so ∇²L = (2/M)·JᵀJ on Γ. */
  get gaussNewtonScale(): number {
    return 2 / this.numSamples;
  }

  /** out ← f_k(x) − y_k for every training sample. */
  residuals(x: Float64Array, out: Float64Array): void {
    fillResiduals(this.#row, x, { z: this.#z, y: this.#y }, out);
  }

  /** ∇f_k = (2z_k⊙u, −2z_k⊙v) into `out` (length D). */
  #jacobianRow(x: Float64Array, k: number, out: Float64Array, offset = 0): void {
    const d = this.inputDim, row = k * d, z = this.#z;
    for (let i = 0; i < d; i++) {
      out[offset + i] = 2 * z[row + i] * x[i];
      out[offset + d + i] = -2 * z[row + i] * x[d + i];
    }
  }

  /** out ← ∂f_k/∂x, M×D row-major. */
  jacobian(x: Float64Array, out: Float64Array): void {
    for (let k = 0; k < this.numSamples; k++) this.#jacobianRow(x, k, out, k * this.dim);
  }
}
