/**
 * Every problem kind against independent oracles: central finite differences of the loss (for the
 * gradient) and of the gradient (for the HVP), the dense Hessian, per-sample averages, and the
 * label-noise gradient against finite differences of a loss rebuilt from the model outputs.
 */
import { assert, assertClose } from "../../testing/assert.ts";
import { Rng } from "../rng.ts";
import { createF64Problem, type DatasetSpec, makeDataset } from "./registry.ts";
import type { Dataset, F64Problem } from "./types.ts";

/** Kinds × sizes small enough for dense finite differences. */
const CASES: { name: string; spec: DatasetSpec }[] = [
  { name: "quadratic", spec: { kind: "quadratic", eigenvalues: [4, 2, 1, 0.5, -0.3] } },
  {
    name: "two-quadratics",
    spec: { kind: "two-quadratics", eigenvalues1: [3, 1, 0.2], eigenvalues2: [2, 0.5, 1] },
  },
  { name: "toy4d paper", spec: { kind: "toy4d", family: "paper" } },
  { name: "toy4d shifted", spec: { kind: "toy4d", family: "shifted" } },
  { name: "sanity2d", spec: { kind: "sanity2d" } },
  { name: "diagnet", spec: { kind: "diagnet", n: 7, d: 5, k: 2, nTest: 4 } },
  {
    name: "mlp tanh",
    spec: { kind: "mlp", n: 6, d: 3, hidden: 4, activation: "tanh", nTest: 5, teacherHidden: 2 },
  },
  {
    name: "mlp softplus",
    spec: { kind: "mlp", n: 6, d: 3, hidden: 4, activation: "softplus", nTest: 5 },
  },
  {
    name: "mlp depth 3 tanh",
    spec: { kind: "mlp", depth: 3, n: 6, d: 3, hidden: 3, activation: "tanh", nTest: 5 },
  },
  {
    name: "mlp depth 3 softplus",
    spec: { kind: "mlp", depth: 3, n: 6, d: 3, hidden: 3, activation: "softplus", nTest: 5 },
  },
];

/** A generic point (not an initialization with zeros/symmetries that could hide a wrong term). */
function randomPoint(dim: number, rng: Rng): Float64Array {
  const x = rng.fillNormal(new Float64Array(dim));
  for (let i = 0; i < dim; i++) x[i] = 0.8 * x[i] + 0.3;
  return x;
}

/** Central-difference gradient of f at x, step eps per coordinate. */
function fdGrad(f: (x: Float64Array) => number, x: Float64Array, eps: number): Float64Array {
  const g = new Float64Array(x.length), xp = x.slice();
  for (let i = 0; i < x.length; i++) {
    xp[i] = x[i] + eps;
    const up = f(xp);
    xp[i] = x[i] - eps;
    const down = f(xp);
    xp[i] = x[i];
    g[i] = (up - down) / (2 * eps);
  }
  return g;
}

/** Max |a_i| (for absolute tolerances relative to a vector's scale). */
function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function batchesFor(p: F64Problem, rng: Rng): (Int32Array | undefined)[] {
  const m = p.numSamples;
  const list: (Int32Array | undefined)[] = [undefined, Int32Array.of(m - 1)];
  if (m > 1) {
    // A random batch with a repeated index: the mean counts repeats.
    list.push(Int32Array.of(rng.int(m), 0, 0, m - 1));
  }
  return list;
}

for (const { name, spec } of CASES) {
  const dataset: Dataset = makeDataset(spec, { seed: 11 });
  const p = createF64Problem(dataset);

  Deno.test(`${name}: grad matches central differences of loss; hvp matches differences of grad`, () => {
    const rng = new Rng(5);
    const x = randomPoint(p.dim, rng);
    const v = rng.fillNormal(new Float64Array(p.dim));
    for (const batch of batchesFor(p, rng)) {
      const g = new Float64Array(p.dim);
      p.grad(x, g, batch);
      const fd = fdGrad((y) => p.loss(y, batch), x, 1e-5);
      assertClose(g, fd, { rtol: 1e-6, atol: 1e-8 * (1 + maxAbs(fd)), msg: `${name} grad` });

      const hv = new Float64Array(p.dim);
      p.hvp(x, v, hv, batch);
      const eps = 1e-5, gp = new Float64Array(p.dim), gm = new Float64Array(p.dim);
      const xp = x.slice(), xm = x.slice();
      for (let i = 0; i < p.dim; i++) {
        xp[i] += eps * v[i];
        xm[i] -= eps * v[i];
      }
      p.grad(xp, gp, batch);
      p.grad(xm, gm, batch);
      const fdHv = gp.map((gi, i) => (gi - gm[i]) / (2 * eps));
      assertClose(hv, fdHv, { rtol: 1e-6, atol: 1e-7 * (1 + maxAbs(fdHv)), msg: `${name} hvp` });
    }
  });

  Deno.test(`${name}: hvp equals the dense Hessian times v, and the Hessian is symmetric`, () => {
    const rng = new Rng(6);
    const x = randomPoint(p.dim, rng);
    const v = rng.fillNormal(new Float64Array(p.dim));
    assert(p.hessian, `${name} has a dense Hessian`);
    for (const batch of batchesFor(p, rng)) {
      const h = p.hessian(x, batch), d = p.dim;
      assert(h.length === d * d);
      const hv = new Float64Array(d), ref = new Float64Array(d);
      p.hvp(x, v, hv, batch);
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) {
          ref[i] += h[i * d + j] * v[j];
          assertClose(h[i * d + j], h[j * d + i], { rtol: 1e-13, atol: 1e-13 });
        }
      }
      assertClose(hv, ref, { rtol: 1e-11, atol: 1e-12 * (1 + maxAbs(ref)), msg: `${name} H·v` });
    }
  });

  Deno.test(`${name}: per-sample loss, grad, hvp and Hessian average to the full batch`, () => {
    const rng = new Rng(7);
    const x = randomPoint(p.dim, rng);
    const v = rng.fillNormal(new Float64Array(p.dim));
    const m = p.numSamples, d = p.dim;
    let loss = 0;
    const g = new Float64Array(d), hv = new Float64Array(d), h = new Float64Array(d * d);
    const gk = new Float64Array(d), hvk = new Float64Array(d);
    for (let k = 0; k < m; k++) {
      const b = Int32Array.of(k);
      loss += p.loss(x, b) / m;
      p.grad(x, gk, b);
      p.hvp(x, v, hvk, b);
      const hk = p.hessian!(x, b);
      for (let i = 0; i < d; i++) {
        g[i] += gk[i] / m;
        hv[i] += hvk[i] / m;
      }
      for (let i = 0; i < d * d; i++) h[i] += hk[i] / m;
    }
    const gFull = new Float64Array(d), hvFull = new Float64Array(d);
    p.grad(x, gFull);
    p.hvp(x, v, hvFull);
    assertClose(loss, p.loss(x), { rtol: 1e-13 });
    assertClose(g, gFull, { rtol: 1e-12, atol: 1e-13 * maxAbs(gFull) });
    assertClose(hv, hvFull, { rtol: 1e-12, atol: 1e-13 * maxAbs(hvFull) });
    const hFull = p.hessian!(x);
    assertClose(h, hFull, { rtol: 1e-12, atol: 1e-13 * maxAbs(hFull) });
    // The full batch listed explicitly is the same as `undefined`.
    const all = Int32Array.from({ length: m }, (_, k) => k);
    assertClose(p.loss(x, all), p.loss(x), { rtol: 1e-14 });
  });

  if (dataset.kind === "diagnet" || dataset.kind === "mlp") {
    Deno.test(`${name}: labelNoiseGrad is grad at zero noise and the noisy-loss gradient otherwise`, () => {
      const rng = new Rng(8);
      const x = randomPoint(p.dim, rng);
      const batch = Int32Array.of(2, 0, 2, 5);
      assert(p.labelNoiseGrad && p.outputs);
      const g = new Float64Array(p.dim), gn = new Float64Array(p.dim);
      p.grad(x, g, batch);
      p.labelNoiseGrad(x, gn, batch, new Float64Array(batch.length));
      assertClose(gn, g, { rtol: 1e-15, atol: 0 });

      const noise = Float64Array.of(0.3, -0.7, 0.1, 1.2);
      p.labelNoiseGrad(x, gn, batch, noise);
      // Oracle: the noisy loss rebuilt from the forward outputs and the data set's labels.
      const y = dataset.arrays.y, f = new Float64Array(p.numSamples);
      const noisyLoss = (xx: Float64Array) => {
        p.outputs!(xx, f);
        let s = 0;
        batch.forEach((k, t) => (s += (f[k] - y[k] - noise[t]) ** 2));
        return s / batch.length;
      };
      const fd = fdGrad(noisyLoss, x, 1e-5);
      assertClose(gn, fd, { rtol: 1e-6, atol: 1e-8 * (1 + maxAbs(fd)) });
      assert(maxAbs(gn.map((gi, i) => gi - g[i])) > 1e-3, "noise changes the gradient");
    });

    Deno.test(`${name}: outputs reproduce the loss; testLoss is the held-out MSE`, () => {
      const rng = new Rng(9);
      const x = randomPoint(p.dim, rng);
      const f = new Float64Array(p.numSamples), y = dataset.arrays.y;
      p.outputs!(x, f);
      const mse = f.reduce((s, fk, k) => s + (fk - y[k]) ** 2, 0) / p.numSamples;
      assertClose(p.loss(x), mse, { rtol: 1e-13 });
      // The held-out loss equals the training loss of a data set whose training rows are the test rows.
      const swapped: Dataset = {
        ...dataset,
        arrays: { z: dataset.arrays.zTest, y: dataset.arrays.yTest },
        shapes: { z: dataset.shapes.zTest, y: dataset.shapes.yTest },
      };
      assert(p.testLoss);
      assertClose(p.testLoss(x), createF64Problem(swapped).loss(x), { rtol: 1e-14 });
    });
  }
}

for (const { name, spec } of CASES) {
  const dataset = makeDataset(spec, { seed: 3 });
  const p = createF64Problem(dataset);
  if (!p.jacobian) continue;
  Deno.test(`${name}: jacobian is the finite-difference Jacobian of the residuals; ∇²L = c·JᵀJ on Γ`, () => {
    assert(p.residuals && p.gaussNewtonScale !== undefined);
    const rng = new Rng(11);
    const x = randomPoint(p.dim, rng);
    const m = p.numSamples, dim = p.dim;
    const jac = new Float64Array(m * dim), r = new Float64Array(m);
    p.jacobian!(x, jac);
    for (let k = 0; k < m; k++) {
      const fd = fdGrad(
        (xx) => {
          p.residuals!(xx, r);
          return r[k];
        },
        x,
        1e-6,
      );
      const row = jac.subarray(k * dim, (k + 1) * dim);
      assertClose(row, fd, { rtol: 1e-7, atol: 1e-8 * (1 + maxAbs(fd)), msg: `row ${k}` });
    }
    // The loss is (c/2)·‖r‖², so its Gauss–Newton part (c·JᵀJ) is the Hessian minus c·Σ r_k∇²r_k;
    // checked through the gradient: ∇L = c·Jᵀr.
    p.residuals!(x, r);
    const g = new Float64Array(dim), gn = new Float64Array(dim);
    p.grad(x, g);
    for (let k = 0; k < m; k++) {
      for (let i = 0; i < dim; i++) gn[i] += p.gaussNewtonScale! * jac[k * dim + i] * r[k];
    }
    assertClose(gn, g, { rtol: 1e-12, atol: 1e-13 * maxAbs(g) });
  });
}
