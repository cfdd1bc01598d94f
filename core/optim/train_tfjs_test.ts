/**
 * The same optimizer code on the tfjs engine (cpu backend): float32 trajectories track the float64
 * ones, random draws are identical, and a run leaves no tensors behind.
 */
import * as tf from "@tensorflow/tfjs";
import { assert, assertClose, assertEquals } from "../../testing/assert.ts";
import { F64Ops } from "../engine/f64.ts";
import { createTfEngine } from "../engine/tfjs.ts";
import { createF64Problem, initialPoint, makeDataset } from "../problems/registry.ts";
import { createTfProblem } from "../problems/tf_registry.ts";
import { train } from "./train.ts";
import { OPTIMIZER_CASES, TOY } from "./testing/cases.ts";
import { createStep } from "./step.ts";
import { Rng } from "../rng.ts";

const engine = await createTfEngine("cpu");

for (const [dataset, spec] of OPTIMIZER_CASES) {
  Deno.test(`tfjs cpu ${spec.kind} on ${dataset.kind}: tracks float64, same draws, no leaks`, async () => {
    const x0 = dataset === TOY
      ? Float64Array.of(0.8, 0.6, 0.3, 0.3)
      : initialPoint(dataset, { seed: 2, scale: 0.5 });
    const opts = { steps: 40, seed: 9, logSteps: [0, 10, 40] };
    const f64Obj = createF64Problem(dataset);
    const ref = await train(new F64Ops(f64Obj.dim), f64Obj, x0, spec, opts);
    const tfObj = createTfProblem(dataset);
    const ops = engine.ops(tfObj.dim);
    const before = tf.memory().numTensors;
    const got = await train(ops, tfObj, x0, spec, opts);
    assertEquals(tf.memory().numTensors, before, "tensors leaked by the run");
    tfObj.dispose?.();
    assertEquals(got.diverged, undefined);
    assertEquals(got.rows.map((r) => r.sample), ref.rows.map((r) => r.sample));
    // float32 vs float64 over 40 steps of a smooth, well-conditioned map.
    assertClose(got.final, ref.final, { rtol: 1e-4, atol: 1e-5 });
    for (let i = 0; i < ref.rows.length; i++) {
      assertClose(got.rows[i].loss, ref.rows[i].loss, { rtol: 1e-4, atol: 1e-6 });
      assertClose(got.rows[i].gradNorm, ref.rows[i].gradNorm, { rtol: 1e-3, atol: 1e-5 });
    }
    assert(ref.final.some((v, i) => v !== x0[i]), "the run moved");
  });
}

Deno.test("tfjs cpu: every optimizer's step leaves the tensor count where it was", () => {
  for (const [dataset, spec] of OPTIMIZER_CASES) {
    const objective = createTfProblem(dataset);
    const ops = engine.ops(objective.dim);
    const x = ops.fromF64(
      initialPoint(dataset, { seed: 3, ...(dataset === TOY ? {} : { scale: 0.5 }) }),
    );
    const step = createStep(ops, objective, spec, new Rng(5));
    const baseline = tf.memory().numTensors;
    for (let t = 0; t < 5; t++) {
      step.step(x);
      assertEquals(
        tf.memory().numTensors,
        baseline,
        `${spec.kind}: tensors leaked by step ${t + 1}`,
      );
    }
    step.dispose();
    ops.dispose(x);
    objective.dispose?.();
  }
});

// The mlp at both depths (depth 3 is mlp3.ts / tf_mlp3.ts), GD and SAM from one float32 x0.
// Tolerance: a step x ← x − η·g(x̃) rounds each coordinate of x once in float32 (≤ u·|x|,
// u = 2⁻²⁴) and adds η·δg, where tfjs's float32 gradient is off by a relative ~1e-6 (the tf tests'
// bound), i.e. ≲ u·|x| again here (η = 0.1, |g| ≲ |x|). The step's Jacobian I − η∇²L has norm
// ≤ 1 + η·|λ_min| ≈ 1 on these small, nearly convex instances, so errors add up rather than grow:
// after T steps |Δx| ≤ 2·T·u·max|x| (≈ 3.6e-6·max|x| at T = 30; measured ≈ 2e-7·max|x|).
for (const depth of [2, 3] as const) {
  const mlp = makeDataset(
    { kind: "mlp", depth, hidden: 4, d: 3, n: 8, nTest: 0, teacherHidden: 2 },
    { seed: 6 },
  );
  const sgdLike = [{ kind: "gd", lr: 0.1, rho: 0 }, { kind: "sam", lr: 0.1, rho: 0.05 }] as const;
  for (const spec of sgdLike) {
    Deno.test(`tfjs cpu ${spec.kind} on mlp depth ${depth}: same x0, same final parameters as float64`, async () => {
      const x0 = Float64Array.from(initialPoint(mlp, { seed: 2 }), Math.fround);
      const steps = 30, opts = { steps, seed: 9, logSteps: [0, steps] };
      const f64Obj = createF64Problem(mlp);
      const ref = await train(new F64Ops(f64Obj.dim), f64Obj, x0, spec, opts);
      const tfObj = createTfProblem(mlp);
      const got = await train(engine.ops(tfObj.dim), tfObj, x0, spec, opts);
      tfObj.dispose?.();
      const scale = ref.final.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const tol = 2 * steps * 2 ** -24 * scale;
      assertClose(got.final, ref.final, { rtol: 0, atol: tol });
      const moved = ref.final.reduce((m, v, i) => Math.max(m, Math.abs(v - x0[i])), 0);
      assert(moved > 1e3 * tol, `the run moved (${moved})`);
    });
  }
}
