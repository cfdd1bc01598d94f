/** The fused MLP SAM steps on WebGPU (where Deno has an adapter, e.g. Mesa's lavapipe). */
import { assertClose } from "../../testing/assert.ts";
import { probeWebGpu } from "../engine/backend.ts";
import { F64Ops } from "../engine/f64.ts";
import { createTfEngine } from "../engine/tfjs.ts";
import { createStep } from "../optim/step.ts";
import { Rng } from "../rng.ts";
import { createF64Problem, initialPoint, makeDataset } from "./registry.ts";
import { createTfProblem } from "./tf_registry.ts";

const gpu = await probeWebGpu();

Deno.test({
  name: "tfjs-webgpu fused sam and 1sam track the float64 steps",
  ignore: !gpu.available,
  async fn() {
    const engine = await createTfEngine("webgpu");
    const dataset = makeDataset(
      { kind: "mlp", n: 16, d: 4, hidden: 5, activation: "tanh", nTest: 0 },
      { seed: 3 },
    );
    const x0 = initialPoint(dataset, { seed: 1 });
    const problem = createF64Problem(dataset);
    for (const kind of ["sam", "1sam"] as const) {
      const objective = createTfProblem(dataset);
      const ops = engine.ops(objective.dim);
      const spec = { kind, lr: 0.05, rho: 0.1 };
      const step = createStep(ops, objective, spec, new Rng(7));
      const ref = createStep(new F64Ops(problem.dim), problem, spec, new Rng(7));
      const x = ops.fromF64(x0), want = x0.slice();
      for (let t = 0; t < 5; t++) {
        step.step(x);
        ref.step(want);
      }
      const got = await ops.toF64(x);
      const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      assertClose(got, want, { rtol: 0, atol: 2e-6 * scale, msg: kind });
      step.dispose();
      ops.dispose(x);
      objective.dispose?.();
    }
  },
});
