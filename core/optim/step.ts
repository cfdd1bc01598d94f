/**
 * The one parametrized step of the SAM family and its baselines, written once over `VecOps`.
 *
 * A step draws its batch B (none when b = M), forms the ascent point x̃ = x + ε according to the
 * plan's scaling, and applies ∇L_B(x̃), or the exact gradient of L^Asc, or a label-noise gradient:
 *
 *   x ← x − η ∇L_B(x̃)                                           (perturbed)
 *   x ← x − η [∇L(x̃) + (ρ/‖∇L(x)‖) ∇²L(x)(I − ĝĝᵀ)∇L(x̃)]      (exact-asc, x̃ = x + ρĝ)
 *   x ← x − η ∇_x mean_{k∈B}(f_k − y_k − σξ_k)²                  (label-noise)
 *
 * The step is synchronous and reads nothing back, so the tfjs engine only enqueues work; every work
 * vector is allocated once when the step is created. All random draws come from the float64 `Rng` in
 * the same order on every engine: the batch indices first, then the label noise or the sphere point.
 * @module
 */
import type { Rng } from "../rng.ts";
import type { Batch, Objective, VecOps } from "../engine/types.ts";
import { type StepPlan, stepPlan } from "./spec.ts";
import type { OptimizerSpec } from "./types.ts";

/** One optimizer bound to an engine, an objective and a random stream. */
export interface Step<V> {
  /** The resolved plan (axes and defaults) the step runs. */
  readonly plan: StepPlan;
  /** Advances `x` by one optimizer step, in place. Synchronous; no read-back. */
  step(x: V): void;
  /** Index of the sample the last step drew when its batch has one sample (b = 1 < M), else −1. */
  readonly lastSample: number;
  /** Frees the work vectors. */
  dispose(): void;
}

/**
 * Creates the step of optimizer `spec` over `objective`, drawing randomness from `rng`.
 * Throws a RangeError for an invalid spec, and an Error when label-noise-sgd is asked of an objective
 * without `labelNoiseGrad` or when dimensions disagree.
 */
export function createStep<V, S>(
  ops: VecOps<V, S>,
  objective: Objective<V, S>,
  spec: OptimizerSpec,
  rng: Rng,
): Step<V> {
  if (ops.dim !== objective.dim) {
    throw new RangeError(`ops dimension ${ops.dim} differs from the objective's ${objective.dim}`);
  }
  const M = objective.numSamples;
  const plan = stepPlan(spec, M);
  const labelNoiseGrad = objective.labelNoiseGrad?.bind(objective);
  if (plan.applied === "label-noise" && labelNoiseGrad === undefined) {
    throw new Error(
      "label-noise-sgd needs an objective with labelNoiseGrad (the Setting 5.1 models diagnet and " +
        "mlp); this objective has none",
    );
  }
  const { lr, rho, scaling, applied, innerSteps } = plan;
  const full = plan.batch === M;
  const oneSample = plan.batch === 1 && M > 1;

  // Work vectors, allocated once. `g` = ∇L_B(x), `xt` = x̃, `gt` = ∇L_B(x̃); the others serve one
  // variant each (e: ĝ or inner-ascent scratch, d: inner perturbation, w and hv: exact-asc).
  const owned: V[] = [];
  const vec = () => {
    const v = ops.zeros();
    owned.push(v);
    return v;
  };
  const gt = vec();
  const g = scaling === "normalized" || scaling === "unnormalized" || scaling === "projected"
    ? vec()
    : gt;
  const xt = scaling === "none" ? gt : vec();
  const e = applied === "exact-asc" || scaling === "projected" ? vec() : gt;
  const d = scaling === "projected" ? vec() : gt;
  const w = applied === "exact-asc" ? vec() : gt;
  const hv = applied === "exact-asc" ? vec() : gt;
  const sphere = scaling === "sphere" ? new Float64Array(ops.dim) : undefined;

  // The label-noise gradient takes explicit indices, so its full batch is 0..M−1 in order.
  const idx = new Int32Array(plan.batch);
  if (full) { for (let i = 0; i < M; i++) idx[i] = i; }
  const scratch = full ? idx : new Int32Array(M);
  const noise = applied === "label-noise" ? new Float64Array(plan.batch) : undefined;
  const innerLength = plan.innerStepSize * rho;
  let lastSample = -1;

  const perturb = (x: V, batch: Batch): void => {
    switch (scaling) {
      case "normalized":
        objective.grad(x, g, batch);
        if (applied === "exact-asc") {
          ops.setNormalized(e, g, 1);
          ops.addScaled(xt, x, rho, e);
        } else {
          ops.setNormalized(xt, g, rho);
          ops.axpy(xt, 1, x);
        }
        return;
      case "unnormalized":
        objective.grad(x, g, batch);
        ops.addScaled(xt, x, rho, g);
        return;
      case "sphere":
        rng.fillSphere(sphere!, rho);
        ops.set(xt, sphere!);
        ops.axpy(xt, 1, x);
        return;
      case "projected":
        // Projected gradient ascent on max_{‖δ‖≤ρ} L(x+δ) from δ = ρĝ. Each inner step moves
        // innerStepSize·ρ ≥ 2ρ along the normalized gradient, which always leaves the ball, so the
        // projection onto the ball is the rescaling to radius ρ.
        objective.grad(x, g, batch);
        ops.setNormalized(d, g, rho);
        for (let j = 0; j < innerSteps; j++) {
          ops.addScaled(xt, x, 1, d);
          objective.grad(xt, gt, batch);
          ops.setNormalized(e, gt, innerLength);
          ops.axpy(e, 1, d);
          ops.setNormalized(d, e, rho);
        }
        ops.addScaled(xt, x, 1, d);
        return;
      case "none":
        return;
    }
  };

  /** Draws the step's batch (undefined for the full batch); one sample is one `rng.int(M)`. */
  const draw = (): Batch => {
    if (full) return undefined;
    if (oneSample) {
      // The same single draw sampleWithoutReplacement makes for one index, without its O(M) setup.
      lastSample = idx[0] = rng.int(M);
    } else {
      rng.sampleWithoutReplacement(M, idx, scratch);
    }
    return idx;
  };

  const step = (x: V): void => {
    const batch = draw();
    if (applied === "label-noise") {
      for (let i = 0; i < noise!.length; i++) noise![i] = plan.sigma * rng.normal();
      labelNoiseGrad!(x, gt, idx, noise!);
      ops.axpy(x, -lr, gt);
      return;
    }
    if (scaling === "none") {
      // The base optimizer exactly: no perturbation, not even 0·ĝ.
      objective.grad(x, gt, batch);
      ops.axpy(x, -lr, gt);
      return;
    }
    perturb(x, batch);
    objective.grad(xt, gt, batch);
    if (applied === "exact-asc") {
      // w = (I − ĝĝᵀ)∇L(x̃); the Jacobian term (ρ/‖∇L(x)‖)∇²L(x)w. When ∇L(x) = 0, ĝ is e₁ and
      // axpyDivS drops the term (L^Asc is not differentiable there).
      const s = ops.dot(e, gt);
      ops.copy(w, gt);
      ops.axpyS(w, -1, s, e);
      ops.disposeScalar(s);
      objective.hvp(x, w, hv, batch);
      const n = ops.norm(g);
      ops.axpy(x, -lr, gt);
      ops.axpyDivS(x, -lr * rho, n, hv);
      ops.disposeScalar(n);
      return;
    }
    ops.axpy(x, -lr, gt);
  };

  // The plans almost every run uses, GD/SGD and SAM/1-SAM/mini-batch SAM, get closures without the
  // general step's dispatch on the plan: the same operations in the same order (or the objective's
  // fused SAM step, where it has one, for fewer kernels on tfjs). Once createStep
  // has run more than once, V8 no longer folds the plan's constants into the shared closure code,
  // and that per-step dispatch showed as ~30% of a 4-D toy SAM step.
  let fast: ((x: V) => void) | undefined;
  if (applied === "perturbed" && scaling === "none") {
    fast = (x) => {
      objective.grad(x, gt, draw());
      ops.axpy(x, -lr, gt);
    };
  } else if (applied === "perturbed" && scaling === "normalized") {
    const fused = objective.fusedSam?.(plan.batch);
    fast = fused ? (x) => fused(x, draw(), lr, rho) : (x) => {
      const batch = draw();
      objective.grad(x, g, batch);
      ops.setNormalized(xt, g, rho);
      ops.axpy(xt, 1, x);
      objective.grad(xt, gt, batch);
      ops.axpy(x, -lr, gt);
    };
  }

  return {
    plan,
    step: fast ?? step,
    get lastSample() {
      return lastSample;
    },
    dispose() {
      for (const v of owned) ops.dispose(v);
      owned.length = 0;
    },
  };
}
