import * as tf from "@tensorflow/tfjs";
import { compiledBase64 } from "../../testing/wat.ts";
import { assert, assertEquals, assertThrows } from "../../testing/assert.ts";
import { Rng } from "../rng.ts";
import { initTfBackend } from "./backend.ts";
import { gemm, GEMM_WASM, GEMM_WAT, gemmKernel, gemmMadd } from "./gemm_wasm.ts";

await initTfBackend("wasm");

Deno.test("gemm_wasm: the shipped module is its WebAssembly text compiled by wabt", async () => {
  assertEquals(await compiledBase64("gemm.wat", GEMM_WAT), GEMM_WASM);
});

/** a·b and |a|·|b| of row-major float32 values in float64 (the oracle and its rounding scale). */
function exact(
  a: Float32Array,
  b: Float32Array,
  [m, k, n]: number[],
): [Float64Array, Float64Array] {
  const c = new Float64Array(m * n), s = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let l = 0; l < k; l++) {
      const x = a[i * k + l];
      for (let j = 0; j < n; j++) {
        c[i * n + j] += x * b[l * n + j];
        s[i * n + j] += Math.abs(x * b[l * n + j]);
      }
    }
  }
  return [c, s];
}

Deno.test("gemm_wasm: a·b within float32's rounding bound of float64, every block and tail shape", async () => {
  assert(gemmKernel(), "Deno's V8 validates relaxed SIMD");
  const rng = new Rng(5);
  // Rows: blocks of 6 and the rest (m mod 6 = 0…5); columns: blocks of 8, of 4, scalar tails;
  // depths k mod 4 = 0…3 (the unrolled loop's remainders).
  const shapes = [
    [1, 1, 1],
    [6, 1, 8],
    [7, 3, 9],
    [11, 5, 13],
    [12, 64, 16],
    [13, 17, 7],
    [5, 2, 3],
    [
      17,
      33,
      31,
    ],
    [256, 64, 36],
    [64, 300, 12],
    [8, 4, 10],
    [9, 6, 6],
    // B copied with padded rows first (strideOfB): 2 KB and 4 KB rows.
    [7, 5, 512],
    [13, 9, 1024],
  ];
  for (const [m, k, n] of shapes) {
    const a = Float32Array.from(rng.fillNormal(new Float64Array(m * k)));
    const b = Float32Array.from(rng.fillNormal(new Float64Array(k * n)));
    const [ta, tb] = [tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n])];
    const before = tf.memory().numTensors;
    const got = gemm(ta, tb);
    assertEquals(got.shape, [m, n]);
    assertEquals(tf.memory().numTensors, before + 1);
    const values = await got.data();
    const [want, scale] = exact(a, b, [m, k, n]);
    // k products and k − 1 sums, each within a float32 rounding (fused or not): (k + 1)·2⁻²⁴ of Σ|ab|.
    for (let i = 0; i < values.length; i++) {
      assert(
        Math.abs(values[i] - want[i]) <= (k + 1) * 2 ** -24 * scale[i],
        `${m}×${k}·${k}×${n} [${i}]: ${values[i]} vs ${want[i]}`,
      );
    }
    tf.dispose([ta, tb, got]);
  }
});

Deno.test("gemm_wasm: exact on small integers; k = 0 and empty shapes; NaN propagates", async () => {
  const a = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14], [7, 2]);
  const b = tf.tensor2d(Array.from({ length: 18 }, (_, i) => i - 9), [2, 9]);
  assertEquals(Array.from(await gemm(a, b).data()), Array.from(await tf.matMul(a, b).data()));
  assertEquals(
    Array.from(await gemm(tf.zeros([3, 0]), tf.zeros([0, 5])).data()),
    new Array(15).fill(0),
  );
  assertEquals(gemm(tf.zeros([0, 4]), tf.zeros([4, 5])).shape, [0, 5]);
  assertEquals(gemm(tf.zeros([2, 4]), tf.zeros([4, 0])).shape, [2, 0]);
  const nan = await gemm(tf.tensor2d([NaN, 1], [1, 2]), tf.ones([2, 9])).data();
  assert(nan.every(Number.isNaN));
});

Deno.test("gemm_wasm: mismatched or non-float32 operands are a RangeError; off wasm an Error", async () => {
  assertThrows(
    () => gemm(tf.zeros([2, 3]), tf.zeros([2, 3])),
    /^RangeError: gemm of float32 2×3 and float32 2×3 matrices$/,
  );
  assertThrows(
    () => gemm(tf.zeros([2, 3], "int32") as tf.Tensor2D, tf.zeros([3, 3])),
    /^RangeError: gemm of int32/,
  );
  await tf.setBackend("cpu");
  try {
    assert(!gemmKernel());
    assertThrows(() => gemm(tf.zeros([2, 3]), tf.zeros([3, 3])), /needs tfjs-wasm/);
  } finally {
    await tf.setBackend("wasm");
  }
});

Deno.test("gemm_wasm: gemmMadd says whether the kernel's sums round once, as its products show", async () => {
  const madd = gemmMadd();
  assert(madd === "fused" || madd === "unfused", madd);
  // c + a·a with a = 1 + 2⁻¹², c = −(1 + 2⁻¹¹): 2⁻²⁴ rounded once, 0 rounded twice.
  const x = 1 + 2 ** -12;
  const a = tf.tensor2d([1, x], [1, 2]);
  const b = tf.tensor2d([-(1 + 2 ** -11), 0, 0, 0, x, 0, 0, 0], [2, 4]);
  const [got] = await gemm(a, b).data();
  assertEquals(got, madd === "fused" ? 2 ** -24 : 0);
  tf.dispose([a, b]);
});
