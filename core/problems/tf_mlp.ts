/**
 * The two-layer network (common.md problem 6) on the tfjs engine, by autodiff:
 * x = [W (h×d row-major), b (h), a (h)], f_k = Σ_j a_j σ(Σ_i W_ji z_ki + b_j), L_k = (f_k − y_k)².
 * σ comes from activations.ts (custom gradients), so Hessian-vector products are exact.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Objective } from "../engine/types.ts";
import type { TfVec } from "../engine/tfjs.ts";
import { tfObjective } from "../engine/tfjs_objective.ts";
import { activation } from "../engine/activations.ts";
import type { Dataset } from "./types.ts";
import { datasetArray, datasetShape, enumField, fail } from "./validate.ts";

/**
 * The mlp objective from arrays z (n×d), y (n) and params.hidden = h, params.activation
 * ("tanh" | "softplus"); D = h(d + 2), M = n, with labelNoiseGrad.
 */
export function tfMlp(dataset: Dataset): Objective<TfVec, tf.Scalar> {
  const kind = "mlp";
  const [n, d] = datasetShape(dataset, "z", 2);
  const h = dataset.params.hidden;
  if (typeof h !== "number" || !Number.isInteger(h) || h < 1) {
    fail(kind, `params.hidden must be a positive integer (got ${JSON.stringify(h)})`);
  }
  const sigma = activation(
    enumField(kind, "params.activation", dataset.params.activation, {
      allowed: ["tanh", "softplus"] as const,
      fallback: "tanh",
    }),
  );
  const z = tf.tensor2d(Float32Array.from(datasetArray(dataset, "z", [n, d])), [n, d]);
  const y = tf.tensor1d(Float32Array.from(datasetArray(dataset, "y", [n])));
  /** Residuals f_k − y_k over the batch (all samples when `batch` is undefined). */
  const residuals = (x: tf.Tensor1D, batch?: tf.Tensor1D) => {
    const [w, b, a] = tf.split(x, [h * d, h, h]);
    const zb = batch ? tf.gather(z, batch) : z;
    const yb = batch ? tf.gather(y, batch) : y;
    const pre = tf.add(tf.matMul(zb, tf.reshape(w, [h, d]), false, true), b);
    const f = tf.reshape(tf.matMul(sigma(pre), tf.reshape(a, [h, 1])), [-1]);
    return tf.sub(f, yb);
  };
  return tfObjective((x, batch) => tf.mean(tf.square(residuals(x, batch))), {
    dim: h * (d + 2),
    numSamples: n,
    labelNoiseLoss: (x, batch, noise) => tf.mean(tf.square(tf.sub(residuals(x, batch), noise))),
    dispose: () => tf.dispose([z, y]),
  });
}
