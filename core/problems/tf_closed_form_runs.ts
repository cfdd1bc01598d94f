/**
 * The closed-form problems (toy4d, sanity2d, quadratic, two-quadratics) on the tfjs runs axis: each
 * loss written once over R stacked parameter vectors [R, D], so R runs advance in one tensor
 * computation (a handful of kernels per step) instead of one objective call per run. The same
 * losses as tf_toy4d.ts, tf_sanity2d.ts, tf_quadratic.ts and tf_two_quadratics.ts, row by row.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Objective } from "../engine/types.ts";
import type { TfRunsScalar, TfRunsVec } from "../engine/tfjs_runs.ts";
import { type TfRunsLossFn, tfRunsObjective } from "../engine/tfjs_runs_objective.ts";
import { datasetArray, datasetShape } from "./validate.ts";
import { TOY4D_CENTRES, toy4dFamily, toy4dSampleLosses } from "./tf_toy4d.ts";
import type { Dataset } from "./types.ts";
import { CLOSED_FORM_KINDS, type ClosedFormKind } from "./registry.ts";

/**
 * Each run's mean of its per-sample losses [R, M] over its batch row (int32 [R, b]; a sample drawn
 * twice counts twice), or over all M samples without a batch: what `batchMean` is for one run.
 */
export function runsBatchMean(perSample: tf.Tensor2D, batch?: tf.Tensor2D): tf.Tensor1D {
  if (!batch) return tf.mean(perSample, 1);
  const weights = tf.mean(tf.cast(tf.oneHot(batch, perSample.shape[1]), "float32"), 1);
  return tf.sum(tf.mul(weights, perSample), 1);
}

/** A closed-form loss over [R, D] with its sizes, and the data tensors it closes over. */
interface RunsLoss {
  readonly loss: TfRunsLossFn;
  readonly dim: number;
  readonly numSamples: number;
  readonly dispose?: () => void;
}

function toy4d(dataset: Dataset): RunsLoss {
  const centres = TOY4D_CENTRES[toy4dFamily(dataset)];
  return {
    dim: 4,
    numSamples: 2,
    loss: (x, batch) => runsBatchMean(toy4dSampleLosses(x, centres, 1) as tf.Tensor2D, batch),
  };
}

function sanity2d(): RunsLoss {
  return {
    dim: 2,
    numSamples: 1,
    loss: (x) => {
      const [a, b] = tf.split(x, 2, 1);
      return tf.reshape(tf.mul(0.5, tf.square(tf.sub(1, tf.mul(a, b)))), [-1]);
    },
  };
}

function quadratic(dataset: Dataset): RunsLoss {
  const [dim] = datasetShape(dataset, "A", 2);
  const a = tf.tensor2d(Float32Array.from(datasetArray(dataset, "A", [dim, dim])), [dim, dim]);
  return {
    dim,
    numSamples: 1,
    // Row r of X·Aᵀ is A x_r.
    loss: (x) => tf.mul(0.5, tf.sum(tf.mul(x, tf.matMul(x, a, false, true)), 1)),
    dispose: () => a.dispose(),
  };
}

function twoQuadratics(dataset: Dataset): RunsLoss {
  const [dim] = datasetShape(dataset, "A1", 2);
  const stacked = new Float32Array(2 * dim * dim);
  stacked.set(datasetArray(dataset, "A1", [dim, dim]));
  stacked.set(datasetArray(dataset, "A2", [dim, dim]), dim * dim);
  // Rows of A1 then A2: row r of X·[A1; A2]ᵀ is (A1 x_r, A2 x_r).
  const a = tf.tensor2d(stacked, [2 * dim, dim]);
  return {
    dim,
    numSamples: 2,
    loss: (x, batch) => {
      const runs = x.shape[0];
      const ax = tf.reshape(tf.matMul(x, a, false, true), [runs, 2, dim]);
      const perSample = tf.mul(0.5, tf.sum(tf.mul(ax, tf.reshape(x, [runs, 1, dim])), 2));
      return runsBatchMean(perSample as tf.Tensor2D, batch);
    },
    dispose: () => a.dispose(),
  };
}

const LOSSES: Readonly<Record<ClosedFormKind, (dataset: Dataset) => RunsLoss>> = {
  "toy4d": toy4d,
  "sanity2d": sanity2d,
  "quadratic": quadratic,
  "two-quadratics": twoQuadratics,
};

/** Whether `kind` has a runs-axis objective here (every one of {@linkcode CLOSED_FORM_KINDS}). */
export function hasClosedFormRuns(kind: string): kind is ClosedFormKind {
  return (CLOSED_FORM_KINDS as readonly string[]).includes(kind);
}

/**
 * The runs-axis tfjs objective of a closed-form data set for `runs` runs (loss, gradient and HVP by
 * autodiff of the summed per-run losses); its data tensors live until `dispose()`.
 */
export function tfClosedFormRuns(
  dataset: Dataset,
  runs: number,
): Objective<TfRunsVec, TfRunsScalar, TfRunsScalar> {
  const kind = dataset.kind;
  if (!hasClosedFormRuns(kind)) throw new RangeError(`no closed-form runs objective for ${kind}`);
  const make = LOSSES[kind];
  const { loss, dim, numSamples, dispose } = make(dataset);
  return tfRunsObjective(loss, { dim, runs, numSamples, dispose });
}
