import { assert, assertClose, assertEquals, assertThrows } from "../../testing/assert.ts";
import { createF64Problem, initialPoint, makeDataset } from "./registry.ts";
import { f64Engine } from "../engine/f64.ts";
import { oracleFrom } from "../engine/oracle.ts";
import { train } from "../optim/train.ts";
import { phi } from "../spectra/manifold.ts";
import { symmetricEigen } from "../spectra/linalg.ts";

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

Deno.test("diagnet: pointMetrics give ‖w‖₁, the entries above 1e-3 and ‖w − w*‖ of w = u⊙u − v⊙v", () => {
  const ds = makeDataset({ kind: "diagnet", n: 4, d: 3, k: 1, nTest: 0 }, { seed: 1 });
  const p = createF64Problem(ds);
  const x = Float64Array.of(1, 0.02, 0.5, 0.5, 0.03, 1);
  // w = (0.75, −0.0005, −0.75).
  const w = [0.75, 0.0004 - 0.0009, -0.75];
  const m = p.pointMetrics!(x);
  assertClose(m.w_l1, 0.75 + 0.0005 + 0.75, { rtol: 1e-14 });
  assertEquals(m.w_nnz, 2);
  assertClose(m.w_dist_star, Math.hypot(...w.map((wi, i) => wi - ds.arrays.wStar[i])), {
    rtol: 1e-14,
  });
});

Deno.test("diagnet: Γ is a manifold here — J has rank M at GD's and SAM's Φ, and their interpolants differ", async () => {
  const ds = makeDataset({ kind: "diagnet", n: 6, d: 10, k: 2, nTest: 0 }, { seed: 4 });
  const p = createF64Problem(ds), m = 6, dim = 20;
  const ops = f64Engine.ops(dim), oracle = oracleFrom(ops, p);
  const x0 = initialPoint(ds, { seed: 0, scale: 1 });
  const limits: Float64Array[] = [];
  for (
    const spec of [{ kind: "gd", lr: 0.01, rho: 0 }, { kind: "sam", lr: 0.01, rho: 0.1 }] as const
  ) {
    const run = await train(ops, p, x0, spec, { steps: 20000, seed: 0, logSteps: [20000] });
    const flow = await phi(oracle, run.final, { gradTol: 1e-12 });
    assert(flow.converged);
    assert(p.loss(flow.x) < 1e-20);
    // Rank of J: the singular values of the M×D Jacobian, from the eigenvalues of JJᵀ.
    const jac = new Float64Array(m * dim), gram = new Float64Array(m * m);
    p.jacobian!(flow.x, jac);
    for (let a = 0; a < m; a++) {
      for (let b = 0; b < m; b++) {
        for (let i = 0; i < dim; i++) gram[a * m + b] += jac[a * dim + i] * jac[b * dim + i];
      }
    }
    const sv = symmetricEigen(gram, m).values;
    assert(
      sv[m - 1] > 1e-6 * sv[0],
      `${spec.kind}: J rank-deficient (σ² ${sv[m - 1]} vs ${sv[0]})`,
    );
    // and the Hessian at Φ has exactly M non-zero eigenvalues.
    const h = symmetricEigen(p.hessian!(flow.x), dim).values;
    assert(h[m - 1] > 1e4 * Math.abs(h[m]), `${spec.kind}: λ_M ${h[m - 1]}, λ_M+1 ${h[m]}`);
    limits.push(flow.x);
  }
  const gap = Math.hypot(...limits[0].map((v, i) => v - limits[1][i]));
  assert(gap > 1e-2, `GD and SAM reach the same interpolant (gap ${gap})`);
});
