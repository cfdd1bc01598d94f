import { assert, assertClose, assertEquals, assertThrows } from "../../testing/assert.ts";
import { createF64Problem, makeDataset } from "./registry.ts";

Deno.test("diagnet: default shapes are Andriushchenko & Flammarion's (n 20, d 30, 3-sparse unit ±w*)", () => {
  const ds = makeDataset({ kind: "diagnet" }, { seed: 1 });
  assertEquals(ds.shapes, { z: [20, 30], y: [20], wStar: [30], zTest: [1000, 30], yTest: [1000] });
  const w = ds.arrays.wStar;
  assertEquals(w.filter((v) => v !== 0).length, 3);
  assertClose(Math.hypot(...w), 1, { rtol: 1e-15 });
  // y = ⟨w*, z⟩ for training and held-out rows, recomputed here.
  for (const [zName, yName] of [["z", "y"], ["zTest", "yTest"]]) {
    const z = ds.arrays[zName], y = ds.arrays[yName];
    for (let k = 0; k < y.length; k++) {
      let f = 0;
      for (let i = 0; i < 30; i++) f += w[i] * z[k * 30 + i];
      assertClose(y[k], f, { rtol: 1e-14, atol: 1e-15 });
    }
  }
  const p = createF64Problem(ds);
  assertEquals([p.dim, p.numSamples], [60, 20]);
});

Deno.test("diagnet: same seed gives identical arrays, another seed different ones", () => {
  const spec = { kind: "diagnet" as const, n: 5, d: 4, k: 2, nTest: 3 };
  const a = makeDataset(spec, { seed: 9 }), b = makeDataset(spec, { seed: 9 });
  const c = makeDataset(spec, { seed: 10 });
  assertEquals(a, b);
  for (const name of ["z", "y", "zTest"]) {
    assert(a.arrays[name].some((v, i) => v !== c.arrays[name][i]), `${name} differs`);
  }
});

Deno.test("diagnet: u = √max(w*, 0), v = √max(−w*, 0) interpolates (zero loss and gradient); test loss 0 there", () => {
  const ds = makeDataset({ kind: "diagnet", n: 8, d: 10, k: 3, nTest: 50 }, { seed: 2 });
  const p = createF64Problem(ds), d = 10;
  const w = ds.arrays.wStar;
  assert(w.some((v) => v < 0) && w.some((v) => v > 0), "seeded signs give both signs here");
  const x = new Float64Array(2 * d);
  for (let i = 0; i < d; i++) {
    x[i] = Math.sqrt(Math.max(w[i], 0));
    x[d + i] = Math.sqrt(Math.max(-w[i], 0));
  }
  assertClose(p.loss(x), 0, { atol: 1e-30 });
  const g = new Float64Array(2 * d);
  p.grad(x, g);
  assertClose(g, new Float64Array(2 * d), { atol: 1e-15 });
  assertClose(p.testLoss!(x), 0, { atol: 1e-30 });
  // Away from the minimizer, the held-out loss is positive.
  x.fill(0.1);
  assert(p.testLoss!(x) > 0.1);
});

Deno.test("diagnet: nTest 0 gives no held-out arrays and no testLoss; bad fields are RangeErrors", () => {
  const ds = makeDataset({ kind: "diagnet", nTest: 0 }, { seed: 0 });
  assertEquals(Object.keys(ds.arrays).sort(), ["wStar", "y", "z"]);
  assertEquals(createF64Problem(ds).testLoss, undefined);
  assertThrows(
    () => makeDataset({ kind: "diagnet", k: 31 }, { seed: 0 }),
    /RangeError: diagnet: k must be ≤ d/,
  );
  assertThrows(
    () => makeDataset({ kind: "diagnet", n: 2.5 }, { seed: 0 }),
    /diagnet: n must be an integer ≥ 1 \(got 2.5\)/,
  );
  assertThrows(
    () => makeDataset({ kind: "diagnet", nTest: -1 }, { seed: 0 }),
    /diagnet: nTest must be an integer ≥ 0/,
  );
});
