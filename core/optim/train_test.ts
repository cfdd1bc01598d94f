import {
  assert,
  assertClose,
  assertEquals,
  assertRejects,
  assertThrows,
} from "../../testing/assert.ts";
import { F64Ops } from "../engine/f64.ts";
import type { Objective } from "../engine/types.ts";
import {
  createF64Problem,
  type DatasetSpec,
  initialPoint,
  makeDataset,
} from "../problems/registry.ts";
import { logSpacedSteps, train, validateOptimizerSpec } from "./train.ts";
import type { OptimizerSpec, TrainOptions, TrainResult } from "./types.ts";
import { rk4 } from "../theory/ode.ts";
import { toyOneSamFlow, toyPhi, toySamFlow } from "../theory/toy4d_flows.ts";

type F64Objective = Objective<Float64Array, number>;

function problem(spec: DatasetSpec, seed = 1): F64Objective {
  return createF64Problem(makeDataset(spec, { seed }));
}

function trainF64(
  objective: F64Objective,
  x0: ArrayLike<number>,
  spec: OptimizerSpec,
  opts: TrainOptions,
): Promise<TrainResult> {
  return train(new F64Ops(objective.dim), objective, Float64Array.from(x0), spec, opts);
}

Deno.test("logSpacedSteps: 0 and steps included, sorted, deduplicated, ≈ 10 per decade", () => {
  const s = logSpacedSteps(100000);
  assertEquals(s[0], 0);
  assertEquals(s[s.length - 1], 100000);
  for (let i = 1; i < s.length; i++) assert(s[i] > s[i - 1], `not increasing at ${i}`);
  // Decades 10^k..10^(k+1) for k ≥ 1 hold exactly 10 points; below 10 rounding merges some.
  assertEquals(s.filter((v) => v >= 1000 && v < 10000).length, 10);
  assertEquals(logSpacedSteps(5), [0, 1, 2, 3, 4, 5]);
  assertEquals(logSpacedSteps(0), [0]);
  assertEquals(logSpacedSteps(100, 2), [0, 1, 3, 10, 32, 100]);
  assertThrows(() => logSpacedSteps(-1), /steps must be an integer ≥ 0/);
});

Deno.test("train validates options and spec", async () => {
  const obj = problem({ kind: "sanity2d" });
  const spec: OptimizerSpec = { kind: "sam", lr: 0.1, rho: 0.1 };
  await assertRejects(() => trainF64(obj, [1, 2], spec, { steps: 1.5, seed: 1 }), /steps must be/);
  await assertRejects(() => trainF64(obj, [1, 2], spec, { steps: 5, seed: 0.5 }), /seed must be/);
  await assertRejects(
    () => trainF64(obj, [1, 2], spec, { steps: 5, seed: 1, logSteps: [0, 6] }),
    /logSteps entries must be integers in \[0, steps = 5\]/,
  );
  await assertRejects(
    () => trainF64(obj, [1, 2, 3], spec, { steps: 5, seed: 1 }),
    /x0 has length 3/,
  );
  await assertRejects(
    () => trainF64(obj, [1, 2], { ...spec, lr: -1 }, { steps: 5, seed: 1 }),
    /sam: lr must be a finite number > 0/,
  );
  assertThrows(() => validateOptimizerSpec({ kind: "sgd", lr: 1, rho: 0, batch: 3 }, 2), /batch/);
});

Deno.test("train records rows, τ = ηρ²t, params, checkpoints and the drawn sample", async () => {
  const obj = problem({ kind: "toy4d" });
  const logged: number[] = [];
  const spec: OptimizerSpec = { kind: "1sam", lr: 0.05, rho: 0.1 };
  const r = await trainF64(obj, [1, 1, 0.3, 0.3], spec, {
    steps: 1000,
    seed: 3,
    onLog: (row) => logged.push(row.step),
  });
  assertEquals(r.rows.map((row) => row.step), logSpacedSteps(1000));
  assertEquals(logged, logSpacedSteps(1000));
  assertEquals(r.diverged, undefined);
  const last = r.rows[r.rows.length - 1];
  assertClose(last.tau, 0.05 * 0.01 * 1000, { rtol: 1e-15 });
  assertEquals(last.params, r.final);
  assertEquals(r.checkpoints.map((c) => c.step), logSpacedSteps(1000));
  assertEquals(r.rows[0].sample, -1);
  assert(r.rows.slice(1).every((row) => row.sample === 0 || row.sample === 1));
  // Independent read-out of the logged quantities.
  const g = new Float64Array(4);
  obj.grad(r.final, g);
  assertClose(last.loss, obj.loss(r.final), { rtol: 1e-15 });
  assertClose(last.gradNorm, Math.hypot(...g), { rtol: 1e-15 });
  assertClose(last.paramNorm, Math.hypot(...r.final), { rtol: 1e-15 });
  // Without params in rows above recordParamsUpTo, still with checkpoints; full batch has sample −1.
  const q = await trainF64(obj, [1, 1, 0.3, 0.3], { kind: "sam", lr: 0.05, rho: 0.1 }, {
    steps: 10,
    seed: 3,
    recordParamsUpTo: 3,
    logSteps: [10, 0, 10],
  });
  assertEquals(q.rows.map((row) => [row.step, row.params, row.sample]), [[0, undefined, -1], [
    10,
    undefined,
    -1,
  ]]);
  assertEquals(q.checkpoints[1].params, q.final);
});

Deno.test("Theorem 4.8: SAM on a quadratic → ‖x‖ = ηρλ1/(2 − ηλ1) along ±v1", async () => {
  const lr = 0.1, rho = 0.05, lambda1 = 4;
  const expected = lr * rho * lambda1 / (2 - lr * lambda1); // 0.0125
  for (const rotate of [false, true]) {
    const dataset = makeDataset({ kind: "quadratic", eigenvalues: [4, 2, 1, 0.5], rotate }, {
      seed: 5,
    });
    const obj = createF64Problem(dataset);
    const x0 = initialPoint(dataset, { seed: 2 });
    const r = await trainF64(obj, x0, { kind: "sam", lr, rho }, { steps: 5000, seed: 1 });
    const x = r.final;
    assertClose(Math.hypot(...x), expected, { rtol: 1e-6 });
    // v1 is the eigenvector of the largest eigenvalue: A v1 = 4 v1, so |cos(x, Ax)| → 1 and ‖Ax‖ = 4‖x‖.
    const Ax = new Float64Array(4);
    obj.hvp(x, x, Ax);
    const cos = Math.abs(x.reduce((s, v, i) => s + v * Ax[i], 0)) /
      (Math.hypot(...x) * Math.hypot(...Ax));
    assertClose(cos, 1, { rtol: 1e-9 });
    assertClose(Math.hypot(...Ax) / Math.hypot(...x), lambda1, { rtol: 1e-9 });
  }
});

Deno.test("toy4d (docs/theory.md §7): SAM and 1-SAM follow the finite-η-corrected flows; GD stays", async () => {
  const eta = 0.05, rho = 0.01, steps = 200000; // τ = ηρ²t = 1
  const obj = problem({ kind: "toy4d", family: "paper" });
  const x0 = [1, 1, 0.3, 0.3];
  // Phase I is (close to) gradient flow into Γ: start the slow flows from Φ(x0) (core/theory).
  const phi = toyPhi("paper", x0).slice(0, 2);
  // SAM: dX/dτ = −½∇λ1 with λ1 = F1 on Γ, times (1 − ηλ1/2)⁻² (docs/theory.md §3).
  const sam = toySamFlow("paper", phi, 1, { lr: eta });
  // 1-SAM: sample k moves X by −½ρ²∇λ1(∇²L_k) (1 − ηλ1(∇²L_k)/2)⁻², with ∇²L_0 = 2F1 e3e3ᵀ and
  // ∇²L_1 = 2F2 e4e4ᵀ on Γ; averaged over k: dX/dτ = −½·½ Σ_k c_k ∇(2F_k).
  const one = toyOneSamFlow("paper", phi, 1, { lr: eta });
  const opts = { steps, seed: 1, logSteps: [0, steps] };
  const rSam = await trainF64(obj, x0, { kind: "sam", lr: eta, rho }, opts);
  const rOne = await trainF64(obj, x0, { kind: "1sam", lr: eta, rho }, opts);
  const rGd = await trainF64(obj, x0, { kind: "gd", lr: eta, rho }, opts);
  assertClose(rSam.rows[1].tau, 1, { rtol: 1e-12 });
  assertClose(rSam.final.slice(0, 2), sam, { rtol: 0.03 });
  assertClose(rOne.final.slice(0, 2), one, { rtol: 0.05 });
  // GD moves (x1, x2) by less than 3% of the start.
  const moved = Math.hypot(rGd.final[0] - 1, rGd.final[1] - 1) / Math.SQRT2;
  assert(moved < 0.03, `GD moved ${moved}`);
  // The endpoints differ, so the checks discriminate (SAM ≈ (0.29, 0.29), 1-SAM ≈ (−0.13, 0.13)).
  assert(rSam.final[0] - rOne.final[0] > 0.3);
});

Deno.test("sanity2d ½(1 − xy)²: SAM and 1-SAM drift toward |x| = |y| = 1 at the predicted rate", async () => {
  // On Γ = {xy = 1}, x = eˢ, y = e⁻ˢ: λ1 = x² + y² = 2cosh 2s and dX/dτ = −½P∇λ1 gives
  // ds/dτ = −tanh 2s, times the finite-η factor (1 − η cosh 2s)⁻².
  const eta = 0.01, rho = 0.02, tau = 0.5, steps = Math.round(tau / (eta * rho * rho));
  const x0 = [2, 0.52];
  const phi = rk4(
    ([x, y]) => {
      const r = x * y - 1;
      return [-r * y, -r * x];
    },
    x0,
    50,
    50000,
  );
  const s0 = 0.5 * Math.log(phi[0] / phi[1]);
  const [s1] = rk4(
    ([s]) => [-Math.tanh(2 * s) * (1 - eta * Math.cosh(2 * s)) ** -2],
    [s0],
    tau,
    2000,
  );
  const obj = problem({ kind: "sanity2d" });
  for (const kind of ["sam", "1sam"] as const) {
    const r = await trainF64(obj, x0, { kind, lr: eta, rho }, { steps, seed: 3 });
    const [x, y] = r.final;
    assertClose(x * y, 1, { atol: 1e-3 });
    const s = 0.5 * Math.log(Math.abs(x / y));
    assert(s < 0.5 * s0, `${kind}: |x|/|y| did not shrink toward 1 (s ${s0} → ${s})`);
    // 1% on s; dropping the finite-η factor would miss by 2.8%, a wrong ½ by ≫ 10%.
    assertClose(s, s1, { rtol: 0.01 });
  }
});

Deno.test("USAM on a quadratic is stable iff ηλ(1 + ρλ) < 2; divergence names step, η and ρ", async () => {
  const obj = problem({ kind: "quadratic", eigenvalues: [4, 1], rotate: false });
  const rho = 0.1; // λ(1 + ρλ) = 5.6 for λ = 4
  const stable = await trainF64(obj, [1, 1], { kind: "usam", lr: 0.3, rho }, {
    steps: 2000,
    seed: 1,
  });
  assertEquals(stable.diverged, undefined);
  assert(Math.hypot(...stable.final) < 1e-100);
  const unstable = await trainF64(obj, [1, 1], { kind: "usam", lr: 0.4, rho }, {
    steps: 2000,
    seed: 1,
  });
  // |1 − 0.4·5.6| = 1.24: ‖x‖ passes 1e6 after ≈ 64 steps; the first log step after that reports it.
  const m = /diverged at step (\d+) \(lr = 0\.4, rho = 0\.1\)/.exec(unstable.diverged ?? "");
  assert(m !== null, `unexpected message ${unstable.diverged}`);
  const at = Number(m[1]);
  assert(at >= 64 && at <= 80, `diverged at ${at}`);
  assert(unstable.rows.every((row) => row.step < at && row.paramNorm <= 1e6));
  assertEquals(unstable.rows.length, logSpacedSteps(2000).filter((s) => s < at).length);
  // GD at the same η is stable (ηλ = 1.6 < 2): the instability is USAM's.
  const gd = await trainF64(obj, [1, 1], { kind: "gd", lr: 0.4, rho: 0 }, { steps: 2000, seed: 1 });
  assertEquals(gd.diverged, undefined);
});

Deno.test("float64 runs stop between log steps when the parameters blow up", async () => {
  const obj = problem({ kind: "quadratic", eigenvalues: [4, 1], rotate: false });
  const r = await trainF64(obj, [1, 1], { kind: "gd", lr: 0.6, rho: 0 }, {
    steps: 1_000_000,
    seed: 1,
    logSteps: [0, 1_000_000],
  });
  // The periodic check runs every 1024 steps, so the run stops at step 1024, not 10⁶.
  assert(/^diverged at step 1024 \(lr = 0\.6, rho = 0\)/.test(r.diverged ?? ""), r.diverged);
  assertEquals(r.rows.map((row) => row.step), [0]);
});

Deno.test("determinism: same seed → identical rows; different seeds differ", async () => {
  const toy = problem({ kind: "toy4d" });
  const dataset = makeDataset({ kind: "diagnet", n: 8, d: 6, k: 2, nTest: 0 }, { seed: 4 });
  const diag = createF64Problem(dataset);
  const xd = initialPoint(dataset, { seed: 1, scale: 0.5 });
  const cases: [F64Objective, ArrayLike<number>, OptimizerSpec][] = [
    [toy, [1, 1, 0.3, 0.3], { kind: "1sam", lr: 0.05, rho: 0.05 }],
    [toy, [1, 1, 0.3, 0.3], { kind: "avg", lr: 0.05, rho: 0.05 }],
    [diag, xd, { kind: "minibatch-sam", lr: 0.01, rho: 0.05, batch: 3 }],
    [diag, xd, { kind: "sgd", lr: 0.01, rho: 0, batch: 2 }],
    [diag, xd, { kind: "label-noise-sgd", lr: 0.01, rho: 0, batch: 8, sigma: 0.5 }],
  ];
  for (const [obj, x0, spec] of cases) {
    const opts = { steps: 300, seed: 17 };
    const a = await trainF64(obj, x0, spec, opts);
    const b = await trainF64(obj, x0, spec, opts);
    const c = await trainF64(obj, x0, spec, { ...opts, seed: 18 });
    assertEquals(a.rows, b.rows, spec.kind);
    assert(a.final.some((v, i) => v !== c.final[i]), `${spec.kind}: seeds 17 and 18 agree`);
  }
});

Deno.test("label-noise-sgd needs a Setting 5.1 objective", async () => {
  await assertRejects(
    () =>
      trainF64(problem({ kind: "toy4d" }), [1, 1, 0.3, 0.3], {
        kind: "label-noise-sgd",
        lr: 0.01,
        rho: 0,
        batch: 1,
        sigma: 0.1,
      }, { steps: 1, seed: 1 }),
    /label-noise-sgd needs an objective with labelNoiseGrad/,
  );
});

Deno.test("train: onProgress reports the step about 200 times, between log steps too", async () => {
  const dataset = makeDataset({ kind: "toy4d", family: "paper" }, { seed: 0 });
  const problem = createF64Problem(dataset);
  const seen: number[] = [];
  await train(new F64Ops(4), problem, initialPoint(dataset, { seed: 0 }), {
    kind: "sam",
    lr: 0.05,
    rho: 0.01,
  }, { steps: 1000, seed: 0, logSteps: [0, 1000], onProgress: (t) => seen.push(t) });
  assertEquals(seen, Array.from({ length: 200 }, (_, i) => 5 * (i + 1)));
});

Deno.test("train window: each step's ⟨x_t − Φ, v1⟩, sample and loss, recomputed by stepping alone; trajectory unchanged", async () => {
  const toy = problem({ kind: "toy4d", family: "paper" });
  const spec: OptimizerSpec = { kind: "1sam", lr: 0.05, rho: 0.1 };
  const phi = Float64Array.of(0.5, 0.2, 0, 0), v1 = Float64Array.of(0, 0, 0.6, 0.8);
  const refs: Float64Array[] = [];
  const base = { steps: 300, seed: 3, logSteps: [0, 100, 300] };
  const plain = await trainF64(toy, [1, 1, 0.3, 0.3], spec, base);
  const windowed = await trainF64(toy, [1, 1, 0.3, 0.3], spec, {
    ...base,
    window: {
      at: [0, 98, 250],
      length: 5,
      reference: (x) => {
        refs.push(x.slice());
        return Promise.resolve({ phi, v1 });
      },
    },
  });
  assertEquals(windowed.rows, plain.rows);
  assertEquals(windowed.final, plain.final);
  assertEquals(refs.length, 3);
  assertEquals(windowed.window.map((r) => r.step), [
    0,
    1,
    2,
    3,
    4,
    98,
    99,
    100,
    101,
    102,
    250,
    251,
    252,
    253,
    254,
  ]);
  // Oracle: the same run stepped by hand, one log step per step.
  const every = await trainF64(toy, [1, 1, 0.3, 0.3], spec, {
    ...base,
    logSteps: Array.from({ length: 256 }, (_, t) => t),
  });
  assertEquals(refs[1], every.checkpoints[98].params);
  for (const r of windowed.window) {
    const x = every.checkpoints[r.step].params;
    const proj = x.reduce((acc, xi, i) => acc + (xi - phi[i]) * v1[i], 0);
    assertClose(r.proj, proj, { rtol: 1e-15 });
    assertEquals(r.sign, Math.sign(proj));
    assertEquals(r.sample, every.rows[r.step].sample);
    assertClose(r.loss, every.rows[r.step].loss, { rtol: 1e-15 });
  }
  assertEquals(windowed.window[0].sample, -1);
  assert(windowed.window.slice(1).every((r) => r.sample === 0 || r.sample === 1));
});

Deno.test("train window: bounds are RangeErrors", async () => {
  const toy = problem({ kind: "toy4d", family: "paper" });
  const spec: OptimizerSpec = { kind: "gd", lr: 0.05, rho: 0 };
  const reference = () => Promise.resolve({ phi: new Float64Array(4), v1: new Float64Array(4) });
  const run = (at: number[], length: number) =>
    trainF64(toy, [1, 1, 0.3, 0.3], spec, {
      steps: 100,
      seed: 0,
      window: { at, length, reference },
    });
  await assertRejects(
    () => run([97], 5),
    /window.at entries must be integers in \[0, steps − length \+ 1 = 96\] \(got 97\)/,
  );
  await assertRejects(() => run([0], 0), /window.length must be an integer in \[1, 4096\]/);
  await assertRejects(() => run([], 4), /window.at must be a list of 1 to 64 steps/);
  assertEquals((await run([96], 5)).window.length, 5);
});
