/**
 * One entry point per job: build a data set from a spec, wrap a data set as a float64 problem, and
 * draw an initial point.
 * @module
 */
import { Rng } from "../rng.ts";
import { diagnetDataset, DiagnetProblem, type DiagnetSpec } from "./diagnet.ts";
import {
  MLP_SOURCES,
  mlpDepth,
  mlpDim,
  MlpProblem,
  mlpRandomParams,
  type MlpSpec,
  mlpTeacherDataset,
} from "./mlp.ts";
import { Mlp3Problem, mlp3RandomParams } from "./mlp3.ts";
import { mnistDataset, type MnistRows } from "./mnist_data.ts";
import { quadraticDataset, QuadraticProblem, type QuadraticSpec } from "./quadratic.ts";
import { carsDataset, irisDataset, type RealRows } from "./real_data.ts";
import { sanity2dDataset, Sanity2dProblem, type Sanity2dSpec } from "./sanity2d.ts";
import { toy4dDataset, Toy4dProblem, type Toy4dSpec } from "./toy4d.ts";
import {
  twoQuadraticsDataset,
  TwoQuadraticsProblem,
  type TwoQuadraticsSpec,
} from "./two_quadratics.ts";
import type { Dataset, F64Problem } from "./types.ts";
import { datasetShape, fail } from "./validate.ts";

export type { DiagnetSpec, MlpSpec, QuadraticSpec, Sanity2dSpec, Toy4dSpec, TwoQuadraticsSpec };
export type { CarRow, IrisRow, RealRows } from "./real_data.ts";

/** Every problem kind, in the order of the README. */
export const PROBLEM_KINDS = [
  "quadratic",
  "two-quadratics",
  "toy4d",
  "sanity2d",
  "diagnet",
  "mlp",
] as const;
/** A problem kind. */
export type ProblemKind = typeof PROBLEM_KINDS[number];

/**
 * The kinds with closed-form derivatives and at most a few thousand parameters (the quadratics,
 * the 4-D toy, the 2-D sanity problem): a run of them holds a few [D] vectors.
 */
export const CLOSED_FORM_KINDS = ["quadratic", "two-quadratics", "toy4d", "sanity2d"] as const;
/** A closed-form problem kind. */
export type ClosedFormKind = typeof CLOSED_FORM_KINDS[number];

/** A data set spec, discriminated by `kind` (mlp specs further by `source`). */
export type DatasetSpec =
  | QuadraticSpec
  | TwoQuadraticsSpec
  | Toy4dSpec
  | Sanity2dSpec
  | DiagnetSpec
  | MlpSpec;

/** Options of {@link makeDataset}. */
export interface MakeDatasetOptions {
  /** Seed of every random draw (rotations, samples, teacher, subsample). */
  readonly seed: number;
  /** Raw rows for real-data specs (mlp with source cars, iris or mnist), from data/real_datasets.ts. */
  readonly rows?: RealRows;
}

/** Throws a RangeError naming the valid kinds unless `kind` is one of them. */
function checkKind(kind: unknown, what: string): asserts kind is ProblemKind {
  if (!PROBLEM_KINDS.includes(kind as ProblemKind)) {
    throw new RangeError(
      `${what}: unknown kind ${JSON.stringify(kind)} (valid kinds: ${PROBLEM_KINDS.join(", ")})`,
    );
  }
}

/**
 * Builds the data set a spec describes; a pure function of (spec, seed, rows). Throws RangeError
 * naming the bad field on invalid input.
 */
export function makeDataset(spec: DatasetSpec, opts: MakeDatasetOptions): Dataset {
  if (typeof spec !== "object" || spec === null) {
    throw new RangeError(`makeDataset: spec must be an object (got ${JSON.stringify(spec)})`);
  }
  checkKind(spec.kind, "makeDataset");
  if (!Number.isInteger(opts.seed)) {
    throw new RangeError(`makeDataset: seed must be an integer (got ${opts.seed})`);
  }
  switch (spec.kind) {
    case "quadratic":
      return quadraticDataset(spec, opts.seed);
    case "two-quadratics":
      return twoQuadraticsDataset(spec, opts.seed);
    case "toy4d":
      return toy4dDataset(spec);
    case "sanity2d":
      return sanity2dDataset(spec);
    case "diagnet":
      return diagnetDataset(spec, opts.seed);
    case "mlp": {
      const source = spec.source ?? "teacher";
      if (source === "teacher") return mlpTeacherDataset(spec, opts.seed);
      if (!MLP_SOURCES.includes(source)) {
        fail(
          "mlp",
          `source must be one of ${MLP_SOURCES.join(", ")} (got ${JSON.stringify(source)})`,
        );
      }
      if (!opts.rows) {
        fail("mlp", `source "${source}" needs opts.rows (load them with data/real_datasets.ts)`);
      }
      if (source === "mnist") return mnistDataset(spec, opts.rows as MnistRows, opts.seed);
      return source === "cars"
        ? carsDataset(spec, opts.rows, opts.seed)
        : irisDataset(spec, opts.rows, opts.seed);
    }
  }
}

/** Wraps a data set as the float64 engine's problem; throws on an unknown kind. */
export function createF64Problem(dataset: Dataset): F64Problem {
  checkKind(dataset.kind, "createF64Problem");
  switch (dataset.kind) {
    case "quadratic":
      return new QuadraticProblem(dataset);
    case "two-quadratics":
      return new TwoQuadraticsProblem(dataset);
    case "toy4d":
      return new Toy4dProblem(dataset);
    case "sanity2d":
      return new Sanity2dProblem(dataset);
    case "diagnet":
      return new DiagnetProblem(dataset);
    case "mlp":
      return mlpDepth(dataset) === 3 ? new Mlp3Problem(dataset) : new MlpProblem(dataset);
  }
}

/** Options of {@link initialPoint}. */
export interface InitialPointOptions {
  /** Seed of the random default (quadratics, mlp). */
  readonly seed: number;
  /** Explicit initial point (its length must be D). */
  readonly x0?: readonly number[];
  /**
   * Scale of the default: quadratics N(0, I)/√D·scale (default 1), diagnet u = v = scale·1
   * (default 0.1), mlp standard deviations times scale (default 1). toy4d and sanity2d have fixed
   * defaults and reject it.
   */
  readonly scale?: number;
}

/** The number of parameters D of a data set's problem. */
export function problemDim(dataset: Dataset): number {
  checkKind(dataset.kind, "problemDim");
  switch (dataset.kind) {
    case "quadratic":
      return datasetShape(dataset, "A", 2)[0];
    case "two-quadratics":
      return datasetShape(dataset, "A1", 2)[0];
    case "toy4d":
      return 4;
    case "sanity2d":
      return 2;
    case "diagnet":
      return 2 * datasetShape(dataset, "z", 2)[1];
    case "mlp": {
      const h = dataset.params.hidden;
      if (typeof h !== "number" || !Number.isInteger(h) || h < 1) {
        fail("mlp", `params.hidden must be a positive integer (got ${JSON.stringify(h)})`);
      }
      return mlpDim({
        hidden: h,
        inputDim: datasetShape(dataset, "z", 2)[1],
        depth: mlpDepth(dataset),
      });
    }
  }
}

/**
 * The initial point of a run: `x0` when given (length-checked), else the kind's seeded default:
 * quadratics N(0, I)/√D·scale; toy4d (1, 1, 0.3, 0.3) (docs/theory.md §7); sanity2d (2, 0.3), off Γ;
 * diagnet u = v = scale·1 (scale 0.1); mlp W ~ N(0, 1/d), b = 0, a ~ N(0, 1/h) (times scale), at
 * depth 3 W1 ~ N(0, 1/d), W2 ~ N(0, 1/h), a ~ N(0, 1/h), b1 = b2 = 0 (times scale).
 */
export function initialPoint(dataset: Dataset, opts: InitialPointOptions): Float64Array {
  const kind = dataset.kind;
  checkKind(kind, "initialPoint");
  const dim = problemDim(dataset);
  if (opts.x0 !== undefined) {
    if (
      !Array.isArray(opts.x0) || opts.x0.length !== dim ||
      !opts.x0.every((v) => typeof v === "number" && Number.isFinite(v))
    ) {
      fail(kind, `x0 must be a list of ${dim} finite numbers (got ${JSON.stringify(opts.x0)})`);
    }
    return Float64Array.from(opts.x0);
  }
  if (!Number.isInteger(opts.seed)) fail(kind, `seed must be an integer (got ${opts.seed})`);
  const scale = opts.scale;
  if (scale !== undefined && !(Number.isFinite(scale) && scale > 0)) {
    fail(kind, `scale must be a finite number > 0 (got ${scale})`);
  }
  // Drawn only where the default is random: a sweep validates and starts 10⁴ fixed-point runs.
  const rng = () => new Rng(opts.seed);
  switch (kind) {
    case "quadratic":
    case "two-quadratics": {
      const x = rng().fillNormal(new Float64Array(dim));
      const f = (scale ?? 1) / Math.sqrt(dim);
      for (let i = 0; i < dim; i++) x[i] *= f;
      return x;
    }
    case "toy4d":
    case "sanity2d":
      if (scale !== undefined) fail(kind, "scale does not apply to its fixed default; give x0");
      return kind === "toy4d" ? Float64Array.of(1, 1, 0.3, 0.3) : Float64Array.of(2, 0.3);
    case "diagnet":
      return new Float64Array(dim).fill(scale ?? 0.1);
    case "mlp": {
      const hidden = dataset.params.hidden as number;
      const shape = { hidden, inputDim: datasetShape(dataset, "z", 2)[1] };
      return mlpDepth(dataset) === 3
        ? mlp3RandomParams(shape, rng(), { scale: scale ?? 1 })
        : mlpRandomParams(shape, rng(), { scale: scale ?? 1 });
    }
  }
}
