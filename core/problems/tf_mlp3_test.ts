/**
 * The depth-3 network on tfjs (cpu and wasm backends: the plain and the samples-along-columns
 * forms of the full batch) against the float64 Mlp3Problem on the same Dataset:
 * two independent derivations (autodiff in float32, hand-written backprop and R-operator in
 * float64) of loss, gradient, HVP and label-noise gradient.
 */
import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertThrows } from "../../testing/assert.ts";
import { createTfEngine } from "../engine/tfjs.ts";
import { oracleFrom } from "../engine/oracle.ts";
import { Rng } from "../rng.ts";
import { createF64Problem, initialPoint, makeDataset } from "./registry.ts";
import { tfMlp } from "./tf_mlp.ts";
import { tfMlp3 } from "./tf_mlp3.ts";
import { tfMlp3Runs, tfMlpRuns } from "./tf_mlp_runs.ts";
import { createTfProblem } from "./tf_registry.ts";
import { assertAgreesWithF64 } from "./testing/f64_agreement.ts";
import { relErr, toF32 } from "./tf_testing.ts";

for (
  const [activation, backend] of [
    ["tanh", "cpu"],
    ["softplus", "cpu"],
    ["tanh", "wasm"],
    ["softplus", "wasm"],
  ] as const
) {
  const ds = makeDataset(
    { kind: "mlp", depth: 3, hidden: 5, activation, n: 8, d: 3, nTest: 4 },
    { seed: 3 },
  );
  Deno.test(`tf mlp depth 3 ${activation} on ${backend}: loss, grad, hvp, labelNoiseGrad equal float64`, async () => {
    const engine = await createTfEngine(backend);
    const f64 = createF64Problem(ds), objective = createTfProblem(ds);
    const dim = f64.dim, m = f64.numSamples;
    assertEquals([objective.dim, objective.numSamples], [dim, m]);
    assertEquals(dim, 5 * (3 + 5 + 3));
    assertEquals(objective.fusedSam, undefined);
    const oracle = oracleFrom(engine.ops(dim), objective);
    // Near the default start but off it, at a float32 point: only tfjs's float32 rounding remains.
    const rng = new Rng(21);
    const x = toF32(initialPoint(ds, { seed: 5 }).map((xi) => xi + 0.3 * rng.normal()));
    const v = toF32(rng.fillNormal(new Float64Array(dim)));
    for (const batch of [undefined, Int32Array.of(m - 1, 0, m - 1)]) {
      const label = `batch ${batch ?? "full"}`;
      await assertAgreesWithF64(oracle, f64, { x, v, batch, label });
    }
    const ops = engine.ops(dim), xv = ops.fromF64(x), out = ops.zeros();
    const batch = Int32Array.of(m - 1, 2, 0), noise = toF32([0.4, -0.2, 0.9]);
    const g64 = new Float64Array(dim);
    objective.labelNoiseGrad!(xv, out, batch, noise);
    f64.labelNoiseGrad!(x, g64, batch, noise);
    const err = relErr(await ops.toF64(out), g64);
    assert(err < 1e-5, `label-noise grad rel err ${err}`);
    ops.dispose(xv);
    ops.dispose(out);
    objective.dispose?.();
  });
}

Deno.test("tf mlp depth 3: no tensors left behind; dispose frees the data", async () => {
  const ds = makeDataset({ kind: "mlp", depth: 3, hidden: 3, n: 5, d: 2 }, { seed: 1 });
  const engine = await createTfEngine("wasm");
  const objective = createTfProblem(ds), ops = engine.ops(objective.dim);
  const x = initialPoint(ds, { seed: 2 });
  const xv = ops.fromF64(x), vv = ops.fromF64(x.map((xi) => 1 - xi)), out = ops.zeros();
  const base = tf.memory().numTensors;
  for (const batch of [undefined, Int32Array.of(4, 1)]) {
    const s = objective.loss(xv, batch);
    await ops.read(s);
    ops.disposeScalar(s);
    objective.grad(xv, out, batch);
    objective.hvp(xv, vv, out, batch);
  }
  objective.labelNoiseGrad!(xv, out, Int32Array.of(0, 1), Float64Array.of(0.1, 0.2));
  await ops.toF64(out);
  assertEquals(tf.memory().numTensors, base);
  [xv, vv, out].forEach((t) => ops.dispose(t));
  const before = tf.memory().numTensors;
  objective.dispose?.();
  // z, y and, on wasm, zᵀ.
  assertEquals(tf.memory().numTensors, before - 3);
});

Deno.test("tf mlp: each depth's builders reject the other's data set", () => {
  const ds = makeDataset({ kind: "mlp", hidden: 2, n: 3, d: 2 }, { seed: 0 });
  assertThrows(() => tfMlp3(ds), /^RangeError: mlp: tfMlp3 needs params.depth = 3$/);
  assertThrows(
    () => tfMlp({ ...ds, params: { ...ds.params, depth: 3 } }),
    /^RangeError: mlp: params.depth 3 is tfMlp3's/,
  );
  const deep = makeDataset({ kind: "mlp", depth: 3, hidden: 2, n: 3, d: 2 }, { seed: 0 });
  assertThrows(() => tfMlpRuns(deep, 2), /^RangeError: mlp: params.depth 3 is tfMlp3Runs's$/);
  assertThrows(() => tfMlp3Runs(ds, 2), /^RangeError: mlp: tfMlp3Runs needs params.depth = 3$/);
});
