/**
 * Two-layer scalar-output network with MSE (Setting 5.1; docs/theory.md §5):
 * f_k = Σ_j a_j σ(Σ_i W_ji z_ki + b_j), L_k = (f_k − y_k)², x = [W (h×d), b (h), a (h)].
 * Derivatives are hand-written: backprop for the gradient, Pearlmutter's R-operator for the exact
 * Hessian-vector product, and the explicit second-derivative formula for the dense Hessian.
 * @module
 */
import { type Blas, loadBlas } from "../engine/blas.ts";
import { tanhInPlace, wasmFloat64Array } from "../engine/tanh_simd.ts";
import type { Batch } from "../engine/types.ts";
import { Rng } from "../rng.ts";
import type { Dataset, F64Problem } from "./types.ts";
import {
  checkFields,
  datasetArray,
  datasetShape,
  enumField,
  fail,
  fillResiduals,
  heldOutMse,
  intField,
  regressionArrays,
  type RowModel,
} from "./validate.ts";

/** Smooth activations (the theory needs L ∈ C⁴, so no ReLU). */
export const MLP_ACTIVATIONS = ["tanh", "softplus"] as const;
/** An activation name. */
export type MlpActivation = typeof MLP_ACTIVATIONS[number];
/** Where an mlp data set's samples come from. */
export const MLP_SOURCES = ["teacher", "cars", "iris", "mnist"] as const;
/** A data source name. */
export type MlpSource = typeof MLP_SOURCES[number];
/** Network depths: 2 (one hidden layer) or 3 (two hidden layers of width h). */
export const MLP_DEPTHS = [2, 3] as const;
/** A network depth. */
export type MlpDepth = typeof MLP_DEPTHS[number];

/**
 * Spec of an mlp data set. `source` "teacher" draws synthetic data (n, d, nTest, teacherHidden
 * apply); "cars" and "iris" standardize real rows (n = training rows, nTest caps the held-out rest,
 * d is fixed by the data).
 */
export interface MlpSpec {
  /** Discriminant. */
  readonly kind: "mlp";
  /** Data source (default "teacher"). */
  readonly source?: MlpSource;
  /** Student hidden width h (default 16). */
  readonly hidden?: number;
  /** Activation σ of the student (and of the teacher) (default "tanh"). */
  readonly activation?: MlpActivation;
  /**
   * Student depth (default 2): 2 is f = aᵀσ(Wz + b) with D = h(d + 2); 3 adds a second hidden
   * layer of width h, f = aᵀσ(W2 σ(W1 z + b1) + b2) with D = h(d + h + 3) (mlp3.ts). The teacher
   * keeps its two-layer form, so a depth-3 teacher data set holds the same samples as depth 2's.
   */
  readonly depth?: MlpDepth;
  /** Training samples n (default 32 for teacher, 64 for real data). */
  readonly n?: number;
  /** Held-out samples (teacher default 256; real data default: every row not used for training). */
  readonly nTest?: number;
  /** Input dimension (teacher only, default 8). */
  readonly d?: number;
  /** Teacher hidden width (teacher only, default 4). */
  readonly teacherHidden?: number;
}

/** Validated model fields shared by every mlp source. */
export function mlpModelFields(
  spec: MlpSpec,
): { hidden: number; activation: MlpActivation; depth: MlpDepth } {
  return {
    hidden: intField("mlp", "hidden", spec.hidden, { fallback: 16, min: 1 }),
    activation: enumField("mlp", "activation", spec.activation, {
      allowed: MLP_ACTIVATIONS,
      fallback: "tanh",
    }),
    depth: depthField("depth", spec.depth),
  };
}

/** 2 when absent, else 2 or 3; anything else is a RangeError naming `name`. */
function depthField(name: string, value: unknown): MlpDepth {
  if (value === undefined) return 2;
  if (!MLP_DEPTHS.includes(value as MlpDepth)) {
    fail("mlp", `${name} must be 2 or 3 (got ${JSON.stringify(value)})`);
  }
  return value as MlpDepth;
}

/** The validated depth of an mlp data set (params.depth; absent means 2). */
export function mlpDepth(dataset: Dataset): MlpDepth {
  return depthField("params.depth", dataset.params.depth);
}

/** D of the network: h(d + 2) at depth 2, h(d + h + 3) at depth 3. */
export function mlpDim(shape: { hidden: number; inputDim: number; depth: MlpDepth }): number {
  const { hidden: h, inputDim: d } = shape;
  return shape.depth === 3 ? h * (d + h + 3) : h * (d + 2);
}

/**
 * The depth entry of a data set's params: `{ depth: 3 }` at depth 3 and nothing at depth 2, so
 * depth-2 data sets (and the cache keys derived from them) stay as they were before depth existed.
 */
export function mlpDepthParam(depth: MlpDepth): { depth?: MlpDepth } {
  return depth === 3 ? { depth } : {};
}

/** σ(t) of an activation (numerically stable softplus). */
export function activate(activation: MlpActivation, t: number): number {
  if (activation === "tanh") return Math.tanh(t);
  return t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t));
}

/** Network output for parameters `x` in the [W, b, a] layout, input row `k` of `z`. */
export function mlpForward(
  x: ArrayLike<number>,
  z: ArrayLike<number>,
  k: number,
  shape: { hidden: number; inputDim: number; activation: MlpActivation },
): number {
  const { hidden: h, inputDim: d, activation } = shape;
  let f = 0;
  for (let j = 0; j < h; j++) {
    let pre = x[h * d + j];
    for (let i = 0; i < d; i++) pre += x[j * d + i] * z[k * d + i];
    f += x[h * d + h + j] * activate(activation, pre);
  }
  return f;
}

/**
 * Seeded parameters in the [W, b, a] layout: W ~ N(0, scale²/d), a ~ N(0, scale²/h), and b = 0 or
 * b ~ N(0, scale²) (`randomBias`). The default initial point of training uses b = 0.
 */
export function mlpRandomParams(
  shape: { hidden: number; inputDim: number },
  rng: Rng,
  opts: { scale?: number; randomBias?: boolean } = {},
): Float64Array {
  const { hidden: h, inputDim: d } = shape, scale = opts.scale ?? 1;
  const x = new Float64Array(h * (d + 2));
  for (let i = 0; i < h * d; i++) x[i] = rng.normal() * scale / Math.sqrt(d);
  if (opts.randomBias) { for (let j = 0; j < h; j++) x[h * d + j] = rng.normal() * scale; }
  for (let j = 0; j < h; j++) x[h * d + h + j] = rng.normal() * scale / Math.sqrt(h);
  return x;
}

/**
 * Teacher–student data: z ~ N(0, I), y = teacher(z) with a random teacher of the same form
 * (W ~ N(0, 1/d), b ~ N(0, 1), a ~ N(0, 1/teacherHidden), same activation as the student).
 * The teacher's parameters are stored as array `teacher`.
 */
export function mlpTeacherDataset(spec: MlpSpec, seed: number): Dataset {
  const kind = "mlp";
  checkFields(kind, spec, [
    "kind",
    "source",
    "hidden",
    "activation",
    "depth",
    "n",
    "nTest",
    "d",
    "teacherHidden",
  ]);
  if (spec.source !== undefined && spec.source !== "teacher") {
    fail(kind, `mlpTeacherDataset needs source "teacher" (got ${JSON.stringify(spec.source)})`);
  }
  const { hidden, activation, depth } = mlpModelFields(spec);
  const n = intField(kind, "n", spec.n, { fallback: 32, min: 1 });
  const nTest = intField(kind, "nTest", spec.nTest, { fallback: 256, min: 0 });
  const d = intField(kind, "d", spec.d, { fallback: 8, min: 1 });
  const teacherHidden = intField(kind, "teacherHidden", spec.teacherHidden, {
    fallback: 4,
    min: 1,
  });
  const rng = new Rng(seed);
  const teacherShape = { hidden: teacherHidden, inputDim: d, activation };
  const teacher = mlpRandomParams(teacherShape, rng, { randomBias: true });
  const draw = (m: number) => {
    const z = rng.fillNormal(new Float64Array(m * d));
    const y = new Float64Array(m);
    for (let k = 0; k < m; k++) y[k] = mlpForward(teacher, z, k, teacherShape);
    return { z, y };
  };
  const train = draw(n), test = draw(nTest);
  const { arrays, shapes } = regressionArrays(train, test, { inputDim: d, extra: { teacher } });
  return {
    kind,
    params: {
      source: "teacher",
      hidden,
      activation,
      ...mlpDepthParam(depth),
      n,
      d,
      nTest,
      teacherHidden,
      dim: mlpDim({ hidden, inputDim: d, depth }),
    },
    arrays,
    shapes,
  };
}

/**
 * Batches of at least this many samples take the GEMM path when a BLAS is loaded; smaller ones
 * (1-SAM, small SGD batches) stay in the loops, where a library call would cost more than it saves.
 */
export const MLP_GEMM_MIN_BATCH = 8;

/** Options of {@link MlpProblem}. */
export interface MlpProblemOptions {
  /**
   * The BLAS of the dense products: undefined loads the process's (see engine/blas.ts), null
   * forces the plain loops (the oracle of the GEMM path).
   */
  readonly blas?: Blas | null;
}

/**
 * The two-layer network's MSE over `Float64Array` with exact first and second derivatives.
 * Batches of at least MLP_GEMM_MIN_BATCH samples run their three products (pre-activations, their
 * directional derivative, the first-layer gradient) as BLAS GEMMs when a BLAS is loaded, and
 * everything else as loops; scratch is preallocated, so loss/grad/hvp allocate nothing.
 */
export class MlpProblem implements F64Problem {
  /** Problem kind. */
  readonly kind = "mlp";
  /** D = h(d + 2). */
  readonly dim: number;
  /** M = n. */
  readonly numSamples: number;
  /** Hidden width h. */
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
  // Per-hidden-unit scratch: σ, σ', σ'' at the pre-activation, and R{pre} for the HVP.
  readonly #s0: Float64Array;
  readonly #s1: Float64Array;
  readonly #s2: Float64Array;
  readonly #dp: Float64Array;
  /** The GEMM path's library, or undefined (loops only). */
  readonly #blas: Blas | undefined;
  // The GEMM path's per-sample × per-unit scratch (n×h each) and gathered batch rows, made on
  // first use.
  #dense?: DenseScratch;
  /** The loops' HVP forward values at the last x (see #forwardCache). */
  #cache?: ForwardCache;

  /**
   * Wraps an "mlp" data set (arrays z, y, optionally zTest, yTest; params hidden, activation).
   * Throws a BlasError when SAM_BLAS names a library that cannot be loaded.
   */
  constructor(dataset: Dataset, opts: MlpProblemOptions = {}) {
    const [n, d] = datasetShape(dataset, "z", 2);
    const h = dataset.params.hidden;
    if (typeof h !== "number" || !Number.isInteger(h) || h < 1) {
      fail("mlp", `params.hidden must be a positive integer (got ${JSON.stringify(h)})`);
    }
    if (mlpDepth(dataset) !== 2) fail("mlp", "params.depth 3 is Mlp3Problem's (mlp3.ts)");
    this.activation = enumField("mlp", "params.activation", dataset.params.activation, {
      allowed: MLP_ACTIVATIONS,
      fallback: "tanh",
    });
    this.#tanh = this.activation === "tanh";
    this.numSamples = n;
    this.inputDim = d;
    this.hidden = h;
    this.dim = h * (d + 2);
    this.#z = datasetArray(dataset, "z", [n, d]);
    this.#y = datasetArray(dataset, "y", [n]);
    this.#s0 = new Float64Array(h);
    this.#s1 = new Float64Array(h);
    this.#s2 = new Float64Array(h);
    this.#dp = new Float64Array(h);
    this.#blas = opts.blas === null ? undefined : (opts.blas ?? loadBlas());
    this.testLoss = heldOutMse(dataset, d, this.#row);
  }

  /**
   * f for input row k of z; fills σ (and σ', σ'' when `derivs`) of every hidden unit into scratch.
   */
  #forward(x: Float64Array, z: Float64Array, k: number, derivs: boolean): number {
    const h = this.hidden, d = this.inputDim, oB = h * d, oA = oB + h, row = k * d;
    const s0 = this.#s0, s1 = this.#s1, s2 = this.#s2, tanh = this.#tanh;
    let f = 0;
    for (let j = 0, wj = 0; j < h; j++, wj += d) {
      let pre = x[oB + j];
      pre += rowDot(x, wj, z, row, d);
      let s: number;
      if (tanh) {
        s = Math.tanh(pre);
        if (derivs) {
          const ds = 1 - s * s;
          s1[j] = ds;
          s2[j] = -2 * s * ds;
        }
      } else {
        s = pre > 0 ? pre + Math.log1p(Math.exp(-pre)) : Math.log1p(Math.exp(pre));
        if (derivs) {
          // σ' = logistic(pre), evaluated without overflow on either side.
          const e = Math.exp(-Math.abs(pre));
          const sig = pre >= 0 ? 1 / (1 + e) : e / (1 + e);
          s1[j] = sig;
          s2[j] = sig * (1 - sig);
        }
      }
      s0[j] = s;
      f += x[oA + j] * s;
    }
    return f;
  }

  /** The BLAS identity of the GEMM path ("none" when the loops serve every batch). */
  get blas(): string {
    return this.#blas?.identity ?? "none";
  }

  /** Mean of (f_k − y_k)² over the batch. */
  loss(x: Float64Array, batch?: Batch): number {
    const m = batch ? batch.length : this.numSamples;
    if (this.#blas && m >= MLP_GEMM_MIN_BATCH) return this.#lossDense(x, batch);
    let s = 0;
    for (let t = 0; t < m; t++) {
      const k = batch ? batch[t] : t;
      const r = this.#forward(x, this.#z, k, false) - this.#y[k];
      s += r * r;
    }
    return s / m;
  }

  /** Backprop of mean_t (f_k − y_k − noise_t)² into `out` (noise optional). */
  #backprop(x: Float64Array, out: Float64Array, batch: Batch, noise?: Float64Array): void {
    const h = this.hidden, d = this.inputDim, oB = h * d, oA = oB + h, z = this.#z;
    const s0 = this.#s0, s1 = this.#s1;
    const m = batch ? batch.length : this.numSamples;
    if (this.#blas && m >= MLP_GEMM_MIN_BATCH) {
      this.#backpropDense(this.#blas, x, out, batch, noise);
      return;
    }
    out.fill(0);
    for (let t = 0; t < m; t++) {
      const k = batch ? batch[t] : t;
      let e = this.#forward(x, z, k, true) - this.#y[k];
      if (noise) e -= noise[t];
      e *= 2 / m;
      const row = k * d;
      for (let j = 0, wj = 0; j < h; j++, wj += d) {
        out[oA + j] += e * s0[j];
        const delta = e * x[oA + j] * s1[j];
        out[oB + j] += delta;
        rowAxpy(out, wj, delta, z, row, d);
      }
    }
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
   * out ← Hessian · v by the R-operator: with dp_j = R{pre_j}, df = R{f},
   * R{∇a_j} = Σ (R{e} σ_j + e σ'_j dp_j), R{δ_j} = R{e} a_j σ'_j + e (Va_j σ'_j + a_j σ''_j dp_j),
   * R{∇b_j} = Σ R{δ_j}, R{∇W_ji} = Σ R{δ_j} z_i, where e = (2/|B|)(f − y), R{e} = (2/|B|) df.
   */
  hvp(x: Float64Array, v: Float64Array, out: Float64Array, batch?: Batch): void {
    const h = this.hidden, d = this.inputDim, oB = h * d, oA = oB + h, z = this.#z;
    const s0 = this.#s0, s1 = this.#s1, s2 = this.#s2, dp = this.#dp;
    const m = batch ? batch.length : this.numSamples;
    if (this.#blas && m >= MLP_GEMM_MIN_BATCH) {
      this.#hvpDense(this.#blas, x, v, out, batch);
      return;
    }
    const c = this.#forwardCache(x);
    out.fill(0);
    for (let t = 0; t < m; t++) {
      const k = batch ? batch[t] : t;
      const row = k * d, base = k * h;
      if (!c.valid[k]) {
        c.f[k] = this.#forward(x, z, k, true);
        c.s0.set(s0, base);
        c.s1.set(s1, base);
        c.s2.set(s2, base);
        c.valid[k] = 1;
      }
      const f = c.f[k], cs0 = c.s0, cs1 = c.s1, cs2 = c.s2;
      let df = 0;
      for (let j = 0, wj = 0; j < h; j++, wj += d) {
        let r = v[oB + j];
        r += rowDot(v, wj, z, row, d);
        dp[j] = r;
        df += v[oA + j] * cs0[base + j] + x[oA + j] * cs1[base + j] * r;
      }
      const e = (2 / m) * (f - this.#y[k]), de = (2 / m) * df;
      for (let j = 0, wj = 0; j < h; j++, wj += d) {
        const aj = x[oA + j], s1j = cs1[base + j];
        out[oA + j] += de * cs0[base + j] + e * s1j * dp[j];
        const rDelta = de * aj * s1j + e * (v[oA + j] * s1j + aj * cs2[base + j] * dp[j]);
        out[oB + j] += rDelta;
        rowAxpy(out, wj, rDelta, z, row, d);
      }
    }
  }

  /**
   * The loops' per-sample forward values at x (f, σ, σ', σ''), kept while x's values stay the same:
   * the spectral routines take many HVPs at one point (a dense Hessian is D of them), and the
   * forward pass with its activations is most of an HVP's cost on small networks. Filled sample by
   * sample on first use; the values are those #forward gives, so results are unchanged.
   */
  #forwardCache(x: Float64Array): ForwardCache {
    const n = this.numSamples, nh = n * this.hidden;
    let c = this.#cache;
    if (!c) {
      c = {
        x: Float64Array.from(x),
        f: new Float64Array(n),
        s0: new Float64Array(nh),
        s1: new Float64Array(nh),
        s2: new Float64Array(nh),
        valid: new Uint8Array(n),
      };
      this.#cache = c;
      return c;
    }
    const cx = c.x;
    for (let i = 0; i < cx.length; i++) {
      // Object.is: −0 and NaN as values (a −0 weight gives the same products, but stay exact).
      if (!Object.is(cx[i], x[i])) {
        cx.set(x);
        c.valid.fill(0);
        break;
      }
    }
    return c;
  }

  /** The GEMM path's scratch, and z restricted to the batch's rows (z itself for the full batch). */
  #denseScratch(batch: Batch): DenseScratch {
    const n = this.numSamples, h = this.hidden, d = this.inputDim;
    this.#dense ??= {
      // In a WebAssembly memory of its own: the activation pass runs tanh_simd's kernel on it.
      p: wasmFloat64Array(n * h),
      q: new Float64Array(n * h),
      r: new Float64Array(n * h),
      t: new Float64Array(n * h),
      f: new Float64Array(n),
      zb: new Float64Array(n * d),
    };
    const sc = this.#dense;
    if (!batch) return { ...sc, zb: this.#z };
    for (let t = 0; t < batch.length; t++) {
      sc.zb.set(this.#z.subarray(batch[t] * d, batch[t] * d + d), t * d);
    }
    return sc;
  }

  /**
   * p ← σ(Z Wᵀ + b), q ← σ'(Z Wᵀ + b) and t ← σ'' (each when given) for the m rows of Z, in one
   * GEMM and one pass, and f[k] = Σ_j a_j σ_kj.
   */
  #denseForward(
    blas: Blas,
    x: Float64Array,
    zb: Float64Array,
    m: number,
    out: { p: Float64Array; q?: Float64Array; t?: Float64Array; f: Float64Array },
  ): void {
    const h = this.hidden, d = this.inputDim, oB = h * d, oA = oB + h, tanh = this.#tanh;
    const { p, q, t, f } = out;
    // W is x's first h·d entries, row-major h×d: P = Z·Wᵀ.
    blas.dgemm(false, true, { m, n: h, k: d }, 1, zb, d, x, d, 0, p, h);
    if (tanh) {
      // The bias, then tanh over the whole block in one SIMD pass, then σ' and σ'' from σ.
      for (let k = 0, row = 0; k < m; k++, row += h) {
        for (let j = 0; j < h; j++) p[row + j] += x[oB + j];
      }
      tanhInPlace(p.subarray(0, m * h));
    }
    for (let k = 0, row = 0; k < m; k++, row += h) {
      let fk = 0;
      for (let j = 0; j < h; j++) {
        let s: number;
        if (tanh) {
          s = p[row + j];
          if (q) {
            const ds = 1 - s * s;
            q[row + j] = ds;
            if (t) t[row + j] = -2 * s * ds;
          }
        } else {
          const pre = p[row + j] + x[oB + j];
          s = pre > 0 ? pre + Math.log1p(Math.exp(-pre)) : Math.log1p(Math.exp(pre));
          if (q) {
            const e = Math.exp(-Math.abs(pre));
            const sig = pre >= 0 ? 1 / (1 + e) : e / (1 + e);
            q[row + j] = sig;
            if (t) t[row + j] = sig * (1 - sig);
          }
        }
        p[row + j] = s;
        fk += x[oA + j] * s;
      }
      f[k] = fk;
    }
  }

  /** The loss on the GEMM path. */
  #lossDense(x: Float64Array, batch: Batch): number {
    const m = batch ? batch.length : this.numSamples;
    const sc = this.#denseScratch(batch), f = sc.f;
    this.#denseForward(this.#blas!, x, sc.zb, m, { p: sc.p, f });
    let s = 0;
    for (let t = 0; t < m; t++) {
      const r = f[t] - this.#y[batch ? batch[t] : t];
      s += r * r;
    }
    return s / m;
  }

  /** Backprop on the GEMM path: gW = Δᵀ Z with Δ_kj = e_k a_j σ'_kj, e = (2/m)(f − y − noise). */
  #backpropDense(
    blas: Blas,
    x: Float64Array,
    out: Float64Array,
    batch: Batch,
    noise?: Float64Array,
  ): void {
    const h = this.hidden, d = this.inputDim, oB = h * d, oA = oB + h;
    const m = batch ? batch.length : this.numSamples;
    const sc = this.#denseScratch(batch), p = sc.p, q = sc.q, f = sc.f;
    this.#denseForward(blas, x, sc.zb, m, { p, q, f });
    for (let j = oB; j < out.length; j++) out[j] = 0;
    for (let k = 0, row = 0; k < m; k++, row += h) {
      let e = f[k] - this.#y[batch ? batch[k] : k];
      if (noise) e -= noise[k];
      e *= 2 / m;
      for (let j = 0; j < h; j++) {
        out[oA + j] += e * p[row + j];
        const delta = e * x[oA + j] * q[row + j];
        q[row + j] = delta;
        out[oB + j] += delta;
      }
    }
    // gW (out's first h·d entries) = Δᵀ Z, Δ stored m×h.
    blas.dgemm(true, false, { m: h, n: d, k: m }, 1, q, h, sc.zb, d, 0, out, d);
  }

  /** The R-operator HVP on the GEMM path (the same formulas as `hvp`'s loops). */
  #hvpDense(blas: Blas, x: Float64Array, v: Float64Array, out: Float64Array, batch: Batch): void {
    const h = this.hidden, d = this.inputDim, oB = h * d, oA = oB + h;
    const m = batch ? batch.length : this.numSamples;
    const sc = this.#denseScratch(batch), p = sc.p, q = sc.q, t = sc.t, r = sc.r;
    const fk = sc.f;
    this.#denseForward(blas, x, sc.zb, m, { p, q, t, f: fk });
    // R{pre} = Z·V_Wᵀ + v_b.
    blas.dgemm(false, true, { m, n: h, k: d }, 1, sc.zb, d, v, d, 0, r, h);
    for (let j = oB; j < out.length; j++) out[j] = 0;
    const c = 2 / m;
    for (let k = 0, row = 0; k < m; k++, row += h) {
      let df = 0;
      for (let j = 0; j < h; j++) {
        const rp = r[row + j] + v[oB + j];
        r[row + j] = rp;
        df += v[oA + j] * p[row + j] + x[oA + j] * q[row + j] * rp;
      }
      const e = c * (fk[k] - this.#y[batch ? batch[k] : k]), de = c * df;
      for (let j = 0; j < h; j++) {
        const aj = x[oA + j], s1 = q[row + j], rp = r[row + j];
        out[oA + j] += de * p[row + j] + e * s1 * rp;
        const rDelta = de * aj * s1 + e * (v[oA + j] * s1 + aj * t[row + j] * rp);
        out[oB + j] += rDelta;
        r[row + j] = rDelta;
      }
    }
    blas.dgemm(true, false, { m: h, n: d, k: m }, 1, r, h, sc.zb, d, 0, out, d);
  }

  /**
   * Dense Hessian (2/|B|) Σ_k [∇f_k∇f_kᵀ + r_k∇²f_k], where ∇²f_k couples only the parameters of
   * one hidden unit j: a_j σ''_j ẑẑᵀ on (W_j, b_j) with ẑ = (z_k, 1), and σ'_j ẑ between (W_j, b_j)
   * and a_j. Costs O(|B|·D²) time and D² memory: meant for small networks and for tests.
   */
  hessian(x: Float64Array, batch?: Batch): Float64Array {
    const h = this.hidden, d = this.inputDim, oB = h * d, oA = oB + h, z = this.#z, dim = this.dim;
    const m = batch ? batch.length : this.numSamples;
    const hess = new Float64Array(dim * dim), jac = new Float64Array(dim);
    const s0 = this.#s0, s1 = this.#s1, s2 = this.#s2;
    const idx = new Int32Array(d + 1), ext = new Float64Array(d + 1);
    for (let t = 0; t < m; t++) {
      const k = batch ? batch[t] : t;
      const row = k * d;
      const c = 2 / m, r = this.#forward(x, z, k, true) - this.#y[k];
      for (let j = 0; j < h; j++) {
        const g = x[oA + j] * s1[j];
        for (let i = 0; i < d; i++) jac[j * d + i] = g * z[row + i];
        jac[oB + j] = g;
        jac[oA + j] = s0[j];
      }
      for (let p = 0; p < dim; p++) {
        const cp = c * jac[p];
        for (let q = 0; q < dim; q++) hess[p * dim + q] += cp * jac[q];
      }
      for (let j = 0; j < h; j++) {
        for (let i = 0; i < d; i++) {
          idx[i] = j * d + i;
          ext[i] = z[row + i];
        }
        idx[d] = oB + j;
        ext[d] = 1;
        const cww = c * r * x[oA + j] * s2[j], cwa = c * r * s1[j];
        for (let p = 0; p <= d; p++) {
          for (let q = 0; q <= d; q++) hess[idx[p] * dim + idx[q]] += cww * ext[p] * ext[q];
          hess[idx[p] * dim + oA + j] += cwa * ext[p];
          hess[(oA + j) * dim + idx[p]] += cwa * ext[p];
        }
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

  /** out ← ∂f_k/∂x (M×D row-major): a_jσ'_j·(z_k, 1) on (W_j, b_j) and σ_j on a_j. */
  jacobian(x: Float64Array, out: Float64Array): void {
    const h = this.hidden, d = this.inputDim, oB = h * d, oA = oB + h, z = this.#z, dim = this.dim;
    const s0 = this.#s0, s1 = this.#s1;
    for (let k = 0; k < this.numSamples; k++) {
      this.#forward(x, z, k, true);
      const row = k * dim;
      for (let j = 0; j < h; j++) {
        const g = x[oA + j] * s1[j];
        for (let i = 0; i < d; i++) out[row + j * d + i] = g * z[k * d + i];
        out[row + oB + j] = g;
        out[row + oA + j] = s0[j];
      }
    }
  }
}

/** Forward values of the loops' HVP at x: f per sample, σ, σ', σ'' per sample × unit (n×h). */
interface ForwardCache {
  x: Float64Array;
  f: Float64Array;
  s0: Float64Array;
  s1: Float64Array;
  s2: Float64Array;
  /** 1 where sample k's values are filled. */
  valid: Uint8Array;
}

/** The GEMM path's scratch: per-sample × per-unit values (n×h), outputs f (n), batch rows zb. */
interface DenseScratch {
  p: Float64Array;
  q: Float64Array;
  r: Float64Array;
  t: Float64Array;
  f: Float64Array;
  zb: Float64Array;
}

// The innermost loops of the forward pass, backprop and R-operator, as functions of their own: left
// nested in the per-unit loop, V8 (Deno 2.9) deoptimized the gradient on nearly every call ("exit
// from OSR'd inner loop", seen with --trace-deopt), the pathology that made the quadratic's matvec
// 4–5× slower. Same arithmetic in the same order.

/** Σ_{i<d} a[ai + i]·b[bi + i]. */
export function rowDot(
  a: Float64Array,
  ai: number,
  b: Float64Array,
  bi: number,
  d: number,
): number {
  let s = 0;
  for (let i = 0; i < d; i++) s += a[ai + i] * b[bi + i];
  return s;
}

/** out[oi + i] += c·b[bi + i] for i < d. */
export function rowAxpy(
  out: Float64Array,
  oi: number,
  c: number,
  b: Float64Array,
  bi: number,
  d: number,
) {
  for (let i = 0; i < d; i++) out[oi + i] += c * b[bi + i];
}
