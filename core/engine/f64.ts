/**
 * The float64 reference engine: in-place arithmetic over `Float64Array`, scalars as numbers.
 * @module
 */
import { loadBlas } from "./blas.ts";
import type { Engine, VecOps } from "./types.ts";

/** In-place float64 vector operations of one dimension. */
export class F64Ops implements VecOps<Float64Array, number> {
  /** One run: the unbatched engine. */
  readonly runs = 1;
  /** Creates operations for vectors of dimension `dim`. */
  constructor(readonly dim: number) {}
  /** The single run's value. */
  coef(values: ArrayLike<number>): number {
    return singleCoef(values);
  }
  /** No-op. */
  disposeCoef(_c: number): void {}
  /** A new zero vector. */
  zeros(): Float64Array {
    return new Float64Array(this.dim);
  }
  /** A copy of `x` as a new vector. */
  fromF64(x: ArrayLike<number>): Float64Array {
    return Float64Array.from(x);
  }
  /** A copy of `v`. */
  toF64(v: Float64Array): Promise<Float64Array> {
    return Promise.resolve(v.slice());
  }
  /** The number itself. */
  read(s: number): Promise<number> {
    return Promise.resolve(s);
  }
  /** The number as the single run's value. */
  readRuns(s: number): Promise<Float64Array> {
    return Promise.resolve(Float64Array.of(s));
  }
  /** dst ← x. */
  set(dst: Float64Array, x: ArrayLike<number>): void {
    for (let i = 0; i < this.dim; i++) dst[i] = x[i];
  }
  /** dst ← src. */
  copy(dst: Float64Array, src: Float64Array): void {
    dst.set(src);
  }
  /** dst ← dst + a·x. */
  axpy(dst: Float64Array, a: number, x: Float64Array): void {
    for (let i = 0; i < dst.length; i++) dst[i] += a * x[i];
  }
  /** dst ← dst + a·s·x. */
  axpyS(dst: Float64Array, a: number, s: number, x: Float64Array): void {
    this.axpy(dst, a * s, x);
  }
  /** dst ← dst + (a/s)·x; nothing when s = 0. */
  axpyDivS(dst: Float64Array, a: number, s: number, x: Float64Array): void {
    if (s !== 0) this.axpy(dst, a / s, x);
  }
  /** dst ← a·dst. */
  scale(dst: Float64Array, a: number): void {
    for (let i = 0; i < dst.length; i++) dst[i] *= a;
  }
  /** dst ← x + a·y. */
  addScaled(dst: Float64Array, x: Float64Array, a: number, y: Float64Array): void {
    for (let i = 0; i < dst.length; i++) dst[i] = x[i] + a * y[i];
  }
  /** dst ← radius·src/‖src‖, or radius·e₁ when src = 0. */
  setNormalized(dst: Float64Array, src: Float64Array, radius: number): void {
    const n = this.norm(src);
    if (n === 0) {
      dst.fill(0);
      dst[0] = radius;
      return;
    }
    const f = radius / n;
    for (let i = 0; i < dst.length; i++) dst[i] = f * src[i];
  }
  /** ⟨a, b⟩. */
  dot(a: Float64Array, b: Float64Array): number {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i] * b[i];
    return s;
  }
  /** ‖a‖₂. */
  norm(a: Float64Array): number {
    return Math.sqrt(this.dot(a, a));
  }
  /** No-op. */
  dispose(_v: Float64Array): void {}
  /** No-op. */
  disposeScalar(_s: number): void {}
}

/** The one value of a single run's coefficient; a RangeError for any other count. */
export function singleCoef(values: ArrayLike<number>): number {
  if (values.length !== 1) {
    throw new RangeError(`${values.length} coefficients given to an engine of one run`);
  }
  return values[0];
}

/**
 * The float64 engine. Its runtime names the BLAS of the dense products (engine/blas.ts; "none"
 * when the loops serve), since the GEMM path rounds differently from the loops.
 */
export const f64Engine: Engine<Float64Array, number> = {
  backend: "f64",
  get runtime() {
    return { engine: "f64", blas: loadBlas()?.identity ?? "none" };
  },
  ops: (dim: number) => new F64Ops(dim),
};
