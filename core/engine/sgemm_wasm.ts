/**
 * Float32 matrix products of tfjs-wasm tensors by OpenBLAS's sgemm (engine/blas.ts), in place on
 * the wasm heap: tfjs-wasm's matMul (XNNPACK, one thread) peaks near 28 GFLOP/s on this project's
 * machines, OpenBLAS's sgemm near 90 on one thread, and the fused MLP SAM step
 * (core/problems/tf_mlp_sam.ts) spends most of its time in four such products. A kernel of this
 * module hands the heap views of the operands to the library; nothing is copied.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Blas } from "./blas.ts";
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

/**
 * a·b for float32 matrices a (m×k) and b (k×n): by `blas`'s sgemm when one is given and tfjs's
 * backend is wasm, else tf.matMul. Not differentiable (for hand-written gradients).
 */
export function product(a: tf.Tensor2D, b: tf.Tensor2D, blas?: Blas): tf.Tensor2D {
  if (a.shape[1] !== b.shape[0]) {
    throw new RangeError(`product of ${a.shape.join("×")} and ${b.shape.join("×")} matrices`);
  }
  if (!blas || tf.getBackend() !== "wasm" || a.dtype !== "float32" || b.dtype !== "float32") {
    return tf.matMul(a, b);
  }
  ensureWasmKernel(KERNEL, multiply);
  return tf.engine().runKernel(
    KERNEL,
    { a, b },
    { blas } as unknown as tf.NamedAttrMap,
  ) as tf.Tensor2D;
}
