/**
 * A runs axis for 1-SAM on the two-layer MLP on tfjs: R independent runs on one data set (their own
 * seeds, ρ and η) advance together as one tensor computation over R stacked parameter vectors, with the closed-form
 * one-sample step of tf_mlp_sam.ts batched over the runs. Each run draws its sample from its own
 * `Rng` exactly as the unbatched step does (one `rng.int(M)` per step), so run r follows the
 * unbatched run with the same seed, ρ and η up to float32 rounding (tested).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../rng.ts";
import { mlpDepth } from "./mlp.ts";
import type { Dataset } from "./types.ts";
import { datasetArray, datasetShape, enumField, fail } from "./validate.ts";

/** One independent run: its seed, SAM radius ρ and learning rate η. */
export interface RunSpec {
  /** Seed of the run's sample stream (as the unbatched run's `new Rng(seed)`). */
  readonly seed: number;
  /** ρ. */
  readonly rho: number;
  /** η. */
  readonly lr: number;
}

/** R 1-SAM runs of one MLP data set, advanced together. */
export interface MlpOneSamRuns {
  /** Number of runs R. */
  readonly runs: number;
  /** Parameters per run D. */
  readonly dim: number;
  /** One 1-SAM step of every run. Synchronous; nothing is read back. */
  step(): void;
  /** Waits until every queued step has run (reads back a few values). */
  sync(): Promise<void>;
  /** The parameters of every run, as float64 rows. */
  read(): Promise<Float64Array[]>;
  /** The sample each run drew in the last step. */
  readonly lastSamples: Int32Array;
  /** Frees every tensor. */
  dispose(): void;
}

/**
 * The runs of `specs` from start points `x0` (one per run, length D = h(d + 2)) on an mlp data set,
 * on tfjs's current backend. Throws a RangeError on malformed data or mismatched lengths.
 */
export function mlpOneSamRuns(
  dataset: Dataset,
  specs: readonly RunSpec[],
  x0: readonly Float64Array[],
): MlpOneSamRuns {
  const [n, d] = datasetShape(dataset, "z", 2);
  const h = dataset.params.hidden;
  if (typeof h !== "number" || !Number.isInteger(h) || h < 1) {
    fail("mlp", `params.hidden must be a positive integer (got ${JSON.stringify(h)})`);
  }
  if (mlpDepth(dataset) !== 2) fail("mlp", "the 1-SAM runs axis is for the depth-2 network");
  const act = enumField("mlp", "params.activation", dataset.params.activation, {
    allowed: ["tanh", "softplus"] as const,
    fallback: "tanh",
  });
  const R = specs.length, D = h * (d + 2);
  if (R < 1 || x0.length !== R || x0.some((x) => x.length !== D)) {
    throw new RangeError(`need one start point of length ${D} per run (${R} runs)`);
  }
  const z64 = datasetArray(dataset, "z", [n, d]);
  const zn = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    let s = 1;
    for (let i = 0; i < d; i++) s += Math.fround(z64[k * d + i]) ** 2;
    zn[k] = s;
  }
  const z = tf.tensor2d(Float32Array.from(z64), [n, d]);
  const y = tf.tensor1d(Float32Array.from(datasetArray(dataset, "y", [n])));
  const zNormSq1 = tf.tensor1d(zn);
  const rho = tf.tensor2d(specs.map((s) => s.rho), [R, 1]);
  const twoLr = tf.tensor2d(specs.map((s) => 2 * s.lr), [R, 1]);
  const e1 = new Float32Array(h);
  e1[0] = 1;
  const unit0 = tf.tensor2d(e1, [1, h]);
  // Wᵀ per run (R×d×h): the batched products z_rᵀWᵀ_r (R×1×h) and z_r δ̃_rᵀ (R×d×h) then have
  // no one-column right operand, which tfjs-wasm 4.22 computes wrongly (seen at R = 1).
  const host = {
    w: new Float32Array(R * h * d),
    b: new Float32Array(R * h),
    a: new Float32Array(R * h),
  };
  x0.forEach((x, r) => {
    for (let j = 0; j < h; j++) {
      for (let i = 0; i < d; i++) host.w[r * h * d + i * h + j] = x[j * d + i];
    }
    host.b.set(x.subarray(h * d, h * d + h), r * h);
    host.a.set(x.subarray(h * d + h), r * h);
  });
  const sigma = act === "tanh" ? tf.tanh : tf.softplus;
  const sigmaPrime = act === "tanh"
    ? (_pre: tf.Tensor, s: tf.Tensor) => tf.sub(1, tf.square(s))
    : (pre: tf.Tensor) => tf.sigmoid(pre);
  const rngs = specs.map((s) => new Rng(s.seed));
  const samples = new Int32Array(R);
  // The layers as separate tensors (Wᵀ: R×d×h, b and a: R×h): splitting and re-joining one R×D
  // tensor every step cost more than the step itself on tfjs-wasm (measured).
  const state = {
    w: tf.tensor3d(host.w, [R, d, h]),
    b: tf.tensor2d(host.b, [R, h]),
    a: tf.tensor2d(host.a, [R, h]),
  };
  const rowSum = (t: tf.Tensor) => tf.sum(t, 1, true);

  const step = () => {
    for (let r = 0; r < R; r++) samples[r] = rngs[r].int(n);
    const [w2, b2, a2] = tf.tidy(() => {
      const { w, b, a } = state;
      const idx = tf.tensor1d(samples, "int32");
      const zk = tf.gather(z, idx);
      const yk = tf.reshape(tf.gather(y, idx), [R, 1]);
      const znk = tf.reshape(tf.gather(zNormSq1, idx), [R, 1]);
      // Batched products: z_rᵀWᵀ_r (R×1×h) and the rank-one update z_r δ̃_rᵀ (R×d×h).
      const pre = tf.add(tf.reshape(tf.matMul(tf.reshape(zk, [R, 1, d]), w), [R, h]), b);
      const s = sigma(pre);
      const ap = tf.mul(a, sigmaPrime(pre, s));
      const e = tf.mul(tf.sub(rowSum(tf.mul(a, s)), yk), 2);
      const normSq = tf.mul(
        tf.square(e),
        tf.add(rowSum(tf.square(s)), tf.mul(rowSum(tf.square(ap)), znk)),
      );
      const zero = tf.equal(normSq, 0);
      const ce = tf.mul(tf.where(zero, tf.zerosLike(normSq), tf.div(rho, tf.sqrt(normSq))), e);
      const e1w = tf.where(zero, tf.mul(rho, tf.onesLike(normSq)), tf.zerosLike(normSq));
      const e1pre = tf.mul(unit0, tf.mul(e1w, tf.slice(zk, [0, 0], [R, 1])));
      const preT = tf.add(tf.add(pre, tf.mul(ap, tf.mul(ce, znk))), e1pre);
      const aT = tf.add(a, tf.mul(s, ce));
      const sT = sigma(preT);
      const eT = tf.mul(tf.sub(rowSum(tf.mul(aT, sT)), yk), twoLr);
      const dT = tf.mul(tf.mul(aT, sigmaPrime(preT, sT)), eT);
      return [
        tf.sub(w, tf.matMul(tf.reshape(zk, [R, d, 1]), tf.reshape(dT, [R, 1, h]))),
        tf.sub(b, dT),
        tf.sub(a, tf.mul(sT, eT)),
      ];
    });
    tf.dispose([state.w, state.b, state.a]);
    state.w = w2 as tf.Tensor3D;
    state.b = b2 as tf.Tensor2D;
    state.a = a2 as tf.Tensor2D;
  };

  return {
    runs: R,
    dim: D,
    step,
    async read() {
      const [w, b, a] = await Promise.all([state.w.data(), state.b.data(), state.a.data()]);
      return specs.map((_, r) => {
        const x = new Float64Array(D);
        for (let j = 0; j < h; j++) {
          for (let i = 0; i < d; i++) x[j * d + i] = w[r * h * d + i * h + j];
        }
        x.set(b.subarray(r * h, (r + 1) * h), h * d);
        x.set(a.subarray(r * h, (r + 1) * h), h * d + h);
        return x;
      });
    },
    async sync() {
      await state.a.data();
    },
    lastSamples: samples,
    dispose() {
      tf.dispose([state.w, state.b, state.a, z, y, zNormSq1, rho, twoLr, unit0]);
    },
  };
}
