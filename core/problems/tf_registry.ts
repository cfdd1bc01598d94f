/**
 * tfjs versions of every problem kind, built from the same `Dataset` as the f64 versions.
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { Objective } from "../engine/types.ts";
import type { TfVec } from "../engine/tfjs.ts";
import type { Dataset } from "./types.ts";
import { tfQuadratic } from "./tf_quadratic.ts";
import { tfTwoQuadratics } from "./tf_two_quadratics.ts";
import { tfToy4d } from "./tf_toy4d.ts";
import { tfSanity2d } from "./tf_sanity2d.ts";
import { tfDiagnet } from "./tf_diagnet.ts";
import { tfMlp, type TfMlpOptions } from "./tf_mlp.ts";
import { tfMlp3 } from "./tf_mlp3.ts";
import { mlpDepth } from "./mlp.ts";

/** Options of {@link createTfProblem}. */
export type TfProblemOptions = TfMlpOptions;

type Builder = (dataset: Dataset, opts: TfProblemOptions) => Objective<TfVec, tf.Scalar>;

const BUILDERS: Readonly<Record<string, Builder>> = {
  "quadratic": tfQuadratic,
  "two-quadratics": tfTwoQuadratics,
  "toy4d": tfToy4d,
  "sanity2d": tfSanity2d,
  "diagnet": tfDiagnet,
  "mlp": (dataset, opts) => mlpDepth(dataset) === 3 ? tfMlp3(dataset) : tfMlp(dataset, opts),
};

/** The problem kinds `createTfProblem` knows. */
export const TF_PROBLEM_KINDS: readonly string[] = Object.keys(BUILDERS);

/**
 * The tfjs objective of a data set, on tfjs's current backend (create the engine first). Its data
 * tensors live until `dispose()`. Throws `RangeError` on an unknown kind or malformed data.
 */
export function createTfProblem(
  dataset: Dataset,
  opts: TfProblemOptions = {},
): Objective<TfVec, tf.Scalar> {
  const build = BUILDERS[dataset.kind];
  if (!build) {
    throw new RangeError(
      `unknown problem kind "${dataset.kind}" (known: ${TF_PROBLEM_KINDS.join(", ")})`,
    );
  }
  return build(dataset, opts);
}
