/**
 * The runs-axis twin of tfjs_objective.ts: from a per-run loss written with tfjs ops over R stacked
 * parameter vectors ([R, D], run-major) to loss, gradient, Hessian-vector product and label-noise
 * gradient of all R runs in one tensor computation.
 *
 * The per-run losses are independent (entry r depends on row r only), so the gradient of their sum
 * is, row by row, each run's gradient, and the same holds for the HVP: ∇ₓ⟨∇ₓΣ_r L_r, v⟩ has row r
 * equal to ∇²L_r(x_r)v_r. Second derivatives need the activations of activations.ts, as there.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Batch, Objective } from "./types.ts";
import type { TfRunsScalar, TfRunsVec } from "./tfjs_runs.ts";

/**
 * Per-run mean losses [R] at parameters `x` [R, D]: entry r is run r's mean loss over its batch row
 * `batch[r]` (int32 [R, b]), or over all samples when `batch` is undefined. Entry r must depend on
 * row r of `x` only.
 */
export type TfRunsLossFn = (x: tf.Tensor2D, batch?: tf.Tensor2D) => tf.Tensor1D;

/** Per-run mean of (f_k − y_k − noise)² over each run's batch row, `noise` [R, b] aligned with it. */
export type TfRunsLabelNoiseLossFn = (
  x: tf.Tensor2D,
  batch: tf.Tensor2D,
  noise: tf.Tensor2D,
) => tf.Tensor1D;

/** A runs-axis fused SAM step factory (see `Objective.fusedSam`). */
export type TfRunsFusedSam = Objective<TfRunsVec, TfRunsScalar, TfRunsScalar>["fusedSam"];

/** Options of `tfRunsObjective`. */
export interface TfRunsObjectiveOptions {
  /** Number of parameters D of one run. */
  readonly dim: number;
  /** Number of runs R. */
  readonly runs: number;
  /** Number of per-sample losses M. */
  readonly numSamples: number;
  /** Label-noise loss; when given, the objective has `labelNoiseGrad`. */
  readonly labelNoiseLoss?: TfRunsLabelNoiseLossFn;
  /** The objective's fused SAM steps. */
  readonly fusedSam?: TfRunsFusedSam;
  /** Frees the tensors the loss closes over (data); called by the objective's `dispose`. */
  readonly dispose?: () => void;
}

/**
 * A runs-axis batch (R·b indices, run-major) as an int32 [R, b] tensor, inside the caller's tidy;
 * undefined for the full batch. A length that is not a positive multiple of R is a RangeError.
 */
export function runsBatchTensor(batch: Batch, runs: number): tf.Tensor2D | undefined {
  if (batch === undefined) return undefined;
  if (batch.length === 0 || batch.length % runs !== 0) {
    throw new RangeError(`batch has ${batch.length} indices, not b ≥ 1 for each of ${runs} runs`);
  }
  return tf.tensor2d(batch, [runs, batch.length / runs], "int32");
}

/** Replaces `out.t` by `next` and frees the previous tensor. */
function swap(out: TfRunsVec, next: tf.Tensor2D): void {
  const old = out.t;
  out.t = next;
  old.dispose();
}

/**
 * An `Objective` over R runs' [R, D] tensors from a per-run loss. Every method runs inside
 * `tf.tidy` and leaves no tensor behind except its result (a returned [R, 1] loss, or the replaced
 * `out.t`). The HVP is ∇ₓ⟨∇ₓΣ_r L_r(x), v⟩ with v held constant (reverse-over-reverse).
 */
export function tfRunsObjective(
  lossRuns: TfRunsLossFn,
  opts: TfRunsObjectiveOptions,
): Objective<TfRunsVec, TfRunsScalar, TfRunsScalar> {
  const { dim, runs, numSamples } = opts;
  for (const [name, v] of [["dim", dim], ["runs", runs], ["numSamples", numSamples]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be ≥ 1 (got ${v})`);
  }
  const gradOf = (b: tf.Tensor2D | undefined) =>
    tf.grad((x: tf.Tensor) => tf.sum(lossRuns(x as tf.Tensor2D, b))) as (
      x: tf.Tensor2D,
    ) => tf.Tensor2D;
  const objective: Objective<TfRunsVec, TfRunsScalar, TfRunsScalar> = {
    dim,
    runs,
    numSamples,
    loss(x, batch) {
      return tf.tidy(() => tf.reshape(lossRuns(x.t, runsBatchTensor(batch, runs)), [runs, 1]));
    },
    grad(x, out, batch) {
      swap(out, tf.tidy(() => gradOf(runsBatchTensor(batch, runs))(x.t)));
    },
    hvp(x, v, out, batch) {
      swap(
        out,
        tf.tidy(() => {
          const g = gradOf(runsBatchTensor(batch, runs));
          // A distinct tensor, so v stays a constant even when the caller passes v === x.
          const vc = tf.clone(v.t);
          const hv = tf.grad((y: tf.Tensor) => tf.sum(tf.mul(g(y as tf.Tensor2D), vc)));
          return hv(x.t) as tf.Tensor2D;
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
          const b = runsBatchTensor(batch, runs)!;
          const e = tf.tensor2d(Float32Array.from(noise), b.shape, "float32");
          return tf.grad((y: tf.Tensor) => tf.sum(noisy(y as tf.Tensor2D, b, e)))(
            x.t,
          ) as tf.Tensor2D;
        }),
      );
    };
  }
  return objective;
}
