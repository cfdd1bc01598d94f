/**
 * The diagonal linear network on the tfjs engine, by autodiff (the f64 twin is diagnet.ts):
 * x = [u, v], f_k = ⟨u⊙u − v⊙v, z_k⟩, L_k = (f_k − y_k)².
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Objective } from "../engine/types.ts";
import type { TfVec } from "../engine/tfjs.ts";
import { tfObjective } from "../engine/tfjs_objective.ts";
import type { Dataset } from "./types.ts";
import { datasetArray, datasetShape } from "./validate.ts";

/** The diagnet objective from arrays z (n×d) and y (n); D = 2d, M = n, with labelNoiseGrad. */
export function tfDiagnet(dataset: Dataset): Objective<TfVec, tf.Scalar> {
  const [n, d] = datasetShape(dataset, "z", 2);
  const z = tf.tensor2d(Float32Array.from(datasetArray(dataset, "z", [n, d])), [n, d]);
  const y = tf.tensor1d(Float32Array.from(datasetArray(dataset, "y", [n])));
  /** Residuals f_k − y_k over the batch (all samples when `batch` is undefined). */
  const residuals = (x: tf.Tensor1D, batch?: tf.Tensor1D) => {
    const [u, v] = tf.split(x, 2);
    const zb = batch ? tf.gather(z, batch) : z;
    const yb = batch ? tf.gather(y, batch) : y;
    const f = tf.reshape(tf.matMul(zb, tf.reshape(tf.sub(tf.square(u), tf.square(v)), [d, 1])), [
      -1,
    ]);
    return tf.sub(f, yb);
  };
  return tfObjective((x, batch) => tf.mean(tf.square(residuals(x, batch))), {
    dim: 2 * d,
    numSamples: n,
    labelNoiseLoss: (x, batch, noise) => tf.mean(tf.square(tf.sub(residuals(x, batch), noise))),
    dispose: () => tf.dispose([z, y]),
  });
}
