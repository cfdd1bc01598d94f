/**
 * Validation of optimizer specifications and their decomposition into the three axes of the one
 * parametrized SAM-family step: where the gradients come from, how the
 * ascent is scaled, and which gradient is applied.
 * @module
 */
import type { OptimizerKind, OptimizerSpec } from "./types.ts";

/** Every optimizer kind, in the order of docs/theory.md §1. */
export const OPTIMIZER_KINDS: readonly OptimizerKind[] = [
  "gd",
  "sgd",
  "sam",
  "usam",
  "1sam",
  "minibatch-sam",
  "asc-exact",
  "max",
  "avg",
  "label-noise-sgd",
];

/**
 * How the ascent perturbation ε of x̃ = x + ε is formed.
 * - `none`: no perturbation (gd, sgd, label-noise-sgd, and every kind when ρ = 0);
 * - `normalized`: ε = ρ∇L_B/‖∇L_B‖ (SAM, 1-SAM, mini-batch SAM, asc-exact);
 * - `unnormalized`: ε = ρ∇L (USAM);
 * - `sphere`: ε = ρu, u uniform on the unit sphere (average-direction);
 * - `projected`: ε = inner projected gradient ascent on the ρ-ball started at ρĝ (max).
 */
export type AscentScaling = "none" | "normalized" | "unnormalized" | "sphere" | "projected";

/**
 * Which gradient the step applies.
 * - `perturbed`: ∇L_B(x̃) (SAM family; ∇L_B(x) when there is no perturbation);
 * - `exact-asc`: the exact gradient of L^Asc through the Jacobian of the ascent point;
 * - `label-noise`: the gradient of mean_{k∈B}(f_k − y_k − σξ_k)², fresh ξ each step.
 */
export type AppliedGradient = "perturbed" | "exact-asc" | "label-noise";

/** An optimizer spec resolved onto the three axes of the parametrized step, defaults filled in. */
export interface StepPlan {
  /** Learning rate η. */
  readonly lr: number;
  /** Perturbation radius ρ actually used by the step (0 for kinds without perturbation). */
  readonly rho: number;
  /** Batch size b of ascent and applied gradient; b = M means the full batch. */
  readonly batch: number;
  /** How the ascent perturbation is formed. */
  readonly scaling: AscentScaling;
  /** Which gradient is applied. */
  readonly applied: AppliedGradient;
  /** Inner steps of the `projected` scaling. */
  readonly innerSteps: number;
  /** Inner step length of the `projected` scaling, in units of ρ. */
  readonly innerStepSize: number;
  /** Label-noise standard deviation σ. */
  readonly sigma: number;
}

/** Default number of inner ascent steps of `max`. */
export const DEFAULT_INNER_STEPS = 10;
/** Default inner step length of `max`, in units of ρ along the normalized gradient. */
export const DEFAULT_INNER_STEP_SIZE = 10;

const BATCHED: readonly OptimizerKind[] = ["sgd", "minibatch-sam", "label-noise-sgd"];

function fail(field: string, spec: OptimizerSpec, why: string): never {
  throw new RangeError(`optimizer ${spec.kind}: ${field} ${why}`);
}

/**
 * Checks an optimizer spec for a problem with `numSamples` per-sample losses and throws a RangeError
 * naming the offending field: lr finite > 0, rho finite ≥ 0, batch an integer in [1, M] for sgd,
 * minibatch-sam and label-noise-sgd (1 if given for 1sam, absent otherwise), innerSteps an integer ≥ 0
 * and innerStepSize ≥ 2 (max only), sigma finite ≥ 0 (required by label-noise-sgd, absent otherwise).
 */
export function validateOptimizerSpec(spec: OptimizerSpec, numSamples: number): void {
  if (!OPTIMIZER_KINDS.includes(spec.kind)) {
    throw new RangeError(
      `optimizer kind must be one of ${OPTIMIZER_KINDS.join(", ")} (got ${String(spec.kind)})`,
    );
  }
  if (!Number.isInteger(numSamples) || numSamples < 1) {
    throw new RangeError(`numSamples must be an integer ≥ 1 (got ${numSamples})`);
  }
  if (typeof spec.lr !== "number" || !Number.isFinite(spec.lr) || spec.lr <= 0) {
    fail("lr", spec, `must be a finite number > 0 (got ${spec.lr})`);
  }
  if (typeof spec.rho !== "number" || !Number.isFinite(spec.rho) || spec.rho < 0) {
    fail("rho", spec, `must be a finite number ≥ 0 (got ${spec.rho})`);
  }
  if (BATCHED.includes(spec.kind)) {
    const b = spec.batch;
    if (b === undefined) fail("batch", spec, `is required (an integer in [1, ${numSamples}])`);
    if (!Number.isInteger(b) || b < 1 || b > numSamples) {
      fail("batch", spec, `must be an integer in [1, M = ${numSamples}] (got ${b})`);
    }
  } else if (spec.kind === "1sam") {
    if (spec.batch !== undefined && spec.batch !== 1) {
      fail("batch", spec, `must be 1 or absent (got ${spec.batch}); use minibatch-sam`);
    }
  } else if (spec.batch !== undefined) {
    fail("batch", spec, `is not used (full batch); use sgd or minibatch-sam for batches`);
  }
  if (spec.kind === "max") {
    const k = spec.innerSteps;
    if (k !== undefined && (!Number.isInteger(k) || k < 0)) {
      fail("innerSteps", spec, `must be an integer ≥ 0 (got ${k})`);
    }
    const c = spec.innerStepSize;
    if (c !== undefined && (typeof c !== "number" || !Number.isFinite(c) || c < 2)) {
      fail("innerStepSize", spec, `must be a finite number ≥ 2 (got ${c})`);
    }
  } else {
    if (spec.innerSteps !== undefined) fail("innerSteps", spec, "is only used by max");
    if (spec.innerStepSize !== undefined) fail("innerStepSize", spec, "is only used by max");
  }
  if (spec.kind === "label-noise-sgd") {
    const s = spec.sigma;
    if (typeof s !== "number" || !Number.isFinite(s) || s < 0) {
      fail("sigma", spec, `must be a finite number ≥ 0 (got ${s})`);
    }
  } else if (spec.sigma !== undefined) {
    fail("sigma", spec, "is only used by label-noise-sgd");
  }
}

/**
 * Validates `spec` and resolves it onto the axes of the parametrized step. ρ = 0 resolves every
 * kind to `none` scaling, so the step is exactly the base optimizer's (no 0·ĝ is ever added).
 */
export function stepPlan(spec: OptimizerSpec, numSamples: number): StepPlan {
  validateOptimizerSpec(spec, numSamples);
  const M = numSamples;
  const [batch, scaling, applied]: [number, AscentScaling, AppliedGradient] = (() => {
    switch (spec.kind) {
      case "gd":
        return [M, "none", "perturbed"];
      case "sgd":
        return [spec.batch!, "none", "perturbed"];
      case "sam":
        return [M, "normalized", "perturbed"];
      case "usam":
        return [M, "unnormalized", "perturbed"];
      case "1sam":
        return [1, "normalized", "perturbed"];
      case "minibatch-sam":
        return [spec.batch!, "normalized", "perturbed"];
      case "asc-exact":
        return [M, "normalized", "exact-asc"];
      case "max":
        return [M, "projected", "perturbed"];
      case "avg":
        return [M, "sphere", "perturbed"];
      case "label-noise-sgd":
        return [spec.batch!, "none", "label-noise"];
    }
  })();
  const perturbs = scaling !== "none" && spec.rho > 0;
  return {
    lr: spec.lr,
    rho: perturbs ? spec.rho : 0,
    batch,
    scaling: perturbs ? scaling : "none",
    applied: perturbs || applied === "label-noise" ? applied : "perturbed",
    innerSteps: spec.innerSteps ?? DEFAULT_INNER_STEPS,
    innerStepSize: spec.innerStepSize ?? DEFAULT_INNER_STEP_SIZE,
    sigma: spec.sigma ?? 0,
  };
}
