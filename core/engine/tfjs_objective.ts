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

/**
 * The shape conventions of an autodiff objective: how its host batch and label noise become
 * tensors, and how its loss tensor is reduced to the scalar that is differentiated (the loss
 * itself for one run; the sum of the per-run losses on the runs axis, whose gradient is, row by
 * row, each run's gradient).
 */
export interface AutodiffForm<B extends tf.Tensor> {
  /** The batch as an int32 tensor (inside the caller's tidy), undefined for the full batch. */
  batch(batch: Batch): B | undefined;
  /** Label noise aligned with a batch tensor, as float32 of the batch's shape. */
  noise(noise: Float64Array, batch: B): B;
  /** The scalar whose gradient is taken. */
  total(loss: tf.Tensor): tf.Scalar;
  /** The loss as `Objective.loss` returns it. */
  result(loss: tf.Tensor): tf.Tensor;
}

/** What {@linkcode autodiffObjective} builds besides the loss. */
export interface AutodiffOptions<T extends tf.Tensor, B extends tf.Tensor, O> {
  /** Number of parameters D (of one run). */
  readonly dim: number;
  /** Number of per-sample losses M. */
  readonly numSamples: number;
  /** Runs on the axis (absent: one run). */
  readonly runs?: number;
  /** Label-noise loss; when given, the objective has `labelNoiseGrad`. */
  readonly labelNoiseLoss?: (x: T, batch: B, noise: B) => tf.Tensor;
  /** The objective's fused SAM steps. */
  readonly fusedSam?: O extends { fusedSam?: infer F } ? F : never;
  /** Frees the tensors the loss closes over; called by the objective's `dispose`. */
  readonly dispose?: () => void;
}

/**
 * An `Objective` over holders `{ t: T }` from a loss function, in the conventions of `form`. Every
 * method runs inside `tf.tidy` and leaves no tensor behind except its result (a returned loss, or
 * the replaced `out.t`). The HVP is ∇ₓ⟨∇ₓL(x), v⟩ with v held constant (reverse-over-reverse).
 */
export function autodiffObjective<T extends tf.Tensor, B extends tf.Tensor, S, C>(
  lossFn: (x: T, batch?: B) => tf.Tensor,
  form: AutodiffForm<B>,
  opts: AutodiffOptions<T, B, Objective<{ t: T }, S, C>>,
): Objective<{ t: T }, S, C> {
  const { dim, numSamples } = opts;
  const swap = (out: { t: T }, next: T) => {
    const old = out.t;
    out.t = next;
    old.dispose();
  };
  const gradOf = (b: B | undefined) =>
    tf.grad((x: tf.Tensor) => form.total(lossFn(x as T, b))) as unknown as (x: T) => T;
  const objective: Objective<{ t: T }, S, C> = {
    dim,
    ...(opts.runs === undefined ? {} : { runs: opts.runs }),
    numSamples,
    loss(x, batch) {
      return tf.tidy(() => form.result(lossFn(x.t, form.batch(batch)))) as S;
    },
    grad(x, out, batch) {
      swap(out, tf.tidy(() => gradOf(form.batch(batch))(x.t)));
    },
    hvp(x, v, out, batch) {
      swap(
        out,
        tf.tidy(() => {
          const g = gradOf(form.batch(batch));
          // A distinct tensor, so v stays a constant even when the caller passes v === x.
          const vc = tf.clone(v.t);
          const hv = tf.grad((y: tf.Tensor) => tf.sum(tf.mul(g(y as T), vc)));
          return hv(x.t) as T;
        }),
      );
    },
    dispose() {
      opts.dispose?.();
    },
  };
  if (opts.fusedSam) objective.fusedSam = opts.fusedSam as Objective<{ t: T }, S, C>["fusedSam"];
  const noisy = opts.labelNoiseLoss;
  if (noisy) {
    objective.labelNoiseGrad = (x, out, batch, noise) => {
      if (noise.length !== batch.length) {
        throw new RangeError(`noise has length ${noise.length}, batch ${batch.length}`);
      }
      swap(
        out,
        tf.tidy(() => {
          const b = form.batch(batch)!;
          const e = form.noise(noise, b);
          return tf.grad((y: tf.Tensor) => form.total(noisy(y as T, b, e)))(x.t) as T;
        }),
      );
    };
  }
  return objective;
}

/** One run's conventions: 1-D batches and noise, the loss a scalar already. */
const SINGLE: AutodiffForm<tf.Tensor1D> = {
  batch: batchTensor,
  noise: (noise) => tf.tensor1d(Float32Array.from(noise), "float32"),
  total: (loss) => loss as tf.Scalar,
  result: (loss) => loss,
};

/** An `Objective` over tfjs vectors from a loss function (see {@linkcode autodiffObjective}). */
export function tfObjective(
  lossFn: TfLossFn,
  opts: TfObjectiveOptions,
): Objective<TfVec, tf.Scalar> {
  return autodiffObjective<tf.Tensor1D, tf.Tensor1D, tf.Scalar, number>(lossFn, SINGLE, opts);
}
