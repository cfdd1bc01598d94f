/**
 * The 2-D sanity toy L = ½(1 − x1·x2)² (docs/theory.md §7) on the tfjs engine, by autodiff.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Objective } from "../engine/types.ts";
import type { TfVec } from "../engine/tfjs.ts";
import { tfObjective } from "../engine/tfjs_objective.ts";
import type { Dataset } from "./types.ts";

/** ½(1 − x1·x2)²; D = 2, M = 1 (every batch gives L). The data set carries nothing else. */
export function tfSanity2d(_dataset: Dataset): Objective<TfVec, tf.Scalar> {
  return tfObjective(
    (x) => {
      const [a, b] = tf.split(x, 2);
      return tf.mul(0.5, tf.sum(tf.square(tf.sub(1, tf.mul(a, b)))));
    },
    { dim: 2, numSamples: 1 },
  );
}
