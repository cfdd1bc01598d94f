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
import { type AutodiffForm, autodiffObjective } from "./tfjs_objective.ts";

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

/**
 * An `Objective` over R runs' [R, D] tensors from a per-run loss (see tfjs_objective.ts's
 * `autodiffObjective`): the loss is returned as [R, 1], and the gradient and HVP are those of the
 * sum of the per-run losses, hence row by row each run's.
 */
export function tfRunsObjective(
  lossRuns: TfRunsLossFn,
  opts: TfRunsObjectiveOptions,
): Objective<TfRunsVec, TfRunsScalar, TfRunsScalar> {
  const { dim, runs, numSamples } = opts;
  for (const [name, v] of [["dim", dim], ["runs", runs], ["numSamples", numSamples]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be ≥ 1 (got ${v})`);
  }
  const form: AutodiffForm<tf.Tensor2D> = {
    batch: (batch) => runsBatchTensor(batch, runs),
    noise: (noise, b) => tf.tensor2d(Float32Array.from(noise), b.shape, "float32"),
    total: (loss) => tf.sum(loss),
    result: (loss) => tf.reshape(loss, [runs, 1]),
  };
  return autodiffObjective<tf.Tensor2D, tf.Tensor2D, TfRunsScalar, TfRunsScalar>(
    lossRuns,
    form,
    opts,
  );
}
