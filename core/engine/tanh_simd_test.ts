import { compiledBase64 } from "../../testing/wat.ts";
import { assert, assertEquals } from "../../testing/assert.ts";
import { Rng } from "../rng.ts";
import { tanh } from "./tanh.ts";
import { TANH_WASM, TANH_WAT, tanhInPlace, wasmFloat64Array } from "./tanh_simd.ts";

Deno.test("tanh_simd: the shipped module is its WebAssembly text compiled by wabt", async () => {
  assertEquals(await compiledBase64("tanh.wat", TANH_WAT), TANH_WASM);
});

/** Values over tanh's regimes: tiny, around the k boundaries (2|x| = k·ln2 ± ln2/2), large. */
function values(n: number, rng: Rng): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => {
    const sign = rng.uniform() < 0.5 ? -1 : 1;
    switch (i % 4) {
      case 0:
        return sign * 10 ** (-12 * rng.uniform());
      case 1:
        return sign * (Math.floor(rng.uniform() * 60) + 0.5 + 1e-9 * (rng.uniform() - 0.5)) *
          Math.LN2 / 2;
      case 2:
        return sign * 25 * rng.uniform();
      default:
        return sign * 3 * rng.uniform();
    }
  });
}

Deno.test("tanhInPlace on a wasm array: within 12·2⁻⁵² of Math.tanh, every length and offset", () => {
  const rng = new Rng(3);
  const src = values(1 << 18, rng);
  const a = wasmFloat64Array(src.length);
  let worst = 0;
  // Whole, odd-length tails, and subarrays starting at an odd index (unaligned lanes).
  for (const [begin, end] of [[0, src.length], [0, 7], [1, 10], [3, 4], [5, 5 + 1001]]) {
    a.set(src);
    tanhInPlace(a.subarray(begin, end));
    for (let i = 0; i < src.length; i++) {
      const want = i >= begin && i < end ? Math.tanh(src[i]) : src[i];
      const err = Math.abs(a[i] - want) / (Math.abs(want) * 2 ** -52);
      assert(err <= 12, `tanh(${src[i]}) = ${a[i]}, want ${want} (${err} ulp)`);
      worst = Math.max(worst, err);
    }
  }
  assert(worst > 0, "the kernel's values differ from Math.tanh's somewhere (it ran)");
});

Deno.test("tanhInPlace: signs of zero, NaN, ±Infinity and large values exactly", () => {
  const xs = [0, -0, Number.NaN, Infinity, -Infinity, 1e-300, -1e-300, 40, -40, 5e-324];
  const a = wasmFloat64Array(xs.length);
  a.set(xs);
  tanhInPlace(a);
  for (let i = 0; i < xs.length; i++) {
    assert(Object.is(a[i], Math.tanh(xs[i])), `tanh(${xs[i]}) = ${a[i]}, want ${Math.tanh(xs[i])}`);
  }
});

Deno.test("tanhInPlace on any other array: tanh.ts's values", () => {
  const src = values(1001, new Rng(4));
  const a = src.slice();
  tanhInPlace(a);
  for (let i = 0; i < src.length; i++) assertEquals(a[i], tanh(src[i]));
});
