import { assert, assertClose, assertEquals, assertThrows } from "../../testing/assert.ts";
import { F64Ops } from "../engine/f64.ts";
import type { Objective } from "../engine/types.ts";
import { Rng } from "../rng.ts";
import { createStep } from "./step.ts";
import type { OptimizerSpec } from "./types.ts";
import { createF64Problem, type DatasetSpec, makeDataset } from "../problems/registry.ts";

type F64Objective = Objective<Float64Array, number>;

/** Runs `steps` steps of `spec` from x0 and returns the iterate. */
function run(
  objective: F64Objective,
  spec: OptimizerSpec,
  x0: number[],
  steps: number,
  seed = 7,
): Float64Array {
  const stepper = createStep(new F64Ops(objective.dim), objective, spec, new Rng(seed));
  const x = Float64Array.from(x0);
  for (let t = 0; t < steps; t++) stepper.step(x);
  return x;
}

/** The gradient a single step applied: (x − x_new)/η with η = 1. */
function appliedGradient(objective: F64Objective, spec: OptimizerSpec, x0: number[]): number[] {
  const x = run(objective, { ...spec, lr: 1 }, x0, 1);
  return x0.map((v, i) => v - x[i]);
}

function problem(spec: DatasetSpec, seed = 1): F64Objective {
  return createF64Problem(makeDataset(spec, { seed }));
}
const toy4d = () => problem({ kind: "toy4d", family: "paper" });
const sanity2d = () => problem({ kind: "sanity2d" });
const quadratic = (eigenvalues: number[], rotate: boolean) =>
  problem({ kind: "quadratic", eigenvalues, rotate }, 3);

// A small diagonal-net regression (a Setting 5.1 model, M = 6, D = 6); its data are read back for
// the hand-written label-noise update.
const regressionData = makeDataset({ kind: "diagnet", n: 6, d: 3, k: 1, nTest: 0 }, { seed: 11 });
const regression = () => createF64Problem(regressionData);
const XR = [0.4, -1, 0.7, 0.9, 0.3, -0.5];

const X4 = [0.3, -0.2, 0.5, 0.4];

Deno.test("ρ = 0: every full-batch SAM variant is GD bit for bit", () => {
  for (const objective of [toy4d(), regression()]) {
    const x0 = objective.dim === 4 ? X4 : XR;
    const gd = run(objective, { kind: "gd", lr: 0.05, rho: 0 }, x0, 500);
    for (const kind of ["sam", "usam", "asc-exact", "max", "avg"] as const) {
      assertEquals(run(objective, { kind, lr: 0.05, rho: 0 }, x0, 500), gd, kind);
    }
    // Guard against a vacuous comparison: GD moved, and SAM with ρ > 0 differs from it.
    assert(gd.some((v, i) => v !== x0[i]));
    assert(
      run(objective, { kind: "sam", lr: 0.05, rho: 0.1 }, x0, 500).some((v, i) => v !== gd[i]),
    );
  }
});

Deno.test("ρ = 0: 1sam and minibatch-sam are SGD with the same seed, bit for bit", () => {
  const objective = regression();
  const x0 = XR;
  const sgd1 = run(objective, { kind: "sgd", lr: 0.05, rho: 0, batch: 1 }, x0, 300);
  assertEquals(run(objective, { kind: "1sam", lr: 0.05, rho: 0 }, x0, 300), sgd1);
  assertEquals(
    run(objective, { kind: "minibatch-sam", lr: 0.05, rho: 0, batch: 1 }, x0, 300),
    sgd1,
  );
  const sgd3 = run(objective, { kind: "sgd", lr: 0.05, rho: 0, batch: 3 }, x0, 300);
  assertEquals(
    run(objective, { kind: "minibatch-sam", lr: 0.05, rho: 0, batch: 3 }, x0, 300),
    sgd3,
  );
  assert(sgd1.some((v, i) => v !== sgd3[i]));
  // SGD with b = M is GD (the full batch, not a permutation of it).
  assertEquals(
    run(objective, { kind: "sgd", lr: 0.05, rho: 0, batch: 6 }, x0, 300),
    run(objective, { kind: "gd", lr: 0.05, rho: 0 }, x0, 300),
  );
});

Deno.test("mini-batch SAM: b = M is SAM and b = 1 is 1-SAM, bit for bit", () => {
  const objective = regression();
  const x0 = XR;
  assertEquals(
    run(objective, { kind: "minibatch-sam", lr: 0.05, rho: 0.1, batch: 6 }, x0, 300),
    run(objective, { kind: "sam", lr: 0.05, rho: 0.1 }, x0, 300),
  );
  assertEquals(
    run(objective, { kind: "minibatch-sam", lr: 0.05, rho: 0.1, batch: 1 }, x0, 300),
    run(objective, { kind: "1sam", lr: 0.05, rho: 0.1 }, x0, 300),
  );
  // max with no inner steps uses the ascent point x + ρĝ: it is SAM.
  assertEquals(
    run(toy4d(), { kind: "max", lr: 0.05, rho: 0.1, innerSteps: 0 }, X4, 300),
    run(toy4d(), { kind: "sam", lr: 0.05, rho: 0.1 }, X4, 300),
  );
});

Deno.test("sam/usam/1sam/avg/label-noise: one step matches the update written out by hand", () => {
  const objective = regression();
  const x0 = Float64Array.from(XR);
  const rho = 0.3, lr = 0.2, sigma = 0.5;
  const g = new Float64Array(6), gt = new Float64Array(6);
  const at = (x: Float64Array, batch?: Int32Array) => {
    objective.grad(x, g, batch);
    return g.slice();
  };
  const after = (spec: OptimizerSpec, seed: number) => run(objective, spec, [...x0], 1, seed);
  // SAM: x − η∇L(x + ρĝ).
  const g0 = at(x0);
  const n0 = Math.hypot(...g0);
  objective.grad(x0.map((v, i) => v + rho * g0[i] / n0), gt);
  assertClose(after({ kind: "sam", lr, rho }, 1), x0.map((v, i) => v - lr * gt[i]), {
    rtol: 1e-14,
  });
  // USAM: x − η∇L(x + ρ∇L).
  objective.grad(x0.map((v, i) => v + rho * g0[i]), gt);
  assertClose(after({ kind: "usam", lr, rho }, 1), x0.map((v, i) => v - lr * gt[i]), {
    rtol: 1e-14,
  });
  // 1-SAM: k = rng.int(M), then SAM on L_k.
  const k = Int32Array.of(new Rng(5).int(6));
  const gk = at(x0, k);
  const nk = Math.hypot(...gk);
  objective.grad(x0.map((v, i) => v + rho * gk[i] / nk), gt, k);
  assertClose(after({ kind: "1sam", lr, rho }, 5), x0.map((v, i) => v - lr * gt[i]), {
    rtol: 1e-14,
  });
  // avg: u from the run's stream on the unit sphere.
  const u = new Rng(9).fillSphere(new Float64Array(6), rho);
  objective.grad(x0.map((v, i) => v + u[i]), gt);
  assertClose(after({ kind: "avg", lr, rho }, 9), x0.map((v, i) => v - lr * gt[i]), {
    rtol: 1e-14,
  });
  // Label-noise SGD: the batch first, then σξ for each batch entry, in batch order. With
  // f_k = Σ (u_i² − v_i²) z_ki and r_k = f_k − y_k − σξ, the gradient of mean_j r_k² is
  // ∂u_i = (2/b) Σ 2r_k u_i z_ki, ∂v_i = −(2/b) Σ 2r_k v_i z_ki.
  const { z, y } = regressionData.arrays;
  const rng = new Rng(4);
  const batch = rng.sampleWithoutReplacement(6, new Int32Array(2), new Int32Array(6));
  const expected = x0.slice();
  for (const k of batch) {
    let f = 0;
    for (let i = 0; i < 3; i++) f += (x0[i] ** 2 - x0[3 + i] ** 2) * z[3 * k + i];
    const r = f - y[k] - sigma * rng.normal();
    for (let i = 0; i < 3; i++) {
      expected[i] -= lr * 2 * r * x0[i] * z[3 * k + i];
      expected[3 + i] += lr * 2 * r * x0[3 + i] * z[3 * k + i];
    }
  }
  const ln = after({ kind: "label-noise-sgd", lr, rho: 0, batch: 2, sigma }, 4);
  assertClose(ln, expected, { rtol: 1e-14 });
  assert(ln.some((v, i) => v !== after({ kind: "sgd", lr, rho: 0, batch: 2 }, 4)[i]));
});

/** L^Asc(x) = L(x + ρ∇L(x)/‖∇L(x)‖), evaluated directly (independent of the exact-gradient formula). */
function ascLoss(objective: F64Objective, x: number[], rho: number): number {
  const g = new Float64Array(x.length);
  objective.grad(Float64Array.from(x), g);
  const n = Math.hypot(...g);
  return objective.loss(Float64Array.from(x, (v, i) => v + rho * g[i] / n));
}

Deno.test("asc-exact applies the gradient of L^Asc (central finite differences)", () => {
  // A rotated quadratic has ∇²L ≠ multiple of I, so the Jacobian term is large; the toys add
  // third-order terms.
  const cases: [F64Objective, number[], number][] = [
    [toy4d(), X4, 0.2],
    [sanity2d(), [1.3, 0.6], 0.1],
    [quadratic([3, 1, 0.2], true), [0.5, -0.3, 0.8], 0.1],
  ];
  for (const [objective, x, rho] of cases) {
    const h = 1e-5;
    const fd = x.map((_, i) => {
      const up = x.slice(), dn = x.slice();
      up[i] += h;
      dn[i] -= h;
      return (ascLoss(objective, up, rho) - ascLoss(objective, dn, rho)) / (2 * h);
    });
    const exact = appliedGradient(objective, { kind: "asc-exact", lr: 1, rho }, x);
    assertClose(exact, fd, { rtol: 1e-6, atol: 1e-9 });
    const sam = appliedGradient(objective, { kind: "sam", lr: 1, rho }, x);
    // The test can fail: SAM's gradient (no Jacobian term) is off by ≫ the tolerance above.
    assert(sam.some((v, i) => Math.abs(v - fd[i]) > 1e-4 * Math.hypot(...fd)));
  }
});

/** The maximizer of L(x + δ) over ‖δ‖ ≤ ρ in 2-D by brute force: a polar grid, then the angle refined. */
function bruteForceMax(objective: F64Objective, x: number[], rho: number): number[] {
  const at = (r: number, th: number) =>
    objective.loss(Float64Array.of(x[0] + r * Math.cos(th), x[1] + r * Math.sin(th)));
  let best = -Infinity, bestR = 0, bestTh = 0;
  for (let i = 0; i <= 50; i++) {
    for (let j = 0; j < 3600; j++) {
      const r = rho * i / 50, th = 2 * Math.PI * j / 3600, v = at(r, th);
      if (v > best) [best, bestR, bestTh] = [v, r, th];
    }
  }
  assertEquals(bestR, rho, "the maximizer lies on the sphere");
  // Golden-section search on the angle around the grid's best.
  let lo = bestTh - 2 * Math.PI / 3600, hi = bestTh + 2 * Math.PI / 3600;
  const phi = (Math.sqrt(5) - 1) / 2;
  while (hi - lo > 1e-13) {
    const a = hi - phi * (hi - lo), b = lo + phi * (hi - lo);
    if (at(rho, a) > at(rho, b)) hi = b;
    else lo = a;
  }
  const th = (lo + hi) / 2;
  return [x[0] + rho * Math.cos(th), x[1] + rho * Math.sin(th)];
}

Deno.test("max: the inner ascent finds the brute-force maximizer on the ρ-ball (2-D)", () => {
  const cases: [F64Objective, number[], number][] = [
    [quadratic([3.6, 1.4], true), [0.3, -0.1], 0.2],
    [sanity2d(), [1.2, 0.9], 0.3],
  ];
  for (const [objective, x, rho] of cases) {
    const star = bruteForceMax(objective, x, rho);
    const g = new Float64Array(2);
    objective.grad(Float64Array.from(star), g);
    // Danskin: the applied gradient is ∇L at the maximizer.
    const applied = appliedGradient(objective, { kind: "max", lr: 1, rho, innerSteps: 60 }, x);
    assertClose(applied, g, { rtol: 1e-7, atol: 1e-9 });
    // With no inner steps (the SAM point x + ρĝ) the gradient differs: the check can fail.
    const sam = appliedGradient(objective, { kind: "max", lr: 1, rho, innerSteps: 0 }, x);
    assert(Math.hypot(sam[0] - g[0], sam[1] - g[1]) > 1e-4 * Math.hypot(...g));
  }
});

Deno.test("createStep rejects label-noise-sgd without labelNoiseGrad and mismatched dimensions", () => {
  const spec: OptimizerSpec = { kind: "label-noise-sgd", lr: 0.1, rho: 0, batch: 1, sigma: 0.1 };
  assertThrows(
    () => createStep(new F64Ops(4), toy4d(), spec, new Rng(1)),
    /label-noise-sgd needs an objective with labelNoiseGrad/,
  );
  assertThrows(
    () => createStep(new F64Ops(3), toy4d(), { kind: "gd", lr: 0.1, rho: 0 }, new Rng(1)),
    /dimension 3 differs from the objective's 4/,
  );
  assertThrows(
    () =>
      createStep(new F64Ops(4), toy4d(), { kind: "sgd", lr: 0.1, rho: 0, batch: 3 }, new Rng(1)),
    /batch must be an integer in \[1, M = 2\]/,
  );
});

Deno.test("USAM on a quadratic contracts by 1 − ηλ(1 + ρλ) per step along each eigenvector", () => {
  // x ← (I − ηA − ηρA²)x exactly, so after t steps x_i = (1 − ηλ_i(1 + ρλ_i))^t x0_i.
  const lambdas = [4, 1, 0.25], lr = 0.3, rho = 0.1, t = 40;
  const x = run(quadratic(lambdas, false), { kind: "usam", lr, rho }, [1, -1, 0.5], t);
  const expected = [1, -1, 0.5].map((v, i) =>
    v * (1 - lr * lambdas[i] * (1 + rho * lambdas[i])) ** t
  );
  assertClose(x, expected, { rtol: 1e-11 });
});
