/**
 * A float64 view of any engine's objective, for the spectral routines.
 *
 * Spectral routines keep their vectors in `Float64Array` (full precision for Lanczos and the
 * reductions); only the objective's own evaluations run in the engine's precision.
 * @module
 */
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

/** Wraps an engine objective as a float64 oracle (copies in, reads back out). */
export function oracleFrom<V, S>(ops: VecOps<V, S>, objective: Objective<V, S>): F64Oracle {
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
