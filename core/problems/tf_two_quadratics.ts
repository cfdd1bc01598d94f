/**
 * Two quadratics L_k = ½ xᵀA_k x, L = (L_0 + L_1)/2 (Example 5.8; docs/theory.md §5) on the tfjs
 * engine, by autodiff.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Objective } from "../engine/types.ts";
import type { TfVec } from "../engine/tfjs.ts";
import { batchMean, tfObjective } from "../engine/tfjs_objective.ts";
import type { Dataset } from "./types.ts";
import { datasetArray, datasetShape } from "./validate.ts";

/** The two-quadratics objective from its data set (arrays A1, A2, each D×D); M = 2. */
export function tfTwoQuadratics(dataset: Dataset): Objective<TfVec, tf.Scalar> {
  const [dim] = datasetShape(dataset, "A1", 2);
  const stacked = new Float32Array(2 * dim * dim);
  stacked.set(datasetArray(dataset, "A1", [dim, dim]));
  stacked.set(datasetArray(dataset, "A2", [dim, dim]), dim * dim);
  // Rows of A1 then A2: one matmul gives both A_k x.
  const a = tf.tensor2d(stacked, [2 * dim, dim]);
  return tfObjective(
    (x, batch) => {
      const ax = tf.reshape(tf.matMul(a, tf.reshape(x, [dim, 1])), [2, dim]);
      const perSample = tf.mul(0.5, tf.sum(tf.mul(ax, x), 1));
      return batchMean(perSample as tf.Tensor1D, batch);
    },
    { dim, numSamples: 2, dispose: () => a.dispose() },
  );
}
