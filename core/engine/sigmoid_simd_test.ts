import * as tf from "@tensorflow/tfjs";
import wabtInit from "wabt";
import { assert, assertEquals, assertThrows } from "../../testing/assert.ts";
import { Rng } from "../rng.ts";
import { SIGMOID_SLOPE_WASM, SIGMOID_SLOPE_WAT, sigmoidSlope } from "./sigmoid_simd.ts";
import { createTfEngine } from "./tfjs.ts";

Deno.test("sigmoid_simd: the shipped module is its WebAssembly text compiled by wabt", async () => {
  const wabt = await wabtInit();
  const module = wabt.parseWat("sigmoid_slope.wat", SIGMOID_SLOPE_WAT, { simd: true });
  const { buffer } = module.toBinary({});
  module.destroy();
  let text = "";
  for (const b of buffer) text += String.fromCharCode(b);
  assertEquals(btoa(text), SIGMOID_SLOPE_WASM);
});

/** e^−87.3, the kernel's smallest e^−m: its error bound beyond the clamp. */
const CLAMP = Math.exp(-87.3);

/** u and q of m in float64 (the oracle). */
function exact(m: number): [number, number] {
  const u = 1 / (1 + Math.exp(-m));
  return [u, m === -Infinity ? 0 : Math.exp(-m) * u * u];
}

Deno.test("sigmoidSlope on tfjs-wasm: u and q within their error bounds of float64, every length, no leaks", async () => {
  await createTfEngine("wasm");
  const rng = new Rng(5);
  // Lengths around the four-value groups, and one large hidden layer.
  for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 1031, 1 << 18]) {
    const m = Float32Array.from({ length: n }, () => 160 * (rng.uniform() - 0.5));
    const t = tf.tensor1d(m);
    const before = tf.memory().numTensors;
    const [u, q] = sigmoidSlope(t);
    assertEquals(tf.memory().numTensors, before + 2);
    const [vu, vq] = [await u.data(), await q.data()];
    tf.dispose([t, u, q]);
    for (let i = 0; i < n; i++) {
      const [eu, eq] = exact(m[i]);
      assert(
        Math.abs(vu[i] - eu) <= 5 * 2 ** -24 * eu,
        `u(${m[i]}) = ${vu[i]}, want ${eu} (n = ${n})`,
      );
      assert(
        Math.abs(vq[i] - eq) <= 14 * 2 ** -24 * eq,
        `q(${m[i]}) = ${vq[i]}, want ${eq} (n = ${n})`,
      );
    }
  }
});

Deno.test("sigmoidSlope: NaN stays NaN; zero, ±200 and ±Infinity within e^−87.3 beyond the clamp", async () => {
  await createTfEngine("wasm");
  const m = [0, Number.NaN, 200, -200, Infinity, -Infinity, 87, -87];
  // Twice: in the SIMD groups and in the tail (length 8 + 3).
  const t = tf.tensor1d([...m, ...m.slice(0, 3)]);
  const [u, q] = sigmoidSlope(t);
  const [vu, vq] = [await u.data(), await q.data()];
  tf.dispose([t, u, q]);
  for (let i = 0; i < vu.length; i++) {
    const x = m[i % 8];
    if (Number.isNaN(x)) {
      assert(Number.isNaN(vu[i]) && Number.isNaN(vq[i]), `NaN at ${i}`);
      continue;
    }
    const [eu, eq] = exact(x);
    const tol = (v: number) => Math.max(5 * 2 ** -24 * v, CLAMP);
    assert(Math.abs(vu[i] - eu) <= tol(eu), `u(${x}) = ${vu[i]}, want ${eu}`);
    assert(
      Math.abs(vq[i] - eq) <= Math.max(14 * 2 ** -24 * eq, CLAMP),
      `q(${x}) = ${vq[i]}, want ${eq}`,
    );
  }
});

Deno.test("sigmoidSlope refuses another backend with a clear error", async () => {
  await createTfEngine("cpu");
  const t = tf.tensor1d([1, 2]);
  try {
    assertThrows(() => sigmoidSlope(t), /runs on tfjs-wasm float32 tensors/);
  } finally {
    t.dispose();
  }
});
