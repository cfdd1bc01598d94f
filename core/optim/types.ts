/**
 * Optimizer specifications and the trajectory a training run records.
 * @module
 */

/** The optimizers of docs/theory.md §1. */
export type OptimizerKind =
  | "gd" // x ← x − η∇L
  | "sgd" // x ← x − η∇L_B, |B| = batch
  | "sam" // full-batch normalized SAM
  | "usam" // un-normalized SAM: ascent ρ∇L
  | "1sam" // SAM on one uniformly drawn sample
  | "minibatch-sam" // SAM on a uniform batch of size `batch`
  | "asc-exact" // GD on L^Asc with the exact gradient (through the Jacobian of the ascent point)
  | "max" // GD on L^Max: k-step projected inner ascent, then ∇L at the maximizer (Danskin)
  | "avg" // x ← x − η∇L(x + ρu), u uniform on the unit sphere
  | "label-noise-sgd"; // SGD on (f_k − y_k − σξ)², fresh ξ each step

/** One optimizer with its hyper-parameters. */
export interface OptimizerSpec {
  readonly kind: OptimizerKind;
  /** Learning rate η > 0. */
  readonly lr: number;
  /**
   * Perturbation radius ρ ≥ 0 (ρ = 0 gives the base optimizer exactly). gd, sgd and label-noise-sgd
   * ignore it in the update; it only sets their τ = ηρ²t clock, so baselines share the τ axis of the
   * SAM runs they are compared with.
   */
  readonly rho: number;
  /** Batch size for sgd / minibatch-sam / label-noise-sgd (1 ≤ b ≤ M). */
  readonly batch?: number;
  /** Inner projected-ascent steps for `max` (default 10). */
  readonly innerSteps?: number;
  /**
   * Inner step length of `max`, in units of ρ along the normalized gradient (default 10, must be ≥ 2):
   * δ ← Π_ρ(δ + innerStepSize·ρ·∇L(x+δ)/‖∇L(x+δ)‖). Lengths ≥ 2 always leave the ball, so the
   * projection onto the ball is the rescaling onto the sphere; large values approach power iteration.
   */
  readonly innerStepSize?: number;
  /** Label-noise standard deviation σ for `label-noise-sgd`. */
  readonly sigma?: number;
}

/** Options of a training run. */
export interface TrainOptions {
  /** Number of optimizer steps. */
  readonly steps: number;
  /** Seed of the run's random stream (sampling, perturbations, label noise). */
  readonly seed: number;
  /** Steps at which a trajectory row is recorded (sorted, within [0, steps]); default log-spaced. */
  readonly logSteps?: readonly number[];
  /** Divergence bound on ‖x‖ (default 1e6); a non-finite loss also stops the run. */
  readonly maxNorm?: number;
  /** Record the full parameter vector at each logged step when D ≤ this (default 64). */
  readonly recordParamsUpTo?: number;
  /** Called after each logged row. */
  readonly onLog?: (row: TrajectoryRow) => void;
  /** Called with the step count about 200 times per run, between log steps too (progress lines). */
  readonly onProgress?: (step: number) => void;
  /** Windows of consecutive steps to log (see {@link WindowOptions}). */
  readonly window?: WindowOptions;
}

/**
 * Step windows: at each start s in `at`, `reference(x_s)` gives a reference point and direction
 * (Φ(x_s) and v1(∇²L(x_s)) in the train stage), and the steps t = s, …, s + length − 1 are logged
 * with ⟨x_t − Φ, v1⟩. Every window must end by the last step.
 */
export interface WindowOptions {
  /** Window start steps (integers in [0, steps − length + 1]). */
  readonly at: readonly number[];
  /** Steps per window (≥ 1). */
  readonly length: number;
  /** Φ and v1 at the window start, computed once per window. */
  readonly reference: (x: Float64Array) => Promise<{ phi: Float64Array; v1: Float64Array }>;
}

/** One logged step of a window. */
export interface WindowStep {
  /** The window's start step s. */
  readonly start: number;
  /** This step t (s ≤ t < s + length). */
  readonly step: number;
  /** ⟨x_t − Φ(x_s), v1(x_s)⟩. */
  readonly proj: number;
  /** Math.sign(proj). */
  readonly sign: number;
  /** Index of the sample the step that produced x_t drew (−1 for full-batch methods and t = 0). */
  readonly sample: number;
  /** Full-batch L(x_t). */
  readonly loss: number;
}

/** One logged point of a trajectory. */
export interface TrajectoryRow {
  /** Step count t (0 = initial point). */
  readonly step: number;
  /** Time on the slow scale τ = η ρ² t (0 when ρ = 0). */
  readonly tau: number;
  /** Full-batch loss L(x). */
  readonly loss: number;
  /** Full-batch gradient norm ‖∇L(x)‖. */
  readonly gradNorm: number;
  /** ‖x‖. */
  readonly paramNorm: number;
  /** Index of the sample drawn by the last step for 1-sample methods, else −1. */
  readonly sample: number;
  /** The parameters, when D ≤ recordParamsUpTo. */
  readonly params?: Float64Array;
}

/** The outcome of a training run. */
export interface TrainResult {
  /** Logged rows in step order (up to the divergence point when the run diverged). */
  readonly rows: TrajectoryRow[];
  /** The final parameters (at the last completed step). */
  readonly final: Float64Array;
  /** Parameters at every logged step (for the spectral stage's checkpoints). */
  readonly checkpoints: { step: number; params: Float64Array }[];
  /** Set when the run stopped early: names the step, η and ρ. */
  readonly diverged?: string;
  /** Logged window steps, by start then step (empty without `window`). */
  readonly window: WindowStep[];
}
