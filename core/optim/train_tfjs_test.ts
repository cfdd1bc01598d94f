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
import { createStep } from "./step.ts";
import { Rng } from "../rng.ts";
import type { OptimizerSpec } from "./types.ts";

const engine = await createTfEngine("cpu");

const toy = makeDataset({ kind: "toy4d", family: "paper" }, { seed: 1 });
const diag = makeDataset({ kind: "diagnet", n: 8, d: 5, k: 2, nTest: 0 }, { seed: 4 });

const cases: [typeof toy, OptimizerSpec][] = [
  [toy, { kind: "gd", lr: 0.05, rho: 0.1 }],
  [toy, { kind: "sam", lr: 0.05, rho: 0.1 }],
  [toy, { kind: "usam", lr: 0.05, rho: 0.1 }],
  [toy, { kind: "1sam", lr: 0.05, rho: 0.1 }],
  // GD on L^Asc is stiff near Γ (the 1/‖∇L‖ factor amplifies float32 rounding: at η = 0.02 the
  // engines agree to 1e-8 for 20 steps, then part by 3e-4 once ‖∇L‖ ≈ 0.03); η = 0.005 stays clear.
  [toy, { kind: "asc-exact", lr: 0.005, rho: 0.1 }],
  [toy, { kind: "max", lr: 0.05, rho: 0.1, innerSteps: 3 }],
  [toy, { kind: "avg", lr: 0.05, rho: 0.1 }],
  [diag, { kind: "sgd", lr: 0.02, rho: 0, batch: 3 }],
  [diag, { kind: "minibatch-sam", lr: 0.02, rho: 0.05, batch: 3 }],
  [diag, { kind: "label-noise-sgd", lr: 0.02, rho: 0, batch: 4, sigma: 0.3 }],
];

for (const [dataset, spec] of cases) {
  Deno.test(`tfjs cpu ${spec.kind} on ${dataset.kind}: tracks float64, same draws, no leaks`, async () => {
    const x0 = dataset.kind === "toy4d"
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
  for (const [dataset, spec] of cases) {
    const objective = createTfProblem(dataset);
    const ops = engine.ops(objective.dim);
    const x = ops.fromF64(
      initialPoint(dataset, { seed: 3, ...(dataset.kind === "toy4d" ? {} : { scale: 0.5 }) }),
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
