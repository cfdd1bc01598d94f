/**
 * The 4-D toy of Figure 1 (docs/theory.md §7) on the tfjs engine, by autodiff:
 * L_0 = F1(x1,x2)·x3², L_1 = F2(x1,x2)·x4², L = (L_0 + L_1)/2.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Objective } from "../engine/types.ts";
import type { TfVec } from "../engine/tfjs.ts";
import { batchMean, tfObjective } from "../engine/tfjs_objective.ts";
import type { Dataset } from "./types.ts";
import { enumField } from "./validate.ts";

/**
 * (p1, q1, p2, q2) with F1 = 3 + (a−p1)² + (b−q1)², F2 = 1 + ½((a−p2)² + (b−q2)²):
 * "paper" F1 = 3 + a² + b², F2 = 1 + ½((a+1)² + b²); "shifted" F1 = 3 + (a−1)² + b²,
 * F2 = 1 + ½(a² + (b−1)²).
 */
export const TOY4D_CENTRES = {
  paper: [0, 0, -1, 0],
  shifted: [1, 0, 0, 1],
} as const;

/** The data set's `params.family` ("paper" when absent). */
export function toy4dFamily(dataset: Dataset): keyof typeof TOY4D_CENTRES {
  return enumField("toy4d", "family", dataset.params.family, {
    allowed: ["paper", "shifted"] as const,
    fallback: "paper",
  });
}

/**
 * The two per-sample losses F1(a, b)·x3² and F2(a, b)·x4² of a family's centres, concatenated along
 * `axis`: x is [4] split along axis 0 (one run) or [R, 4] along axis 1 (the runs axis), the same
 * element-wise kernels either way.
 */
export function toy4dSampleLosses(
  x: tf.Tensor,
  centres: readonly number[],
  axis: 0 | 1,
): tf.Tensor {
  const [p1, q1, p2, q2] = centres;
  const [a, b, x3, x4] = tf.split(x, 4, axis);
  const f1 = tf.add(3, tf.add(tf.square(tf.sub(a, p1)), tf.square(tf.sub(b, q1))));
  const f2 = tf.add(1, tf.mul(0.5, tf.add(tf.square(tf.sub(a, p2)), tf.square(tf.sub(b, q2)))));
  return tf.concat([tf.mul(f1, tf.square(x3)), tf.mul(f2, tf.square(x4))], axis);
}

/** The toy4d objective of the data set's `params.family` ("paper" when absent); D = 4, M = 2. */
export function tfToy4d(dataset: Dataset): Objective<TfVec, tf.Scalar> {
  const centres = TOY4D_CENTRES[toy4dFamily(dataset)];
  return tfObjective(
    (x, batch) => batchMean(toy4dSampleLosses(x, centres, 0) as tf.Tensor1D, batch),
    { dim: 4, numSamples: 2 },
  );
}
