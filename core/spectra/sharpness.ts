/**
 * The three sharpness notions of the paper (Table 1) at a point x with radius ρ:
 * R^Max = max_{‖v‖≤1} L(x+ρv) − L(x), R^Asc = L(x+ρĝ) − L(x), R^Avg = E_u L(x+ρu) − L(x)
 * (u uniform on the unit sphere).
 * @module
 */
import type { Batch } from "../engine/types.ts";
import type { F64Oracle } from "../engine/oracle.ts";
import { Rng } from "../rng.ts";
import { addScaled, norm } from "./linalg.ts";

/** Options shared by the sharpness notions. */
export interface SharpnessOptions {
  /** Perturbation radius ρ ≥ 0. */
  rho: number;
  /** Samples whose mean loss is used (default: the full loss). */
  batch?: Batch;
}

/** ĝ = ∇L/‖∇L‖ into `out`, or e₁ when ∇L = 0 (the paper's "any unit vector"). */
async function unitGradient(
  oracle: F64Oracle,
  x: Float64Array,
  out: Float64Array,
  batch: Batch,
): Promise<void> {
  await oracle.grad(x, out, batch);
  const n = norm(out);
  if (n === 0) {
    out.fill(0);
    out[0] = 1;
  } else {
    for (let i = 0; i < out.length; i++) out[i] /= n;
  }
}

/** R^Asc_ρ(x) = L(x + ρĝ) − L(x), ĝ = ∇L/‖∇L‖ (e₁ when ∇L = 0). Costs 1 gradient and 2 losses. */
export async function sharpnessAsc(
  oracle: F64Oracle,
  x: Float64Array,
  opts: SharpnessOptions,
): Promise<number> {
  const g = new Float64Array(oracle.dim);
  await unitGradient(oracle, x, g, opts.batch);
  const l0 = await oracle.loss(x, opts.batch);
  return await oracle.loss(addScaled(g, x, opts.rho, g), opts.batch) - l0;
}

/** Options of {@link sharpnessAvg}. */
export interface SharpnessAvgOptions extends SharpnessOptions {
  /** Number N of random directions (default 64); each is evaluated at ±u, so 2N + 1 losses. */
  samples?: number;
  /** Seed of the directions (default 0). */
  seed?: number;
}

/**
 * R^Avg_ρ(x) = E_u L(x + ρu) − L(x), u uniform on the unit sphere, by Monte Carlo with antithetic
 * pairs: each direction contributes ½(L(x+ρu) + L(x−ρu)) − L(x), which has the same mean (the
 * sphere is symmetric) but no odd-order terms such as ρ⟨∇L, u⟩, hence far less variance away
 * from minimizers. `se` is the standard error over the N pair values.
 */
export async function sharpnessAvg(
  oracle: F64Oracle,
  x: Float64Array,
  opts: SharpnessAvgOptions,
): Promise<{ estimate: number; se: number }> {
  const n = opts.samples ?? 64;
  if (!(Number.isInteger(n) && n >= 2)) throw new RangeError(`samples must be ≥ 2 (got ${n})`);
  const rng = new Rng(opts.seed ?? 0);
  const u = new Float64Array(oracle.dim), y = new Float64Array(oracle.dim);
  const l0 = await oracle.loss(x, opts.batch);
  let mean = 0, m2 = 0;
  for (let j = 1; j <= n; j++) {
    rng.fillSphere(u);
    const plus = await oracle.loss(addScaled(y, x, opts.rho, u), opts.batch);
    const minus = await oracle.loss(addScaled(y, x, -opts.rho, u), opts.batch);
    const v = (plus + minus) / 2 - l0;
    const d = v - mean;
    mean += d / j;
    m2 += d * (v - mean);
  }
  return { estimate: mean, se: Math.sqrt(m2 / (n - 1) / n) };
}

/** Options of {@link sharpnessMax}. */
export interface SharpnessMaxOptions extends SharpnessOptions {
  /** Extra start directions (e.g. ±v1 of the Hessian); ĝ is always one start. */
  starts?: readonly Float64Array[];
  /** Additional random starts on the sphere (default 2). */
  randomStarts?: number;
  /** Maximum ascent steps per start (default 100). */
  steps?: number;
  /** Stop a start when an accepted step gains less than tol·(|L(x+ρv)| + tiny) (default 1e-12). */
  tol?: number;
  /** Seed of the random starts (default 0). */
  seed?: number;
}

/** Result of {@link sharpnessMax}. */
export interface SharpnessMaxResult {
  /** The best value found of max_{‖v‖≤1} L(x+ρv) − L(x) (a lower bound on the true maximum). */
  value: number;
  /** The maximizing v (‖v‖ ≤ 1). */
  v: Float64Array;
  /** Gradient evaluations used. */
  gradEvals: number;
}

/**
 * R^Max_ρ(x) by projected gradient ascent of F(v) = L(x+ρv) on the unit ball from several starts
 * (ĝ, the given ones, random ones), returning the best. Step: v ← P_ball(v + α∇F(v)) with α
 * doubled after an increase and halved (retrying) after a decrease. Cost ≤ (starts)·steps·
 * (1 gradient + 1 loss) plus the halvings' losses.
 */
export async function sharpnessMax(
  oracle: F64Oracle,
  x: Float64Array,
  opts: SharpnessMaxOptions,
): Promise<SharpnessMaxResult> {
  const dim = oracle.dim, rho = opts.rho, batch = opts.batch;
  const steps = opts.steps ?? 100, tol = opts.tol ?? 1e-12;
  const rng = new Rng(opts.seed ?? 0);
  const ghat = new Float64Array(dim);
  await unitGradient(oracle, x, ghat, batch);
  const starts = [ghat, ...(opts.starts ?? [])];
  for (let j = 0; j < (opts.randomStarts ?? 2); j++) {
    starts.push(rng.fillSphere(new Float64Array(dim)));
  }
  const l0 = await oracle.loss(x, batch);
  const y = new Float64Array(dim), grad = new Float64Array(dim), trial = new Float64Array(dim);
  let best = -Infinity, bestV = ghat.slice(), gradEvals = 1;

  const project = (v: Float64Array) => {
    const n = norm(v);
    if (n > 1) { for (let i = 0; i < dim; i++) v[i] /= n; }
  };
  for (const start of starts) {
    const v = start.slice();
    project(v);
    let f = await oracle.loss(addScaled(y, x, rho, v), batch);
    let alpha = Number.NaN;
    for (let s = 0; s < steps; s++) {
      // y = x + ρv here: it was the last point evaluated and accepted.
      await oracle.grad(y, grad, batch);
      gradEvals++;
      // ∇_v F = ρ∇L(x+ρv).
      const gn = rho * norm(grad);
      if (gn === 0) break;
      // The first step moves v by about its own size; then the step adapts.
      if (Number.isNaN(alpha)) alpha = 1 / gn;
      let accepted = false, stalled = false;
      while (!accepted && alpha * gn > 1e-15) {
        addScaled(trial, v, alpha * rho, grad);
        project(trial);
        const ft = await oracle.loss(addScaled(y, x, rho, trial), batch);
        if (ft >= f) {
          accepted = true;
          stalled = ft - f <= tol * (Math.abs(ft) + 1e-300);
          v.set(trial);
          f = ft;
          alpha *= 2;
        } else {
          alpha /= 2;
        }
      }
      if (!accepted || stalled) break;
    }
    if (f > best) {
      best = f;
      bestV = v;
    }
  }
  return { value: best - l0, v: bestV, gradEvals };
}
