import * as tf from "@tensorflow/tfjs";
import { assert, assertClose, assertEquals, assertThrows } from "../../testing/assert.ts";
import { Rng } from "../rng.ts";
import { resolveBlas } from "./blas.ts";
import { product } from "./sgemm_wasm.ts";
import { createTfEngine } from "./tfjs.ts";

const blas = resolveBlas("auto").blas;

/** a·b of row-major float32 values in float64 (the oracle). */
function exact(a: Float32Array, b: Float32Array, [m, k, n]: number[]): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let l = 0; l < k; l++) {
      for (let j = 0; j < n; j++) c[i * n + j] += a[i * k + l] * b[l * n + j];
    }
  }
  return c;
}

Deno.test({
  name: "product on wasm by sgemm: a·b of the heap's tensors, as a float64 triple loop; no leaks",
  ignore: !blas,
  async fn() {
    await createTfEngine("wasm");
    const rng = new Rng(11);
    for (const [m, k, n] of [[1, 1, 1], [3, 5, 7], [65, 33, 130]]) {
      const a = Float32Array.from(rng.fillNormal(new Float64Array(m * k)));
      const b = Float32Array.from(rng.fillNormal(new Float64Array(k * n)));
      const [ta, tb] = [tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n])];
      const before = tf.memory().numTensors;
      const got = product(ta, tb, blas);
      assertEquals(got.shape, [m, n]);
      // Sums of k float32 products: k·2⁻²⁴ relative to Σ|a||b| bounds the rounding (√k typical).
      const want = exact(a, b, [m, k, n]);
      const scale = exact(a.map(Math.abs), b.map(Math.abs), [m, k, n]);
      const values = await got.data();
      for (let i = 0; i < values.length; i++) {
        assert(
          Math.abs(values[i] - want[i]) <= (k + 1) * 2 ** -24 * scale[i],
          `${m}×${k}·${k}×${n} [${i}]: ${values[i]} vs ${want[i]}`,
        );
      }
      assertClose(values, await tf.matMul(ta, tb).data(), { rtol: 1e-5, atol: 1e-5 });
      got.dispose();
      assertEquals(tf.memory().numTensors, before + 1, "only tf.matMul's result is left");
      tf.dispose([ta, tb]);
    }
  },
});

Deno.test("product: off wasm tf.matMul; on wasm without a BLAS the relaxed-SIMD kernel for n ≥ 4, else tf.matMul; mismatched sizes are an error", async () => {
  await createTfEngine("cpu");
  const [a, b] = [tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6], [2, 1])];
  assertEquals(Array.from(await product(a, b, blas).data()), [17, 39]);
  await createTfEngine("wasm");
  const kernels = async (f: () => tf.Tensor) => (await tf.profile(() => f())).kernelNames;
  assertEquals(await kernels(() => product(a, b)), ["BatchMatMul"]);
  const wide = tf.tensor2d([5, 6, 7, 8, 9, 10, 11, 12, 13, 14], [2, 5]);
  assertEquals(await kernels(() => product(a, wide)), ["SamGemm"]);
  assertEquals(Array.from(await product(a, wide).data()), [25, 28, 31, 34, 37, 55, 62, 69, 76, 83]);
  assertEquals(Array.from(await product(a, b).data()), [17, 39]);
  assertThrows(() => product(b, b), /^RangeError: product of 2×1 and 2×1 matrices$/);
  tf.dispose([a, b, wide]);
});
