import * as tf from "@tensorflow/tfjs";
import { assertEquals, assertThrows } from "../../testing/assert.ts";
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
