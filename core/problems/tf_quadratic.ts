/**
 * The quadratic L = ½ xᵀAx (docs/theory.md §4) on the tfjs engine, by autodiff.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Objective } from "../engine/types.ts";
import type { TfVec } from "../engine/tfjs.ts";
import { tfObjective } from "../engine/tfjs_objective.ts";
import type { Dataset } from "./types.ts";
import { datasetArray, datasetShape } from "./validate.ts";

/** ½ xᵀAx from a "quadratic" data set (array A, D×D); M = 1, so every batch gives L. */
export function tfQuadratic(dataset: Dataset): Objective<TfVec, tf.Scalar> {
  const [dim] = datasetShape(dataset, "A", 2);
  const a = tf.tensor2d(Float32Array.from(datasetArray(dataset, "A", [dim, dim])), [dim, dim]);
  return tfObjective(
    (x) => tf.mul(0.5, tf.sum(tf.mul(x, tf.squeeze(tf.matMul(a, tf.reshape(x, [dim, 1])))))),
    { dim, numSamples: 1, dispose: () => a.dispose() },
  );
}
