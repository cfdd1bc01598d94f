/**
 * tfjs objectives of every problem kind on the runs axis (R runs of one data set advancing
 * together): the MLPs' batched objectives (tf_mlp_runs.ts), the closed-form problems' losses over
 * [R, D] (tf_closed_form_runs.ts), and the other kinds' unbatched objective lifted by
 * `loopedTfObjective`.
 * @module
 */
import type { Objective } from "../engine/types.ts";
import { loopedTfObjective, type TfRunsScalar, type TfRunsVec } from "../engine/tfjs_runs.ts";
import type { Dataset } from "./types.ts";
import { createTfProblem } from "./tf_registry.ts";
import { tfMlp3Runs, tfMlpRuns } from "./tf_mlp_runs.ts";
import { mlpDepth } from "./mlp.ts";
import { hasClosedFormRuns, tfClosedFormRuns } from "./tf_closed_form_runs.ts";

/**
 * The runs-axis tfjs objective of a data set for `runs` runs, on tfjs's current backend (create
 * the engine first). Its data tensors live until `dispose()`. Throws `RangeError` on an unknown
 * kind, malformed data or runs < 1.
 */
export function createTfRunsProblem(
  dataset: Dataset,
  runs: number,
): Objective<TfRunsVec, TfRunsScalar, TfRunsScalar> {
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`runs must be ≥ 1 (got ${runs})`);
  if (dataset.kind === "mlp") {
    return mlpDepth(dataset) === 3 ? tfMlp3Runs(dataset, runs) : tfMlpRuns(dataset, runs);
  }
  if (hasClosedFormRuns(dataset.kind)) return tfClosedFormRuns(dataset, runs);
  const inner = createTfProblem(dataset);
  return { ...loopedTfObjective(inner, runs), dispose: () => inner.dispose?.() };
}
