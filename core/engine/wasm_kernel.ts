/**
 * Registering the project's own tfjs-wasm kernels: JavaScript that works on the wasm heap's views
 * of tensors (`BackendWasm.typedArrayFromHeap`) where a tfjs op would copy or run slowly.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

/** A kernel body: the op's inputs and attributes, and the wasm backend to allocate on. */
export type WasmKernelBody = (
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap,
  wasm: BackendWasm,
) => tf.TensorInfo;

/** Registers `body` as the wasm kernel `name`, once (tfjs's kernel registry is global). */
export function ensureWasmKernel(name: string, body: WasmKernelBody): void {
  if (tf.getKernel(name, "wasm")) return;
  tf.registerKernel({
    kernelName: name,
    backendName: "wasm",
    kernelFunc: ({ inputs, attrs, backend }) => body(inputs, attrs ?? {}, backend as BackendWasm),
  });
}
