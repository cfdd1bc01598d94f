import * as tf from "@tensorflow/tfjs";
import { compiledBase64 } from "../../testing/wat.ts";
import { assert, assertEquals, assertThrows } from "../../testing/assert.ts";
import { Rng } from "../rng.ts";
import { initTfBackend } from "./backend.ts";
import {
  layerBackward,
  layerForward,
  TANH_LAYER_WASM,
  TANH_LAYER_WAT,
  tanhLayerKernels,
} from "./tanh_layer_wasm.ts";

await initTfBackend("wasm");

Deno.test("tanh_layer_wasm: the shipped module is its WebAssembly text compiled by wabt", async () => {
  assertEquals(await compiledBase64("tanh_layer.wat", TANH_LAYER_WAT), TANH_LAYER_WASM);
});

/** A few float32 subnormal spacings (2⁻¹⁴⁹), where products of tiny sigmoids round absolutely. */
const TINY = 4 * 2 ** -149;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Pre-activations over the sigmoid's regimes: tiny, near the exp's k boundaries, large, moderate. */
function values(count: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => {
    const sign = rng.uniform() < 0.5 ? -1 : 1;
    switch (i % 4) {
      case 0:
        return sign * 10 ** (-8 * rng.uniform());
      case 1:
        return sign * (Math.floor(rng.uniform() * 120) + 0.5) * Math.LN2;
      case 2:
        return sign * 100 * rng.uniform();
      default:
        return sign * 6 * rng.uniform();
    }
  });
}

/** The heap's float32 values of a tensor, as float64. */
async function host(t: tf.Tensor): Promise<Float64Array> {
  return Float64Array.from(await t.data() as Float32Array);
}

// Widths with and without a tail of n mod 4 values, and one sample.
for (const [h, n] of [[7, 64], [5, 13], [3, 1], [16, 1026]]) {
  Deno.test(`layerForward/layerBackward ${h}×${n} against float64 on the same float32 inputs`, async () => {
    const rng = new Rng(h * 1000 + n);
    // Pre-activations whose doubles 2(pre + b) meet the sigmoid's regimes (b = 0 on even rows).
    const mHost = values(h * n, rng).map((v) => v / 2);
    const aHost = Float32Array.from({ length: h }, () => rng.normal());
    const eHost = Float32Array.from({ length: n }, () => rng.normal());
    const bHost = Float32Array.from({ length: h }, (_, j) => j % 2 ? rng.normal() : 0);
    const yHost = Float32Array.from({ length: n }, () => rng.normal());
    const scale = Math.fround(2 / n);
    const m = tf.tensor2d(mHost, [h, n]), a = tf.tensor2d(aHost, [h, 1]);
    const b = tf.tensor2d(bHost, [h, 1]), y = tf.tensor2d(yHost, [1, n]);
    const e = tf.tensor2d(eHost, [1, n]);
    const before = tf.memory().numTensors;
    const [u, r] = layerForward(m, { b, a, y, scale });
    const [w, g, rows] = layerBackward(u, e, a);
    const [uv, rv, wv, gv, sv] = await Promise.all([u, r, w, g, rows].map(host));
    tf.dispose([u, r, w, g, rows]);
    assertEquals(tf.memory().numTensors, before, "the outputs are the only new tensors");
    tf.dispose([m, b, a, y, e]);
    // Each value against the float64 sigmoid of the same input: a few float32 roundings (2⁻²⁴
    // each) relative, and below float32's spacing at 1 where the sigmoid rounds to 1.
    for (let i = 0; i < h * n; i++) {
      const x = 2 * Math.fround(mHost[i] + bHost[Math.floor(i / n)]);
      const want = sigmoid(x);
      const err = Math.abs(uv[i] - want) / Math.max(want * 2 ** -24, 1e-38);
      assert(
        err <= 8 || Math.abs(uv[i] - want) <= 2 ** -24,
        `sigmoid(${x}) = ${uv[i]}, want ${want}`,
      );
    }
    // The sums and products from the kernel's own u, in float64: the kernels' float32 sums over
    // at most h or n terms of these sizes stay within h·2⁻²⁴ (n·2⁻²⁴) of the sum of |terms|.
    for (let k = 0; k < n; k++) {
      let want = 0, abs = 0;
      for (let j = 0; j < h; j++) {
        want += aHost[j] * (2 * uv[j * n + k] - 1);
        abs += Math.abs(aHost[j] * (2 * uv[j * n + k] - 1));
      }
      const rWant = scale * want - yHost[k];
      const tol = scale * (h + 2) * 2 ** -24 * abs + 2 ** -24 * Math.abs(rWant) + TINY;
      assert(Math.abs(rv[k] - rWant) <= tol, `e[${k}] = ${rv[k]}, want ${rWant}`);
    }
    for (let j = 0; j < h; j++) {
      let want = 0, abs = 0, sWant = 0, sAbs = 0;
      for (let k = 0; k < n; k++) {
        const u = uv[j * n + k];
        want += (2 * u - 1) * eHost[k];
        abs += Math.abs((2 * u - 1) * eHost[k]);
        const wWant = 4 * aHost[j] * u * (1 - u) * eHost[k];
        const wAbs = Math.abs(4 * aHost[j] * u * eHost[k]);
        const i = j * n + k;
        assert(
          Math.abs(wv[i] - wWant) <= 4 * 2 ** -24 * wAbs + TINY,
          `w[${i}] = ${wv[i]}, want ${wWant}`,
        );
        sWant += wv[i];
        sAbs += Math.abs(wv[i]);
      }
      assert(
        Math.abs(sv[j] - sWant) <= (n + 1) * 2 ** -24 * sAbs + TINY,
        `s[${j}] = ${sv[j]}, want ${sWant}`,
      );
      assert(
        Math.abs(gv[j] - want) <= (n + 1) * 2 ** -24 * abs + TINY,
        `g[${j}] = ${gv[j]}, want ${want}`,
      );
    }
  });
}

Deno.test("layerForward: NaN stays NaN, +∞ and 200 give 1, −∞ and −200 below 1e-37", async () => {
  const xs = [Number.NaN, Infinity, -Infinity, 200, -200, 0];
  const m = tf.tensor2d(xs, [1, xs.length]), a = tf.tensor2d([1], [1, 1]);
  const b = tf.tensor2d([0], [1, 1]), y = tf.zeros([1, xs.length]) as tf.Tensor2D;
  const half = tf.div(m, 2) as tf.Tensor2D;
  const [u, e] = layerForward(half, { b, a, y, scale: 1 });
  const uv = await u.data();
  tf.dispose([m, half, b, y, a, u, e]);
  assert(Number.isNaN(uv[0]), `sigmoid(NaN) = ${uv[0]}`);
  assertEquals([uv[1], uv[3], uv[5]], [1, 1, 0.5]);
  for (const i of [2, 4]) assert(uv[i] >= 0 && uv[i] < 1e-37, `sigmoid(${xs[i]}) = ${uv[i]}`);
});

Deno.test("layerForward/layerBackward: shapes and dtypes are checked, and only on wasm", () => {
  assert(tanhLayerKernels(), "wasm is the backend here");
  const m = tf.zeros([3, 4]) as tf.Tensor2D, a = tf.zeros([2, 1]) as tf.Tensor2D;
  const c = tf.zeros([3, 1]) as tf.Tensor2D, e = tf.zeros([1, 4], "int32") as tf.Tensor2D;
  const y = tf.zeros([1, 4]) as tf.Tensor2D;
  assertThrows(
    () => layerForward(m, { b: c, a, y, scale: 1 }),
    /a: a float32 3×1 tensor, not float32 2×1/,
  );
  assertThrows(() => layerBackward(m, e, c), /e: a float32 1×4 tensor, not int32 1×4/);
  tf.dispose([m, c, a, e, y]);
});
