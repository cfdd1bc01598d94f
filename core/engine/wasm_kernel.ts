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

/**
 * A module of the project's that imports tfjs-wasm's memory as `env.memory`, from its bytes
 * (base64): a function giving its exports over a backend's heap, instantiated once per heap
 * (tfjs-backend-wasm 4.22 exports its memory as `asm.memory`), so that its functions read and
 * write tensors in place.
 */
export function heapModule<T>(base64: string): (wasm: BackendWasm) => T {
  let compiled: WebAssembly.Module | undefined;
  const instances = new WeakMap<WebAssembly.Memory, T>();
  return (wasm) => {
    const memory = (wasm.wasm as unknown as { asm?: { memory?: unknown } }).asm?.memory;
    if (!(memory instanceof WebAssembly.Memory)) {
      throw new Error(
        "tfjs-backend-wasm exports no WebAssembly.Memory (asm.memory): not version 4.22?",
      );
    }
    let inst = instances.get(memory);
    if (!inst) {
      compiled ??= new WebAssembly.Module(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
      inst = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as T;
      instances.set(memory, inst);
    }
    return inst;
  };
}

/** The heap address (bytes) of a tensor's values on tfjs-wasm. */
export function heapAddress(wasm: BackendWasm, t: tf.TensorInfo): number {
  return wasm.typedArrayFromHeap(t).byteOffset;
}
