/**
 * The three-layer network (the f64 twin is mlp3.ts) on the tfjs engine, by autodiff:
 * x = [W1 (h×d), b1 (h), W2 (h×h), b2 (h), a (h)] (matrices row-major),
 * f_k = aᵀσ(W2 σ(W1 z_k + b1) + b2), L_k = (f_k − y_k)². σ comes from activations.ts (custom
 * gradients), so Hessian-vector products are exact. No fused SAM: the generic step serves it.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Objective } from "../engine/types.ts";
import type { TfVec } from "../engine/tfjs.ts";
import { tfObjective } from "../engine/tfjs_objective.ts";
import { activation } from "../engine/activations.ts";
import { outputLayer, rightMul, wasmTanh } from "./tf_mlp.ts";
import { MLP_ACTIVATIONS, mlpDepth } from "./mlp.ts";
import type { Dataset } from "./types.ts";
import { datasetArray, datasetShape, enumField, fail } from "./validate.ts";

/**
 * The depth-3 mlp objective from arrays z (n×d), y (n) and params.hidden = h,
 * params.activation ("tanh" | "softplus"), params.depth = 3; D = h(d + h + 3), M = n, with
 * labelNoiseGrad.
 */
export function tfMlp3(dataset: Dataset): Objective<TfVec, tf.Scalar> {
  const kind = "mlp";
  const [n, d] = datasetShape(dataset, "z", 2);
  const h = dataset.params.hidden;
  if (typeof h !== "number" || !Number.isInteger(h) || h < 1) {
    fail(kind, `params.hidden must be a positive integer (got ${JSON.stringify(h)})`);
  }
  if (mlpDepth(dataset) !== 3) fail(kind, "tfMlp3 needs params.depth = 3");
  const name = enumField(kind, "params.activation", dataset.params.activation, {
    allowed: MLP_ACTIVATIONS,
    fallback: "tanh",
  });
  const sigma = name === "tanh" && tf.getBackend() === "wasm" ? wasmTanh : activation(name);
  const z = tf.tensor2d(Float32Array.from(datasetArray(dataset, "z", [n, d])), [n, d]);
  const y = tf.tensor1d(Float32Array.from(datasetArray(dataset, "y", [n])));
  // The full batch with samples along columns, as tf_mlp.ts does and for the same reason: on wasm
  // and webgpu the first layer's products then have the constant zᵀ or z as right operand, never
  // a transposed one (about 10× faster on wasm, measured at d = 196, h = 64, n = 256).
  const zT = tf.getBackend() === "cpu" ? undefined : tf.transpose(z);
  const inputLayer = zT && rightMul(zT as tf.Tensor2D, z);
  /** Residuals f_k − y_k over the batch (all samples when `batch` is undefined). */
  const residuals = (x: tf.Tensor1D, batch?: tf.Tensor1D) => {
    const [w1, b1, w2, b2, a] = tf.split(x, [h * d, h, h * h, h, h]);
    if (!batch && inputLayer) {
      const pre1T = tf.add(
        inputLayer(tf.reshape(w1, [h, d]) as tf.Tensor2D),
        tf.reshape(b1, [h, 1]),
      );
      const s1T = sigma(pre1T) as tf.Tensor2D;
      const pre2T = tf.add(
        tf.matMul(tf.reshape(w2, [h, h]) as tf.Tensor2D, s1T),
        tf.reshape(b2, [h, 1]),
      );
      const fT = outputLayer(sigma(pre2T) as tf.Tensor2D, a as tf.Tensor1D);
      return tf.sub(tf.reshape(fT, [-1]), y);
    }
    const zb = batch ? tf.gather(z, batch) as tf.Tensor2D : z;
    // Samples along rows: pre = s·Wᵀ + b for both layers.
    const pre1 = tf.add(tf.matMul(zb, tf.reshape(w1, [h, d]) as tf.Tensor2D, false, true), b1);
    const s1 = sigma(pre1) as tf.Tensor2D;
    const pre2 = tf.add(tf.matMul(s1, tf.reshape(w2, [h, h]) as tf.Tensor2D, false, true), b2);
    const f = tf.reshape(tf.matMul(sigma(pre2) as tf.Tensor2D, tf.reshape(a, [h, 1])), [-1]);
    return tf.sub(f, batch ? tf.gather(y, batch) : y);
  };
  return tfObjective((x, batch) => tf.mean(tf.square(residuals(x, batch))), {
    dim: h * (d + h + 3),
    numSamples: n,
    labelNoiseLoss: (x, batch, noise) => tf.mean(tf.square(tf.sub(residuals(x, batch), noise))),
    dispose: () => tf.dispose(zT ? [z, y, zT] : [z, y]),
  });
}
