/**
 * The tfjs engine: vectors are mutable holders of float32 1-D tensors, scalars are 0-d tensors.
 *
 * Every in-place operation computes the new tensor inside `tf.tidy`, swaps it into the holder and
 * disposes the old one, so the number of live tensors is constant across optimizer steps. Nothing is
 * read back inside an operation (no `dataSync`: it throws on webgpu under Deno); only `read` and
 * `toF64` await the data.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendName, Engine, VecOps } from "./types.ts";
import { initTfBackend, type TfBackendName } from "./backend.ts";
import { singleCoef } from "./f64.ts";

/** A tfjs vector: a mutable holder whose tensor is replaced (and the old one freed) by each op. */
export interface TfVec {
  /** The current value, float32, shape [dim]. */
  t: tf.Tensor1D;
}

/** Replaces `dst.t` with `next` (computed inside a tidy) and frees the previous tensor. */
function swap(dst: TfVec, next: tf.Tensor1D): void {
  const old = dst.t;
  dst.t = next;
  old.dispose();
}

/** In-place float32 vector operations of one dimension over tfjs tensors. */
export class TfOps implements VecOps<TfVec, tf.Scalar> {
  /** radius·e₁ direction used by `setNormalized` when the source is zero; lives as long as this. */
  readonly #e1: tf.Tensor1D;

  /** One run: the unbatched engine (tfjs_runs.ts has the runs axis). */
  readonly runs = 1;

  /** Creates operations for vectors of dimension `dim` (on the current tfjs backend). */
  constructor(readonly dim: number) {
    if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`dim must be ≥ 1 (got ${dim})`);
    const e1 = new Float32Array(dim);
    e1[0] = 1;
    this.#e1 = tf.tensor1d(e1, "float32");
  }

  #tensor(x: ArrayLike<number>): tf.Tensor1D {
    if (x.length !== this.dim) {
      throw new RangeError(`vector of length ${x.length} given, dimension is ${this.dim}`);
    }
    return tf.tensor1d(Float32Array.from(x), "float32");
  }

  /** The single run's value (coefficients are numbers here). */
  coef(values: ArrayLike<number>): number {
    return singleCoef(values);
  }
  /** No-op. */
  disposeCoef(_c: number): void {}
  /** A new zero vector. */
  zeros(): TfVec {
    return { t: tf.zeros([this.dim], "float32") };
  }
  /** A new vector holding `x` rounded to float32. */
  fromF64(x: ArrayLike<number>): TfVec {
    return { t: this.#tensor(x) };
  }
  /** Reads `v` back (awaits the backend; safe on webgpu). */
  async toF64(v: TfVec): Promise<Float64Array> {
    return Float64Array.from(await v.t.data());
  }
  /** Reads a scalar back. */
  async read(s: tf.Scalar): Promise<number> {
    return (await s.data())[0];
  }
  /** Reads a scalar back as the single run's value. */
  async readRuns(s: tf.Scalar): Promise<Float64Array> {
    return Float64Array.from(await s.data());
  }
  /** dst ← x (rounded to float32). */
  set(dst: TfVec, x: ArrayLike<number>): void {
    swap(dst, this.#tensor(x));
  }
  /** dst ← src. */
  copy(dst: TfVec, src: TfVec): void {
    if (dst === src) return;
    swap(dst, tf.clone(src.t));
  }
  /** dst ← dst + a·x. */
  axpy(dst: TfVec, a: number, x: TfVec): void {
    swap(dst, tf.tidy(() => tf.add(dst.t, tf.mul(x.t, a))));
  }
  /** dst ← dst + a·s·x. */
  axpyS(dst: TfVec, a: number, s: tf.Scalar, x: TfVec): void {
    swap(dst, tf.tidy(() => tf.add(dst.t, tf.mul(x.t, tf.mul(s, a)))));
  }
  /** dst ← dst + (a/s)·x; adds nothing when s = 0 (selected on the device, no read-back). */
  axpyDivS(dst: TfVec, a: number, s: tf.Scalar, x: TfVec): void {
    swap(
      dst,
      tf.tidy(() => {
        const c = tf.where(tf.equal(s, 0), tf.scalar(0), tf.div(a, s));
        return tf.add(dst.t, tf.mul(x.t, c));
      }),
    );
  }
  /** dst ← a·dst. */
  scale(dst: TfVec, a: number): void {
    swap(dst, tf.tidy(() => tf.mul(dst.t, a)));
  }
  /** dst ← x + a·y. */
  addScaled(dst: TfVec, x: TfVec, a: number, y: TfVec): void {
    swap(dst, tf.tidy(() => tf.add(x.t, tf.mul(y.t, a))));
  }
  /** dst ← radius·src/‖src‖, or radius·e₁ when ‖src‖ = 0 (selected on the device). */
  setNormalized(dst: TfVec, src: TfVec, radius: number): void {
    swap(
      dst,
      tf.tidy(() => {
        const n = tf.norm(src.t);
        const zero = tf.equal(n, 0);
        // Both branches are finite scalars, so no 0·∞ reaches the vector.
        const f = tf.where(zero, tf.scalar(0), tf.div(radius, n));
        const g = tf.where(zero, tf.scalar(radius), tf.scalar(0));
        return tf.add(tf.mul(src.t, f), tf.mul(this.#e1, g));
      }),
    );
  }
  /** ⟨a, b⟩ as a 0-d tensor (the caller disposes it). */
  dot(a: TfVec, b: TfVec): tf.Scalar {
    return tf.tidy(() => tf.sum(tf.mul(a.t, b.t)));
  }
  /** ‖a‖₂ as a 0-d tensor (the caller disposes it). */
  norm(a: TfVec): tf.Scalar {
    return tf.tidy(() => tf.norm(a.t) as tf.Scalar);
  }
  /** Frees the vector's tensor. */
  dispose(v: TfVec): void {
    v.t.dispose();
  }
  /** Frees a scalar. */
  disposeScalar(s: tf.Scalar): void {
    s.dispose();
  }
}

/** The tfjs engine on one backend; `ops(dim)` is cached per dimension. */
export class TfEngine implements Engine<TfVec, tf.Scalar> {
  readonly #ops = new Map<number, TfOps>();
  /**
   * Wraps an initialized backend; use `createTfEngine`, which initializes it. `runtime` is the
   * record returned by `initTfBackend`.
   */
  constructor(readonly backend: BackendName, readonly runtime: Readonly<Record<string, string>>) {}
  /** Vector operations of dimension `dim` (one instance per dimension). */
  ops(dim: number): TfOps {
    let o = this.#ops.get(dim);
    if (!o) {
      o = new TfOps(dim);
      this.#ops.set(dim, o);
    }
    return o;
  }
}

/**
 * Initializes tfjs on `backend` (switching tfjs's global backend) and returns the engine. Its
 * `runtime` records the tfjs and Deno versions, the backend, and for webgpu the adapter description.
 * Rejects when the backend cannot start (webgpu without an adapter names the cause). tfjs has a
 * single global backend, so the most recent call wins: use one tfjs engine at a time.
 */
export async function createTfEngine(backend: TfBackendName): Promise<TfEngine> {
  const runtime = await initTfBackend(backend);
  return new TfEngine(backend, runtime);
}
