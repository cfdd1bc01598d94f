/**
 * Fused SAM steps for the two-layer MLP on tfjs, x = [W (h×d), b (h), a (h)], L_k = (f_k − y_k)²:
 * the whole step x ← x − η∇L_B(x + ρ∇L_B(x)/‖∇L_B(x)‖) as one computation with hand-written
 * gradients, instead of two autodiff gradients and the generic step's vector operations.
 *
 * - Full batch: backprop with samples along columns (h×n), so both large products, W·zᵀ and Δ·z,
 *   are untransposed with a constant data matrix as right operand (tfjs-wasm's fast path, and its
 *   packed right operand is reused); the per-unit sums are reductions, not products with a
 *   one-column operand.
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

/** What the fused steps need of the model. */
export interface MlpTensors {
  /** Inputs n×d. */
  readonly z: tf.Tensor2D;
  /** zᵀ (d×n), the full batch's right operand. */
  readonly zT: tf.Tensor2D;
  /** Targets (n). */
  readonly y: tf.Tensor1D;
  /** The targets on the host (float32 values), for one-sample steps. */
  readonly yHost: Float32Array;
  /** ‖z_k‖² + 1 per sample, on the host. */
  readonly zNormSq1: Float64Array;
  /** Hidden width h. */
  readonly hidden: number;
  /** Input dimension d. */
  readonly inputDim: number;
  /** σ on the full batch (forward only: no second derivatives needed). */
  readonly sigma: (x: tf.Tensor) => tf.Tensor;
  /** σ on one sample's h pre-activations. */
  readonly sigmaOne: (x: tf.Tensor) => tf.Tensor;
  /** σ' as a function of the pre-activation and σ's value. */
  readonly sigmaPrime: (pre: tf.Tensor, s: tf.Tensor) => tf.Tensor;
  /** e₁ of length D = h(d + 2) (the ascent direction when the gradient is 0). */
  readonly e1: tf.Tensor1D;
  /** e₁ of length h. */
  readonly unit0: tf.Tensor1D;
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
  const n = m.y.shape[0];
  if (batchSize === n) return fullBatch(m);
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

function fullBatch(m: MlpTensors): FusedSam {
  const { hidden: h, inputDim: d, z, zT, y } = m;
  const n = y.shape[0], e1 = m.e1;
  /** ∇L(x) for W (h×d), b (h×1), a (h×1): [gW, gb, ga] with samples along columns. */
  const grad = (w: tf.Tensor2D, b: tf.Tensor, a: tf.Tensor) => {
    const pre = tf.add(tf.matMul(w, zT), b);
    const s = m.sigma(pre);
    // f = aᵀs as a column-wise reduction (1×n).
    const f = tf.sum(tf.mul(s, a), 0, true);
    const e = tf.mul(tf.sub(f, tf.reshape(y, [1, n])), 2 / n);
    const ga = tf.sum(tf.mul(s, e), 1, true);
    const delta = tf.mul(tf.mul(a, e), m.sigmaPrime(pre, s));
    const gW = tf.matMul(delta, z);
    const gb = tf.sum(delta, 1, true);
    return [gW, gb, ga] as const;
  };
  const parts = (x: tf.Tensor1D) => {
    const [w, b, a] = tf.split(x, [h * d, h, h]);
    return [
      tf.reshape(w, [h, d]) as tf.Tensor2D,
      tf.reshape(b, [h, 1]),
      tf.reshape(a, [h, 1]),
    ] as const;
  };
  const flat = (gW: tf.Tensor, gb: tf.Tensor, ga: tf.Tensor) =>
    tf.concat([tf.reshape(gW, [-1]), tf.reshape(gb, [-1]), tf.reshape(ga, [-1])]) as tf.Tensor1D;
  return (x, _batch, lr, rho) => {
    swap(
      x,
      tf.tidy(() => {
        const [w, b, a] = parts(x.t);
        const [gW, gb, ga] = grad(w, b, a);
        const normSq = tf.addN([gW, gb, ga].map((g) => tf.sum(tf.square(g)))) as tf.Scalar;
        const { c, e1: e1w } = ascentScale(normSq, rho);
        const xt = tf.add(tf.add(x.t, tf.mul(flat(gW, gb, ga), c)), tf.mul(e1, e1w));
        const [wt, bt, at] = parts(xt as tf.Tensor1D);
        const [hW, hb, ha] = grad(wt, bt, at);
        return tf.sub(x.t, tf.mul(flat(hW, hb, ha), lr)) as tf.Tensor1D;
      }),
    );
  };
}

function oneSample(m: MlpTensors): FusedSam {
  const { hidden: h, inputDim: d, z, yHost, zNormSq1, unit0 } = m;
  return (x, batch, lr, rho) => {
    const k = batch![0];
    swap(
      x,
      tf.tidy(() => {
        const [w, b, a] = tf.split(x.t, [h * d, h, h]);
        const wm = tf.reshape(w, [h, d]);
        const zk = tf.slice(z, [k, 0], [1, d]);
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
        const e1pre = tf.mul(unit0, tf.mul(e1, tf.reshape(tf.slice(zk, [0, 0], [1, 1]), [])));
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
