/**
 * The MLPs on the runs axis: R runs of the two- or three-layer network (tf_mlp.ts, tf_mlp3.ts) on
 * one data set, their parameters stacked as [R, D] in the unbatched flat layout, with loss,
 * gradient, HVP and label-noise gradient of every run in one tensor computation (autodiff through
 * tfjs_runs_objective.ts), and for the two-layer net the fused SAM steps of tf_mlp_sam.ts batched
 * over the runs.
 *
 * - Full batch on wasm/webgpu: samples along columns, the runs' first layers stacked as one
 *   [R·h, d] matrix times the shared zᵀ through `rightMul`, so the large products and their
 *   derivatives are untransposed with a constant data matrix as right operand, as in tf_mlp.ts.
 * - Per-run batches (and the full batch on cpu): samples along rows, each run's rows of z gathered
 *   into [R, b, d] and batched products.
 * The output layer f = Σ_j a_j s_j is a reduction, not a product: tfjs-wasm 4.22 computes batched
 * products with a one-column right operand wrongly (seen at R = 1).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Batch, Objective } from "../engine/types.ts";
import type { TfRunsScalar, TfRunsVec } from "../engine/tfjs_runs.ts";
import { tfRunsObjective } from "../engine/tfjs_runs_objective.ts";
import { columns } from "../engine/columns.ts";
import { activation } from "../engine/activations.ts";
import { rightMul, wasmTanh } from "./tf_mlp.ts";
import { MLP_ACTIVATIONS, type MlpActivation, mlpDepth } from "./mlp.ts";
import type { Dataset } from "./types.ts";
import { datasetArray, datasetShape, enumField, fail } from "./validate.ts";

/** A runs-axis objective of the MLPs. */
export type TfRunsObjective = Objective<TfRunsVec, TfRunsScalar, TfRunsScalar>;

/** A runs-axis fused SAM step `(x, batch, lr, rho) => void`, lr and rho [R, 1]. */
export type FusedRunsSam = (
  x: TfRunsVec,
  batch: Batch,
  lr: TfRunsScalar,
  rho: TfRunsScalar,
) => void;

/** The validated model and its data tensors, shared by both depths. */
interface MlpRunsData {
  readonly n: number;
  readonly d: number;
  readonly h: number;
  readonly R: number;
  readonly act: MlpActivation;
  readonly z: tf.Tensor2D;
  /** z's float32 values on the host (no read-back: webgpu under Deno cannot read synchronously). */
  readonly zHost: Float32Array;
  /** y's float32 values on the host. */
  readonly yHost: Float32Array;
  readonly y: tf.Tensor1D;
  /** σ for autodiff (double-backprop safe). */
  readonly sigma: (x: tf.Tensor) => tf.Tensor;
  /** The full batch's first layer W ↦ W·zᵀ for stacked W [R·h, d]; undefined on cpu. */
  readonly inputLayer?: (w: tf.Tensor2D) => tf.Tensor2D;
  /** zᵀ (d×n), the right operand of `inputLayer` and of the fused full-batch step. */
  readonly zT: tf.Tensor2D;
}

function mlpRunsData(dataset: Dataset, runs: number, depth: 2 | 3): MlpRunsData {
  const kind = "mlp";
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`runs must be ≥ 1 (got ${runs})`);
  const [n, d] = datasetShape(dataset, "z", 2);
  const h = dataset.params.hidden;
  if (typeof h !== "number" || !Number.isInteger(h) || h < 1) {
    fail(kind, `params.hidden must be a positive integer (got ${JSON.stringify(h)})`);
  }
  if (mlpDepth(dataset) !== depth) {
    fail(
      kind,
      depth === 2 ? "params.depth 3 is tfMlp3Runs's" : "tfMlp3Runs needs params.depth = 3",
    );
  }
  const act = enumField(kind, "params.activation", dataset.params.activation, {
    allowed: MLP_ACTIVATIONS,
    fallback: "tanh",
  });
  const sigma = act === "tanh" && tf.getBackend() === "wasm" ? wasmTanh : activation(act);
  const zHost = Float32Array.from(datasetArray(dataset, "z", [n, d]));
  const z = tf.tensor2d(zHost, [n, d]);
  const yHost = Float32Array.from(datasetArray(dataset, "y", [n]));
  const y = tf.tensor1d(yHost);
  const zT = tf.transpose(z);
  // The cpu backend keeps samples along rows for the full batch too, as tf_mlp.ts does (its
  // column broadcasts are slow generic loops there).
  const inputLayer = tf.getBackend() === "cpu" ? undefined : rightMul(zT, z);
  return { n, d, h, R: runs, act, z, zHost, yHost, y, sigma, inputLayer, zT };
}

/**
 * Each run's inputs [R, b, d] and targets [R, b] for a batch [R, b]; for the full batch z and y
 * with a batch dimension of 1, which the batched products broadcast over the runs.
 */
function rowsOf(m: MlpRunsData, batch?: tf.Tensor2D): { zb: tf.Tensor3D; yb: tf.Tensor2D } {
  const { n, d, z, y } = m;
  if (!batch) return { zb: tf.reshape(z, [1, n, d]), yb: tf.reshape(y, [1, n]) };
  const [R, b] = batch.shape, flat = tf.reshape(batch, [-1]);
  return {
    zb: tf.reshape(tf.gather(z, flat), [R, b, d]),
    yb: tf.reshape(tf.gather(y, flat), [R, b]),
  };
}

/** The objective from per-run residuals f − y ([R, b], or [R, n] for the full batch). */
function objectiveOf(
  m: MlpRunsData,
  dim: number,
  residuals: (x: tf.Tensor2D, batch?: tf.Tensor2D) => tf.Tensor2D,
  extra: { fusedSam?: TfRunsObjective["fusedSam"]; dispose?: tf.Tensor[] } = {},
): TfRunsObjective {
  return tfRunsObjective((x, batch) => tf.mean(tf.square(residuals(x, batch)), 1), {
    dim,
    runs: m.R,
    numSamples: m.n,
    labelNoiseLoss: (x, batch, noise) => tf.mean(tf.square(tf.sub(residuals(x, batch), noise)), 1),
    fusedSam: extra.fusedSam,
    dispose: () => tf.dispose([m.z, m.y, m.zT, ...(extra.dispose ?? [])]),
  });
}

/**
 * R runs of the two-layer mlp objective (tfMlp's) on tfjs's current backend: D = h(d + 2),
 * M = n, with labelNoiseGrad and fused SAM steps for the full batch and for one sample per run.
 */
export function tfMlpRuns(dataset: Dataset, runs: number): TfRunsObjective {
  const m = mlpRunsData(dataset, runs, 2);
  const { n, d, h, R, y, sigma, inputLayer } = m;
  const residuals = (x: tf.Tensor2D, batch?: tf.Tensor2D) => {
    const [w, b, a] = tf.split(x, [h * d, h, h], 1);
    if (!batch && inputLayer) {
      const pre = tf.add(
        tf.reshape(inputLayer(tf.reshape(w, [R * h, d])), [R, h, n]),
        tf.reshape(b, [R, h, 1]),
      );
      const f = tf.sum(tf.mul(sigma(pre), tf.reshape(a, [R, h, 1])), 1);
      return tf.sub(f, tf.reshape(y, [1, n])) as tf.Tensor2D;
    }
    const { zb, yb } = rowsOf(m, batch);
    const pre = tf.add(
      runsMatMul(zb, tf.reshape(w, [R, h, d]), { transposeB: true }),
      tf.reshape(b, [R, 1, h]),
    );
    const f = tf.sum(tf.mul(sigma(pre), tf.reshape(a, [R, 1, h])), 2);
    return tf.sub(f, yb) as tf.Tensor2D;
  };
  const sam = samTensors(m);
  return objectiveOf(m, h * (d + 2), residuals, {
    fusedSam: (batchSize) => fusedMlpRunsSam(sam, batchSize),
    dispose: [sam.e1, sam.unit0],
  });
}

/**
 * R runs of the three-layer mlp objective (tfMlp3's) on tfjs's current backend:
 * D = h(d + h + 3), M = n, with labelNoiseGrad; no fused SAM (the generic step serves it).
 */
export function tfMlp3Runs(dataset: Dataset, runs: number): TfRunsObjective {
  const m = mlpRunsData(dataset, runs, 3);
  const { n, d, h, R, y, sigma, inputLayer } = m;
  const residuals = (x: tf.Tensor2D, batch?: tf.Tensor2D) => {
    const [w1, b1, w2, b2, a] = tf.split(x, [h * d, h, h * h, h, h], 1);
    const w2m = tf.reshape(w2, [R, h, h]) as tf.Tensor3D;
    if (!batch && inputLayer) {
      const pre1 = tf.add(
        tf.reshape(inputLayer(tf.reshape(w1, [R * h, d])), [R, h, n]),
        tf.reshape(b1, [R, h, 1]),
      );
      const pre2 = tf.add(runsMatMul(w2m, sigma(pre1) as tf.Tensor3D), tf.reshape(b2, [R, h, 1]));
      const f = tf.sum(tf.mul(sigma(pre2), tf.reshape(a, [R, h, 1])), 1);
      return tf.sub(f, tf.reshape(y, [1, n])) as tf.Tensor2D;
    }
    const { zb, yb } = rowsOf(m, batch);
    const pre1 = tf.add(
      runsMatMul(zb, tf.reshape(w1, [R, h, d]), { transposeB: true }),
      tf.reshape(b1, [R, 1, h]),
    );
    const pre2 = tf.add(
      runsMatMul(sigma(pre1) as tf.Tensor3D, w2m, { transposeB: true }),
      tf.reshape(b2, [R, 1, h]),
    );
    const f = tf.sum(tf.mul(sigma(pre2), tf.reshape(a, [R, 1, h])), 2);
    return tf.sub(f, yb) as tf.Tensor2D;
  };
  return objectiveOf(m, h * (d + h + 3), residuals);
}

/**
 * The per-run products a_r·b_r (b_rᵀ with `transposeB`) of two [R, ·, ·] stacks. On wasm as R
 * two-dimensional untransposed products (see `stackedProduct`); elsewhere tf.matMul's batched kernel.
 */
function runsMatMul(
  a: tf.Tensor3D,
  b: tf.Tensor3D,
  opts: { transposeB?: boolean } = {},
): tf.Tensor3D {
  if (tf.getBackend() !== "wasm") return tf.matMul(a, b, false, opts.transposeB);
  return stackedProduct(a, opts.transposeB ? tf.transpose(b, [0, 2, 1]) : b);
}

/**
 * a_r·b_r for every r, as R 2-D products stacked, with gradients (dy_r·b_rᵀ, a_rᵀ·dy_r) that are
 * again such products of explicitly transposed copies: no derivative of any order runs a batched
 * or a transposed matMul, both slow on tfjs-wasm 4.22 (its batched matMul takes 14 ms for
 * [5, 64, 64]·[5, 64, 256] where five 2-D products take 1.2–1.9 ms; measured, 2 cores). The
 * splitting happens inside the op, so no gradient passes through unstack.
 */
const stackedProduct: (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D = tf.customGrad(
  ((a: tf.Tensor3D, b: tf.Tensor3D, save: tf.GradSaveFunc) => {
    save([a, b]);
    const bs = tf.unstack(b) as tf.Tensor2D[];
    return {
      value: tf.stack((tf.unstack(a) as tf.Tensor2D[]).map((ar, r) => tf.matMul(ar, bs[r]))),
      gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => {
        const [av, bv] = saved as [tf.Tensor3D, tf.Tensor3D];
        return [
          stackedProduct(dy, tf.transpose(bv, [0, 2, 1])),
          stackedProduct(tf.transpose(av, [0, 2, 1]), dy),
        ];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0],
) as unknown as (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;

/** What the fused steps need beyond the model's data. */
interface SamTensors extends MlpRunsData {
  /** ‖z_k‖² + 1 per sample, float32 values on the host. */
  readonly zNormSq1: Float32Array;
  /** e₁ of length D as a [1, D] row (the ascent direction where a run's gradient is 0). */
  readonly e1: tf.Tensor2D;
  /** e₁ of length h as a [1, h] row. */
  readonly unit0: tf.Tensor2D;
  /** σ forward only (no second derivatives needed). */
  readonly sigmaFwd: (x: tf.Tensor) => tf.Tensor;
  /** σ' from the pre-activation and σ's value. */
  readonly sigmaPrime: (pre: tf.Tensor, s: tf.Tensor) => tf.Tensor;
}

function samTensors(m: MlpRunsData): SamTensors {
  const { n, d, h } = m;
  const z32 = m.zHost;
  const zn = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    let s = 1;
    for (let i = 0; i < d; i++) s += z32[k * d + i] ** 2;
    zn[k] = s;
  }
  const unit = (len: number) => {
    const e = new Float32Array(len);
    e[0] = 1;
    return tf.tensor2d(e, [1, len]);
  };
  return {
    ...m,
    zNormSq1: zn,
    e1: unit(h * (d + 2)),
    unit0: unit(h),
    sigmaFwd: m.act === "softplus"
      ? tf.softplus
      : tf.getBackend() === "wasm"
      ? sigmoidTanh
      : tf.tanh,
    sigmaPrime: m.act === "tanh" ? (_pre, s) => tf.sub(1, tf.square(s)) : (pre) => tf.sigmoid(pre),
  };
}

/** tanh(t) = 2·sigmoid(2t) − 1, forward only: tfjs-wasm's Tanh kernel is scalar code. */
function sigmoidTanh(x: tf.Tensor): tf.Tensor {
  return tf.sub(tf.mul(tf.sigmoid(tf.mul(x, 2)), 2), 1);
}

/**
 * Each run's W·z_k ([R, h]) for x [R, h(d + 2)] and the runs' inputs zk3 [R, 1, d], as a row
 * reduction (no product with a one-column operand). When d divides 2h, x seen as
 * [R, h + 2h/d, d] has W's rows first, so no copy of W is made (the last 2h/d rows, b and a, give
 * sums that are dropped); otherwise W is copied out (`columns`: on wasm not through tfjs's Slice).
 */
function firstLayer(x: tf.Tensor2D, zk3: tf.Tensor3D, d: number, h: number): tf.Tensor2D {
  const R = x.shape[0];
  if ((2 * h) % d === 0) {
    const rows = tf.reshape(x, [R, h + (2 * h) / d, d]);
    return columns(tf.sum(tf.mul(rows, zk3), 2) as tf.Tensor2D, 0, h);
  }
  const w = tf.reshape(columns(x, 0, h * d), [R, h, d]);
  return tf.sum(tf.mul(w, zk3), 2) as tf.Tensor2D;
}

/** Replaces `x.t` by `next` and frees the previous tensor. */
function swap(x: TfRunsVec, next: tf.Tensor2D): void {
  const old = x.t;
  x.t = next;
  old.dispose();
}

/**
 * The fused step for batches of `batchSize` samples per run: the full batch (batchSize = n) or one
 * sample; undefined for other sizes (the generic step serves them).
 */
function fusedMlpRunsSam(m: SamTensors, batchSize: number): FusedRunsSam | undefined {
  if (batchSize === m.n) return fullBatch(m);
  if (batchSize === 1) return oneSample(m);
  return undefined;
}

/** Per run, c = ρ/‖g‖ and e₁'s weight ρ·[‖g‖ = 0], from ‖g‖² ([R, 1] each). */
function ascentScale(normSq: tf.Tensor, rho: tf.Tensor): { c: tf.Tensor; e1: tf.Tensor } {
  const zero = tf.equal(normSq, 0), none = tf.zerosLike(normSq);
  const c = tf.where(zero, none, tf.div(rho, tf.sqrt(normSq)));
  const e1 = tf.where(zero, tf.mul(rho, tf.onesLike(normSq)), none);
  return { c, e1 };
}

function fullBatch(m: SamTensors): FusedRunsSam {
  const { n, d, h, R, z, zT, y } = m;
  /** Every run's ∇L: [gW (R×h×d), gb (R×h×1), ga (R×h×1)], samples along columns. */
  const grad = (w: tf.Tensor3D, b: tf.Tensor, a: tf.Tensor) => {
    const pre = tf.add(tf.reshape(tf.matMul(tf.reshape(w, [R * h, d]), zT), [R, h, n]), b);
    const s = m.sigmaFwd(pre);
    const f = tf.sum(tf.mul(s, a), 1, true);
    const e = tf.mul(tf.sub(f, tf.reshape(y, [1, 1, n])), 2 / n);
    const ga = tf.sum(tf.mul(s, e), 2, true);
    const delta = tf.mul(tf.mul(a, e), m.sigmaPrime(pre, s));
    const gW = tf.matMul(tf.reshape(delta, [R * h, n]), z);
    return [gW, tf.sum(delta, 2, true), ga] as const;
  };
  // Column blocks of x (`columns`: on wasm not through tfjs's Slice).
  const parts = (x: tf.Tensor2D) =>
    [
      tf.reshape(columns(x, 0, h * d), [R, h, d]) as tf.Tensor3D,
      tf.reshape(columns(x, h * d, h), [R, h, 1]),
      tf.reshape(columns(x, h * d + h, h), [R, h, 1]),
    ] as const;
  const flat = (gW: tf.Tensor, gb: tf.Tensor, ga: tf.Tensor) =>
    tf.concat([tf.reshape(gW, [R, h * d]), tf.reshape(gb, [R, h]), tf.reshape(ga, [R, h])], 1);
  return (x, _batch, lr, rho) => {
    swap(
      x,
      tf.tidy(() => {
        const g = flat(...grad(...parts(x.t)));
        const { c, e1 } = ascentScale(tf.sum(tf.square(g), 1, true), rho);
        const xt = tf.add(tf.add(x.t, tf.mul(g, c)), tf.mul(m.e1, e1)) as tf.Tensor2D;
        return tf.sub(x.t, tf.mul(flat(...grad(...parts(xt))), lr)) as tf.Tensor2D;
      }),
    );
  };
}

function oneSample(m: SamTensors): FusedRunsSam {
  const { d, h, R, zHost, yHost, zNormSq1, unit0 } = m;
  const rowSum = (t: tf.Tensor) => tf.sum(t, 1, true);
  return (x, batch, lr, rho) => {
    if (batch === undefined || batch.length !== R) {
      throw new RangeError(`the one-sample SAM step takes one index per run (${R} runs)`);
    }
    // The runs' samples gathered on the host: tfjs-wasm's Gather costs ≈0.05–0.1 µs per element
    // (measured), some 0.3 ms for these R rows of z.
    const zb = new Float32Array(R * d), yb = new Float32Array(R), nb = new Float32Array(R);
    for (let r = 0; r < R; r++) {
      const k = batch[r];
      if (!(k >= 0 && k < m.n)) throw new RangeError(`sample index ${k} is not in [0, ${m.n})`);
      zb.set(zHost.subarray(k * d, (k + 1) * d), r * d);
      yb[r] = yHost[k];
      nb[r] = zNormSq1[k];
    }
    swap(
      x,
      tf.tidy(() => {
        const zk = tf.tensor2d(zb, [R, d]);
        const zk3 = tf.reshape(zk, [R, 1, d]);
        const yk = tf.tensor2d(yb, [R, 1]);
        const znk = tf.tensor2d(nb, [R, 1]);
        const b = columns(x.t, h * d, h), a = columns(x.t, h * d + h, h);
        const pre = tf.add(firstLayer(x.t, zk3 as tf.Tensor3D, d, h), b);
        const s = m.sigmaFwd(pre);
        const ap = tf.mul(a, m.sigmaPrime(pre, s)); // δ = e·a⊙σ'
        const e = tf.mul(tf.sub(rowSum(tf.mul(a, s)), yk), 2);
        // ‖∇L_k‖² = e²(‖s‖² + ‖a⊙σ'‖²(‖z_k‖² + 1)).
        const normSq = tf.mul(
          tf.square(e),
          tf.add(rowSum(tf.square(s)), tf.mul(rowSum(tf.square(ap)), znk)),
        );
        const { c, e1 } = ascentScale(normSq, rho);
        const ce = tf.mul(c, e);
        // x̃ = x + c∇L_k (+ ρe₁, which moves W_00 and so pre_0 by ρ·z_k0).
        const e1pre = tf.mul(unit0, tf.mul(e1, columns(zk, 0, 1)));
        const preT = tf.add(tf.add(pre, tf.mul(ap, tf.mul(ce, znk))), e1pre);
        const aT = tf.add(a, tf.mul(s, ce));
        const sT = m.sigmaFwd(preT);
        const eT = tf.mul(tf.sub(rowSum(tf.mul(aT, sT)), yk), tf.mul(lr, 2));
        const dT = tf.mul(tf.mul(aT, m.sigmaPrime(preT, sT)), eT); // η·δ̃
        // x − η∇L_k(x̃), W's part the rank-one η·δ̃ z_kᵀ.
        const step = tf.concat([
          tf.reshape(tf.mul(tf.reshape(dT, [R, h, 1]), zk3), [R, h * d]),
          dT,
          tf.mul(sT, eT),
        ], 1);
        return tf.sub(x.t, step) as tf.Tensor2D;
      }),
    );
  };
}
