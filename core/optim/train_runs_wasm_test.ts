/**
 * The runs axis on tfjs-wasm with the batched MLP objectives (one tensor computation for all runs,
 * the fused 1-SAM and SAM steps included): every run of `trainRuns` tracks `train` of the same run
 * on the unbatched objective, with the same draws, at depths 2 and 3.
 */
import * as tf from "@tensorflow/tfjs";
import { assertClose, assertEquals } from "../../testing/assert.ts";
import { createTfEngine } from "../engine/tfjs.ts";
import { TfRunsOps } from "../engine/tfjs_runs.ts";
import { initialPoint, makeDataset } from "../problems/registry.ts";
import { createTfProblem } from "../problems/tf_registry.ts";
import { createTfRunsProblem } from "../problems/tf_runs_registry.ts";
import { type RunPlan, train, trainRuns } from "./train.ts";
import type { OptimizerSpec } from "./types.ts";

const engine = await createTfEngine("wasm");
const STEPS = 30;
const SPECS: OptimizerSpec[] = [
  { kind: "gd", lr: 0.05, rho: 0 },
  { kind: "sam", lr: 0.05, rho: 0.05 },
  { kind: "1sam", lr: 0.05, rho: 0.05 },
  { kind: "sgd", lr: 0.05, rho: 0, batch: 4 },
  { kind: "usam", lr: 0.05, rho: 0.05 },
  { kind: "label-noise-sgd", lr: 0.05, rho: 0, batch: 4, sigma: 0.3 },
];

for (const depth of [2, 3] as const) {
  Deno.test(`runs axis tfjs-wasm, batched MLP depth ${depth}: 3 runs track their unbatched runs`, async () => {
    const dataset = makeDataset(
      { kind: "mlp", n: 24, d: 5, hidden: 8, depth, activation: "tanh", nTest: 0 },
      { seed: 5 },
    );
    const alone = createTfProblem(dataset);
    const D = alone.dim;
    for (const base of SPECS) {
      const runs: RunPlan[] = [0, 1, 2].map((r) => ({
        x0: initialPoint(dataset, { seed: r }),
        spec: {
          ...base,
          lr: base.lr * (1 + r / 2),
          rho: base.rho / (1 + r),
          ...(base.sigma === undefined ? {} : { sigma: base.sigma * (1 + r) }),
        },
        opts: { steps: STEPS, seed: 11 + r, logSteps: [0, 10, STEPS] },
      }));
      const before = tf.memory().numTensors;
      const objective = createTfRunsProblem(dataset, 3);
      const ops = new TfRunsOps(D, 3);
      const together = await trainRuns(ops, objective, runs);
      ops.close();
      objective.dispose?.();
      assertEquals(tf.memory().numTensors, before, `${base.kind}: no tensors left behind`);
      for (const [r, run] of runs.entries()) {
        const want = await train(engine.ops(D), alone, run.x0, run.spec, run.opts);
        assertEquals(
          together[r].rows.map((row) => row.sample),
          want.rows.map((row) => row.sample),
          `${base.kind} run ${r}: same draws`,
        );
        // Per step the two differ by the objectives' rounding (row-equal to ~1e-5 relative,
        // tf_mlp_runs_test.ts) times η, plus the update's own rounding; over 30 steps at η ≤ 0.1 on
        // a network whose gradients stay O(1), 30·(2⁻²³ + 0.1·1e-5) ≈ 3.4e-5 of max(|x|, 1) bounds it.
        const scale = want.final.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
        assertClose(together[r].final, want.final, {
          rtol: 0,
          atol: 3.4e-5 * scale,
          msg: `${base.kind} run ${r}`,
        });
      }
    }
    alone.dispose?.();
  });
}
