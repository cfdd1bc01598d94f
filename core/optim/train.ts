/**
 * Training runs: synchronous optimizer steps between log steps, read-back only at log steps.
 * @module
 */
import { Rng } from "../rng.ts";
import type { Objective, VecOps } from "../engine/types.ts";
import { createStep } from "./step.ts";
import type {
  OptimizerSpec,
  TrainOptions,
  TrainResult,
  TrajectoryRow,
  WindowOptions,
  WindowStep,
} from "./types.ts";

export { validateOptimizerSpec } from "./spec.ts";

/** Default divergence bound on ‖x‖. */
export const DEFAULT_MAX_NORM = 1e6;
/** Default largest dimension whose parameters are stored in every trajectory row. */
export const DEFAULT_RECORD_PARAMS_UP_TO = 64;
/** Steps between the cheap finiteness checks of float64 runs (a power of two minus one mask). */
const F64_CHECK_MASK = 1023;

/**
 * Log-spaced step counts for a run of `steps` steps: 0, `steps`, and round(10^(k/perDecade)) for
 * k = 0, 1, … below `steps`, sorted and deduplicated (≈ `perDecade` per decade once the rounding
 * stops merging neighbours).
 */
export function logSpacedSteps(steps: number, perDecade = 10): number[] {
  if (!Number.isInteger(steps) || steps < 0) {
    throw new RangeError(`steps must be an integer ≥ 0 (got ${steps})`);
  }
  if (!Number.isFinite(perDecade) || perDecade <= 0) {
    throw new RangeError(`perDecade must be a finite number > 0 (got ${perDecade})`);
  }
  const out = [0];
  for (let k = 0;; k++) {
    const s = Math.round(10 ** (k / perDecade));
    if (s >= steps) break;
    if (s > out[out.length - 1]) out.push(s);
  }
  if (steps > 0) out.push(steps);
  return out;
}

function checkOptions(opts: TrainOptions): number[] {
  const { steps, seed } = opts;
  if (!Number.isInteger(steps) || steps < 0) {
    throw new RangeError(`steps must be an integer ≥ 0 (got ${steps})`);
  }
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer (got ${seed})`);
  if (opts.maxNorm !== undefined && !(opts.maxNorm > 0)) {
    throw new RangeError(`maxNorm must be > 0 (got ${opts.maxNorm})`);
  }
  const r = opts.recordParamsUpTo;
  if (r !== undefined && (!Number.isInteger(r) || r < 0)) {
    throw new RangeError(`recordParamsUpTo must be an integer ≥ 0 (got ${r})`);
  }
  const log = opts.logSteps ?? logSpacedSteps(steps);
  for (const s of log) {
    if (!Number.isInteger(s) || s < 0 || s > steps) {
      throw new RangeError(`logSteps entries must be integers in [0, steps = ${steps}] (got ${s})`);
    }
  }
  if (opts.window) checkWindow(opts.window, steps);
  return [...new Set(log)].sort((a, b) => a - b);
}

/** Largest number of windows and of steps per window (bounds the read-backs of a run). */
export const WINDOW_LIMITS = { windows: 64, length: 4096 } as const;

/** Throws a RangeError unless every window fits in [0, steps] and within WINDOW_LIMITS. */
export function checkWindow(w: Pick<WindowOptions, "at" | "length">, steps: number): void {
  const { length, at } = w;
  if (!Number.isInteger(length) || length < 1 || length > WINDOW_LIMITS.length) {
    throw new RangeError(
      `window.length must be an integer in [1, ${WINDOW_LIMITS.length}] (got ${length})`,
    );
  }
  if (!Array.isArray(at) || at.length < 1 || at.length > WINDOW_LIMITS.windows) {
    throw new RangeError(
      `window.at must be a list of 1 to ${WINDOW_LIMITS.windows} steps (got ${JSON.stringify(at)})`,
    );
  }
  const last = steps - length + 1;
  for (const s of at) {
    if (!Number.isInteger(s) || s < 0 || s > last) {
      throw new RangeError(
        `window.at entries must be integers in [0, steps − length + 1 = ${last}] (got ${s})`,
      );
    }
  }
}

/** True when every entry is finite and ‖x‖ ≤ maxNorm. */
function bounded(x: Float64Array, maxNorm: number): boolean {
  let n2 = 0;
  for (let i = 0; i < x.length; i++) n2 += x[i] * x[i];
  return Number.isFinite(n2) && Math.sqrt(n2) <= maxNorm;
}

/**
 * Runs optimizer `spec` from `x0` for `opts.steps` steps on any engine. Steps run synchronously
 * between log steps; at each log step the full-batch loss, ‖∇L‖ and the parameters are read back
 * and a row (τ = ηρ²t) and a checkpoint are recorded. A non-finite loss or ‖x‖ > maxNorm at a log
 * step — or, on the float64 engine, non-finite or too large parameters at a periodic cheap check —
 * stops the run with `diverged` naming the step, η and ρ; rows up to that point are kept. A row's
 * `params` (when D ≤ recordParamsUpTo) is the same array as its checkpoint's. After the last log
 * step the run continues to `opts.steps`, so `final` is always the iterate after the last step run.
 * With `opts.window`, the steps of each window are logged as well (one read-back and one loss per
 * step covered; the optimizer's arithmetic is unchanged, so the trajectory is the same with or
 * without windows). Throws a RangeError for invalid options or spec (see `validateOptimizerSpec`).
 * The single-run case of {@linkcode trainRuns}.
 */
export async function train<V, S, C>(
  ops: VecOps<V, S, C>,
  objective: Objective<V, S, C>,
  x0: Float64Array,
  spec: OptimizerSpec,
  opts: TrainOptions,
): Promise<TrainResult> {
  return (await trainRuns(ops, objective, [{ x0, spec, opts }]))[0];
}

/** One run of {@linkcode trainRuns}: its start point, optimizer and options. */
export interface RunPlan {
  /** Start point (length D). */
  readonly x0: Float64Array;
  /** The optimizer; the runs of one call differ at most in η, ρ and σ. */
  readonly spec: OptimizerSpec;
  /**
   * The run's options. Its own: `seed`, `onLog`, `onProgress` and `window.reference`; the rest
   * (steps, log steps, bounds, window steps) must be the same for every run of the call.
   */
  readonly opts: TrainOptions;
}

/** Per-run state of a training loop. */
interface RunState {
  readonly plan: RunPlan;
  readonly rows: TrajectoryRow[];
  readonly checkpoints: { step: number; params: Float64Array }[];
  readonly windowRows: WindowStep[];
  readonly active: { start: number; end: number; phi: Float64Array; v1: Float64Array }[];
  diverged?: string;
  final?: Float64Array;
}

/**
 * Runs R = `ops.runs` independent runs together on the runs axis (`ops` and `objective` hold R runs;
 * R = 1 is `train`): one optimizer step advances every run, each run draws from its own stream
 * (`opts.seed`), logs its own rows, checkpoints and windows, and stops being recorded when it
 * diverges (its `final` is its iterate then; the others go on). Each result is what `train` gives
 * for that run alone on an engine of one run (bit for bit on float64; within rounding on tfjs).
 * Throws a RangeError for invalid options, or runs whose shared options differ.
 */
export async function trainRuns<V, S, C>(
  ops: VecOps<V, S, C>,
  objective: Objective<V, S, C>,
  runs: readonly RunPlan[],
): Promise<TrainResult[]> {
  const R = ops.runs;
  if (runs.length !== R) {
    throw new RangeError(`${runs.length} runs given to an engine of ${R} runs`);
  }
  const opts = runs[0].opts;
  const logSteps = checkOptions(opts);
  runs.forEach((run, r) => {
    checkOptions(run.opts);
    if (run.x0.length !== objective.dim) {
      throw new RangeError(
        `x0 has length ${run.x0.length}, the objective dimension ${objective.dim}`,
      );
    }
    const shared = (o: TrainOptions) =>
      JSON.stringify([
        o.steps,
        o.logSteps ?? null,
        o.maxNorm ?? null,
        o.recordParamsUpTo ?? null,
        o.window?.at ?? null,
        o.window?.length ?? null,
      ]);
    if (shared(run.opts) !== shared(opts)) {
      throw new RangeError(
        `run ${r} differs from run 0 in steps, log steps, bounds or windows, which runs on one ` +
          `axis share`,
      );
    }
  });
  const D = objective.dim;
  const maxNorm = opts.maxNorm ?? DEFAULT_MAX_NORM;
  const recordUpTo = opts.recordParamsUpTo ?? DEFAULT_RECORD_PARAMS_UP_TO;
  const stepper = createStep(
    ops,
    objective,
    runs.map((r) => r.spec),
    runs.map((r) => new Rng(r.opts.seed)),
  );
  const start = new Float64Array(R * D);
  runs.forEach((run, r) => start.set(run.x0, r * D));
  const x = ops.fromF64(start);
  const grad = ops.zeros();
  // The float64 engine's vectors are readable synchronously, which allows a cheap periodic check.
  const f64x = x instanceof Float64Array ? x : undefined;
  const state: RunState[] = runs.map((plan) => ({
    plan,
    rows: [],
    checkpoints: [],
    windowRows: [],
    active: [],
  }));
  const seg = (v: Float64Array, r: number) => v.subarray(r * D, (r + 1) * D);
  const live = () => state.filter((s) => s.diverged === undefined);
  const logSet = new Set(logSteps);
  // Every step some window covers is a stop of the loop, as are the log steps.
  const starts = new Set(opts.window?.at ?? []);
  const stops = new Set(logSteps);
  for (const s of starts) {
    for (let t = s; t < s + opts.window!.length; t++) stops.add(t);
  }
  const diverge = (s: RunState, t: number, what: string, at: Float64Array) => {
    s.diverged =
      `diverged at step ${t} (lr = ${s.plan.spec.lr}, rho = ${s.plan.spec.rho}): ${what}`;
    s.final = at.slice();
  };
  let t = 0;
  try {
    const progressEvery = Math.max(1, Math.ceil(opts.steps / 200));
    const advance = (target: number): boolean => {
      while (t < target) {
        stepper.step(x);
        t++;
        if (t % progressEvery === 0) { for (const s of live()) s.plan.opts.onProgress?.(t); }
        if (f64x !== undefined && (t & F64_CHECK_MASK) === 0) {
          state.forEach((s, r) => {
            if (s.diverged === undefined && !bounded(seg(f64x, r), maxNorm)) {
              diverge(s, t, `parameters non-finite or ‖x‖ > ${maxNorm}`, seg(f64x, r));
            }
          });
          if (live().length === 0) return false;
        }
      }
      return true;
    };
    const windowAt = async (t: number) => {
      if (!opts.window) return;
      const now = await ops.toF64(x);
      for (const [r, s] of state.entries()) {
        if (s.diverged === undefined && starts.has(t)) {
          const ref = await s.plan.opts.window!.reference(seg(now, r).slice());
          s.active.push({ start: t, end: t + opts.window.length - 1, ...ref });
        }
      }
      if (live().every((s) => s.active.length === 0)) return;
      const lossS = objective.loss(x);
      const losses = await ops.readRuns(lossS);
      ops.disposeScalar(lossS);
      for (const [r, s] of state.entries()) {
        if (s.diverged !== undefined) continue;
        const xr = seg(now, r);
        for (const w of s.active) {
          let proj = 0;
          for (let i = 0; i < D; i++) proj += (xr[i] - w.phi[i]) * w.v1[i];
          const sample = t === 0 ? -1 : stepper.lastSamples[r];
          s.windowRows.push({
            start: w.start,
            step: t,
            proj,
            sign: Math.sign(proj),
            sample,
            loss: losses[r],
          });
        }
        for (let i = s.active.length - 1; i >= 0; i--) {
          if (s.active[i].end <= t) s.active.splice(i, 1);
        }
      }
    };
    for (const target of [...stops].sort((a, b) => a - b)) {
      if (!advance(target)) break;
      await windowAt(target);
      if (!logSet.has(target)) continue;
      const all = await ops.toF64(x);
      const lossS = objective.loss(x);
      objective.grad(x, grad);
      const normS = ops.norm(grad);
      const losses = await ops.readRuns(lossS);
      const gradNorms = await ops.readRuns(normS);
      ops.disposeScalar(lossS);
      ops.disposeScalar(normS);
      for (const [r, s] of state.entries()) {
        if (s.diverged !== undefined) continue;
        const params = seg(all, r).slice();
        let n2 = 0;
        for (let i = 0; i < D; i++) n2 += params[i] * params[i];
        const paramNorm = Math.sqrt(n2);
        const loss = losses[r];
        if (!Number.isFinite(loss) || !(paramNorm <= maxNorm)) {
          diverge(s, t, `loss = ${loss}, ‖x‖ = ${paramNorm} (bound ${maxNorm})`, params);
          continue;
        }
        const { spec } = s.plan;
        const row: TrajectoryRow = {
          step: t,
          tau: spec.lr * spec.rho * spec.rho * t,
          loss,
          gradNorm: gradNorms[r],
          paramNorm,
          sample: stepper.lastSamples[r],
          ...(D <= recordUpTo ? { params } : {}),
        };
        s.rows.push(row);
        s.checkpoints.push({ step: t, params });
        s.plan.opts.onLog?.(row);
      }
      if (live().length === 0) break;
    }
    if (live().length > 0) advance(opts.steps);
    const last = await ops.toF64(x);
    return state.map((s, r) => {
      s.windowRows.sort((a, b) => a.start - b.start || a.step - b.step);
      const common = { rows: s.rows, checkpoints: s.checkpoints, window: s.windowRows };
      return s.diverged === undefined
        ? { ...common, final: seg(last, r).slice() }
        : { ...common, final: s.final!, diverged: s.diverged };
    });
  } finally {
    stepper.dispose();
    ops.dispose(grad);
    ops.dispose(x);
  }
}
