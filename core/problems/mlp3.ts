/**
 * Three-layer scalar-output network with MSE (the depth-3 variant of Setting 5.1's model; the
 * two-layer one is mlp.ts): f_k = aᵀσ(W2 σ(W1 z_k + b1) + b2), L_k = (f_k − y_k)²,
 * x = [W1 (h×d), b1 (h), W2 (h×h), b2 (h), a (h)] (matrices row-major), D = h(d + h + 3).
 * Derivatives are hand-written: backprop for the gradient and the Jacobian, Pearlmutter's
 * R-operator through both layers for the exact Hessian-vector product, and the dense Hessian
 * column by column from it.
 * @module
 */
import { tanh as fastTanh } from "../engine/tanh.ts";
import type { Batch } from "../engine/types.ts";
import type { Rng } from "../rng.ts";
import { MLP_ACTIVATIONS, type MlpActivation, mlpDepth, rowAxpy, rowDot } from "./mlp.ts";
import type { Dataset, F64Problem } from "./types.ts";
import {
  datasetArray,
  datasetShape,
  enumField,
  fail,
  fillResiduals,
  heldOutMse,
  type RowModel,
} from "./validate.ts";

/**
 * Seeded parameters in the [W1, b1, W2, b2, a] layout: W1 ~ N(0, scale²/d), W2 ~ N(0, scale²/h),
 * a ~ N(0, scale²/h), b1 = b2 = 0 (drawn in that order from `rng`).
 */
export function mlp3RandomParams(
  shape: { hidden: number; inputDim: number },
  rng: Rng,
  opts: { scale?: number } = {},
): Float64Array {
  const { hidden: h, inputDim: d } = shape, scale = opts.scale ?? 1;
  const oW2 = h * d + h, oA = oW2 + h * h + h;
  const x = new Float64Array(h * (d + h + 3));
  for (let i = 0; i < h * d; i++) x[i] = rng.normal() * scale / Math.sqrt(d);
  for (let i = 0; i < h * h; i++) x[oW2 + i] = rng.normal() * scale / Math.sqrt(h);
  for (let j = 0; j < h; j++) x[oA + j] = rng.normal() * scale / Math.sqrt(h);
  return x;
}

/**
 * σ(pre) into s[j], and with `derivs` σ'(pre), σ''(pre) into q[j], t[j] (numerically stable
 * softplus; its σ' is the logistic function, evaluated without overflow on either side).
 */
function activateAt(
  tanh: boolean,
  pre: number,
  j: number,
  out: { s: Float64Array; q: Float64Array; t: Float64Array },
  derivs: boolean,
): number {
  if (tanh) {
    const s = fastTanh(pre);
    out.s[j] = s;
    if (derivs) {
      const ds = 1 - s * s;
      out.q[j] = ds;
      out.t[j] = -2 * s * ds;
    }
    return s;
  }
  const s = pre > 0 ? pre + Math.log1p(Math.exp(-pre)) : Math.log1p(Math.exp(pre));
  out.s[j] = s;
  if (derivs) {
    const e = Math.exp(-Math.abs(pre));
    const sig = pre >= 0 ? 1 / (1 + e) : e / (1 + e);
    out.q[j] = sig;
    out.t[j] = sig * (1 - sig);
  }
  return s;
}

/** One hidden layer's per-unit scratch: σ, σ', σ'' at the pre-activation. */
interface LayerScratch {
  s: Float64Array;
  q: Float64Array;
  t: Float64Array;
}

/**
 * The three-layer network's MSE over `Float64Array` with exact first and second derivatives.
 * Every method works sample by sample with loops over contiguous rows (W1's rows against z_k, W2's
 * rows against the first layer's activations); all scratch is preallocated, so loss, grad, hvp and
 * labelNoiseGrad allocate nothing.
 */
export class Mlp3Problem implements F64Problem {
  /** Problem kind. */
  readonly kind = "mlp";
  /** Network depth (two hidden layers). */
  readonly depth = 3;
  /** D = h(d + h + 3). */
  readonly dim: number;
  /** M = n. */
  readonly numSamples: number;
  /** Hidden width h of both layers. */
  readonly hidden: number;
  /** Input dimension d. */
  readonly inputDim: number;
  /** Activation σ. */
  readonly activation: MlpActivation;
  /** Mean squared error on the held-out samples; present when the data set has them. */
  readonly testLoss?: (x: Float64Array) => number;
  /** f for input row k of z (no derivatives). */
  readonly #row: RowModel = (x, z, k) => this.#forward(x, z, k, false);
  readonly #z: Float64Array;
  readonly #y: Float64Array;
  readonly #tanh: boolean;
  // Offsets of b1, W2, b2 and a in x (W1 starts at 0).
  readonly #oB1: number;
  readonly #oW2: number;
  readonly #oB2: number;
  readonly #oA: number;
  readonly #l1: LayerScratch;
  readonly #l2: LayerScratch;
  // Backprop: δ2 = ∂/∂pre2, g1 = W2ᵀδ2 = ∂/∂s1; the R-operator's R{pre1}, R{s1}, R{pre2}, R{δ2},
  // R{g1}.
  readonly #d2: Float64Array;
  readonly #g1: Float64Array;
  readonly #du1: Float64Array;
  readonly #ds1: Float64Array;
  readonly #du2: Float64Array;
  readonly #rd2: Float64Array;
  readonly #rg1: Float64Array;

  /**
   * Wraps an "mlp" data set with params.depth = 3 (arrays z, y, optionally zTest, yTest; params
   * hidden, activation).
   */
  constructor(dataset: Dataset) {
    const [n, d] = datasetShape(dataset, "z", 2);
    const h = dataset.params.hidden;
    if (typeof h !== "number" || !Number.isInteger(h) || h < 1) {
      fail("mlp", `params.hidden must be a positive integer (got ${JSON.stringify(h)})`);
    }
    if (mlpDepth(dataset) !== 3) fail("mlp", "Mlp3Problem needs params.depth = 3");
    this.activation = enumField("mlp", "params.activation", dataset.params.activation, {
      allowed: MLP_ACTIVATIONS,
      fallback: "tanh",
    });
    this.#tanh = this.activation === "tanh";
    this.numSamples = n;
    this.inputDim = d;
    this.hidden = h;
    this.dim = h * (d + h + 3);
    this.#oB1 = h * d;
    this.#oW2 = this.#oB1 + h;
    this.#oB2 = this.#oW2 + h * h;
    this.#oA = this.#oB2 + h;
    this.#z = datasetArray(dataset, "z", [n, d]);
    this.#y = datasetArray(dataset, "y", [n]);
    const vec = () => new Float64Array(h);
    this.#l1 = { s: vec(), q: vec(), t: vec() };
    this.#l2 = { s: vec(), q: vec(), t: vec() };
    this.#d2 = vec();
    this.#g1 = vec();
    this.#du1 = vec();
    this.#ds1 = vec();
    this.#du2 = vec();
    this.#rd2 = vec();
    this.#rg1 = vec();
    this.testLoss = heldOutMse(dataset, d, this.#row);
  }

  /** f for input row k of z; fills both layers' σ (and σ', σ'' when `derivs`) into scratch. */
  #forward(x: Float64Array, z: Float64Array, k: number, derivs: boolean): number {
    const h = this.hidden, d = this.inputDim, tanh = this.#tanh, row = k * d;
    const oB1 = this.#oB1, oW2 = this.#oW2, oB2 = this.#oB2, oA = this.#oA;
    const l1 = this.#l1, l2 = this.#l2, s1 = l1.s;
    for (let j = 0, wj = 0; j < h; j++, wj += d) {
      activateAt(tanh, x[oB1 + j] + rowDot(x, wj, z, row, d), j, l1, derivs);
    }
    let f = 0;
    for (let j = 0, wj = oW2; j < h; j++, wj += h) {
      f += x[oA + j] * activateAt(tanh, x[oB2 + j] + rowDot(x, wj, s1, 0, h), j, l2, derivs);
    }
    return f;
  }

  /**
   * out[o + ·] += e·∂f_k/∂x by backprop, after `#forward(x, z, k, true)`: ∂a = s2,
   * δ2 = a⊙σ2', ∂b2 = δ2, ∂W2 = δ2 s1ᵀ, δ1 = (W2ᵀδ2)⊙σ1', ∂b1 = δ1, ∂W1 = δ1 z_kᵀ.
   */
  #backSample(x: Float64Array, k: number, e: number, out: Float64Array, o: number): void {
    const h = this.hidden, d = this.inputDim, z = this.#z, row = k * d;
    const oB1 = this.#oB1, oW2 = this.#oW2, oB2 = this.#oB2, oA = this.#oA;
    const s1 = this.#l1.s, q1 = this.#l1.q, s2 = this.#l2.s, q2 = this.#l2.q, g1 = this.#g1;
    g1.fill(0);
    for (let j = 0, wj = oW2; j < h; j++, wj += h) {
      out[o + oA + j] += e * s2[j];
      const delta = e * x[oA + j] * q2[j];
      out[o + oB2 + j] += delta;
      rowAxpy(out, o + wj, delta, s1, 0, h);
      rowAxpy(g1, 0, delta, x, wj, h);
    }
    for (let i = 0, wi = o; i < h; i++, wi += d) {
      const delta = g1[i] * q1[i];
      out[o + oB1 + i] += delta;
      rowAxpy(out, wi, delta, z, row, d);
    }
  }

  /** Backprop of mean_t (f_k − y_k − noise_t)² into `out` (noise optional). */
  #backprop(x: Float64Array, out: Float64Array, batch: Batch, noise?: Float64Array): void {
    const m = batch ? batch.length : this.numSamples;
    out.fill(0);
    for (let t = 0; t < m; t++) {
      const k = batch ? batch[t] : t;
      let e = this.#forward(x, this.#z, k, true) - this.#y[k];
      if (noise) e -= noise[t];
      this.#backSample(x, k, (2 / m) * e, out, 0);
    }
  }

  /** Mean of (f_k − y_k)² over the batch. */
  loss(x: Float64Array, batch?: Batch): number {
    const m = batch ? batch.length : this.numSamples;
    let s = 0;
    for (let t = 0; t < m; t++) {
      const k = batch ? batch[t] : t;
      const r = this.#forward(x, this.#z, k, false) - this.#y[k];
      s += r * r;
    }
    return s / m;
  }

  /** out ← ∇ of the batch-mean loss (backprop). */
  grad(x: Float64Array, out: Float64Array, batch?: Batch): void {
    this.#backprop(x, out, batch);
  }

  /** out ← ∇ of mean_t (f_k − y_k − noise[t])² over the batch's indices k = batch[t]. */
  labelNoiseGrad(x: Float64Array, out: Float64Array, batch: Int32Array, noise: Float64Array): void {
    this.#backprop(x, out, batch, noise);
  }

  /**
   * out ← Hessian · v by the R-operator, v = [V1, c1, V2, c2, α] in x's layout. Forward:
   * R{pre1} = V1 z + c1, R{s1} = σ1'⊙R{pre1}, R{pre2} = V2 s1 + W2 R{s1} + c2,
   * R{f} = αᵀs2 + aᵀ(σ2'⊙R{pre2}). Backward, with e = (2/|B|)(f − y), R{e} = (2/|B|) R{f}:
   * R{∂a} = R{e} s2 + e σ2'⊙R{pre2}, R{δ2} = R{e} a⊙σ2' + e (α⊙σ2' + a⊙σ2''⊙R{pre2}),
   * R{∂W2} = R{δ2} s1ᵀ + δ2 R{s1}ᵀ, R{g1} = V2ᵀδ2 + W2ᵀR{δ2}, R{δ1} = R{g1}⊙σ1' + g1⊙σ1''⊙R{pre1},
   * R{∂b} = R{δ}, R{∂W1} = R{δ1} zᵀ.
   */
  hvp(x: Float64Array, v: Float64Array, out: Float64Array, batch?: Batch): void {
    const h = this.hidden, d = this.inputDim, z = this.#z;
    const oB1 = this.#oB1, oW2 = this.#oW2, oB2 = this.#oB2, oA = this.#oA;
    const { s: s1, q: q1, t: t1 } = this.#l1, { s: s2, q: q2, t: t2 } = this.#l2;
    const du1 = this.#du1, ds1 = this.#ds1, du2 = this.#du2, d2 = this.#d2, rd2 = this.#rd2;
    const g1 = this.#g1, rg1 = this.#rg1;
    const m = batch ? batch.length : this.numSamples, c = 2 / m;
    out.fill(0);
    for (let t = 0; t < m; t++) {
      const k = batch ? batch[t] : t;
      const row = k * d;
      const f = this.#forward(x, z, k, true);
      for (let j = 0, wj = 0; j < h; j++, wj += d) {
        du1[j] = v[oB1 + j] + rowDot(v, wj, z, row, d);
        ds1[j] = q1[j] * du1[j];
      }
      let df = 0;
      for (let j = 0, wj = oW2; j < h; j++, wj += h) {
        du2[j] = v[oB2 + j] + rowDot(v, wj, s1, 0, h) + rowDot(x, wj, ds1, 0, h);
        df += v[oA + j] * s2[j] + x[oA + j] * q2[j] * du2[j];
      }
      const e = c * (f - this.#y[k]), de = c * df;
      for (let j = 0; j < h; j++) {
        const aj = x[oA + j];
        out[oA + j] += de * s2[j] + e * q2[j] * du2[j];
        d2[j] = e * aj * q2[j];
        rd2[j] = de * aj * q2[j] + e * (v[oA + j] * q2[j] + aj * t2[j] * du2[j]);
        out[oB2 + j] += rd2[j];
      }
      g1.fill(0);
      rg1.fill(0);
      for (let j = 0, wj = oW2; j < h; j++, wj += h) {
        rowAxpy(out, wj, rd2[j], s1, 0, h);
        rowAxpy(out, wj, d2[j], ds1, 0, h);
        rowAxpy(g1, 0, d2[j], x, wj, h);
        rowAxpy(rg1, 0, d2[j], v, wj, h);
        rowAxpy(rg1, 0, rd2[j], x, wj, h);
      }
      for (let i = 0, wi = 0; i < h; i++, wi += d) {
        const rDelta = rg1[i] * q1[i] + g1[i] * t1[i] * du1[i];
        out[oB1 + i] += rDelta;
        rowAxpy(out, wi, rDelta, z, row, d);
      }
    }
  }

  /**
   * Dense Hessian of the batch-mean loss, column i = hvp(eᵢ), symmetrized (the columns agree with
   * the rows up to rounding). Costs D HVPs and D² memory: meant for small networks and for tests.
   */
  hessian(x: Float64Array, batch?: Batch): Float64Array {
    const dim = this.dim;
    const hess = new Float64Array(dim * dim);
    const e = new Float64Array(dim), col = new Float64Array(dim);
    for (let i = 0; i < dim; i++) {
      e[i] = 1;
      this.hvp(x, e, col, batch);
      e[i] = 0;
      for (let p = 0; p < dim; p++) hess[p * dim + i] = col[p];
    }
    for (let p = 0; p < dim; p++) {
      for (let q = p + 1; q < dim; q++) {
        const s = 0.5 * (hess[p * dim + q] + hess[q * dim + p]);
        hess[p * dim + q] = hess[q * dim + p] = s;
      }
    }
    return hess;
  }

  /** out ← f_k(x) for every training sample. */
  outputs(x: Float64Array, out: Float64Array): void {
    for (let k = 0; k < this.numSamples; k++) out[k] = this.#forward(x, this.#z, k, false);
  }

  /** L = mean_k r_k², so ∇²L = (2/M)·JᵀJ on Γ. */
  get gaussNewtonScale(): number {
    return 2 / this.numSamples;
  }

  /** out ← f_k(x) − y_k for every training sample. */
  residuals(x: Float64Array, out: Float64Array): void {
    fillResiduals(this.#row, x, { z: this.#z, y: this.#y }, out);
  }

  /** out ← ∂f_k/∂x (M×D row-major), row k by backprop of f_k alone. */
  jacobian(x: Float64Array, out: Float64Array): void {
    const dim = this.dim;
    out.fill(0, 0, this.numSamples * dim);
    for (let k = 0; k < this.numSamples; k++) {
      this.#forward(x, this.#z, k, true);
      this.#backSample(x, k, 1, out, k * dim);
    }
  }
}
