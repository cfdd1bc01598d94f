/**
 * The small operations interface every algorithm in the core is written against.
 *
 * One implementation of each optimizer serves every engine: the f64 engine implements these
 * operations in place over `Float64Array` (scalars are plain numbers), the tfjs engine over mutable
 * holders of 1-D tensors (scalars stay 0-d tensors, so nothing is read back inside a step).
 * @module
 */

/** Names of the engines/backends a run can ask for. `auto` is resolved by `selectBackend`. */
export type BackendName = "f64" | "cpu" | "wasm" | "webgpu";
/** A backend request as written in experiments and on the command line. */
export type BackendRequest = BackendName | "auto";
/** Every backend request, in the order help texts list them. */
export const BACKEND_REQUESTS: readonly BackendRequest[] = ["auto", "f64", "cpu", "wasm", "webgpu"];

/**
 * In-place vector arithmetic of one fixed dimension. `V` is the engine's vector handle, `S` its scalar
 * handle, `C` its coefficient handle. Every method writes into its first argument; none allocates
 * except `zeros`/`fromF64`/`coef`.
 *
 * The runs axis: a handle may hold R = `runs` independent vectors of dimension D (a run-major [R, D]
 * block), its scalars R values and its coefficients one value per run, every operation acting on
 * each run separately. The unbatched engines have R = 1 and plain numbers as coefficients, so the
 * optimizers, written once against these operations, serve both.
 */
export interface VecOps<V, S, C = number> {
  /** The dimension D of one run's vector. */
  readonly dim: number;
  /** The number of runs R a handle holds (1 for the unbatched engines). */
  readonly runs: number;
  /** A coefficient with value `values[r]` for run r (`values` has length `runs`). */
  coef(values: ArrayLike<number>): C;
  /** Frees a coefficient made by `coef` (no-op where coefficients are numbers). */
  disposeCoef(c: C): void;
  /** A new zero vector (allocate outside step loops). */
  zeros(): V;
  /** A new vector holding a copy of `x` (length runs·dim, run-major). */
  fromF64(x: ArrayLike<number>): V;
  /** Reads a vector back as float64, run-major (async: WebGPU can only read asynchronously). */
  toF64(v: V): Promise<Float64Array>;
  /** Reads a scalar back as a number (R = 1 only; `readRuns` reads every run's value). */
  read(s: S): Promise<number>;
  /** Reads a scalar back as one value per run. */
  readRuns(s: S): Promise<Float64Array>;
  /** Overwrites `dst` with float64 values (used to restore checkpoints and set probes). */
  set(dst: V, x: ArrayLike<number>): void;
  /** dst ← src. */
  copy(dst: V, src: V): void;
  /** dst ← dst + a·x. */
  axpy(dst: V, a: C, x: V): void;
  /** dst ← dst + a·s·x, with `s` an engine scalar. */
  axpyS(dst: V, a: C, s: S, x: V): void;
  /** dst ← dst + (a/s)·x, with `s` an engine scalar; adds nothing when s = 0. */
  axpyDivS(dst: V, a: C, s: S, x: V): void;
  /** dst ← a·dst. */
  scale(dst: V, a: C): void;
  /** dst ← x + a·y. */
  addScaled(dst: V, x: V, a: C, y: V): void;
  /**
   * dst ← radius·src/‖src‖₂. When ‖src‖ = 0 the direction is e₁ (the paper: "any unit vector"),
   * so the result is always finite.
   */
  setNormalized(dst: V, src: V, radius: C): void;
  /** ⟨a, b⟩ as an engine scalar. */
  dot(a: V, b: V): S;
  /** ‖a‖₂ as an engine scalar. */
  norm(a: V): S;
  /** Frees a vector (no-op on f64). */
  dispose(v: V): void;
  /** Frees a scalar (no-op on f64). */
  disposeScalar(s: S): void;
}

/**
 * Indices of the samples a stochastic step uses. `undefined` everywhere means the full batch
 * (all M samples, i.e. the loss L itself). On the runs axis a batch of b samples per run is R·b
 * indices, run-major (run r's are entries r·b … r·b + b − 1).
 */
export type Batch = Int32Array | undefined;

/**
 * A differentiable objective L(x) = (1/M) Σ_k L_k(x) bound to one engine. Batch losses and
 * derivatives are means over the batch's samples, so the full batch gives L.
 */
export interface Objective<V, S, C = number> {
  /** Number of parameters D (of one run). */
  readonly dim: number;
  /** Number of runs R its vectors hold (absent: 1); see `VecOps`. */
  readonly runs?: number;
  /** Number of per-sample losses M (1 when the loss has no per-sample structure). */
  readonly numSamples: number;
  /** Mean loss over `batch`. */
  loss(x: V, batch?: Batch): S;
  /** out ← ∇ of the mean loss over `batch`. */
  grad(x: V, out: V, batch?: Batch): void;
  /** out ← ∇² (mean loss over `batch`) · v. */
  hvp(x: V, v: V, out: V, batch?: Batch): void;
  /**
   * Setting 5.1 only: out ← ∇ of mean_k (f_k(x) − y_k − σ·ξ_k)² over `batch`, where `noise[i]` = σ·ξ
   * for the i-th index of the batch (run-major on the runs axis, like the batch). Absent on
   * objectives without labels.
   */
  labelNoiseGrad?(x: V, out: V, batch: Int32Array, noise: Float64Array): void;
  /**
   * A fused SAM step for batches of `batchSize` samples, where the objective has one: a function
   * doing x ← x − η∇L_B(x + ρ∇L_B(x)/‖∇L_B(x)‖) (x + ρe₁ when ∇L_B(x) = 0) in one call, with fewer
   * kernels than the generic step. Agrees with the generic step up to rounding (tested).
   */
  fusedSam?(batchSize: number): ((x: V, batch: Batch, lr: C, rho: C) => void) | undefined;
  /**
   * A fused step of GD on L^Asc (optimizer asc-exact) for batches of `batchSize` samples, where the
   * objective has one: x ← x − η∇L^Asc_B(x) in one call, the same arithmetic as the generic step
   * (core/optim/step.ts), which it is tested against.
   */
  fusedAsc?(batchSize: number): ((x: V, batch: Batch, lr: C, rho: C) => void) | undefined;
  /** Frees engine resources held by the objective (tensors of data). */
  dispose?(): void;
}

/** An engine: vector operations and objectives of one numeric backend. */
export interface Engine<V, S> {
  /** The backend actually in use (after resolving `auto`). */
  readonly backend: BackendName;
  /** Versions that identify the numbers this engine produces (tfjs, Deno, adapter), for cache keys. */
  readonly runtime: Readonly<Record<string, string>>;
  /** Vector operations of dimension `dim`. */
  ops(dim: number): VecOps<V, S>;
}
