/**
 * The runs axis on the tfjs engine: a vector holds R independent runs as one float32 [R, D] tensor,
 * scalars and coefficients are [R, 1] tensors, and every operation acts on each row separately in
 * one tensor computation. With R = 1 it computes what `TfOps` computes (the same kernels on a row).
 *
 * `loopedTfObjective` lifts any unbatched tfjs objective onto the axis by slicing rows, for the
 * problems without a batched objective of their own (tf_mlp_runs.ts has the MLPs').
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Batch, Objective, VecOps } from "./types.ts";
import type { TfVec } from "./tfjs.ts";

/** R runs' vectors: a mutable holder of a float32 [R, D] tensor, replaced by each operation. */
export interface TfRunsVec {
  /** The current value, float32, shape [R, D], run-major. */
  t: tf.Tensor2D;
}

/** Per-run scalars and coefficients: float32 [R, 1] tensors. */
export type TfRunsScalar = tf.Tensor2D;

function swap(dst: TfRunsVec, next: tf.Tensor2D): void {
  const old = dst.t;
  dst.t = next;
  old.dispose();
}

/** In-place operations on R runs of dimension D over tfjs [R, D] tensors. */
export class TfRunsOps implements VecOps<TfRunsVec, TfRunsScalar, TfRunsScalar> {
  /** radius·e₁ rows used by `setNormalized` when a row is zero; lives as long as this. */
  readonly #e1: tf.Tensor2D;

  /** Operations on `runs` runs of dimension `dim` (on the current tfjs backend). */
  constructor(readonly dim: number, readonly runs: number) {
    for (const [name, v] of [["dim", dim], ["runs", runs]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be ≥ 1 (got ${v})`);
    }
    const e1 = new Float32Array(dim);
    e1[0] = 1;
    this.#e1 = tf.tensor2d(e1, [1, dim]);
  }

  #tensor(x: ArrayLike<number>): tf.Tensor2D {
    if (x.length !== this.runs * this.dim) {
      throw new RangeError(
        `${x.length} values given, ${this.runs} runs × dimension ${this.dim} need ${
          this.runs * this.dim
        }`,
      );
    }
    return tf.tensor2d(Float32Array.from(x), [this.runs, this.dim], "float32");
  }

  /** A [R, 1] coefficient from one value per run. */
  coef(values: ArrayLike<number>): TfRunsScalar {
    if (values.length !== this.runs) {
      throw new RangeError(`${values.length} coefficients given for ${this.runs} runs`);
    }
    return tf.tensor2d(Float32Array.from(values), [this.runs, 1], "float32");
  }
  /** Frees a coefficient. */
  disposeCoef(c: TfRunsScalar): void {
    c.dispose();
  }
  /** A new zero block. */
  zeros(): TfRunsVec {
    return { t: tf.zeros([this.runs, this.dim], "float32") };
  }
  /** A new block holding `x` (run-major) rounded to float32. */
  fromF64(x: ArrayLike<number>): TfRunsVec {
    return { t: this.#tensor(x) };
  }
  /** Reads the block back, run-major. */
  async toF64(v: TfRunsVec): Promise<Float64Array> {
    return Float64Array.from(await v.t.data());
  }
  /** Reads the scalar of a single run. */
  async read(s: TfRunsScalar): Promise<number> {
    if (this.runs !== 1) throw new RangeError(`read takes one run's scalar; use readRuns`);
    return (await s.data())[0];
  }
  /** Reads every run's scalar. */
  async readRuns(s: TfRunsScalar): Promise<Float64Array> {
    return Float64Array.from(await s.data());
  }
  /** dst ← x (run-major, rounded to float32). */
  set(dst: TfRunsVec, x: ArrayLike<number>): void {
    swap(dst, this.#tensor(x));
  }
  /** dst ← src. */
  copy(dst: TfRunsVec, src: TfRunsVec): void {
    if (dst === src) return;
    swap(dst, tf.clone(src.t));
  }
  /** dst ← dst + a·x, row by row. */
  axpy(dst: TfRunsVec, a: TfRunsScalar, x: TfRunsVec): void {
    swap(dst, tf.tidy(() => tf.add(dst.t, tf.mul(x.t, a))));
  }
  /** dst ← dst + a·s·x. */
  axpyS(dst: TfRunsVec, a: TfRunsScalar, s: TfRunsScalar, x: TfRunsVec): void {
    swap(dst, tf.tidy(() => tf.add(dst.t, tf.mul(x.t, tf.mul(s, a)))));
  }
  /** dst ← dst + (a/s)·x; adds nothing to the rows where s = 0 (selected on the device). */
  axpyDivS(dst: TfRunsVec, a: TfRunsScalar, s: TfRunsScalar, x: TfRunsVec): void {
    swap(
      dst,
      tf.tidy(() => {
        const c = tf.where(tf.equal(s, 0), tf.zerosLike(s), tf.div(a, s));
        return tf.add(dst.t, tf.mul(x.t, c));
      }),
    );
  }
  /** dst ← a·dst. */
  scale(dst: TfRunsVec, a: TfRunsScalar): void {
    swap(dst, tf.tidy(() => tf.mul(dst.t, a)));
  }
  /** dst ← x + a·y. */
  addScaled(dst: TfRunsVec, x: TfRunsVec, a: TfRunsScalar, y: TfRunsVec): void {
    swap(dst, tf.tidy(() => tf.add(x.t, tf.mul(y.t, a))));
  }
  /** Each row ← radius·src/‖src‖, or radius·e₁ where the row of src is zero. */
  setNormalized(dst: TfRunsVec, src: TfRunsVec, radius: TfRunsScalar): void {
    swap(
      dst,
      tf.tidy(() => {
        const n = rowNorm(src.t);
        const zero = tf.equal(n, 0);
        // Both branches are finite, so no 0·∞ reaches the vector.
        const f = tf.where(zero, tf.zerosLike(n), tf.div(radius, n));
        const g = tf.where(zero, tf.mul(radius, tf.onesLike(n)), tf.zerosLike(n));
        return tf.add(tf.mul(src.t, f), tf.mul(this.#e1, g));
      }),
    );
  }
  /** Row-wise ⟨a, b⟩ as [R, 1] (the caller disposes it). */
  dot(a: TfRunsVec, b: TfRunsVec): TfRunsScalar {
    return tf.tidy(() => tf.sum(tf.mul(a.t, b.t), 1, true));
  }
  /** Row-wise ‖a‖₂ as [R, 1] (the caller disposes it). */
  norm(a: TfRunsVec): TfRunsScalar {
    return tf.tidy(() => rowNorm(a.t));
  }
  /** Frees the block's tensor. */
  dispose(v: TfRunsVec): void {
    v.t.dispose();
  }
  /** Frees a scalar. */
  disposeScalar(s: TfRunsScalar): void {
    s.dispose();
  }
  /** Frees the constant e₁ row (the ops are unusable afterwards). */
  close(): void {
    this.#e1.dispose();
  }
}

/** ‖row‖₂ of every row as [R, 1], by the same kernel TfOps's `tf.norm` uses on a vector. */
function rowNorm(t: tf.Tensor2D): tf.Tensor2D {
  return tf.norm(t, "euclidean", 1, true) as tf.Tensor2D;
}

/**
 * An unbatched tfjs objective lifted onto `runs` runs by slicing rows: each method calls the
 * objective once per run and stacks the results. Correct for every problem, but R computations,
 * not one; the MLPs have batched objectives (tf_mlp_runs.ts).
 */
export function loopedTfObjective(
  objective: Objective<TfVec, tf.Scalar>,
  runs: number,
): Objective<TfRunsVec, TfRunsScalar, TfRunsScalar> {
  const D = objective.dim;
  // In a tidy: the slice is a tensor of its own, which the reshape does not free.
  const row = (x: TfRunsVec, r: number): TfVec => ({
    t: tf.tidy(() => tf.reshape(tf.slice(x.t, [r, 0], [1, D]), [D]) as tf.Tensor1D),
  });
  const part = (batch: Batch, r: number): Batch => {
    if (batch === undefined) return undefined;
    const b = batch.length / runs;
    return batch.subarray(r * b, (r + 1) * b);
  };
  const perRun = (x: TfRunsVec, out: TfRunsVec, f: (xr: TfVec, o: TfVec, r: number) => void) => {
    const rows: tf.Tensor1D[] = [];
    for (let r = 0; r < runs; r++) {
      const xr = row(x, r);
      const o: TfVec = { t: tf.zeros([D]) };
      f(xr, o, r);
      xr.t.dispose();
      rows.push(o.t);
    }
    const next = tf.stack(rows) as tf.Tensor2D;
    tf.dispose(rows);
    swap(out, next);
  };
  const lifted: Objective<TfRunsVec, TfRunsScalar, TfRunsScalar> = {
    dim: D,
    runs,
    numSamples: objective.numSamples,
    loss(x, batch) {
      const values: tf.Scalar[] = [];
      for (let r = 0; r < runs; r++) {
        const xr = row(x, r);
        values.push(objective.loss(xr, part(batch, r)));
        xr.t.dispose();
      }
      const out = tf.tidy(() => tf.reshape(tf.stack(values), [runs, 1]) as tf.Tensor2D);
      tf.dispose(values);
      return out;
    },
    grad(x, out, batch) {
      perRun(x, out, (xr, o, r) => objective.grad(xr, o, part(batch, r)));
    },
    hvp(x, v, out, batch) {
      perRun(x, out, (xr, o, r) => {
        const vr = row(v, r);
        objective.hvp(xr, vr, o, part(batch, r));
        vr.t.dispose();
      });
    },
    dispose() {},
  };
  const noisy = objective.labelNoiseGrad?.bind(objective);
  if (noisy) {
    lifted.labelNoiseGrad = (x, out, batch, noise) => {
      const b = batch.length / runs;
      perRun(
        x,
        out,
        (xr, o, r) =>
          noisy(xr, o, batch.subarray(r * b, (r + 1) * b), noise.subarray(r * b, (r + 1) * b)),
      );
    };
  }
  return lifted;
}
