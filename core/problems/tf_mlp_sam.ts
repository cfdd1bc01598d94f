/**
 * Fused SAM steps for the two-layer MLP on tfjs, x = [W (h×d), b (h), a (h)], L_k = (f_k − y_k)²:
 * the whole step x ← x − η∇L_B(x + ρ∇L_B(x)/‖∇L_B(x)‖) as one computation with hand-written
 * gradients, instead of two autodiff gradients and the generic step's vector operations.
 *
 * - Full batch: backprop with samples along columns (h×n), the bias folded into the products as a
 *   row (column) of ones appended to zᵀ (z), so both large products, [W | b]·[zᵀ; 1ᵀ] and δ·[z | 1],
 *   are untransposed with a constant data matrix as right operand (tfjs-wasm's fast path, and its
 *   packed right operand is reused) and give gb with gW; on wasm they run as the project's
 *   relaxed-SIMD kernel (engine/gemm_wasm.ts), or with a BLAS loaded as OpenBLAS sgemm on the wasm
 *   heap (`MlpTensors.blas`, `MlpTensors.products`). σ is written as σ(t) = α·φ(κt) + β
 *   (tanh(t) = 2·sigmoid(2t) − 1; see `HiddenForm`), κ baked into the constant, so the h×n work is
 *   one φ, the output f = α·aᵀφ + β·Σa as a reduction over the hidden units (`outputRow`), the
 *   row sums for ∇_a, and two or three elementwise passes.
 * - One sample k (1-SAM): closed form. The first layer's gradient is rank one, ∇_W L_k = δ z_kᵀ,
 *   so the ascent point's pre-activation is pre + c·δ(‖z_k‖² + 1) (c = ρ/‖∇L_k‖) without touching
 *   W, and the step costs O(hd) elementwise work and no matrix product.
 * When ∇L_B(x) = 0 the ascent direction is e₁, as in the generic step (core/optim/step.ts), which
 * stays the oracle these are tested against.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Batch } from "../engine/types.ts";
import type { TfVec } from "../engine/tfjs.ts";
import { columns, segments } from "../engine/columns.ts";
import type { Blas } from "../engine/blas.ts";
import { product, type Products } from "../engine/sgemm_wasm.ts";
import { layerBackward, layerForward, tanhLayerKernels } from "../engine/tanh_layer_wasm.ts";

/**
 * The hidden layer as σ(t) = α·φ(κt) + β, and σ'(t)·e = γ·w from u = φ(κt) and t·e products, so
 * that the full batch never forms σ or σ' on its own.
 */
export interface HiddenForm {
  /** κ, the pre-activation's scale inside φ. */
  readonly scale: number;
  /** α. */
  readonly alpha: number;
  /** β. */
  readonly beta: number;
  /** γ. */
  readonly gamma: number;
  /** φ elementwise. */
  readonly phi: (m: tf.Tensor) => tf.Tensor;
  /** w with σ'(t)⊙e = γ·w, from m = κt, u = φ(m), e (1×n, broadcast) and ue = u⊙e. */
  readonly slopeTimes: (m: tf.Tensor, u: tf.Tensor, e: tf.Tensor, ue: tf.Tensor) => tf.Tensor;
  /** q with σ'(t) = γ·q, from m = κt and u = φ(m): the slope alone, for the BLAS path. */
  readonly slope: (m: tf.Tensor, u: tf.Tensor) => tf.Tensor;
  /** Whether this is tanh's form, which engine/tanh_layer_wasm.ts's kernels compute on wasm. */
  readonly tanhLayer: boolean;
}

/**
 * The full batch's `HiddenForm` of tanh or softplus. tanh(t) = 2·sigmoid(2t) − 1 with
 * tanh'(t) = 4q(1 − q), q = sigmoid(2t): one vectorized kernel where tfjs-wasm's Tanh is scalar
 * code (≈7 ms against ≈0.5 ms on 256×1024 values, measured), and q(1 − q)·e = ue − q⊙ue reuses
 * the product the output layer's gradient needs anyway. The float32 values differ from tf.tanh's by
 * about one rounding of the sigmoid.
 */
export function hiddenForm(activation: "tanh" | "softplus"): HiddenForm {
  if (activation === "tanh") {
    return {
      scale: 2,
      alpha: 2,
      beta: -1,
      gamma: 4,
      phi: tf.sigmoid,
      slopeTimes: (_m, u, _e, ue) => tf.sub(ue, tf.mul(u, ue)),
      slope: (_m, u) => tf.sub(u, tf.square(u)),
      tanhLayer: true,
    };
  }
  return {
    scale: 1,
    alpha: 1,
    beta: 0,
    gamma: 1,
    phi: tf.softplus,
    slopeTimes: (m, _u, e) => tf.mul(tf.sigmoid(m), e),
    slope: (m) => tf.sigmoid(m),
    tanhLayer: false,
  };
}

/** What the fused steps need of the model. */
export interface MlpTensors {
  /** Inputs n×d, row-major float32 values on the host, for one-sample steps. */
  readonly zHost: Float32Array;
  /** κ·[zᵀ; 1ᵀ] ((d + 1)×n), the full batch's first right operand (κ from `form`). */
  readonly zTOnes: tf.Tensor2D;
  /** γ·[z | 1] (n×(d + 1)), the full batch's second right operand (γ from `form`). */
  readonly zOnes: tf.Tensor2D;
  /** zᵀ (d×n), for the tanh kernels' path (`fullBatchLayer`). */
  readonly zT: tf.Tensor2D;
  /** z (n×d), for the same. */
  readonly z: tf.Tensor2D;
  /** The targets times 2/n as a 1×n row (2/n from the loss's mean of squares). */
  readonly yRow: tf.Tensor2D;
  /** The targets on the host (float32 values), for one-sample steps. */
  readonly yHost: Float32Array;
  /** ‖z_k‖² + 1 per sample, on the host. */
  readonly zNormSq1: Float64Array;
  /** Hidden width h. */
  readonly hidden: number;
  /** Input dimension d. */
  readonly inputDim: number;
  /** The full batch's hidden layer. */
  readonly form: HiddenForm;
  /** σ on one sample's h pre-activations. */
  readonly sigmaOne: (x: tf.Tensor) => tf.Tensor;
  /** σ' as a function of the pre-activation and σ's value. */
  readonly sigmaPrime: (pre: tf.Tensor, s: tf.Tensor) => tf.Tensor;
  /** e₁ of [W | b] as an h×(d + 1) matrix (the ascent direction when the gradient is 0). */
  readonly e1: tf.Tensor2D;
  /** e₁ of x (length h(d + 2)). */
  readonly e1Flat: tf.Tensor1D;
  /** e₁ of length h. */
  readonly unit0: tf.Tensor1D;
  /**
   * The BLAS of the full batch's products on wasm (engine/sgemm_wasm.ts): its two large ones and the
   * small aᵀu and u·eᵀ (see `fullBatch`); absent: the large ones as `products` says, aᵀu as an
   * average pool, u·eᵀ as row sums.
   */
  readonly blas?: Blas;
  /**
   * Who computes the large products (engine/sgemm_wasm.ts `product`): `blas`, "tfjs" for
   * tf.matMul; absent: the project's relaxed-SIMD kernel on wasm (tf.matMul where it cannot run).
   */
  readonly products?: Products;
}

/**
 * The full batch's constant tensors of `MlpTensors` from z (n×d), y (n) and the hidden form:
 * zTOnes, zOnes, yRow and e1 (for h hidden units); the caller disposes them.
 */
export function fullBatchTensors(
  z: tf.Tensor2D,
  y: tf.Tensor1D,
  opts: { hidden: number; form: HiddenForm },
): Pick<MlpTensors, "zTOnes" | "zOnes" | "yRow" | "e1" | "e1Flat"> {
  const [n, d] = z.shape;
  const unit = (cols: number) => {
    const e1 = new Float32Array(opts.hidden * cols);
    e1[0] = 1;
    return e1;
  };
  return tf.tidy(() => {
    const ones = tf.concat([z, tf.ones([n, 1])], 1);
    return {
      zTOnes: tf.mul(tf.transpose(ones), opts.form.scale) as tf.Tensor2D,
      zOnes: tf.mul(ones, opts.form.gamma) as tf.Tensor2D,
      yRow: tf.mul(tf.reshape(y, [1, n]), 2 / n) as tf.Tensor2D,
      e1: tf.tensor2d(unit(d + 1), [opts.hidden, d + 1]),
      e1Flat: tf.tensor1d(unit(d + 2)),
    };
  });
}

/** Fused SAM step `(x, batch, lr, rho) => void` updating `x.t` in place. */
export type FusedSam = (x: TfVec, batch: Batch, lr: number, rho: number) => void;

/** Replaces `x.t` by `next` and frees the previous tensor. */
function swap(x: TfVec, next: tf.Tensor1D): void {
  const old = x.t;
  x.t = next;
  old.dispose();
}

/**
 * The fused step for batches of `batchSize` samples: the full batch (batchSize = n) or one sample;
 * undefined for other sizes (the generic step serves them).
 */
export function fusedMlpSam(m: MlpTensors, batchSize: number): FusedSam | undefined {
  const n = m.yRow.shape[1];
  if (batchSize === n) {
    return m.form.tanhLayer && tanhLayerKernels() ? fullBatchLayer(m) : fullBatch(m);
  }
  if (batchSize === 1) return oneSample(m);
  return undefined;
}

/** The scale c = ρ/‖g‖ and e₁'s weight ρ·[‖g‖ = 0], from ‖g‖² (0-d tensors). */
function ascentScale(normSq: tf.Scalar, rho: number): { c: tf.Scalar; e1: tf.Scalar } {
  const zero = tf.equal(normSq, 0);
  const c = tf.where(zero, tf.scalar(0), tf.div(rho, tf.sqrt(normSq))) as tf.Scalar;
  const e1 = tf.where(zero, tf.scalar(rho), tf.scalar(0)) as tf.Scalar;
  return { c, e1 };
}

/**
 * aᵀu/r (1×n) for u (h×n) and a (h×1), with r (h on wasm without a BLAS, else 1) returned
 * alongside so that the caller folds it into its own scaling. With a BLAS, the product aᵀ·u by
 * sgemm, which reads u in place. On wasm without one, as the average pool of u⊙a, seen as an
 * h-high image of n channels, over its whole height: as a product aᵀ·u, tfjs-wasm packs the new
 * right operand u on every call (≈2–3 ms), a column sum transposes u first (≈1.3 ms), the pool
 * streams u once (≈0.2 ms, and 0.2 ms for the product u⊙a it needs; 256×1024, measured).
 */
function outputRow(u: tf.Tensor2D, a: tf.Tensor2D, blas?: Blas): [tf.Tensor2D, number] {
  const [h, n] = u.shape;
  if (blas || tf.getBackend() !== "wasm") {
    return [product(tf.reshape(a, [1, h]) as tf.Tensor2D, u, blas), 1];
  }
  const img = tf.reshape(tf.mul(u, a), [1, h, 1, n]) as tf.Tensor4D;
  return [tf.reshape(tf.avgPool(img, [h, 1], 1, "valid"), [1, n]), h];
}

function fullBatch(m: MlpTensors): FusedSam {
  const { hidden: h, inputDim: d, zTOnes, zOnes, yRow, form } = m;
  const n = yRow.shape[1];
  /**
   * ∇L at P = [W | b] (h×(d + 1)) and a (h×1): [∇_P L, ∇_a L], samples along columns. With
   * u = φ(κ·pre), f = α·aᵀu + β·Σa, e = 2(f − y)/n: ∇_a L = α·Σ_k u⊙e + β·Σe and
   * ∇_P L = (a⊙σ'⊙e)·[z | 1] = a⊙(w·γ[z | 1]).
   */
  const grad = (p: tf.Tensor2D, a: tf.Tensor2D) => {
    const mPre = product(p, zTOnes, m.products);
    const u = form.phi(mPre);
    // e = 2(f − y)/n with f = α·r·f₀ + β·Σa.
    const [f0, r] = outputRow(u as tf.Tensor2D, a, m.blas);
    let e = tf.sub(tf.mul(f0, (2 * form.alpha * r) / n), yRow);
    if (form.beta !== 0) e = tf.add(e, tf.mul(tf.sum(a), (2 * form.beta) / n));
    if (m.blas) {
      // Σ_k u⊙e = u·eᵀ, and (q⊙e)·γ[z | 1] = q·(eᵀ⊙γ[z | 1]): e scales the n×(d + 1) data instead
      // of the h×n hidden layer, and the sums are small products, so the h×n work is φ and q.
      const eCol = tf.reshape(e, [n, 1]) as tf.Tensor2D;
      let ga = tf.mul(product(u as tf.Tensor2D, eCol, m.products), form.alpha);
      if (form.beta !== 0) ga = tf.add(ga, tf.mul(tf.sum(e), form.beta));
      const q = form.slope(mPre, u) as tf.Tensor2D;
      const gp = tf.mul(
        product(q, tf.mul(zOnes, eCol) as tf.Tensor2D, m.products),
        a,
      ) as tf.Tensor2D;
      return [gp, ga as tf.Tensor2D] as const;
    }
    const ue = tf.mul(u, e);
    let ga = tf.mul(tf.sum(ue, 1, true), form.alpha);
    if (form.beta !== 0) ga = tf.add(ga, tf.mul(tf.sum(e), form.beta));
    const w = form.slopeTimes(mPre, u, e, ue) as tf.Tensor2D;
    const gp = tf.mul(product(w, zOnes, m.products), a) as tf.Tensor2D;
    return [gp, ga as tf.Tensor2D] as const;
  };
  return (x, _batch, lr, rho) => {
    swap(
      x,
      tf.tidy(() => {
        // The parts as column blocks of x seen as one row (`columns`: on wasm not through Slice).
        const row = tf.reshape(x.t, [1, -1]) as tf.Tensor2D;
        const part = (begin: number, size: number, shape: [number, number]) =>
          tf.reshape(columns(row, begin, size), shape) as tf.Tensor2D;
        const p = tf.concat([part(0, h * d, [h, d]), part(h * d, h, [h, 1])], 1) as tf.Tensor2D;
        const a = part(h * d + h, h, [h, 1]);
        const [gp, ga] = grad(p, a);
        const normSq = tf.add(tf.sum(tf.square(gp)), tf.sum(tf.square(ga))) as tf.Scalar;
        const { c, e1 } = ascentScale(normSq, rho);
        const pt = tf.add(tf.add(p, tf.mul(gp, c)), tf.mul(m.e1, e1)) as tf.Tensor2D;
        const [hp, ha] = grad(pt, tf.add(a, tf.mul(ga, c)) as tf.Tensor2D);
        const flat = tf.concat([
          tf.reshape(columns(hp, 0, d), [-1]),
          tf.reshape(columns(hp, d, 1), [-1]),
          tf.reshape(ha, [-1]),
        ]);
        return tf.sub(x.t, tf.mul(flat, lr)) as tf.Tensor1D;
      }),
    );
  };
}

/**
 * The full batch for tanh on wasm: engine/tanh_layer_wasm.ts's two kernels do the h×n work besides
 * the two products, one pass for u = sigmoid(2(W·zᵀ + b)) and e = 2(aᵀ(2u − 1) − y)/n, one for
 * A = a⊙tanh'⊙e, ∇_a L = (2u − 1)·eᵀ and ∇_b L = A·1; then ∇_W L = A·z. W, b and a stay apart, so
 * the products are W·zᵀ and A·z, without a column of ones, whose 65th column costs XNNPACK 14% on
 * the second (n×d = 1024×64: 1.30 against 1.48 ms, measured). The gradient is joined into one
 * vector like x, the ascent's scale ρ/‖∇L‖ computed on the host (wasm reads it back
 * synchronously): 24 kernels per step, where the parts' own updates and `ascentScale` took 55.
 */
function fullBatchLayer(m: MlpTensors): FusedSam {
  const { hidden: h, inputDim: d, zT, z, yRow } = m;
  const scale = 2 / yRow.shape[1];
  const grad = (w: tf.Tensor2D, b: tf.Tensor2D, a: tf.Tensor2D) => {
    const [u, e] = layerForward(product(w, zT, m.products), { b, a, y: yRow, scale });
    const [aw, ga, gb] = layerBackward(u, e, a);
    return [product(aw, z, m.products), gb, ga] as const;
  };
  const shapes: [number, number][] = [[h, d], [h, 1], [h, 1]];
  /** ∇L at the point v (flat), flat. */
  const flatGrad = (v: tf.Tensor1D) => {
    const [w, b, a] = segments(v, shapes);
    return tf.concat(grad(w, b, a).map((g) => tf.reshape(g, [-1]))) as tf.Tensor1D;
  };
  return (x, _batch, lr, rho) => {
    swap(
      x,
      tf.tidy(() => {
        const g = flatGrad(x.t);
        const normSq = tf.sum(tf.square(g)).dataSync()[0];
        // As the generic step: along e₁ when the gradient is 0.
        const ascent = normSq === 0 ? tf.mul(m.e1Flat, rho) : tf.mul(g, rho / Math.sqrt(normSq));
        const gAscent = flatGrad(tf.add(x.t, ascent) as tf.Tensor1D);
        return tf.sub(x.t, tf.mul(gAscent, lr)) as tf.Tensor1D;
      }),
    );
  };
}

function oneSample(m: MlpTensors): FusedSam {
  const { hidden: h, inputDim: d, zHost, yHost, zNormSq1, unit0 } = m;
  return (x, batch, lr, rho) => {
    const k = batch![0];
    if (!(k >= 0 && k < yHost.length)) {
      throw new RangeError(`sample index ${k} is not in [0, ${yHost.length})`);
    }
    swap(
      x,
      tf.tidy(() => {
        // The parts as column blocks of x seen as one row, z_k from the host: on wasm, tfjs's
        // Slice and SplitV copy their whole input out first (see `columns`).
        const row = tf.reshape(x.t, [1, -1]) as tf.Tensor2D;
        const wm = tf.reshape(columns(row, 0, h * d), [h, d]);
        const b = tf.reshape(columns(row, h * d, h), [h]);
        const a = tf.reshape(columns(row, h * d + h, h), [h]);
        const zk = tf.tensor2d(zHost.slice(k * d, (k + 1) * d), [1, d]);
        // The sample's pre-activations as a row reduction (no product with a one-column operand).
        const pre = tf.add(tf.sum(tf.mul(wm, zk), 1), b);
        const s = m.sigmaOne(pre);
        const ap = tf.mul(a, m.sigmaPrime(pre, s)); // δ = e·a⊙σ'
        const e = tf.mul(tf.sub(tf.sum(tf.mul(a, s)), yHost[k]), 2);
        // ‖∇L_k‖² = e²(‖s‖² + ‖a⊙σ'‖²(‖z_k‖² + 1)).
        const normSq = tf.mul(
          tf.square(e),
          tf.add(tf.sum(tf.square(s)), tf.mul(tf.sum(tf.square(ap)), zNormSq1[k])),
        ) as tf.Scalar;
        const { c, e1 } = ascentScale(normSq, rho);
        const ce = tf.mul(c, e);
        // x̃ = x + c∇L_k (+ ρe₁, which moves W_00 and so pre_0 by ρ·z_k0).
        const e1pre = tf.mul(unit0, tf.mul(e1, zHost[k * d]));
        const preT = tf.add(tf.add(pre, tf.mul(ap, tf.mul(ce, zNormSq1[k]))), e1pre);
        const aT = tf.add(a, tf.mul(s, ce));
        const sT = m.sigmaOne(preT);
        const eT = tf.mul(tf.sub(tf.sum(tf.mul(aT, sT)), yHost[k]), 2 * lr);
        const dT = tf.mul(tf.mul(aT, m.sigmaPrime(preT, sT)), eT); // η·δ̃
        return tf.concat([
          tf.reshape(tf.sub(wm, tf.mul(tf.reshape(dT, [h, 1]), zk)), [-1]),
          tf.sub(b, dT),
          tf.sub(a, tf.mul(sT, eT)),
        ]) as tf.Tensor1D;
      }),
    );
  };
}
