/**
 * The runs axis on the float64 engine: a vector holds R runs of dimension D in one run-major
 * `Float64Array` of R·D values, scalars and coefficients are one value per run. Every operation
 * does on each run's segment exactly what `F64Ops` does on a vector, in the same order, so a run
 * on the axis is bit for bit its unbatched run (tested); `loopedF64Objective` lifts an unbatched
 * objective onto the axis the same way.
 * @module
 */
import { F64Ops } from "./f64.ts";
import type { Batch, Objective, VecOps } from "./types.ts";

/** In-place float64 operations on R runs of dimension D. */
export class F64RunsOps implements VecOps<Float64Array, Float64Array, Float64Array> {
  readonly #one: F64Ops;

  /** Operations on `runs` runs of dimension `dim`. */
  constructor(readonly dim: number, readonly runs: number) {
    for (const [name, v] of [["dim", dim], ["runs", runs]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be ≥ 1 (got ${v})`);
    }
    this.#one = new F64Ops(dim);
  }

  /** Run r's segment of a block. */
  row(v: Float64Array, r: number): Float64Array {
    return v.subarray(r * this.dim, (r + 1) * this.dim);
  }

  #each(f: (r: number) => void): void {
    for (let r = 0; r < this.runs; r++) f(r);
  }

  /** The values themselves (one per run). */
  coef(values: ArrayLike<number>): Float64Array {
    if (values.length !== this.runs) {
      throw new RangeError(`${values.length} coefficients given for ${this.runs} runs`);
    }
    return Float64Array.from(values);
  }
  /** No-op. */
  disposeCoef(_c: Float64Array): void {}
  /** A new zero block. */
  zeros(): Float64Array {
    return new Float64Array(this.runs * this.dim);
  }
  /** A copy of `x` (run-major) as a new block. */
  fromF64(x: ArrayLike<number>): Float64Array {
    this.#length(x);
    return Float64Array.from(x);
  }
  /** A copy of the block. */
  toF64(v: Float64Array): Promise<Float64Array> {
    return Promise.resolve(v.slice());
  }
  /** The single run's value. */
  read(s: Float64Array): Promise<number> {
    if (this.runs !== 1) throw new RangeError(`read takes one run's scalar; use readRuns`);
    return Promise.resolve(s[0]);
  }
  /** Every run's value. */
  readRuns(s: Float64Array): Promise<Float64Array> {
    return Promise.resolve(s.slice());
  }
  /** dst ← x. */
  set(dst: Float64Array, x: ArrayLike<number>): void {
    this.#length(x);
    for (let i = 0; i < dst.length; i++) dst[i] = x[i];
  }
  /** dst ← src. */
  copy(dst: Float64Array, src: Float64Array): void {
    dst.set(src);
  }
  /** dst ← dst + a·x per run. */
  axpy(dst: Float64Array, a: Float64Array, x: Float64Array): void {
    this.#each((r) => this.#one.axpy(this.row(dst, r), a[r], this.row(x, r)));
  }
  /** dst ← dst + a·s·x per run. */
  axpyS(dst: Float64Array, a: Float64Array, s: Float64Array, x: Float64Array): void {
    this.#each((r) => this.#one.axpyS(this.row(dst, r), a[r], s[r], this.row(x, r)));
  }
  /** dst ← dst + (a/s)·x per run; nothing for the runs where s = 0. */
  axpyDivS(dst: Float64Array, a: Float64Array, s: Float64Array, x: Float64Array): void {
    this.#each((r) => this.#one.axpyDivS(this.row(dst, r), a[r], s[r], this.row(x, r)));
  }
  /** dst ← a·dst per run. */
  scale(dst: Float64Array, a: Float64Array): void {
    this.#each((r) => this.#one.scale(this.row(dst, r), a[r]));
  }
  /** dst ← x + a·y per run. */
  addScaled(dst: Float64Array, x: Float64Array, a: Float64Array, y: Float64Array): void {
    this.#each((r) => this.#one.addScaled(this.row(dst, r), this.row(x, r), a[r], this.row(y, r)));
  }
  /** Each run ← radius·src/‖src‖, or radius·e₁ where its src is zero. */
  setNormalized(dst: Float64Array, src: Float64Array, radius: Float64Array): void {
    this.#each((r) => this.#one.setNormalized(this.row(dst, r), this.row(src, r), radius[r]));
  }
  /** ⟨a, b⟩ per run. */
  dot(a: Float64Array, b: Float64Array): Float64Array {
    const out = new Float64Array(this.runs);
    this.#each((r) => out[r] = this.#one.dot(this.row(a, r), this.row(b, r)));
    return out;
  }
  /** ‖a‖₂ per run. */
  norm(a: Float64Array): Float64Array {
    const out = new Float64Array(this.runs);
    this.#each((r) => out[r] = this.#one.norm(this.row(a, r)));
    return out;
  }
  /** No-op. */
  dispose(_v: Float64Array): void {}
  /** No-op. */
  disposeScalar(_s: Float64Array): void {}

  #length(x: ArrayLike<number>): void {
    if (x.length !== this.runs * this.dim) {
      throw new RangeError(
        `${x.length} values given, ${this.runs} runs × dimension ${this.dim} need ${
          this.runs * this.dim
        }`,
      );
    }
  }
}

/**
 * An unbatched float64 objective lifted onto `runs` runs: each method calls it on every run's
 * segment (and that run's part of the batch and label noise), so the axis changes no number.
 */
export function loopedF64Objective(
  objective: Objective<Float64Array, number>,
  runs: number,
): Objective<Float64Array, Float64Array, Float64Array> {
  const D = objective.dim;
  const seg = (v: Float64Array, r: number) => v.subarray(r * D, (r + 1) * D);
  const part = (batch: Batch, r: number): Batch => {
    if (batch === undefined) return undefined;
    const b = batch.length / runs;
    return batch.subarray(r * b, (r + 1) * b);
  };
  const lifted: Objective<Float64Array, Float64Array, Float64Array> = {
    dim: D,
    runs,
    numSamples: objective.numSamples,
    loss(x, batch) {
      const out = new Float64Array(runs);
      for (let r = 0; r < runs; r++) out[r] = objective.loss(seg(x, r), part(batch, r));
      return out;
    },
    grad(x, out, batch) {
      for (let r = 0; r < runs; r++) objective.grad(seg(x, r), seg(out, r), part(batch, r));
    },
    hvp(x, v, out, batch) {
      for (let r = 0; r < runs; r++) {
        objective.hvp(seg(x, r), seg(v, r), seg(out, r), part(batch, r));
      }
    },
  };
  const noisy = objective.labelNoiseGrad?.bind(objective);
  if (noisy) {
    lifted.labelNoiseGrad = (x, out, batch, noise) => {
      const b = batch.length / runs;
      for (let r = 0; r < runs; r++) {
        const p = [r * b, (r + 1) * b] as const;
        noisy(seg(x, r), seg(out, r), batch.subarray(...p), noise.subarray(...p));
      }
    };
  }
  const fused = objective.fusedSam?.bind(objective);
  if (fused) {
    lifted.fusedSam = (batchSize) => {
      const one = fused(batchSize);
      if (!one) return undefined;
      return (x, batch, lr, rho) => {
        for (let r = 0; r < runs; r++) one(seg(x, r), part(batch, r), lr[r], rho[r]);
      };
    };
  }
  return lifted;
}
