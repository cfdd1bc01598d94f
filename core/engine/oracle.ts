/**
 * A float64 view of any engine's objective, for the spectral routines.
 *
 * Spectral routines keep their vectors in `Float64Array` (full precision for Lanczos and the
 * reductions); only the objective's own evaluations run in the engine's precision.
 * @module
 */
import { F64Ops } from "./f64.ts";
import type { Batch, Objective, VecOps } from "./types.ts";

/** Loss, gradient and Hessian-vector product over float64 arrays, possibly async. */
export interface F64Oracle {
  /** Number of parameters D. */
  readonly dim: number;
  /** Number of per-sample losses M. */
  readonly numSamples: number;
  /** Mean loss over `batch` at x. */
  loss(x: Float64Array, batch?: Batch): Promise<number>;
  /** out ← gradient of the mean loss over `batch` at x. */
  grad(x: Float64Array, out: Float64Array, batch?: Batch): Promise<void>;
  /** out ← Hessian of the mean loss over `batch` at x, times v. */
  hvp(x: Float64Array, v: Float64Array, out: Float64Array, batch?: Batch): Promise<void>;
  /** Frees the engine vectors the view holds (absent when there are none). */
  dispose?(): void;
}

/**
 * Wraps an engine objective as a float64 oracle: copies in and reads back out on tfjs; on the f64
 * engine the objective runs on the caller's arrays themselves (no copy per evaluation).
 */
export function oracleFrom<V, S>(ops: VecOps<V, S>, objective: Objective<V, S>): F64Oracle {
  if (ops instanceof F64Ops) return direct(objective as unknown as Objective<Float64Array, number>);
  const xv = ops.zeros(), vv = ops.zeros(), ov = ops.zeros();
  return {
    dim: objective.dim,
    numSamples: objective.numSamples,
    async loss(x, batch) {
      ops.set(xv, x);
      const s = objective.loss(xv, batch);
      const value = await ops.read(s);
      ops.disposeScalar(s);
      return value;
    },
    async grad(x, out, batch) {
      ops.set(xv, x);
      objective.grad(xv, ov, batch);
      out.set(await ops.toF64(ov));
    },
    async hvp(x, v, out, batch) {
      ops.set(xv, x);
      ops.set(vv, v);
      objective.hvp(xv, vv, ov, batch);
      out.set(await ops.toF64(ov));
    },
    dispose() {
      for (const v of [xv, vv, ov]) ops.dispose(v);
    },
  };
}

/** The f64 objective as an oracle without copies (the output is copied only when it aliases). */
function direct(objective: Objective<Float64Array, number>): F64Oracle {
  return {
    dim: objective.dim,
    numSamples: objective.numSamples,
    loss: (x, batch) => Promise.resolve(objective.loss(x, batch)),
    grad(x, out, batch) {
      if (out === x) objective.grad(x.slice(), out, batch);
      else objective.grad(x, out, batch);
      return Promise.resolve();
    },
    hvp(x, v, out, batch) {
      if (out === x || out === v) out.set(hvpCopy(objective, x, v, batch));
      else objective.hvp(x, v, out, batch);
      return Promise.resolve();
    },
  };
}

function hvpCopy(
  objective: Objective<Float64Array, number>,
  x: Float64Array,
  v: Float64Array,
  batch: Batch,
): Float64Array {
  const out = new Float64Array(x.length);
  objective.hvp(x, v, out, batch);
  return out;
}
