/**
 * float64 tanh in place, two lanes at a time, as a WebAssembly SIMD kernel: the f64 engine's dense
 * MLP path (core/problems/mlp.ts with a BLAS) spent about half its SAM step in the activation pass,
 * where the scalar tanh of tanh.ts costs about 12 ns per value (V8's Math.exp alone costs 26 ns
 * here, so a table-free scalar form is slower still).
 *
 * For y = min(|x|, 20) (tanh 20 rounds to 1): tanh y = E/(E + 2) with E = expm1(2y), and for
 * 2y = k·ln2 + r, |r| ≤ ln2/2 (k by the 1.5·2⁵² rounding trick, r with ln2 in two parts),
 * E = 2^k·expm1(r) + (2^k − 1), expm1(r) by its Taylor series to r¹⁴ (remainder below 2⁻⁵⁶
 * relative), summed in Estrin's scheme (Horner's 13 dependent steps made it 1.3× slower). For
 * k ≥ 1 the sum loses at most two bits (2·expm1(r) ≥ −0.59 against 2^k − 1 ≥ 1), so the result is
 * within 12·2⁻⁵² of tanh relative (error bound of the operations; tested against Math.tanh; 2.4·2⁻⁵²
 * measured over 2¹⁸ values). The sign is x's, so −0 stays −0 and NaN stays NaN. About 5.8 ns per
 * value against tanh.ts's 12 on this project's AMD machine.
 *
 * Its source is `TANH_WAT`; the module ships as the binary `TANH_WASM`, so that loading needs no
 * compiler, and tanh_simd_test.ts compiles the source with wabt and checks it gives these bytes.
 * The kernel reads and writes a WebAssembly memory: `wasmFloat64Array` allocates arrays in one of
 * their own, on which `tanhInPlace` runs the kernel (on any other array, the scalar tanh).
 * @module
 */
import { tanh } from "./tanh.ts";

/** a_i = 1/(i + 2)!, i = 0…12: the Taylor coefficients of (expm1(r) − r)/r² (14! is exact). */
const TAYLOR = Array.from({ length: 13 }, (_, i) => {
  let f = 1;
  for (let n = 2; n <= i + 2; n++) f *= n;
  return 1 / f;
});

/** The kernel in WebAssembly text: tanh(ptr, n) replaces n float64 values (n even) at ptr. */
export const TANH_WAT = `(module
  (import "env" "memory" (memory 0))
  (func (export "tanh") (param $p i32) (param $n i32)
    (local $end i32) (local $x v128) (local $v v128) (local $j v128) (local $k v128) (local $r v128)
    (local $r2 v128) (local $r4 v128) (local $e v128) (local $pow v128)
    (local $twenty v128) (local $two v128) (local $one v128) (local $log2e v128) (local $magic v128)
    (local $ln2hi v128) (local $ln2lo v128) (local $bias v128) (local $sign v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $a4 v128) (local $a5 v128) (local $a6 v128)
    (local $a7 v128) (local $a8 v128) (local $a9 v128) (local $a10 v128) (local $a11 v128) (local $a12 v128)
    (local.set $twenty (f64x2.splat (f64.const 20)))
    (local.set $two (f64x2.splat (f64.const 2)))
    (local.set $one (f64x2.splat (f64.const 1)))
    (local.set $log2e (f64x2.splat (f64.const 1.4426950408889634)))
    (local.set $magic (f64x2.splat (f64.const 6755399441055744)))
    (local.set $ln2hi (f64x2.splat (f64.const 6.93147180369123816490e-01)))
    (local.set $ln2lo (f64x2.splat (f64.const 1.90821492927058770002e-10)))
    ;; bits of 1.5·2⁵² minus the exponent bias: (bits(j) − bias) << 52 is 2^k as a float64
    (local.set $bias (i64x2.splat (i64.const 0x4337FFFFFFFFFC01)))
    (local.set $sign (v128.const i64x2 0x8000000000000000 0x8000000000000000))
    ;; a_i = 1/(i + 2)!, the Taylor coefficients of (expm1(r) − r)/r²
${TAYLOR.map((c, i) => `    (local.set $a${i} (f64x2.splat (f64.const ${c})))`).join("\n")}
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $x (v128.load (local.get $p)))
        ;; v = 2·min(|x|, 20) = k·ln2 + r, k by adding and removing 1.5·2⁵²
        (local.set $v (f64x2.mul (f64x2.pmin (f64x2.abs (local.get $x)) (local.get $twenty)) (local.get $two)))
        (local.set $j (f64x2.add (f64x2.mul (local.get $v) (local.get $log2e)) (local.get $magic)))
        (local.set $k (f64x2.sub (local.get $j) (local.get $magic)))
        (local.set $r (f64x2.sub (f64x2.sub (local.get $v) (f64x2.mul (local.get $k) (local.get $ln2hi)))
          (f64x2.mul (local.get $k) (local.get $ln2lo))))
        ;; expm1(r) = r + r²·Σ a_i rⁱ, the sum in Estrin's scheme (a shorter dependency chain)
        (local.set $r2 (f64x2.mul (local.get $r) (local.get $r)))
        (local.set $r4 (f64x2.mul (local.get $r2) (local.get $r2)))
        (local.set $e (f64x2.add (f64x2.add (f64x2.add (f64x2.add (local.get $a0) (f64x2.mul (local.get $a1) (local.get $r))) (f64x2.mul (f64x2.add (local.get $a2) (f64x2.mul (local.get $a3) (local.get $r))) (local.get $r2))) (f64x2.mul (f64x2.add (f64x2.add (local.get $a4) (f64x2.mul (local.get $a5) (local.get $r))) (f64x2.mul (f64x2.add (local.get $a6) (f64x2.mul (local.get $a7) (local.get $r))) (local.get $r2))) (local.get $r4)))
          (f64x2.mul (f64x2.add (f64x2.add (f64x2.add (local.get $a8) (f64x2.mul (local.get $a9) (local.get $r))) (f64x2.mul (f64x2.add (local.get $a10) (f64x2.mul (local.get $a11) (local.get $r))) (local.get $r2))) (f64x2.mul (local.get $a12) (local.get $r4))) (f64x2.mul (local.get $r4) (local.get $r4)))))
        (local.set $e (f64x2.add (f64x2.mul (local.get $r2) (local.get $e)) (local.get $r)))
        ;; E = 2^k·expm1(r) + (2^k − 1); tanh = E/(E + 2) with the sign of x
        (local.set $pow (i64x2.shl (i64x2.sub (local.get $j) (local.get $bias)) (i32.const 52)))
        (local.set $e (f64x2.add (f64x2.mul (local.get $pow) (local.get $e)) (f64x2.sub (local.get $pow) (local.get $one))))
        (v128.store (local.get $p) (v128.or (f64x2.div (local.get $e) (f64x2.add (local.get $e) (local.get $two)))
          (v128.and (local.get $x) (local.get $sign))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $next)))))
`;

/** `TANH_WAT` compiled by wabt (parseWat with SIMD, toBinary), base64. */
export const TANH_WASM =
  "AGFzbQEAAAABBgFgAn9/AAIPAQNlbnYGbWVtb3J5AgAAAwIBAAcIAQR0YW5oAAAK9AQB8QQCAX8fe0QAAAAAAAA0QP0UIQxEAAAAAAAAAED9FCENRAAAAAAAAPA//RQhDkT+gitlRxX3P/0UIQ9EAAAAAAAAOEP9FCEQRAAA4P5CLuY//RQhEUR2PHk17znqPf0UIRJCgfj//////5vDAP0SIRP9DAAAAAAAAACAAAAAAAAAAIAhFEQAAAAAAADgP/0UIRVEVVVVVVVVxT/9FCEWRFVVVVVVVaU//RQhF0QRERERERGBP/0UIRhEF2zBFmzBVj/9FCEZRBqgARqgASo//RQhGkQaoAEaoAH6Pv0UIRtENMdWpeMdxz79FCEcRFyfeLdPfpI+/RQhHUTkRPVnReZaPv0UIR5EmNj479juIT79FCEfRAltqBNGEuY9/RQhIESdfMCodDmpPf0UISEgACABQQN0aiECAkADQCAAIAJPDQEgAP0ABAAhAyAD/ewBIAz99gEgDf3yASEEIAQgD/3yASAQ/fABIQUgBSAQ/fEBIQYgBCAGIBH98gH98QEgBiAS/fIB/fEBIQcgByAH/fIBIQggCCAI/fIBIQkgFSAWIAf98gH98AEgFyAYIAf98gH98AEgCP3yAf3wASAZIBogB/3yAf3wASAbIBwgB/3yAf3wASAI/fIB/fABIAn98gH98AEgHSAeIAf98gH98AEgHyAgIAf98gH98AEgCP3yAf3wASAhIAn98gH98AEgCSAJ/fIB/fIB/fABIQogCCAK/fIBIAf98AEhCiAFIBP90QFBNP3LASELIAsgCv3yASALIA798QH98AEhCiAAIAogCiAN/fAB/fMBIAMgFP1O/VD9CwQAIABBEGohAAwACwsL";

type Kernel = (p: number, n: number) => void;

/** The compiled module, once per process (each memory gets its own instance of it). */
let compiled: WebAssembly.Module | undefined;

/** The kernel of each memory `wasmFloat64Array` made, by the memory's buffer. */
const kernels = new WeakMap<ArrayBufferLike, Kernel>();

/**
 * A zeroed Float64Array of `length` values in a WebAssembly memory of its own, so that
 * `tanhInPlace` runs the SIMD kernel on it (and on its subarrays). The memory never grows, so the
 * array never detaches; it can be handed to native code like any other.
 */
export function wasmFloat64Array(length: number): Float64Array {
  const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil((length * 8) / 65536)) });
  compiled ??= new WebAssembly.Module(Uint8Array.from(atob(TANH_WASM), (c) => c.charCodeAt(0)));
  const inst = new WebAssembly.Instance(compiled, { env: { memory } });
  kernels.set(memory.buffer, inst.exports.tanh as Kernel);
  return new Float64Array(memory.buffer, 0, length);
}

/** a[i] ← tanh(a[i]): by the SIMD kernel on an array of `wasmFloat64Array`, else by tanh.ts. */
export function tanhInPlace(a: Float64Array): void {
  const kernel = kernels.get(a.buffer);
  const even = kernel ? a.length - (a.length % 2) : 0;
  if (kernel && even > 0) kernel(a.byteOffset, even);
  for (let i = even; i < a.length; i++) a[i] = tanh(a[i]);
}
