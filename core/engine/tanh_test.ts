import { assert, assertEquals } from "../../testing/assert.ts";
import { Rng } from "../rng.ts";
import { tanh } from "./tanh.ts";

Deno.test("tanh: within 4 ulps of Math.tanh from 1e-300 to saturation, odd, exact limits", () => {
  const rng = new Rng(0);
  const xs = [0, 1e-300, 1e-20, 1e-8, 0.1733, 0.3466, 0.5, 1, 2, 5, 10, 19, 19.1, 20, 25, 700];
  for (let i = 0; i < 20000; i++) xs.push(rng.normal() * (i % 2 ? 0.3 : 4));
  // Either side of the reduction's boundaries, 2x = (k ± ½)·ln2/32, where r is largest.
  for (let k = 0; k < 1900; k += 7) {
    for (const s of [-0.5, 0.5]) {
      xs.push((k + s) * Math.LN2 / 64, (k + s) * Math.LN2 / 64 * (1 + 1e-15));
    }
  }
  let worst = 0;
  for (const x of xs) {
    for (const v of [x, -x]) {
      const want = Math.tanh(v);
      const ulp = Math.max(Math.abs(want) * 2 ** -52, Number.MIN_VALUE);
      worst = Math.max(worst, Math.abs(tanh(v) - want) / ulp);
    }
    assertEquals(tanh(-x), -tanh(x), `odd at ${x}`);
  }
  assert(worst <= 4, `worst error ${worst} ulps`);
  assertEquals(tanh(Infinity), 1);
  assertEquals(tanh(-Infinity), -1);
  assert(Number.isNaN(tanh(NaN)));
});
