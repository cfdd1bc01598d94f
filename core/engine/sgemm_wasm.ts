/**
 * Float32 matrix products of tfjs-wasm tensors by OpenBLAS's sgemm (engine/blas.ts), in place on
 * the wasm heap: tfjs-wasm's matMul (XNNPACK, one thread) peaks near 28 GFLOP/s on this project's
 * machines, OpenBLAS's sgemm near 90 on one thread, and the fused MLP SAM step
 * (core/problems/tf_mlp_sam.ts) spends most of its time in four such products. A kernel of this
 * module hands the heap views of the operands to the library; nothing is copied. `product` picks
 * who multiplies: sgemm, the project's relaxed-SIMD kernel (engine/gemm_wasm.ts) or tf.matMul.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Blas } from "./blas.ts";
import { gemm, gemmKernel } from "./gemm_wasm.ts";
import { ensureWasmKernel, type WasmKernelBody } from "./wasm_kernel.ts";

const KERNEL = "SamSgemm";

/** C = A·B by the `blas` attribute's sgemm, on the heap views of A, B and the new C. */
const multiply: WasmKernelBody = (inputs, attrs, wasm) => {
  const a = inputs.a as tf.TensorInfo, b = inputs.b as tf.TensorInfo;
  const blas = (attrs as unknown as { blas: Blas }).blas;
  const [m, k] = a.shape, n = b.shape[1];
  const out = wasm.makeOutput([m, n], "float32");
  // Views taken after the allocation, which may grow (and so detach) the heap.
  const view = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t) as Float32Array;
  blas.sgemm(false, false, { m, n, k }, 1, view(a), k, view(b), n, 0, view(out), n);
  return out;
};

/** Who multiplies on tfjs-wasm: a BLAS's sgemm, or "tfjs" for tf.matMul (XNNPACK). */
export type Products = Blas | "tfjs";

/**
 * a·b for float32 matrices a (m×k) and b (k×n) on tfjs-wasm: by `via`'s sgemm when it is a BLAS,
 * by tf.matMul when it is "tfjs", else by the project's relaxed-SIMD kernel (engine/gemm_wasm.ts)
 * where the engine has relaxed SIMD and n ≥ 4 (tf.matMul otherwise); off wasm tf.matMul. Not
 * differentiable (for hand-written gradients).
 */
export function product(a: tf.Tensor2D, b: tf.Tensor2D, via?: Products): tf.Tensor2D {
  if (a.shape[1] !== b.shape[0]) {
    throw new RangeError(`product of ${a.shape.join("×")} and ${b.shape.join("×")} matrices`);
  }
  if (
    via === "tfjs" || tf.getBackend() !== "wasm" || a.dtype !== "float32" || b.dtype !== "float32"
  ) {
    return tf.matMul(a, b);
  }
  if (!via) return b.shape[1] >= 4 && gemmKernel() ? gemm(a, b) : tf.matMul(a, b);
  ensureWasmKernel(KERNEL, multiply);
  return tf.engine().runKernel(
    KERNEL,
    { a, b },
    { blas: via } as unknown as tf.NamedAttrMap,
  ) as tf.Tensor2D;
}
