import { assert, assertEquals } from "../testing/assert.ts";
import { Rng } from "./rng.ts";

Deno.test("Rng: equal seeds give equal streams, different seeds differ", () => {
  const a = new Rng(7), b = new Rng(7), c = new Rng(8);
  const xa = Array.from({ length: 5 }, () => a.uniform());
  const xb = Array.from({ length: 5 }, () => b.uniform());
  const xc = Array.from({ length: 5 }, () => c.uniform());
  assertEquals(xa, xb);
  assert(xa.some((v, i) => v !== xc[i]));
});

Deno.test("Rng: normal variates have mean 0 and variance 1 within 4 standard errors", () => {
  const r = new Rng(1);
  const n = 200_000;
  let s = 0, s2 = 0;
  for (let i = 0; i < n; i++) {
    const z = r.normal();
    s += z;
    s2 += z * z;
  }
  const mean = s / n, variance = s2 / n - mean * mean;
  assert(Math.abs(mean) < 4 / Math.sqrt(n), `mean ${mean}`);
  assert(Math.abs(variance - 1) < 4 * Math.sqrt(2 / n), `variance ${variance}`);
});

Deno.test("Rng: sphere points have the requested radius; samples are distinct", () => {
  const r = new Rng(3);
  const v = r.fillSphere(new Float64Array(5), 0.5);
  assert(Math.abs(Math.hypot(...v) - 0.5) < 1e-15);
  const out = r.sampleWithoutReplacement(10, new Int32Array(10), new Int32Array(10));
  assertEquals([...out].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});
