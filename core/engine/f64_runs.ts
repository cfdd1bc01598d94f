/**
 * The runs axis on the float64 engine: a vector holds R runs of dimension D in one run-major
 * `Float64Array` of R·D values, scalars and coefficients are one value per run. Every operation
 * does on each run's segment exactly what `F64Ops` does on a vector, in the same order, so a run
 * on the axis is bit for bit its unbatched run (tested); `loopedF64Objective` lifts an unbatched
 * objective onto the axis the same way.
 * @module
 */
import type { Batch, Objective, VecOps } from "./types.ts";

/** In-place float64 operations on R runs of dimension D. */
export class F64RunsOps implements VecOps<Float64Array, Float64Array, Float64Array> {
  /** Operations on `runs` runs of dimension `dim`. */
  constructor(readonly dim: number, readonly runs: number) {
    for (const [name, v] of [["dim", dim], ["runs", runs]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be ≥ 1 (got ${v})`);
    }
  }

  /** Run r's segment of a block. */
  row(v: Float64Array, r: number): Float64Array {
    return v.subarray(r * this.dim, (r + 1) * this.dim);
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
  // Each operation below is F64Ops's loop on every run's segment, indexed in place: the same
  // arithmetic in the same order (so bit for bit), without a view per run and call.

  /** dst ← dst + a·x per run. */
  axpy(dst: Float64Array, a: Float64Array, x: Float64Array): void {
    for (let r = 0; r < this.runs; r++) this.#axpy(dst, a[r], x, r * this.dim);
  }
  #axpy(dst: Float64Array, a: number, x: Float64Array, o: number): void {
    for (let i = o; i < o + this.dim; i++) dst[i] += a * x[i];
  }
  /** dst ← dst + a·s·x per run. */
  axpyS(dst: Float64Array, a: Float64Array, s: Float64Array, x: Float64Array): void {
    for (let r = 0; r < this.runs; r++) this.#axpy(dst, a[r] * s[r], x, r * this.dim);
  }
  /** dst ← dst + (a/s)·x per run; nothing for the runs where s = 0. */
  axpyDivS(dst: Float64Array, a: Float64Array, s: Float64Array, x: Float64Array): void {
    for (let r = 0; r < this.runs; r++) {
      if (s[r] !== 0) this.#axpy(dst, a[r] / s[r], x, r * this.dim);
    }
  }
  /** dst ← a·dst per run. */
  scale(dst: Float64Array, a: Float64Array): void {
    for (let r = 0, o = 0; r < this.runs; r++, o += this.dim) {
      for (let i = o; i < o + this.dim; i++) dst[i] *= a[r];
    }
  }
  /** dst ← x + a·y per run. */
  addScaled(dst: Float64Array, x: Float64Array, a: Float64Array, y: Float64Array): void {
    for (let r = 0, o = 0; r < this.runs; r++, o += this.dim) {
      for (let i = o; i < o + this.dim; i++) dst[i] = x[i] + a[r] * y[i];
    }
  }
  /** Each run ← radius·src/‖src‖, or radius·e₁ where its src is zero. */
  setNormalized(dst: Float64Array, src: Float64Array, radius: Float64Array): void {
    for (let r = 0, o = 0; r < this.runs; r++, o += this.dim) {
      const n = Math.sqrt(this.#dot(src, src, o));
      if (n === 0) {
        dst.fill(0, o, o + this.dim);
        dst[o] = radius[r];
        continue;
      }
      const f = radius[r] / n;
      for (let i = o; i < o + this.dim; i++) dst[i] = f * src[i];
    }
  }
  #dot(a: Float64Array, b: Float64Array, o: number): number {
    let s = 0;
    for (let i = o; i < o + this.dim; i++) s += a[i] * b[i];
    return s;
  }
  /** ⟨a, b⟩ per run. */
  dot(a: Float64Array, b: Float64Array): Float64Array {
    const out = new Float64Array(this.runs);
    for (let r = 0; r < this.runs; r++) out[r] = this.#dot(a, b, r * this.dim);
    return out;
  }
  /** ‖a‖₂ per run. */
  norm(a: Float64Array): Float64Array {
    const out = new Float64Array(this.runs);
    for (let r = 0; r < this.runs; r++) out[r] = Math.sqrt(this.#dot(a, a, r * this.dim));
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
  // Blocks and batch buffers are reused from step to step: their per-run views are made once.
  const views = new WeakMap<ArrayBufferView, ArrayBufferView[]>();
  const split = <T extends Float64Array | Int32Array>(v: T): T[] => {
    let out = views.get(v) as T[] | undefined;
    if (!out) {
      const n = v.length / runs;
      out = Array.from({ length: runs }, (_, r) => v.subarray(r * n, (r + 1) * n) as T);
      views.set(v, out);
    }
    return out;
  };
  const none: Batch[] = new Array(runs).fill(undefined);
  const parts = (batch: Batch): Batch[] => batch === undefined ? none : split(batch);
  const lifted: Objective<Float64Array, Float64Array, Float64Array> = {
    dim: D,
    runs,
    numSamples: objective.numSamples,
    loss(x, batch) {
      const out = new Float64Array(runs);
      const xs = split(x), bs = parts(batch);
      for (let r = 0; r < runs; r++) out[r] = objective.loss(xs[r], bs[r]);
      return out;
    },
    grad(x, out, batch) {
      const xs = split(x), os = split(out), bs = parts(batch);
      for (let r = 0; r < runs; r++) objective.grad(xs[r], os[r], bs[r]);
    },
    hvp(x, v, out, batch) {
      const xs = split(x), vs = split(v), os = split(out), bs = parts(batch);
      for (let r = 0; r < runs; r++) objective.hvp(xs[r], vs[r], os[r], bs[r]);
    },
  };
  const noisy = objective.labelNoiseGrad?.bind(objective);
  if (noisy) {
    lifted.labelNoiseGrad = (x, out, batch, noise) => {
      const xs = split(x), os = split(out), bs = split(batch), ns = split(noise);
      for (let r = 0; r < runs; r++) noisy(xs[r], os[r], bs[r], ns[r]);
    };
  }
  type Fused = Objective<Float64Array, number>["fusedSam"];
  /** A fused step of one run, applied to each run's block with its own η and ρ. */
  const lift = (fused: NonNullable<Fused>): Objective<
    Float64Array,
    Float64Array,
    Float64Array
  >["fusedSam"] =>
  (batchSize) => {
    const one = fused(batchSize);
    if (!one) return undefined;
    return (x, batch, lr, rho) => {
      const xs = split(x), bs = parts(batch);
      for (let r = 0; r < runs; r++) one(xs[r], bs[r], lr[r], rho[r]);
    };
  };
  if (objective.fusedSam) lifted.fusedSam = lift(objective.fusedSam.bind(objective));
  if (objective.fusedAsc) lifted.fusedAsc = lift(objective.fusedAsc.bind(objective));
  return lifted;
}
