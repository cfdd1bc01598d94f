/**
 * Test support: one case per optimizer on the small problems the engine tests share (the 4-D toy
 * for the full-batch and one-sample methods, a diagonal net for the minibatch and label-noise ones).
 * @module
 */
import { makeDataset } from "../../problems/registry.ts";
import type { Dataset } from "../../problems/types.ts";
import type { OptimizerSpec } from "../types.ts";

/** The 4-D toy of Figure 1 (`family: paper`). */
export const TOY: Dataset = makeDataset({ kind: "toy4d", family: "paper" }, { seed: 1 });
/** A diagonal linear net with n = 8 samples (Setting 5.1, label noise possible). */
export const DIAG: Dataset = makeDataset({ kind: "diagnet", n: 8, d: 5, k: 2, nTest: 0 }, {
  seed: 4,
});

/** Every optimizer kind once, on the problem it suits. */
export const OPTIMIZER_CASES: readonly [Dataset, OptimizerSpec][] = [
  [TOY, { kind: "gd", lr: 0.05, rho: 0.1 }],
  [TOY, { kind: "sam", lr: 0.05, rho: 0.1 }],
  [TOY, { kind: "usam", lr: 0.05, rho: 0.1 }],
  [TOY, { kind: "1sam", lr: 0.05, rho: 0.1 }],
  // GD on L^Asc is stiff near Γ (the 1/‖∇L‖ factor amplifies float32 rounding: at η = 0.02 the
  // engines agree to 1e-8 for 20 steps, then part by 3e-4 once ‖∇L‖ ≈ 0.03); η = 0.005 stays clear.
  [TOY, { kind: "asc-exact", lr: 0.005, rho: 0.1 }],
  [TOY, { kind: "max", lr: 0.05, rho: 0.1, innerSteps: 3 }],
  [TOY, { kind: "avg", lr: 0.05, rho: 0.1 }],
  [DIAG, { kind: "sgd", lr: 0.02, rho: 0, batch: 3 }],
  [DIAG, { kind: "minibatch-sam", lr: 0.02, rho: 0.05, batch: 3 }],
  [DIAG, { kind: "label-noise-sgd", lr: 0.02, rho: 0, batch: 4, sigma: 0.3 }],
];
