/**
 * The fields a train run may set in an experiment file, as the train stage declares them for the
 * pipeline's parser: each field's check and bounds (limits no real experiment reaches), whether it
 * is a vector (`x0`: only a list of lists sweeps), and which fields every run needs. What the values
 * mean (which optimizers exist, an optimizer's own fields) the train stage's `validate` judges.
 * @module
 */
import {
  groupingField,
  integerField,
  type Json,
  LIMITS,
  mappingField,
  nameField,
  numberField,
  numberListField,
  type RunSchema,
} from "../pipeline/config.ts";
import { CLOSED_FORM_KINDS } from "../core/problems/registry.ts";

/** Upper bounds of the integer run fields. */
export const RUN_LIMITS = {
  /** Steps of one train run. */
  steps: 1_000_000_000,
  /** `log_per_decade` of a run. */
  logPerDecade: 1000,
  /** `inner_steps` of the `max` optimizer (each step runs that many inner steps). */
  innerSteps: 10_000,
  /** `batch` of the minibatch optimizers. */
  batch: 10_000_000,
} as const;

/** Train-run fields, in the order of swept values in instance labels. */
export const TRAIN_RUNS: RunSchema = {
  fields: {
    optimizer: { check: nameField },
    lr: { check: numberField((x) => x > 0, "> 0") },
    rho: { check: numberField((x) => x >= 0, ">= 0") },
    steps: { check: integerField(1, RUN_LIMITS.steps) },
    seed: { check: integerField(null), ranges: true },
    batch: { check: integerField(1, RUN_LIMITS.batch) },
    sigma: { check: numberField((x) => x >= 0, ">= 0") },
    inner_steps: { check: integerField(1, RUN_LIMITS.innerSteps) },
    x0: { check: numberListField, vector: true },
    init_scale: { check: numberField((x) => x > 0, "> 0") },
    backend: { check: nameField },
    log_per_decade: { check: integerField(1, RUN_LIMITS.logPerDecade) },
    // The train stage checks the window's fields against the run (steps, bounds).
    window: { check: mappingField },
    // The runs of the entry advance together on the runs axis (one tensor computation).
    runs_axis: { check: groupingField, groups: true },
  },
  required: ["optimizer", "lr", "steps"],
  groupSize: runsAxisGroupSize,
};

/** Optimizer steps a default group of a closed-form problem holds: 64 runs of 10⁴ steps. */
export const GROUP_STEPS = 640_000;

/** The largest default group of a closed-form problem. */
export const MAX_DEFAULT_GROUP = 1024;

/**
 * What `runs_axis: true` means for one entry: groups of {@linkcode LIMITS}.groupSize (64) runs,
 * and for closed-form problems ({@linkcode CLOSED_FORM_KINDS}) as many runs as hold
 * {@linkcode GROUP_STEPS} steps (inner steps counted, the entry's longest run for all), between 64
 * and {@linkcode MAX_DEFAULT_GROUP}. A step
 * of such a group costs tens of nanoseconds per run on the float64 engine and one dispatch for the
 * whole group on tfjs, while a group's bookkeeping (its lock, files and manifest) costs the same
 * whatever its runs do, so short runs share it more widely; what one failure loses and what a
 * single-run rerun recomputes stays within 64 runs or {@linkcode GROUP_STEPS} steps, whichever is
 * more. Networks keep 64: their batched activations grow with the group.
 */
export function runsAxisGroupSize(
  runs: readonly Readonly<Record<string, Json>>[],
  dataset: Readonly<Record<string, Json>>,
): number {
  if (!(CLOSED_FORM_KINDS as readonly Json[]).includes(dataset.kind)) return LIMITS.groupSize;
  let longest = 1;
  for (const r of runs) {
    const steps = Number(r.steps) * (typeof r.inner_steps === "number" ? r.inner_steps : 1);
    if (steps > longest) longest = steps;
  }
  return Math.min(MAX_DEFAULT_GROUP, Math.max(LIMITS.groupSize, Math.floor(GROUP_STEPS / longest)));
}
