/**
 * The runs axis on WebGPU (where Deno has an adapter, e.g. Mesa's lavapipe): the batched MLP
 * objectives' SAM, 1-SAM and SGD steps, R = 3 runs with their own seeds, η and ρ, track each run's
 * float64 steps.
 */
import { assertClose } from "../../testing/assert.ts";
import { probeWebGpu } from "../engine/backend.ts";
import { F64Ops } from "../engine/f64.ts";
import { createTfEngine } from "../engine/tfjs.ts";
import { TfRunsOps } from "../engine/tfjs_runs.ts";
import { createStep } from "../optim/step.ts";
import type { OptimizerSpec } from "../optim/types.ts";
import { Rng } from "../rng.ts";
import { createF64Problem, initialPoint, makeDataset } from "./registry.ts";
import { createTfRunsProblem } from "./tf_runs_registry.ts";

const gpu = await probeWebGpu();

Deno.test({
  name: "tfjs-webgpu runs axis: sam, 1sam and sgd on depth 2 and 3 track each run's float64 steps",
  ignore: !gpu.available,
  async fn() {
    await createTfEngine("webgpu");
    const R = 3;
    for (const depth of [2, 3] as const) {
      const dataset = makeDataset(
        { kind: "mlp", n: 16, d: 4, hidden: 5, depth, activation: "tanh", nTest: 0 },
        { seed: 3 },
      );
      const problem = createF64Problem(dataset);
      const x0 = Array.from({ length: R }, (_, r) => initialPoint(dataset, { seed: r }));
      const D = problem.dim;
      for (
        const base of [
          { kind: "sam", lr: 0.05, rho: 0.1 },
          { kind: "1sam", lr: 0.05, rho: 0.1 },
          { kind: "sgd", lr: 0.05, rho: 0, batch: 4 },
        ] as OptimizerSpec[]
      ) {
        const specs = x0.map((_, r) => ({
          ...base,
          lr: base.lr * (1 + r / 2),
          rho: base.rho / (1 + r),
        }));
        const objective = createTfRunsProblem(dataset, R);
        const ops = new TfRunsOps(D, R);
        const step = createStep(ops, objective, specs, specs.map((_, r) => new Rng(7 + r)));
        const start = new Float64Array(R * D);
        x0.forEach((x, r) => start.set(x, r * D));
        const x = ops.fromF64(start);
        const want = x0.map((v) => v.slice());
        const refs = specs.map((s, r) => createStep(new F64Ops(D), problem, s, new Rng(7 + r)));
        for (let t = 0; t < 5; t++) {
          step.step(x);
          refs.forEach((ref, r) => ref.step(want[r]));
        }
        const got = await ops.toF64(x);
        for (let r = 0; r < R; r++) {
          const scale = want[r].reduce((m, v) => Math.max(m, Math.abs(v)), 0);
          assertClose(got.subarray(r * D, (r + 1) * D), want[r], {
            rtol: 0,
            atol: 2e-6 * scale,
            msg: `depth ${depth} ${base.kind} run ${r}`,
          });
        }
        step.dispose();
        ops.dispose(x);
        ops.close();
        objective.dispose?.();
      }
    }
  },
});
