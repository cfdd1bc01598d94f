/**
 * A generic autodiff objective on the tfjs engine: from a loss function written with tfjs ops to
 * loss, gradient (`tf.grad`), Hessian-vector product (double backprop) and label-noise gradient.
 *
 * Second derivatives are only right if every op's gradient uses its inputs (see activations.ts);
 * losses must use the activations from there, not tf.tanh/tf.sigmoid/tf.exp.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Batch, Objective } from "./types.ts";
import type { TfVec } from "./tfjs.ts";

/**
 * Mean loss over the samples `batch` (int32 indices into 0..M−1), or over all samples when `batch`
 * is undefined. Must be built from ops whose gradients save inputs (double-backprop safe).
 */
export type TfLossFn = (x: tf.Tensor1D, batch?: tf.Tensor1D) => tf.Scalar;

/**
 * Mean over `batch` of (f_k(x) − y_k − noise_i)², `noise` aligned with `batch` (Setting 5.1 models).
 */
export type TfLabelNoiseLossFn = (
  x: tf.Tensor1D,
  batch: tf.Tensor1D,
  noise: tf.Tensor1D,
) => tf.Scalar;

/** Options of `tfObjective`. */
export interface TfObjectiveOptions {
  /** Number of parameters D. */
  readonly dim: number;
  /** Number of per-sample losses M. */
  readonly numSamples: number;
  /** Label-noise loss; when given, the objective has `labelNoiseGrad`. */
  readonly labelNoiseLoss?: TfLabelNoiseLossFn;
  /** The objective's fused SAM steps (see `Objective.fusedSam`). */
  readonly fusedSam?: Objective<TfVec, tf.Scalar>["fusedSam"];
  /** Frees the tensors the loss closes over (data); called by the objective's `dispose`. */
  readonly dispose?: () => void;
}

/**
 * Mean of the per-sample losses `perSample` (length M) over `batch` (int32 indices, repeats
 * counted), or over all M when `batch` is undefined. Weighs samples by a one-hot count rather than
 * gathering, because gather's gradient (UnsortedSegmentSum) is missing on the wasm backend.
 * The one-hot is made int32 and cast: wasm's OneHot with dtype float32 writes integer bit patterns
 * (tfjs 4.22; 1 reads as 1.4e-45).
 */
export function batchMean(perSample: tf.Tensor1D, batch?: tf.Tensor1D): tf.Scalar {
  if (!batch) return tf.mean(perSample);
  const weights = tf.mean(tf.cast(tf.oneHot(batch, perSample.shape[0]), "float32"), 0);
  return tf.sum(tf.mul(weights, perSample));
}

/** The batch as an int32 tensor (inside the caller's tidy), or undefined for the full batch. */
function batchTensor(batch: Batch): tf.Tensor1D | undefined {
  return batch === undefined ? undefined : tf.tensor1d(batch, "int32");
}

/** Replaces `out.t` by `next` and frees the previous tensor. */
function swap(out: TfVec, next: tf.Tensor1D): void {
  const old = out.t;
  out.t = next;
  old.dispose();
}

/**
 * An `Objective` over tfjs vectors from a loss function. Every method runs inside `tf.tidy` and
 * leaves no tensor behind except its result (a returned scalar, or the replaced `out.t`).
 * The HVP is ∇ₓ⟨∇ₓL(x), v⟩ with v held constant (reverse-over-reverse).
 */
export function tfObjective(
  lossFn: TfLossFn,
  opts: TfObjectiveOptions,
): Objective<TfVec, tf.Scalar> {
  const { dim, numSamples } = opts;
  const gradOf = (b: tf.Tensor1D | undefined) =>
    tf.grad((x: tf.Tensor) => lossFn(x as tf.Tensor1D, b)) as (x: tf.Tensor1D) => tf.Tensor1D;
  const objective: Objective<TfVec, tf.Scalar> = {
    dim,
    numSamples,
    loss(x, batch) {
      return tf.tidy(() => lossFn(x.t, batchTensor(batch)));
    },
    grad(x, out, batch) {
      swap(out, tf.tidy(() => gradOf(batchTensor(batch))(x.t)));
    },
    hvp(x, v, out, batch) {
      swap(
        out,
        tf.tidy(() => {
          const g = gradOf(batchTensor(batch));
          // A distinct tensor, so v stays a constant even when the caller passes v === x.
          const vc = tf.clone(v.t);
          const hv = tf.grad((y: tf.Tensor) => tf.sum(tf.mul(g(y as tf.Tensor1D), vc)));
          return hv(x.t) as tf.Tensor1D;
        }),
      );
    },
    dispose() {
      opts.dispose?.();
    },
  };
  if (opts.fusedSam) objective.fusedSam = opts.fusedSam;
  const noisy = opts.labelNoiseLoss;
  if (noisy) {
    objective.labelNoiseGrad = (x, out, batch, noise) => {
      if (noise.length !== batch.length) {
        throw new RangeError(`noise has length ${noise.length}, batch ${batch.length}`);
      }
      swap(
        out,
        tf.tidy(() => {
          const b = tf.tensor1d(batch, "int32");
          const e = tf.tensor1d(Float32Array.from(noise), "float32");
          return tf.grad((y: tf.Tensor) => noisy(y as tf.Tensor1D, b, e))(x.t) as tf.Tensor1D;
        }),
      );
    };
  }
  return objective;
}
