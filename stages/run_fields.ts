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
  mappingField,
  nameField,
  numberField,
  numberListField,
  type RunSchema,
} from "../pipeline/config.ts";

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
};
