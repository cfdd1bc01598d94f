import * as tf from "@tensorflow/tfjs";
import { assertClose, assertEquals, assertThrows } from "../../testing/assert.ts";
import type { TfRunsVec } from "../engine/tfjs_runs.ts";
import { createTfEngine } from "../engine/tfjs.ts";
import { runsBatchMean, tfClosedFormRuns } from "./tf_closed_form_runs.ts";

await createTfEngine("cpu");

Deno.test("runsBatchMean: each run's mean over its own batch row, a repeated sample counted twice", async () => {
  const perSample = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
  const batch = tf.tensor2d([[0, 0], [2, 1]], [2, 2], "int32");
  assertEquals(Array.from(await runsBatchMean(perSample, batch).data()), [1, 5.5]);
  assertEquals(Array.from(await runsBatchMean(perSample).data()), [2, 5]);
  tf.dispose([perSample, batch]);
});

Deno.test("tfClosedFormRuns: a kind without a batched loss is a RangeError", () => {
  assertThrows(
    () => tfClosedFormRuns({ kind: "diagnet", params: {}, arrays: {}, shapes: {} }, 2),
    /^RangeError: no closed-form runs objective for diagnet$/,
  );
});

Deno.test("tfClosedFormRuns: a non-symmetric A gives each row ½xᵀAx and its gradient ½(A + Aᵀ)x, a closed form", async () => {
  const A = Float64Array.from([1, 2, 0, 0, 3, -1, 4, 0, 2]); // row-major, not symmetric
  const ds = { kind: "quadratic", params: {}, arrays: { A }, shapes: { A: [3, 3] } };
  const objective = tfClosedFormRuns(ds, 2);
  const xs = [[1, -2, 0.5], [0.25, 1, -1]];
  const xv: TfRunsVec = { t: tf.tensor2d(xs) }, out: TfRunsVec = { t: tf.zeros([2, 3]) };
  objective.grad(xv, out);
  const got = await out.t.data();
  const loss = await objective.loss(xv).data();
  for (const [r, xr] of xs.entries()) {
    const ax = [0, 1, 2].map((i) => [0, 1, 2].reduce((s, j) => s + A[3 * i + j] * xr[j], 0));
    const atx = [0, 1, 2].map((i) => [0, 1, 2].reduce((s, j) => s + A[3 * j + i] * xr[j], 0));
    const want = 0.5 * xr.reduce((s, v, i) => s + v * ax[i], 0);
    assertClose(loss[r], want, { rtol: 1e-6 });
    for (let i = 0; i < 3; i++) assertClose(got[3 * r + i], 0.5 * (ax[i] + atx[i]), { atol: 1e-6 });
  }
  objective.dispose?.();
});
