import * as tf from "@tensorflow/tfjs";
import { assert, assertClose, assertEquals, assertThrows } from "../../testing/assert.ts";
import { createTfEngine } from "../engine/tfjs.ts";
import { createStep } from "../optim/step.ts";
import { Rng } from "../rng.ts";
import { initialPoint, makeDataset } from "./registry.ts";
import { createTfProblem } from "./tf_registry.ts";
import { mlpOneSamRuns, type RunSpec } from "./tf_mlp_runs.ts";

const engine = await createTfEngine("wasm");

const CASES = [
  { activation: "tanh", n: 20, d: 4, hidden: 6, runs: 3 },
  { activation: "softplus", n: 20, d: 4, hidden: 6, runs: 3 },
  // One run and wider layers: tfjs-wasm's batched products take other code paths there.
  { activation: "tanh", n: 30, d: 16, hidden: 40, runs: 1 },
] as const;

for (const { activation, n, d, hidden, runs: R } of CASES) {
  Deno.test(`mlp 1-SAM runs axis (${activation}, ${R} runs, d ${d}, h ${hidden}): each run equals its unbatched run, no leaks`, async () => {
    const dataset = makeDataset({ kind: "mlp", n, d, hidden, activation, nTest: 0 }, { seed: 8 });
    const specs: RunSpec[] = [
      { seed: 0, rho: 0.05, lr: 0.05 },
      { seed: 1, rho: 0.1, lr: 0.02 },
      { seed: 2, rho: 0.02, lr: 0.1 },
    ].slice(0, R);
    const x0 = specs.map((_, r) => initialPoint(dataset, { seed: r }));
    const ops = engine.ops(x0[0].length); // its cached constant e₁ lives with the engine
    const before = tf.memory().numTensors;
    const runs = mlpOneSamRuns(dataset, specs, x0);
    const objective = createTfProblem(dataset);
    const steps = specs.map((s) =>
      createStep(ops, objective, { kind: "1sam", lr: s.lr, rho: s.rho }, new Rng(s.seed))
    );
    const xs = x0.map((x) => ops.fromF64(x));
    for (let t = 0; t < 15; t++) {
      runs.step();
      steps.forEach((st, r) => {
        st.step(xs[r]);
        assertEquals(runs.lastSamples[r], st.lastSample, `run ${r} step ${t}: same draw`);
      });
    }
    const got = await runs.read();
    for (let r = 0; r < specs.length; r++) {
      const want = await ops.toF64(xs[r]);
      const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      assertClose(got[r], want, { rtol: 0, atol: 2e-6 * scale, msg: `run ${r}` });
      assert(want.some((v, i) => Math.abs(v - x0[r][i]) > 1e-4), `run ${r} moved`);
    }
    runs.dispose();
    steps.forEach((st) => st.dispose());
    xs.forEach((x) => ops.dispose(x));
    objective.dispose?.();
    assertEquals(tf.memory().numTensors, before, "no tensors left behind");
  });
}

Deno.test("mlp 1-SAM runs axis: a start point of the wrong length is a RangeError", () => {
  const dataset = makeDataset({ kind: "mlp", n: 5, d: 2, hidden: 3, nTest: 0 }, { seed: 1 });
  assertThrows(
    () => mlpOneSamRuns(dataset, [{ seed: 0, rho: 0.1, lr: 0.1 }], [new Float64Array(3)]),
    /one start point of length 12 per run/,
  );
});
