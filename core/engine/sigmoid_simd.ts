/**
 * The logistic function and its slope in one pass, u = 1/(1 + e^−m) and q = u(1 − u), as a
 * WebAssembly SIMD kernel on tfjs-wasm's heap: the fused MLP SAM step's BLAS path
 * (core/problems/tf_mlp_sam.ts) needs both on the h×n hidden layer, and tfjs-wasm's Sigmoid
 * (about 1.9 ns per value on this project's machines), Square and Sub take three passes.
 *
 * e^−m as 2^k·p(r) (k = round(−m·log₂e) by the 1.5·2²³ rounding trick, r = −m − k·ln2 in two parts,
 * p Cephes' degree-6 polynomial of expf), with −m clamped to [−87.3, 88.3] so that 2^k is a
 * normal float32; then u = 1/(1 + e) and q = (e·u)·u, which has no cancellation where u is near 1
 * (u − u² has). NaN stays NaN. Error bound from the operations: e carries at most about 2.5·2⁻²⁴
 * relative error (reduction, polynomial, the product with 2^k), so u at most 5·2⁻²⁴ and q at most
 * 14·2⁻²⁴ (2.0 and 5.3·2⁻²⁴ measured over 2¹⁸ values); beyond the clamp (|m| > 87.3) u and q are
 * within e^−87.3 ≈ 1.2·10⁻³⁸ of their values.
 *
 * The kernel's source is `SIGMOID_SLOPE_WAT`; the module ships as its binary
 * (`SIGMOID_SLOPE_WASM`), so that loading needs no compiler; sigmoid_simd_test.ts compiles the
 * source with wabt and checks that it gives these bytes.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { ensureWasmKernel, type WasmKernelBody } from "./wasm_kernel.ts";

/** The kernel in WebAssembly text: sigmoidSlope(m, u, q, n) over n/4 groups of four values. */
export const SIGMOID_SLOPE_WAT = `(module
  (import "env" "memory" (memory 0))
  (func (export "sigmoidSlope") (param $m i32) (param $u i32) (param $q i32) (param $n i32)
    (local $end i32) (local $x v128) (local $j v128) (local $k v128) (local $r v128)
    (local $p v128) (local $e v128) (local $s v128)
    (local $lo v128) (local $hi v128) (local $log2e v128) (local $magic v128) (local $ln2hi v128)
    (local $ln2lo v128) (local $p5 v128) (local $p4 v128) (local $p3 v128) (local $p2 v128)
    (local $p1 v128) (local $p0 v128) (local $one v128) (local $bias v128)
    (local.set $lo (f32x4.splat (f32.const -87.3)))
    (local.set $hi (f32x4.splat (f32.const 88.3)))
    (local.set $log2e (f32x4.splat (f32.const 1.44269504088896341)))
    (local.set $magic (f32x4.splat (f32.const 12582912)))
    (local.set $ln2hi (f32x4.splat (f32.const 0.693359375)))
    (local.set $ln2lo (f32x4.splat (f32.const -2.12194440e-4)))
    (local.set $p5 (f32x4.splat (f32.const 1.9875691500e-4)))
    (local.set $p4 (f32x4.splat (f32.const 1.3981999507e-3)))
    (local.set $p3 (f32x4.splat (f32.const 8.3334519073e-3)))
    (local.set $p2 (f32x4.splat (f32.const 4.1665795894e-2)))
    (local.set $p1 (f32x4.splat (f32.const 1.6666665459e-1)))
    (local.set $p0 (f32x4.splat (f32.const 5.0000001201e-1)))
    (local.set $one (f32x4.splat (f32.const 1)))
    ;; bits of 1.5·2²³ minus the exponent bias: (bits(j) − bias) << 23 is 2^k as a float32
    (local.set $bias (i32x4.splat (i32.const 0x4B3FFF81)))
    (local.set $end (i32.add (local.get $m) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $m) (local.get $end)))
        (local.set $x (f32x4.pmin (f32x4.pmax (f32x4.neg (v128.load (local.get $m)))
          (local.get $lo)) (local.get $hi)))
        (local.set $j (f32x4.add (f32x4.mul (local.get $x) (local.get $log2e)) (local.get $magic)))
        (local.set $k (f32x4.sub (local.get $j) (local.get $magic)))
        (local.set $r (f32x4.sub (f32x4.sub (local.get $x)
          (f32x4.mul (local.get $k) (local.get $ln2hi))) (f32x4.mul (local.get $k) (local.get $ln2lo))))
        (local.set $p (f32x4.add (f32x4.mul (local.get $r) (local.get $p5)) (local.get $p4)))
        (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (local.get $p3)))
        (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (local.get $p2)))
        (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (local.get $p1)))
        (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (local.get $p0)))
        (local.set $p (f32x4.add (f32x4.add
          (f32x4.mul (local.get $p) (f32x4.mul (local.get $r) (local.get $r))) (local.get $r))
          (local.get $one)))
        (local.set $e (f32x4.mul (local.get $p)
          (i32x4.shl (i32x4.sub (local.get $j) (local.get $bias)) (i32.const 23))))
        (local.set $s (f32x4.div (local.get $one) (f32x4.add (local.get $e) (local.get $one))))
        (v128.store (local.get $u) (local.get $s))
        (v128.store (local.get $q) (f32x4.mul (f32x4.mul (local.get $e) (local.get $s)) (local.get $s)))
        (local.set $m (i32.add (local.get $m) (i32.const 16)))
        (local.set $u (i32.add (local.get $u) (i32.const 16)))
        (local.set $q (i32.add (local.get $q) (i32.const 16)))
        (br $next)))))
`;

/** `SIGMOID_SLOPE_WAT` compiled by wabt (parseWat with SIMD, toBinary), base64. */
export const SIGMOID_SLOPE_WASM =
  "AGFzbQEAAAABCAFgBH9/f38AAg8BA2VudgZtZW1vcnkCAAADAgEABxABDHNpZ21vaWRTbG9wZQAACpMDAZADAgF/FXtDmpmuwv0TIQxDmpmwQv0TIQ1DO6q4P/0TIQ5DAABAS/0TIQ9DAIAxP/0TIRBDg4Beuf0TIRFDZ2lQOf0TIRJDzkO3Ov0TIRNDCIkIPP0TIRRDwakqPf0TIRVDqqoqPv0TIRZDAAAAP/0TIRdDAACAP/0TIRhBgf//2QT9ESEZIAAgA0ECdGohBAJAA0AgACAETw0BIAD9AAQA/eEBIAz96wEgDf3qASEFIAUgDv3mASAP/eQBIQYgBiAP/eUBIQcgBSAHIBD95gH95QEgByAR/eYB/eUBIQggCCAS/eYBIBP95AEhCSAJIAj95gEgFP3kASEJIAkgCP3mASAV/eQBIQkgCSAI/eYBIBb95AEhCSAJIAj95gEgF/3kASEJIAkgCCAI/eYB/eYBIAj95AEgGP3kASEJIAkgBiAZ/bEBQRf9qwH95gEhCiAYIAogGP3kAf3nASELIAEgC/0LBAAgAiAKIAv95gEgC/3mAf0LBAAgAEEQaiEAIAFBEGohASACQRBqIQIMAAsLCw==";

type SigmoidSlope = (m: number, u: number, q: number, n: number) => void;

const instances = new WeakMap<WebAssembly.Memory, SigmoidSlope>();

/** The kernel instantiated on `memory` (once per memory). */
export function sigmoidSlopeOn(memory: WebAssembly.Memory): SigmoidSlope {
  let f = instances.get(memory);
  if (!f) {
    const bytes = Uint8Array.from(atob(SIGMOID_SLOPE_WASM), (c) => c.charCodeAt(0));
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    f = inst.exports.sigmoidSlope as SigmoidSlope;
    instances.set(memory, f);
  }
  return f;
}

const KERNEL = "SamSigmoidSlope";

/** [u, q] of the input m; the last n mod 4 values in float64, rounded to float32. */
const sigmoidSlopeKernel: WasmKernelBody = (inputs, _attrs, wasm) => {
  const m = inputs.m as tf.TensorInfo;
  const u = wasm.makeOutput(m.shape, "float32"), q = wasm.makeOutput(m.shape, "float32");
  // Views taken after the allocations, which may grow (and so detach) the heap.
  const view = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t) as Float32Array;
  const [vm, vu, vq] = [view(m), view(u), view(q)];
  const n = vm.length, body = n - (n % 4);
  const memory = (wasm.wasm as unknown as { asm?: { memory?: unknown } }).asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) {
    throw new Error("sigmoidSlope: this tfjs-wasm build does not export its heap's memory");
  }
  sigmoidSlopeOn(memory)(vm.byteOffset, vu.byteOffset, vq.byteOffset, body);
  for (let i = body; i < n; i++) {
    const e = Math.exp(-vm[i]), s = 1 / (1 + e);
    vu[i] = s;
    vq[i] = e * s * s;
  }
  return [u, q];
};

/**
 * u = sigmoid(m) and q = u(1 − u) of a float32 tensor on tfjs-wasm, in one pass (see the module
 * doc). Not differentiable (for hand-written gradients).
 */
export function sigmoidSlope<T extends tf.Tensor>(m: T): [T, T] {
  if (tf.getBackend() !== "wasm" || m.dtype !== "float32") {
    throw new Error(
      `sigmoidSlope runs on tfjs-wasm float32 tensors (got ${tf.getBackend()}, ${m.dtype})`,
    );
  }
  ensureWasmKernel(KERNEL, sigmoidSlopeKernel);
  return tf.engine().runKernel(KERNEL, { m }, {}) as unknown as [T, T];
}
