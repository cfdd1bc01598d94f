import { assert, assertClose, assertEquals, assertThrows } from "../../testing/assert.ts";
import { Rng } from "../rng.ts";
import { activate, mlpForward, type MlpProblem } from "./mlp.ts";
import { createF64Problem, initialPoint, makeDataset } from "./registry.ts";

Deno.test("mlp teacher: shapes, D = h(d + 2), targets are the teacher's outputs", () => {
  const ds = makeDataset(
    { kind: "mlp", n: 12, d: 5, hidden: 7, teacherHidden: 3, nTest: 9, activation: "softplus" },
    { seed: 4 },
  );
  assertEquals(ds.shapes, { z: [12, 5], y: [12], teacher: [21], zTest: [9, 5], yTest: [9] });
  const p = createF64Problem(ds) as MlpProblem;
  assertEquals([p.dim, p.numSamples, p.hidden, p.inputDim], [49, 12, 7, 5]);
  assertEquals(ds.params.activation, "softplus");
  // Oracle: the teacher evaluated by a loop written here.
  const t = ds.arrays.teacher, z = ds.arrays.z;
  for (let k = 0; k < 12; k++) {
    let f = 0;
    for (let j = 0; j < 3; j++) {
      let pre = t[15 + j];
      for (let i = 0; i < 5; i++) pre += t[j * 5 + i] * z[k * 5 + i];
      f += t[18 + j] * Math.log(1 + Math.exp(pre));
    }
    assertClose(ds.arrays.y[k], f, { rtol: 1e-13 });
  }
  assert(ds.arrays.y.some((v) => Math.abs(v) > 1e-3), "targets are not trivial");
});

Deno.test("mlp teacher: a student equal to the teacher has zero loss and zero gradient", () => {
  for (const activation of ["tanh", "softplus"] as const) {
    const ds = makeDataset(
      { kind: "mlp", n: 10, d: 4, hidden: 3, teacherHidden: 3, activation },
      { seed: 8 },
    );
    const p = createF64Problem(ds);
    const x = ds.arrays.teacher.slice();
    assertClose(p.loss(x), 0, { atol: 1e-30 });
    assertClose(p.testLoss!(x), 0, { atol: 1e-30 });
    const g = new Float64Array(p.dim);
    p.grad(x, g);
    assertClose(g, new Float64Array(p.dim), { atol: 1e-15 });
  }
});

Deno.test("mlp: outputs agree with the standalone forward pass; same seed same data", () => {
  const spec = { kind: "mlp" as const, n: 6, d: 3, hidden: 5, nTest: 4 };
  const ds = makeDataset(spec, { seed: 3 });
  assertEquals(ds, makeDataset(spec, { seed: 3 }));
  const other = makeDataset(spec, { seed: 4 });
  assert(ds.arrays.z.some((v, i) => v !== other.arrays.z[i]));
  assert(ds.arrays.teacher.some((v, i) => v !== other.arrays.teacher[i]));
  const p = createF64Problem(ds);
  const x = new Rng(1).fillNormal(new Float64Array(p.dim));
  const f = new Float64Array(6);
  p.outputs!(x, f);
  const shape = { hidden: 5, inputDim: 3, activation: "tanh" as const };
  for (let k = 0; k < 6; k++) {
    assertClose(f[k], mlpForward(x, ds.arrays.z, k, shape), { rtol: 1e-14 });
  }
});

Deno.test("mlp softplus: stable at large pre-activations; derivatives stay exact", () => {
  assertClose(activate("softplus", 800), 800, { rtol: 1e-15 });
  assertClose(activate("softplus", -800), 0, { atol: 1e-300 });
  assertClose(activate("softplus", 0), Math.LN2, { rtol: 1e-15 });
  const ds = makeDataset(
    { kind: "mlp", n: 4, d: 2, hidden: 3, activation: "softplus" },
    { seed: 2 },
  );
  const p = createF64Problem(ds);
  const x = initialPoint(ds, { seed: 1 });
  x[6] = 900; // b_0: unit 0 saturates on the linear side
  x[7] = -900; // b_1: unit 1 is ≈ 0
  assert(Number.isFinite(p.loss(x)));
  const g = new Float64Array(p.dim), hv = new Float64Array(p.dim);
  p.grad(x, g);
  p.hvp(x, g, hv);
  assert(g.every(Number.isFinite) && hv.every(Number.isFinite));
  // ∂L/∂a_0 = mean 2 r_k σ(pre_k0) with σ(pre) = pre exactly at this scale.
  const f = new Float64Array(4), z = ds.arrays.z, y = ds.arrays.y;
  p.outputs!(x, f);
  let ga0 = 0;
  for (let k = 0; k < 4; k++) {
    ga0 += 0.5 * (f[k] - y[k]) * (x[6] + x[0] * z[2 * k] + x[1] * z[2 * k + 1]);
  }
  assertClose(g[9], ga0, { rtol: 1e-12 });
});

Deno.test("mlp: bad fields and data sets are RangeErrors naming the field", () => {
  assertThrows(
    () => makeDataset({ kind: "mlp", activation: "relu" as never }, { seed: 0 }),
    /mlp: activation must be one of tanh, softplus \(got "relu"\)/,
  );
  assertThrows(
    () => makeDataset({ kind: "mlp", hidden: 0 }, { seed: 0 }),
    /mlp: hidden must be an integer ≥ 1/,
  );
  assertThrows(
    () => makeDataset({ kind: "mlp", source: "emnist" as never }, { seed: 0 }),
    /mlp: source must be one of teacher, cars, iris, mnist/,
  );
  const ds = makeDataset({ kind: "mlp", n: 3, d: 2, hidden: 2 }, { seed: 0 });
  assertThrows(
    () => createF64Problem({ ...ds, arrays: { ...ds.arrays, y: new Float64Array(2) } }),
    /mlp: array "y" has length 2, expected 3/,
  );
  assertThrows(
    () => createF64Problem({ ...ds, params: { ...ds.params, hidden: "2" } }),
    /mlp: params.hidden must be a positive integer/,
  );
});

Deno.test("mlp: the HVP's kept forward values follow x changed in place, and any batch", () => {
  const dataset = makeDataset(
    { kind: "mlp", n: 6, d: 3, hidden: 4, activation: "tanh", nTest: 0 },
    { seed: 2 },
  );
  const kept = createF64Problem(dataset) as MlpProblem;
  const rng = new Rng(9);
  const x = initialPoint(dataset, { seed: 1 }), v = rng.fillNormal(new Float64Array(x.length));
  const out = new Float64Array(x.length), want = new Float64Array(x.length);
  const batches = [undefined, Int32Array.of(4, 1), undefined, Int32Array.of(5)];
  for (const [i, batch] of batches.entries()) {
    kept.hvp(x, v, out, batch);
    // A fresh problem has nothing kept: its HVP is the oracle.
    (createF64Problem(dataset) as MlpProblem).hvp(x, v, want, batch);
    assertEquals(Array.from(out), Array.from(want), `call ${i}`);
    if (i % 2 === 1) x[i] += 0.25; // moved in place: the same array, new values
  }
  assert(out.some((o) => o !== 0), "non-trivial HVP");
});
