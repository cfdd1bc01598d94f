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
 */
export async function train<V, S>(
  ops: VecOps<V, S>,
  objective: Objective<V, S>,
  x0: Float64Array,
  spec: OptimizerSpec,
  opts: TrainOptions,
): Promise<TrainResult> {
  const logSteps = checkOptions(opts);
  if (x0.length !== objective.dim) {
    throw new RangeError(`x0 has length ${x0.length}, the objective dimension ${objective.dim}`);
  }
  const maxNorm = opts.maxNorm ?? DEFAULT_MAX_NORM;
  const recordUpTo = opts.recordParamsUpTo ?? DEFAULT_RECORD_PARAMS_UP_TO;
  const stepper = createStep(ops, objective, spec, new Rng(opts.seed));
  const x = ops.fromF64(x0);
  const grad = ops.zeros();
  // The float64 engine's vectors are readable synchronously, which allows a cheap periodic check.
  const f64x = x instanceof Float64Array ? x : undefined;
  const rows: TrajectoryRow[] = [];
  const checkpoints: { step: number; params: Float64Array }[] = [];
  const windowRows: WindowStep[] = [];
  const logSet = new Set(logSteps);
  // Every step some window covers is a stop of the loop, as are the log steps.
  const starts = new Set(opts.window?.at ?? []);
  const stops = new Set(logSteps);
  for (const s of starts) {
    for (let t = s; t < s + opts.window!.length; t++) stops.add(t);
  }
  const active: { start: number; end: number; phi: Float64Array; v1: Float64Array }[] = [];
  const divergedAt = (t: number, what: string) =>
    `diverged at step ${t} (lr = ${spec.lr}, rho = ${spec.rho}): ${what}`;
  let diverged: string | undefined;
  let t = 0;
  try {
    const progressEvery = Math.max(1, Math.ceil(opts.steps / 200));
    const advance = (target: number): boolean => {
      while (t < target) {
        stepper.step(x);
        t++;
        if (opts.onProgress !== undefined && t % progressEvery === 0) opts.onProgress(t);
        if (f64x !== undefined && (t & F64_CHECK_MASK) === 0 && !bounded(f64x, maxNorm)) {
          diverged = divergedAt(t, `parameters non-finite or ‖x‖ > ${maxNorm}`);
          return false;
        }
      }
      return true;
    };
    const windowAt = async (t: number) => {
      if (!opts.window) return;
      const now = await ops.toF64(x);
      if (starts.has(t)) {
        const ref = await opts.window.reference(now);
        active.push({ start: t, end: t + opts.window.length - 1, ...ref });
      }
      if (active.length === 0) return;
      const lossS = objective.loss(x);
      const loss = await ops.read(lossS);
      ops.disposeScalar(lossS);
      for (const w of active) {
        let proj = 0;
        for (let i = 0; i < now.length; i++) proj += (now[i] - w.phi[i]) * w.v1[i];
        const sample = t === 0 ? -1 : stepper.lastSample;
        windowRows.push({ start: w.start, step: t, proj, sign: Math.sign(proj), sample, loss });
      }
      for (let i = active.length - 1; i >= 0; i--) if (active[i].end <= t) active.splice(i, 1);
    };
    for (const target of [...stops].sort((a, b) => a - b)) {
      if (!advance(target)) break;
      await windowAt(target);
      if (!logSet.has(target)) continue;
      const params = await ops.toF64(x);
      const lossS = objective.loss(x);
      objective.grad(x, grad);
      const normS = ops.norm(grad);
      const loss = await ops.read(lossS);
      const gradNorm = await ops.read(normS);
      ops.disposeScalar(lossS);
      ops.disposeScalar(normS);
      let n2 = 0;
      for (let i = 0; i < params.length; i++) n2 += params[i] * params[i];
      const paramNorm = Math.sqrt(n2);
      if (!Number.isFinite(loss) || !(paramNorm <= maxNorm)) {
        diverged = divergedAt(t, `loss = ${loss}, ‖x‖ = ${paramNorm} (bound ${maxNorm})`);
        break;
      }
      const row: TrajectoryRow = {
        step: t,
        tau: spec.lr * spec.rho * spec.rho * t,
        loss,
        gradNorm,
        paramNorm,
        sample: stepper.lastSample,
        ...(params.length <= recordUpTo ? { params } : {}),
      };
      rows.push(row);
      checkpoints.push({ step: t, params });
      opts.onLog?.(row);
    }
    if (diverged === undefined) advance(opts.steps);
    const final = await ops.toF64(x);
    windowRows.sort((a, b) => a.start - b.start || a.step - b.step);
    return diverged === undefined
      ? { rows, final, checkpoints, window: windowRows }
      : { rows, final, checkpoints, diverged, window: windowRows };
  } finally {
    stepper.dispose();
    ops.dispose(grad);
    ops.dispose(x);
  }
}
