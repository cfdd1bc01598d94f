/**
 * Claims: predictions declared as data in an experiment file, evaluated from the measured tables
 * into a verdict. Everything here is pure: evaluators read plain row arrays.
 * @module
 */
import type { Dataset } from "../problems/types.ts";
import type { WindowStep } from "../optim/types.ts";
import type { Requirements } from "./requires.ts";

/** How a measured value is compared with its prediction (the tolerance's meaning). */
export type Compare =
  | "abs" // |measured − predicted| ≤ tolerance
  | "rel" // |measured − predicted| ≤ tolerance·|predicted|
  | "at_most" // measured ≤ predicted + tolerance (predicted is a bound)
  | "at_least"; // measured ≥ predicted − tolerance

/**
 * What a claim tests: `prediction` (a statement of the paper, or derived from it, that a wrong
 * implementation or a false theory would fail), `sanity` (an identity or structural property that
 * checks the code, not the theory; never counted in a headline) or `measurement` (a quantity the
 * paper makes no prediction of, reported with verdict "reported" and never judged).
 */
export type ClaimKind = "prediction" | "sanity" | "measurement";

/** One claim as declared in an experiment's `claims:` list. */
export interface ClaimSpec {
  /** Prediction or sanity check. */
  readonly kind: ClaimKind;
  /** Unique id within the experiment. */
  readonly id: string;
  /** Where the paper (or a derivation) states it, e.g. "Theorem 4.8". */
  readonly source: string;
  /** The prediction in words, including where its tolerance comes from. */
  readonly statement: string;
  /** Name of the evaluator (a key of the claim registry). */
  readonly metric: string;
  /** Evaluator arguments (which runs, which metric, …). */
  readonly args: Readonly<Record<string, unknown>>;
  /** A constant prediction, for evaluators that do not compute one from theory. */
  readonly predicted?: number;
  /** Allowed deviation, in the sense of `compare`. */
  readonly tolerance: number;
  /** Default "abs". */
  readonly compare: Compare;
  /** Assumption checks evaluated before the verdict (core/claims/requires.ts). */
  readonly requires?: Requirements;
}

/** One training run of the experiment, as the tabulate stage knows it. */
export interface RunRecord {
  /** Run name, e.g. `sam-rho0.05`. */
  readonly run: string;
  /** Optimizer kind. */
  readonly optimizer: string;
  /** η. */
  readonly lr: number;
  /** ρ. */
  readonly rho: number;
  /** Seed of the run. */
  readonly seed: number;
  /** Divergence message, "" when the run completed. */
  readonly diverged: string;
  /** Initial point when the run gave one. */
  readonly x0?: readonly number[];
}

/** One tidy measurement: a run's metric at a step. */
export interface MeasureRow {
  /** Run name. */
  readonly run: string;
  /** Step t. */
  readonly step: number;
  /** τ = ηρ²t. */
  readonly tau: number;
  /** Metric name (trajectory or spectral). */
  readonly metric: string;
  /** Value (NaN when undefined). */
  readonly value: number;
}

/**
 * One step of a logged window (consecutive steps after a chosen checkpoint) of a run: the sign of
 * ⟨x − Φ(x₀), v1(x₀)⟩ with Φ and v1 computed once at the window start x₀, the sample drawn, the loss.
 */
export interface WindowRow extends WindowStep {
  /** Run name. */
  readonly run: string;
}

/** Everything an evaluator may read. */
export interface ClaimData {
  /** The experiment's data set. */
  readonly dataset: Dataset;
  /** Its runs. */
  readonly runs: readonly RunRecord[];
  /** Trajectory metrics (loss, grad_norm, param_norm, x1…, test_loss). */
  readonly trajectory: readonly MeasureRow[];
  /** Spectral metrics at the analysed checkpoints. */
  readonly spectra: readonly MeasureRow[];
  /** Logged windows of consecutive steps (empty when the experiment logs none). */
  readonly window?: readonly WindowRow[];
}

/** One compared pair (a run, or a group of seeds). */
export interface ClaimCase {
  /** What the case is, e.g. the run name or `lr=0.01`. */
  readonly label: string;
  /** Measured value. */
  readonly measured: number;
  /** Predicted value (or bound). */
  readonly predicted: number;
  /** Standard deviation over seeds when the case averages seeds. */
  readonly spread?: number;
}

/** An evaluator's output: the cases, plus the predicted value when the claim supplies it. */
export type Evaluator = (
  data: ClaimData,
  args: Readonly<Record<string, unknown>>,
  predicted: number | undefined,
) => ClaimCase[];

/** Verdicts ("reported" only for measurements). */
export type Verdict = "reproduced" | "not reproduced" | "inconclusive" | "reported";

/** One row of claims.csv. */
export interface ClaimRow {
  claim_id: string;
  /** Prediction or sanity check. */
  kind: ClaimKind;
  /** The claim's assumption checks in words with their measured values, "" when it declares none. */
  requires: string;
  source: string;
  statement: string;
  metric: string;
  predicted: number;
  measured: number;
  spread: number;
  tolerance: number;
  compare: Compare;
  verdict: Verdict;
  note: string;
}

/** Thrown by evaluators when the data cannot decide the claim (missing, NaN, diverged). */
export class Inconclusive extends Error {
  /** @param message the reason, shown in the `note` column */
  constructor(message: string) {
    super(message);
    this.name = "Inconclusive";
  }
}
