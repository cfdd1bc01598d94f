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
 *
 * On the runs axis (`ops.runs` = R > 1) the same code advances R independent runs at once: one spec
 * and one `Rng` per run, per-run η, ρ and σ as the engine's coefficients, and each run drawing from
 * its own stream exactly what its unbatched run draws. The unbatched step is the case R = 1.
 * @module
 */
import type { Rng } from "../rng.ts";
import type { Batch, Objective, VecOps } from "../engine/types.ts";
import { type StepPlan, stepPlan } from "./spec.ts";
import type { OptimizerSpec } from "./types.ts";

/** One optimizer bound to an engine, an objective and a random stream per run. */
export interface Step<V> {
  /** The resolved plan (axes and defaults) of run 0; the runs differ at most in η, ρ and σ. */
  readonly plan: StepPlan;
  /** Advances `x` by one optimizer step, in place. Synchronous; no read-back. */
  step(x: V): void;
  /**
   * Per run, the index of the sample the last step drew when its batch has one sample (b = 1 < M),
   * else −1.
   */
  readonly lastSamples: Int32Array;
  /** Frees the work vectors. */
  dispose(): void;
}

/** The plan fields runs on one axis may differ in (the engine's per-run coefficients). */
const PER_RUN = new Set(["lr", "rho", "sigma"]);

/**
 * Creates the step of optimizer `spec` over `objective`, drawing randomness from `rng`; on the runs
 * axis `spec` and `rng` are lists with one entry per run (`ops.runs` of them).
 * Throws a RangeError for an invalid spec or runs that differ in more than η, ρ and σ, and an Error
 * when label-noise-sgd is asked of an objective without `labelNoiseGrad` or when dimensions disagree.
 */
export function createStep<V, S, C>(
  ops: VecOps<V, S, C>,
  objective: Objective<V, S, C>,
  spec: OptimizerSpec | readonly OptimizerSpec[],
  rng: Rng | readonly Rng[],
): Step<V> {
  if (ops.dim !== objective.dim) {
    throw new RangeError(`ops dimension ${ops.dim} differs from the objective's ${objective.dim}`);
  }
  const R = ops.runs;
  const specs = Array.isArray(spec) ? spec as readonly OptimizerSpec[] : [spec as OptimizerSpec];
  const rngs = Array.isArray(rng) ? rng as readonly Rng[] : [rng as Rng];
  if ((objective.runs ?? 1) !== R || specs.length !== R || rngs.length !== R) {
    throw new RangeError(
      `the engine holds ${R} runs, the objective ${
        objective.runs ?? 1
      }; ${specs.length} specs and ` +
        `${rngs.length} random streams given`,
    );
  }
  const M = objective.numSamples;
  const plans = specs.map((s) => stepPlan(s, M));
  const plan = plans[0];
  plans.forEach((p, r) => {
    for (const [k, v] of Object.entries(p)) {
      if (!PER_RUN.has(k) && v !== plan[k as keyof StepPlan]) {
        throw new RangeError(
          `runs on one axis may differ only in lr, rho and sigma; run ${r} has ${k} ${v}, run 0 ${
            plan[k as keyof StepPlan]
          }`,
        );
      }
    }
  });
  const labelNoiseGrad = objective.labelNoiseGrad?.bind(objective);
  if (plan.applied === "label-noise" && labelNoiseGrad === undefined) {
    throw new Error(
      "label-noise-sgd needs an objective with labelNoiseGrad (the Setting 5.1 models diagnet and " +
        "mlp); this objective has none",
    );
  }
  const { scaling, applied, innerSteps } = plan;
  const b = plan.batch;
  const full = b === M;
  const oneSample = b === 1 && M > 1;

  // Per-run coefficients, made once (numbers on the unbatched engines, so their arithmetic is
  // exactly that of a plain step).
  const coefs: C[] = [];
  const coef = (f: (p: StepPlan) => number): C => {
    const c = ops.coef(plans.map(f));
    coefs.push(c);
    return c;
  };
  const one = coef(() => 1);
  const minusOne = coef(() => -1);
  const lr = coef((p) => p.lr);
  const rho = coef((p) => p.rho);
  const negLr = coef((p) => -p.lr);
  const negLrRho = coef((p) => -p.lr * p.rho);
  const innerLength = coef((p) => p.innerStepSize * p.rho);
  const sigmas = plans.map((p) => p.sigma);
  const rhos = plans.map((p) => p.rho);

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
  const D = ops.dim;
  const sphere = scaling === "sphere" ? new Float64Array(R * D) : undefined;

  // The label-noise gradient takes explicit indices, so its full batch is 0..M−1 in order.
  const idx = new Int32Array(R * b);
  if (full) { for (let i = 0; i < R * M; i++) idx[i] = i % M; }
  const parts = Array.from({ length: R }, (_, r) => idx.subarray(r * b, (r + 1) * b));
  const scratch = full ? idx : new Int32Array(M);
  const noise = applied === "label-noise" ? new Float64Array(R * b) : undefined;
  const lastSamples = new Int32Array(R).fill(-1);

  const perturb = (x: V, batch: Batch): void => {
    switch (scaling) {
      case "normalized":
        objective.grad(x, g, batch);
        if (applied === "exact-asc") {
          ops.setNormalized(e, g, one);
          ops.addScaled(xt, x, rho, e);
        } else {
          ops.setNormalized(xt, g, rho);
          ops.axpy(xt, one, x);
        }
        return;
      case "unnormalized":
        objective.grad(x, g, batch);
        ops.addScaled(xt, x, rho, g);
        return;
      case "sphere":
        for (let r = 0; r < R; r++) {
          rngs[r].fillSphere(sphere!.subarray(r * D, (r + 1) * D), rhos[r]);
        }
        ops.set(xt, sphere!);
        ops.axpy(xt, one, x);
        return;
      case "projected":
        // Projected gradient ascent on max_{‖δ‖≤ρ} L(x+δ) from δ = ρĝ. Each inner step moves
        // innerStepSize·ρ ≥ 2ρ along the normalized gradient, which always leaves the ball, so the
        // projection onto the ball is the rescaling to radius ρ.
        objective.grad(x, g, batch);
        ops.setNormalized(d, g, rho);
        for (let j = 0; j < innerSteps; j++) {
          ops.addScaled(xt, x, one, d);
          objective.grad(xt, gt, batch);
          ops.setNormalized(e, gt, innerLength);
          ops.axpy(e, one, d);
          ops.setNormalized(d, e, rho);
        }
        ops.addScaled(xt, x, one, d);
        return;
      case "none":
        return;
    }
  };

  /**
   * Draws every run's batch from its own stream (undefined for the full batch); one sample is one
   * `rng.int(M)`.
   */
  const draw = (): Batch => {
    if (full) return undefined;
    if (oneSample) {
      // The same single draw sampleWithoutReplacement makes for one index, without its O(M) setup.
      for (let r = 0; r < R; r++) lastSamples[r] = idx[r] = rngs[r].int(M);
    } else {
      for (let r = 0; r < R; r++) rngs[r].sampleWithoutReplacement(M, parts[r], scratch);
    }
    return idx;
  };

  const step = (x: V): void => {
    const batch = draw();
    if (applied === "label-noise") {
      for (let r = 0; r < R; r++) {
        for (let i = r * b; i < (r + 1) * b; i++) noise![i] = sigmas[r] * rngs[r].normal();
      }
      labelNoiseGrad!(x, gt, idx, noise!);
      ops.axpy(x, negLr, gt);
      return;
    }
    if (scaling === "none") {
      // The base optimizer exactly: no perturbation, not even 0·ĝ.
      objective.grad(x, gt, batch);
      ops.axpy(x, negLr, gt);
      return;
    }
    perturb(x, batch);
    objective.grad(xt, gt, batch);
    if (applied === "exact-asc") {
      ascUpdate(x, batch);
      return;
    }
    ops.axpy(x, negLr, gt);
  };

  /** The exact-asc update of x, given ĝ in e, ∇L(x) in g and ∇L(x̃) in gt. */
  const ascUpdate = (x: V, batch: Batch): void => {
    // w = (I − ĝĝᵀ)∇L(x̃); the Jacobian term (ρ/‖∇L(x)‖)∇²L(x)w. When ∇L(x) = 0, ĝ is e₁ and
    // axpyDivS drops the term (L^Asc is not differentiable there).
    const s = ops.dot(e, gt);
    ops.copy(w, gt);
    ops.axpyS(w, minusOne, s, e);
    ops.disposeScalar(s);
    objective.hvp(x, w, hv, batch);
    const n = ops.norm(g);
    ops.axpy(x, negLr, gt);
    ops.axpyDivS(x, negLrRho, n, hv);
    ops.disposeScalar(n);
  };

  // The plans almost every run uses, GD/SGD, SAM/1-SAM/mini-batch SAM and GD on L^Asc (the longest
  // runs of the reproduction), get closures without the general step's dispatch on the plan: the
  // same operations in the same order, or the objective's fused SAM or L^Asc step where it has one
  // (fewer kernels on tfjs, inlined closed forms on the toy). Once createStep has run more than
  // once, V8 no longer folds the plan's constants into the shared closure code, and that per-step
  // dispatch showed as ~30% of a 4-D toy SAM step.
  let fast: ((x: V) => void) | undefined;
  if (applied === "perturbed" && scaling === "none") {
    fast = (x) => {
      objective.grad(x, gt, draw());
      ops.axpy(x, negLr, gt);
    };
  } else if (applied === "perturbed" && scaling === "normalized") {
    const fused = objective.fusedSam?.(plan.batch);
    fast = fused ? (x) => fused(x, draw(), lr, rho) : (x) => {
      const batch = draw();
      objective.grad(x, g, batch);
      ops.setNormalized(xt, g, rho);
      ops.axpy(xt, one, x);
      objective.grad(xt, gt, batch);
      ops.axpy(x, negLr, gt);
    };
  } else if (applied === "exact-asc" && scaling === "normalized") {
    const fused = objective.fusedAsc?.(plan.batch);
    fast = fused ? (x) => fused(x, draw(), lr, rho) : (x) => {
      const batch = draw();
      objective.grad(x, g, batch);
      ops.setNormalized(e, g, one);
      ops.addScaled(xt, x, rho, e);
      objective.grad(xt, gt, batch);
      ascUpdate(x, batch);
    };
  }

  return {
    plan,
    step: fast ?? step,
    lastSamples,
    dispose() {
      for (const v of owned) ops.dispose(v);
      owned.length = 0;
      for (const c of coefs) ops.disposeCoef(c);
      coefs.length = 0;
    },
  };
}
