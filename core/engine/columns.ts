/**
 * A block of consecutive columns of a 2-D float32 tensor, `x[:, begin : begin + size]`. On wasm by
 * a kernel of this module that copies each row's block within the wasm heap: tfjs-wasm 4.22's
 * Slice (and SplitV, which slices) first copies its whole input out to a new JavaScript buffer,
 * ≈3 ms per slice of a [64, 16 896] tensor, where the copy of a [64, 16 384] block here costs one
 * pass over it. Elsewhere tf.slice. `segments` splits a vector into consecutive matrices the same
 * way, in one kernel.
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

const SEGMENTS = "SamSegments";

/** Consecutive segments of a vector, each copied within the heap into its own matrix. */
const copySegments: WasmKernelBody = (inputs, attrs, wasm) => {
  const x = inputs.x as tf.TensorInfo;
  const { shapes } = attrs as unknown as { shapes: [number, number][] };
  const outs = shapes.map((shape) => wasm.makeOutput(shape, "float32"));
  // Views taken after the allocations, which may grow (and so detach) the heap.
  const src = wasm.typedArrayFromHeap(x);
  let begin = 0;
  for (const out of outs) {
    const dst = wasm.typedArrayFromHeap(out);
    dst.set(src.subarray(begin, begin + dst.length));
    begin += dst.length;
  }
  return outs as unknown as tf.TensorInfo;
};

/**
 * x's first r₁·c₁ values as an r₁×c₁ matrix (row-major), the next r₂·c₂ as an r₂×c₂ one, and so on,
 * for the float32 vector x and `shapes` [[r₁, c₁], …]: on wasm one kernel and one pass, elsewhere
 * tf.slice and tf.reshape.
 */
export function segments(x: tf.Tensor1D, shapes: ReadonlyArray<[number, number]>): tf.Tensor2D[] {
  const total = shapes.reduce((sum, [r, c]) => sum + r * c, 0);
  if (shapes.some(([r, c]) => !(Number.isInteger(r) && Number.isInteger(c) && r >= 0 && c >= 0))) {
    throw new RangeError(`segments: shapes ${JSON.stringify(shapes)} are not pairs of counts`);
  }
  if (total > x.size) {
    throw new RangeError(`segments of ${total} values out of range for ${x.size}`);
  }
  if (tf.getBackend() !== "wasm" || x.dtype !== "float32") {
    let begin = 0;
    return shapes.map((shape) => {
      const part = tf.tidy(() => tf.reshape(tf.slice(x, begin, shape[0] * shape[1]), shape));
      begin += shape[0] * shape[1];
      return part as tf.Tensor2D;
    });
  }
  ensureWasmKernel(SEGMENTS, copySegments);
  return tf.engine().runKernel(SEGMENTS, { x }, {
    shapes: shapes.map((s) => [...s]),
  } as unknown as tf.NamedAttrMap) as unknown as tf.Tensor2D[];
}
