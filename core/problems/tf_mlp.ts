/**
 * The two-layer network (Setting 5.1; docs/theory.md §5) on the tfjs engine, by autodiff:
 * x = [W (h×d row-major), b (h), a (h)], f_k = Σ_j a_j σ(Σ_i W_ji z_ki + b_j), L_k = (f_k − y_k)².
 * σ comes from activations.ts (custom gradients), so Hessian-vector products are exact.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Objective } from "../engine/types.ts";
import type { TfVec } from "../engine/tfjs.ts";
import { tfObjective } from "../engine/tfjs_objective.ts";
import { activation, withInputDerivative } from "../engine/activations.ts";
import type { Dataset } from "./types.ts";
import { datasetArray, datasetShape, enumField, fail } from "./validate.ts";
import { fullBatchTensors, fusedMlpSam, hiddenForm, type MlpTensors } from "./tf_mlp_sam.ts";
import { mlpDepth } from "./mlp.ts";
import { type Blas, loadBlas } from "../engine/blas.ts";

/** Options of {@link tfMlp}. */
export interface TfMlpOptions {
  /**
   * The BLAS of the fused full-batch SAM step's products on wasm: undefined loads the process's
   * (`SAM_BLAS`, engine/blas.ts); null leaves them to the project's relaxed-SIMD kernel
   * (engine/gemm_wasm.ts), or to tf.matMul where that cannot run; "tfjs" to tf.matMul (XNNPACK on
   * wasm), as the bench's `wasm-xnnpack` rows do for comparison.
   */
  readonly blas?: Blas | null | "tfjs";
}

/**
 * The mlp objective from arrays z (n×d), y (n) and params.hidden = h, params.activation
 * ("tanh" | "softplus"); D = h(d + 2), M = n, with labelNoiseGrad.
 */
export function tfMlp(dataset: Dataset, opts: TfMlpOptions = {}): Objective<TfVec, tf.Scalar> {
  const kind = "mlp";
  const [n, d] = datasetShape(dataset, "z", 2);
  const h = dataset.params.hidden;
  if (typeof h !== "number" || !Number.isInteger(h) || h < 1) {
    fail(kind, `params.hidden must be a positive integer (got ${JSON.stringify(h)})`);
  }
  if (mlpDepth(dataset) !== 2) fail(kind, "params.depth 3 is tfMlp3's (tf_mlp3.ts)");
  const name = enumField(kind, "params.activation", dataset.params.activation, {
    allowed: ["tanh", "softplus"] as const,
    fallback: "tanh",
  });
  const sigma = name === "tanh" && tf.getBackend() === "wasm" ? wasmTanh : activation(name);
  const z64 = datasetArray(dataset, "z", [n, d]);
  const zHost = Float32Array.from(z64);
  const z = tf.tensor2d(zHost, [n, d]);
  const yHost = Float32Array.from(datasetArray(dataset, "y", [n]));
  const y = tf.tensor1d(yHost);
  // The samples-along-columns form of the full batch (below) is faster on wasm and webgpu, but on
  // the cpu backend its column broadcasts are slow generic loops (grad 290 ms against 180 ms at
  // N = 1024, d = 64, h = 256, measured), so cpu keeps the plain form.
  const zT = tf.getBackend() === "cpu" ? undefined : tf.transpose(z);
  const inputLayer = zT && rightMul(zT, z);
  // The fused SAM steps (tf_mlp_sam.ts), on the backends with the samples-along-columns form.
  let fused: MlpTensors | undefined;
  if (zT) {
    const zNormSq1 = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      let s = 1;
      for (let i = 0; i < d; i++) s += Math.fround(z64[k * d + i]) ** 2;
      zNormSq1[k] = s;
    }
    const form = hiddenForm(name);
    const blas = tf.getBackend() === "wasm" && opts.blas !== null && opts.blas !== "tfjs"
      ? (opts.blas ?? loadBlas())
      : undefined;
    fused = {
      ...fullBatchTensors(z, y, { hidden: h, form }),
      z,
      zT,
      zHost,
      yHost,
      zNormSq1,
      hidden: h,
      inputDim: d,
      form,
      sigmaOne: name === "softplus" ? tf.softplus : tf.tanh,
      sigmaPrime: name === "tanh" ? (_pre, s) => tf.sub(1, tf.square(s)) : (pre) => tf.sigmoid(pre),
      unit0: unitVector(h),
      blas,
      products: blas ?? (opts.blas === "tfjs" ? "tfjs" : undefined),
    };
  }
  /** Residuals f_k − y_k over the batch (all samples when `batch` is undefined). */
  const residuals = (x: tf.Tensor1D, batch?: tf.Tensor1D) => {
    const [w, b, a] = tf.split(x, [h * d, h, h]);
    const wMat = tf.reshape(w, [h, d]) as tf.Tensor2D;
    if (batch || !inputLayer) {
      // The plain form; for a batch's few rows it is also the cheapest.
      const zb = batch ? tf.gather(z, batch) as tf.Tensor2D : z;
      const pre = tf.add(tf.matMul(zb, wMat, false, true), b);
      const f = tf.reshape(tf.matMul(sigma(pre) as tf.Tensor2D, tf.reshape(a, [h, 1])), [-1]);
      return tf.sub(f, batch ? tf.gather(y, batch) : y);
    }
    // The full batch with samples along columns (h×n): every large product of the gradient and
    // the HVP has a data matrix (z or zᵀ) as its right operand; see rightMul and outputLayer.
    const preT = tf.add(inputLayer(wMat), tf.reshape(b, [h, 1])) as tf.Tensor2D;
    const f = tf.reshape(outputLayer(sigma(preT) as tf.Tensor2D, a as tf.Tensor1D), [-1]);
    return tf.sub(f, y);
  };
  return tfObjective((x, batch) => tf.mean(tf.square(residuals(x, batch))), {
    dim: h * (d + 2),
    numSamples: n,
    labelNoiseLoss: (x, batch, noise) => tf.mean(tf.square(tf.sub(residuals(x, batch), noise))),
    fusedSam: fused && ((batchSize) => fusedMlpSam(fused!, batchSize)),
    dispose: () =>
      tf.dispose([
        z,
        y,
        ...(zT ? [zT] : []),
        ...(fused
          ? [
            fused.zTOnes,
            fused.zOnes,
            fused.yRow,
            fused.e1,
            fused.e1Flat,
            fused.unit0,
          ]
          : []),
      ]),
  });
}

/** e₁ of length `n`, float32. */
function unitVector(n: number): tf.Tensor1D {
  const e = new Float32Array(n);
  e[0] = 1;
  return tf.tensor1d(e);
}

/**
 * u ↦ u·m for a constant matrix m, as an op whose gradient dy ↦ dy·mᵀ is the same kind of op with
 * m and mᵀ swapped (whose gradient is u ↦ u·m again): derivatives of every order are untransposed
 * products with a constant right operand. Both matter on tfjs-wasm (measured, 2 cores): its
 * transposed products run 8–12× slower (1024×64 by 64×256: 30–50 ms against 4 ms), and it repacks
 * a product's right operand on every call unless that tensor is reused, as these constants are.
 * m and mᵀ are saved with the op because tf.grad frees the forward pass's other tensors.
 */
export function rightMul(m: tf.Tensor2D, mT: tf.Tensor2D): (u: tf.Tensor2D) => tf.Tensor2D {
  return tf.customGrad(
    ((u: tf.Tensor2D, save: tf.GradSaveFunc) => {
      save([m, mT]);
      return {
        value: tf.matMul(u, m),
        gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) =>
          rightMul(saved[1] as tf.Tensor2D, saved[0] as tf.Tensor2D)(dy),
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  ) as unknown as (u: tf.Tensor2D) => tf.Tensor2D;
}

/**
 * f = sᵀa for hidden activations s (h×n, samples along columns) and output weights a (h), as an
 * n×1 matrix. Its gradients are ∂s = a·dyᵀ, an untransposed product with the small dy as right
 * operand, and ∂a = Σ_k s_{·k} dy_k, a row sum; tfjs's own gradients would use transposed products
 * and repack s.
 * Both are differentiable tfjs ops of the saved inputs, so the HVP differentiates through them.
 */
export const outputLayer: (s: tf.Tensor2D, a: tf.Tensor1D) => tf.Tensor2D = tf.customGrad(
  ((s: tf.Tensor2D, a: tf.Tensor1D, save: tf.GradSaveFunc) => {
    save([s, a]);
    const [h, n] = s.shape;
    return {
      value: tf.matMul(s, tf.reshape(a, [h, 1]), true, false),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sv, av] = saved as [tf.Tensor2D, tf.Tensor1D];
        return [
          tf.matMul(tf.reshape(av, [h, 1]), tf.reshape(dy, [1, n])),
          // Not matMul(s, dy): tfjs-wasm 4.22 crashes (memory access out of bounds) when a
          // product with a one-column right operand is repeated with the same tensor.
          tf.sum(tf.mul(sv, tf.reshape(dy, [1, n])), 1),
        ];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0],
) as unknown as (s: tf.Tensor2D, a: tf.Tensor1D) => tf.Tensor2D;

/**
 * tanh(t) = 2σ(2t) − 1 for the wasm backend, with the input-saving gradient of activations.ts (so
 * HVPs stay exact). tfjs-wasm's Tanh kernel is scalar code, its Sigmoid is vectorized: on 1024×256
 * values these four ops take ≈2 ms against ≈9.5 ms for tf.tanh (measured). On the cpu backend the
 * four ops are slower than tf.tanh, so other backends keep activations.ts's tanh. The float32
 * result differs from tf.tanh by about one rounding of σ (absolute error ≲ 2e-7).
 */
export const wasmTanh: (x: tf.Tensor) => tf.Tensor = withInputDerivative(
  (x) => tf.sub(tf.mul(tf.sigmoid(tf.mul(x, 2)), 2), 1),
  (x) => {
    const t = wasmTanh(x);
    return tf.sub(1, tf.mul(t, t));
  },
);
