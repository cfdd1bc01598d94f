import { assert, assertClose, assertEquals, assertThrows } from "../../testing/assert.ts";
import { loadIrisRows } from "../../data/real_datasets.ts";
import { Rng } from "../rng.ts";
import { MlpProblem } from "./mlp.ts";
import { Mlp3Problem } from "./mlp3.ts";
import { createF64Problem, initialPoint, makeDataset, problemDim } from "./registry.ts";
import { fdGrad, fdHvp, relErr } from "./tf_testing.ts";
import type { Dataset } from "./types.ts";

const ACTIVATIONS = ["tanh", "softplus"] as const;

/** f_k of the depth-3 network, written from its definition (Math.tanh, log(1 + eᵗ)). */
function forward3(ds: Dataset, x: ArrayLike<number>, z: Float64Array, k: number): number {
  const h = ds.params.hidden as number, d = ds.shapes.z[1];
  const sigma = ds.params.activation === "softplus"
    ? (t: number) => Math.log(1 + Math.exp(t))
    : Math.tanh;
  const s1: number[] = [];
  for (let j = 0; j < h; j++) {
    let pre = x[h * d + j];
    for (let i = 0; i < d; i++) pre += x[j * d + i] * z[k * d + i];
    s1.push(sigma(pre));
  }
  let f = 0;
  for (let j = 0; j < h; j++) {
    let pre = x[h * d + h + h * h + j];
    for (let i = 0; i < h; i++) pre += x[h * d + h + j * h + i] * s1[i];
    f += x[h * d + 2 * h + h * h + j] * sigma(pre);
  }
  return f;
}

/** mean_t (f_k − y_k − noise_t)² over batch positions t, k = batch[t], by `forward3`. */
function loss3(ds: Dataset, x: ArrayLike<number>, batch?: ArrayLike<number>, noise?: number[]) {
  const idx = batch ?? Array.from(ds.arrays.y, (_, k) => k);
  let s = 0;
  for (let t = 0; t < idx.length; t++) {
    const k = idx[t];
    s += (forward3(ds, x, ds.arrays.z, k) - ds.arrays.y[k] - (noise?.[t] ?? 0)) ** 2;
  }
  return s / idx.length;
}

/** A small depth-3 teacher data set (h = 3, d = 4, n = 6, nTest = 5). */
function small(activation: "tanh" | "softplus", seed = 2): Dataset {
  return makeDataset(
    { kind: "mlp", depth: 3, hidden: 3, d: 4, n: 6, nTest: 5, teacherHidden: 2, activation },
    { seed },
  );
}

/** A generic point: the default start plus noise, so biases and every curvature term count. */
function probe(ds: Dataset, seed: number): { x: Float64Array; v: Float64Array } {
  const rng = new Rng(seed);
  const x = initialPoint(ds, { seed }).map((xi) => xi + 0.4 * rng.normal());
  return { x, v: rng.fillNormal(new Float64Array(x.length)) };
}

const BATCHES = [undefined, Int32Array.of(5, 0, 5, 2)];

Deno.test("mlp depth 3: params, D = h(d + h + 3), the depth-2 data set is unchanged", () => {
  const spec = { kind: "mlp" as const, hidden: 3, d: 4, n: 6, nTest: 5, teacherHidden: 2 };
  const two = makeDataset(spec, { seed: 2 });
  assertEquals(makeDataset({ ...spec, depth: 2 }, { seed: 2 }), two);
  assert(!("depth" in two.params), "depth-2 params carry no depth key");
  const three = makeDataset({ ...spec, depth: 3 }, { seed: 2 });
  assertEquals(three.params, { ...two.params, depth: 3, dim: 3 * (4 + 3 + 3) });
  assertEquals([three.arrays, three.shapes], [two.arrays, two.shapes]);
  assertEquals(problemDim(three), 30);
  const p = createF64Problem(three);
  assert(p instanceof Mlp3Problem, "depth 3 dispatches to Mlp3Problem");
  assert(createF64Problem(two) instanceof MlpProblem, "depth 2 stays MlpProblem");
  assertEquals([p.dim, p.numSamples], [30, 6]);
});

Deno.test("mlp depth 3: initial point W1 ~ N(0, 1/d), W2, a ~ N(0, 1/h), biases 0, seeded", () => {
  const ds = makeDataset({ kind: "mlp", depth: 3, hidden: 40, d: 50, n: 2 }, { seed: 0 });
  const h = 40, d = 50, x = initialPoint(ds, { seed: 7, scale: 2 });
  assertEquals(x.length, h * (d + h + 3));
  assertEquals(x, initialPoint(ds, { seed: 7, scale: 2 }));
  const meanSq = (from: number, len: number) => {
    let s = 0;
    for (let i = from; i < from + len; i++) s += x[i] * x[i];
    return s / len;
  };
  const oB1 = h * d, oW2 = oB1 + h, oB2 = oW2 + h * h, oA = oB2 + h;
  // Sample variances of 2000, 1600 and 40 draws: within 4 standard errors (√(2/N)·σ²).
  assertClose(meanSq(0, h * d), 4 / d, { rtol: 4 * Math.sqrt(2 / 2000) });
  assertClose(meanSq(oW2, h * h), 4 / h, { rtol: 4 * Math.sqrt(2 / 1600) });
  assertClose(meanSq(oA, h), 4 / h, { rtol: 4 * Math.sqrt(2 / 40) });
  assertEquals([meanSq(oB1, h), meanSq(oB2, h)], [0, 0]);
});

for (const activation of ACTIVATIONS) {
  Deno.test(`mlp depth 3 ${activation}: outputs, loss, testLoss equal the definition`, () => {
    const ds = small(activation);
    const p = createF64Problem(ds);
    const { x } = probe(ds, 1);
    const f = new Float64Array(6), r = new Float64Array(6);
    p.outputs!(x, f);
    p.residuals!(x, r);
    for (let k = 0; k < 6; k++) {
      assertClose(f[k], forward3(ds, x, ds.arrays.z, k), { rtol: 1e-13 });
      assertClose(r[k], f[k] - ds.arrays.y[k], { rtol: 1e-13, atol: 1e-15 });
    }
    for (const batch of BATCHES) {
      assertClose(p.loss(x, batch), loss3(ds, x, batch), { rtol: 1e-13 });
    }
    let t = 0;
    for (let k = 0; k < 5; k++) {
      t += (forward3(ds, x, ds.arrays.zTest, k) - ds.arrays.yTest[k]) ** 2;
    }
    assertClose(p.testLoss!(x), t / 5, { rtol: 1e-13 });
  });

  Deno.test(`mlp depth 3 ${activation}: grad and hvp match finite differences, per batch`, () => {
    const ds = small(activation);
    const p = createF64Problem(ds);
    const { x, v } = probe(ds, 3);
    for (const batch of BATCHES) {
      const g = new Float64Array(p.dim), hv = new Float64Array(p.dim);
      p.grad(x, g, batch);
      p.hvp(x, v, hv, batch);
      const label = `batch ${batch ?? "full"}`;
      // Central differences: O(ε²) truncation plus O(1e-16/ε) rounding.
      const gErr = relErr(g, fdGrad((q) => loss3(ds, q, batch), x, 1e-6));
      const hErr = relErr(hv, fdHvp((q) => loss3(ds, q, batch), x, v, 1e-4));
      assert(gErr < 1e-7, `${label}: grad rel err ${gErr}`);
      assert(hErr < 1e-6, `${label}: hvp rel err ${hErr}`);
      // The HVP is also the derivative of the gradient itself.
      const gp = new Float64Array(p.dim), gm = new Float64Array(p.dim), eps = 1e-5;
      p.grad(x.map((xi, i) => xi + eps * v[i]), gp, batch);
      p.grad(x.map((xi, i) => xi - eps * v[i]), gm, batch);
      const own = relErr(hv, gp.map((a, i) => (a - gm[i]) / (2 * eps)));
      assert(own < 1e-8, `${label}: hvp vs FD of grad rel err ${own}`);
    }
  });

  Deno.test(`mlp depth 3 ${activation}: dense Hessian is symmetric and its columns are HVPs`, () => {
    const ds = small(activation);
    const p = createF64Problem(ds);
    const { x } = probe(ds, 4);
    const dim = p.dim, batch = Int32Array.of(1, 4, 4);
    const hess = p.hessian!(x, batch);
    const e = new Float64Array(dim), col = new Float64Array(dim);
    let scale = 0;
    for (const value of hess) scale = Math.max(scale, Math.abs(value));
    for (let i = 0; i < dim; i++) {
      e.fill(0);
      e[i] = 1;
      p.hvp(x, e, col, batch);
      for (let q = 0; q < dim; q++) {
        assertEquals(hess[q * dim + i], hess[i * dim + q]);
        // The R-operator's columns are symmetric up to rounding (symmetrization moved nothing).
        assertClose(hess[q * dim + i], col[q], { rtol: 0, atol: 1e-13 * scale });
      }
    }
    // Independent of the HVP: the Hessian of the loss by finite differences of backprop.
    const fdCol = fdGrad(
      (q) => {
        const g = new Float64Array(dim);
        p.grad(q, g, batch);
        return g[7];
      },
      x,
      1e-5,
    );
    assertClose(hess.subarray(7 * dim, 8 * dim), fdCol, { rtol: 0, atol: 1e-7 * scale });
  });

  Deno.test(`mlp depth 3 ${activation}: Jacobian matches finite differences of the outputs`, () => {
    const ds = small(activation);
    const p = createF64Problem(ds);
    const { x } = probe(ds, 5);
    const m = 6, dim = p.dim, jac = new Float64Array(m * dim).fill(Number.NaN);
    p.jacobian!(x, jac);
    const f = new Float64Array(m);
    for (let k = 0; k < m; k++) {
      const fd = fdGrad((q) => (p.outputs!(q, f), f[k]), x, 1e-6);
      const err = relErr(jac.subarray(k * dim, (k + 1) * dim), fd);
      assert(err < 1e-8, `row ${k}: rel err ${err}`);
    }
  });

  Deno.test(`mlp depth 3 ${activation}: at zero residuals the Hessian is c·JᵀJ`, () => {
    const base = small(activation);
    const { x } = probe(base, 6);
    const f = new Float64Array(6);
    createF64Problem(base).outputs!(x, f);
    const ds = { ...base, arrays: { ...base.arrays, y: f } };
    const p = createF64Problem(ds);
    const r = new Float64Array(6), g = new Float64Array(p.dim);
    p.residuals!(x, r);
    assertClose(r, new Float64Array(6), { atol: 0 });
    p.grad(x, g);
    assertClose(g, new Float64Array(p.dim), { atol: 0 });
    const dim = p.dim, jac = new Float64Array(6 * dim), c = p.gaussNewtonScale!;
    assertEquals(c, 2 / 6);
    p.jacobian!(x, jac);
    const hess = p.hessian!(x);
    let scale = 0;
    for (const value of hess) scale = Math.max(scale, Math.abs(value));
    assert(scale > 1e-3, "the Hessian is not trivial");
    for (let a = 0; a < dim; a++) {
      for (let b = 0; b < dim; b++) {
        let s = 0;
        for (let k = 0; k < 6; k++) s += jac[k * dim + a] * jac[k * dim + b];
        assertClose(hess[a * dim + b], c * s, { rtol: 0, atol: 1e-13 * scale });
      }
    }
  });

  Deno.test(`mlp depth 3 ${activation}: labelNoiseGrad and batches`, () => {
    const ds = small(activation);
    const p = createF64Problem(ds);
    const { x, v } = probe(ds, 8);
    const dim = p.dim, batch = Int32Array.of(3, 0, 3), noise = [0.3, -0.7, 1.1];
    const g = new Float64Array(dim), want = new Float64Array(dim);
    p.labelNoiseGrad!(x, g, batch, Float64Array.from(noise));
    const err = relErr(g, fdGrad((q) => loss3(ds, q, batch, noise), x, 1e-6));
    assert(err < 1e-7, `label-noise grad rel err ${err}`);
    p.labelNoiseGrad!(x, g, batch, new Float64Array(3));
    p.grad(x, want, batch);
    assertEquals(g, want);
    // A batch of every index once is the full batch; a batch mean is the mean of single samples.
    const all = Int32Array.from({ length: 6 }, (_, k) => k);
    const full = new Float64Array(dim), gAll = new Float64Array(dim);
    p.grad(x, full);
    p.grad(x, gAll, all);
    assertClose(gAll, full, { rtol: 1e-14, atol: 1e-16 });
    const hb = new Float64Array(dim), mean = new Float64Array(dim), one = new Float64Array(dim);
    p.hvp(x, v, hb, batch);
    for (const k of batch) {
      p.hvp(x, v, one, Int32Array.of(k));
      for (let i = 0; i < dim; i++) mean[i] += one[i] / batch.length;
    }
    assertClose(hb, mean, { rtol: 1e-12, atol: 1e-14 });
  });
}

Deno.test("mlp depth 3 on iris: depth and dim in params, the rows as at depth 2", async () => {
  const rows = await loadIrisRows();
  const spec = { kind: "mlp" as const, source: "iris" as const, hidden: 5, n: 20 };
  const two = makeDataset(spec, { seed: 1, rows });
  const three = makeDataset({ ...spec, depth: 3 }, { seed: 1, rows });
  assert(!("depth" in two.params));
  assertEquals(three.params, { ...two.params, depth: 3, dim: 5 * (4 + 5 + 3) });
  assertEquals(three.arrays, two.arrays);
  assertEquals(createF64Problem(three).dim, 60);
});

Deno.test("mlp depth: a bad depth is a one-line RangeError naming the field", () => {
  for (const depth of [4, 1, "3", 2.5]) {
    assertThrows(
      () => makeDataset({ kind: "mlp", depth: depth as never }, { seed: 0 }),
      new RegExp(`^RangeError: mlp: depth must be 2 or 3 \\(got ${JSON.stringify(depth)}\\)$`),
    );
  }
  const ds = makeDataset({ kind: "mlp", n: 3, d: 2, hidden: 2 }, { seed: 0 });
  const bad = { ...ds, params: { ...ds.params, depth: 5 } };
  assertThrows(
    () => createF64Problem(bad),
    /^RangeError: mlp: params.depth must be 2 or 3 \(got 5\)$/,
  );
  assertThrows(() => problemDim(bad), /^RangeError: mlp: params.depth must be 2 or 3 \(got 5\)$/);
  assertThrows(() => new Mlp3Problem(ds), /^RangeError: mlp: Mlp3Problem needs params.depth = 3$/);
  const three = { ...ds, params: { ...ds.params, depth: 3 } };
  assertThrows(() => new MlpProblem(three), /^RangeError: mlp: params.depth 3 is Mlp3Problem's/);
});
