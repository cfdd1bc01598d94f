/**
 * A block of consecutive columns of a 2-D float32 tensor, `x[:, begin : begin + size]`. On wasm by
 * a kernel of this module that copies each row's block within the wasm heap: tfjs-wasm 4.22's
 * Slice (and SplitV, which slices) first copies its whole input out to a new JavaScript buffer,
 * ≈3 ms per slice of a [64, 16 896] tensor, where the copy of a [64, 16 384] block here costs one
 * pass over it. Elsewhere tf.slice.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { ensureWasmKernel, type WasmKernelBody } from "./wasm_kernel.ts";

const KERNEL = "SamColumns";

/** Each row's block, copied within the heap. */
const copyColumns: WasmKernelBody = (inputs, attrs, wasm) => {
  const x = inputs.x as tf.TensorInfo;
  const { begin, size } = attrs as unknown as { begin: number; size: number };
  const [rows, cols] = x.shape;
  const out = wasm.makeOutput([rows, size], "float32");
  // Views taken after the allocation, which may grow (and so detach) the heap.
  const src = wasm.typedArrayFromHeap(x), dst = wasm.typedArrayFromHeap(out);
  for (let r = 0; r < rows; r++) {
    dst.set(src.subarray(r * cols + begin, r * cols + begin + size), r * size);
  }
  return out;
};

/** Columns `begin … begin + size − 1` of the float32 matrix `x` as a new [rows, size] tensor. */
export function columns(x: tf.Tensor2D, begin: number, size: number): tf.Tensor2D {
  const [rows, cols] = x.shape;
  if (begin < 0 || size < 0 || begin + size > cols) {
    throw new RangeError(`columns ${begin} + ${size} out of range for ${cols} columns`);
  }
  if (tf.getBackend() !== "wasm" || x.dtype !== "float32") {
    return tf.slice(x, [0, begin], [rows, size]);
  }
  ensureWasmKernel(KERNEL, copyColumns);
  return tf.engine().runKernel(KERNEL, { x }, { begin, size }) as tf.Tensor2D;
}
