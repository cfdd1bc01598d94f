/**
 * createTfRunsProblem: the MLPs and the closed-form kinds get their batched objectives, the others
 * the looped one, and each row of every kind's runs objective equals the unbatched objective
 * (createTfProblem) on that row: its loss, gradient and Hessian-vector product, up to float32
 * rounding of the batched sums (see tf_mlp_runs_test.ts for that tolerance's derivation).
 */
import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertThrows } from "../../testing/assert.ts";
import { createTfEngine } from "../engine/tfjs.ts";
import { TfRunsOps } from "../engine/tfjs_runs.ts";
import { Rng } from "../rng.ts";
import { makeDataset } from "./registry.ts";
import { createTfProblem } from "./tf_registry.ts";
import { createTfRunsProblem } from "./tf_runs_registry.ts";
import { datasetLabel, datasetSamples, relErr, testDatasets, toF32 } from "./tf_testing.ts";

const engine = await createTfEngine("cpu");
const R = 2;
const deep = makeDataset(
  { kind: "mlp", depth: 3, hidden: 3, n: 6, d: 2, nTest: 0 },
  { seed: 2 },
);

for (const ds of [...testDatasets(), deep]) {
  const label = ds.params.depth === 3 ? "mlp depth 3" : datasetLabel(ds);
  Deno.test(`tf runs ${label}: each row's loss, grad and HVP equal the unbatched objective's, dispose frees all`, async () => {
    const single = createTfProblem(ds), D = single.dim, m = datasetSamples(ds);
    const ops1 = engine.ops(D); // its cached e₁ lives with the engine
    const start = tf.memory().numTensors;
    const objective = createTfRunsProblem(ds, R);
    assertEquals([objective.dim, objective.runs, objective.numSamples], [D, R, m]);
    assertEquals(objective.labelNoiseGrad !== undefined, single.labelNoiseGrad !== undefined);
    // Only the batched two-layer objective has fused steps: the looped ones have none.
    const batched2 = ds.kind === "mlp" && ds.params.depth !== 3;
    assertEquals(objective.fusedSam?.(1) !== undefined, batched2, "fused 1-SAM");
    const ops = new TfRunsOps(D, R);
    const x = toF32(new Rng(5).fillNormal(new Float64Array(R * D)).map((v) => 0.7 * v));
    const batch = Int32Array.from({ length: 2 * R }, (_, i) => (i * 3 + 1) % m);
    const xv = ops.fromF64(x), out = ops.zeros();
    objective.grad(xv, out, batch);
    const got = await ops.toF64(out);
    for (let r = 0; r < R; r++) {
      const xr = ops1.fromF64(x.subarray(r * D, (r + 1) * D)), g = ops1.zeros();
      single.grad(xr, g, batch.subarray(2 * r, 2 * r + 2));
      const err = relErr(got.subarray(r * D, (r + 1) * D), await ops1.toF64(g));
      assert(err < 1e-5, `run ${r}: rel err ${err}`);
      ops1.dispose(xr);
      ops1.dispose(g);
    }
    // The loss and the Hessian-vector product, row by row, the same way.
    const v = toF32(new Rng(6).fillNormal(new Float64Array(R * D)));
    const vv = ops.fromF64(v), hv = ops.zeros();
    objective.hvp(xv, vv, hv, batch);
    const hvs = await ops.toF64(hv);
    const loss = objective.loss(xv, batch);
    const losses = await ops.readRuns(loss);
    ops.disposeScalar(loss);
    for (let r = 0; r < R; r++) {
      const rows = (a: Float64Array) => a.subarray(r * D, (r + 1) * D);
      const xr = ops1.fromF64(rows(x)), vr = ops1.fromF64(rows(v)), h = ops1.zeros();
      const b = batch.subarray(2 * r, 2 * r + 2);
      single.hvp(xr, vr, h, b);
      const err = relErr(rows(hvs), await ops1.toF64(h));
      assert(err < 1e-5, `run ${r}: hvp rel err ${err}`);
      const l = single.loss(xr, b);
      const want = await ops1.read(l);
      assert(Math.abs(losses[r] - want) <= 1e-6 * Math.max(1, Math.abs(want)), `run ${r}: loss`);
      ops1.disposeScalar(l);
      [xr, vr, h].forEach((t) => ops1.dispose(t));
    }
    [xv, out, vv, hv].forEach((t) => ops.dispose(t));
    ops.close();
    objective.dispose?.();
    assertEquals(tf.memory().numTensors, start, "no tensors left behind");
    single.dispose?.();
  });
}

Deno.test("createTfRunsProblem: bad runs or kind are RangeErrors", () => {
  assertThrows(() => createTfRunsProblem(deep, 0), /^RangeError: runs must be ≥ 1 \(got 0\)$/);
  assertThrows(
    () => createTfRunsProblem({ kind: "nope", params: {}, arrays: {}, shapes: {} }, 1),
    /^RangeError: unknown problem kind "nope"/,
  );
});
