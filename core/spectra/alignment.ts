/**
 * Alignment of the gradient with the top Hessian eigenvector, |cos(∇L, v1(∇²L))|, for the full loss
 * and per sample (the mechanism behind SAM's and 1-SAM's implicit biases, docs/theory.md §3, §5).
 * The sign of v1 is arbitrary, so the absolute value is reported.
 * @module
 */
import type { Batch } from "../engine/types.ts";
import type { F64Oracle } from "../engine/oracle.ts";
import { Rng } from "../rng.ts";
import { lanczos } from "./lanczos.ts";
import { dot, hessianMatvec, norm } from "./linalg.ts";

/** Options of {@link alignment}. */
export interface AlignmentOptions {
  /** Samples whose mean loss is used (default: the full loss). */
  batch?: Batch;
  /** Lanczos seed (default 0). */
  seed?: number;
  /** Lanczos relative residual tolerance (default 1e-8). */
  tol?: number;
  /** Lanczos matvec cap (default: the dimension). */
  maxIter?: number;
}

/** Result of {@link alignment}. */
export interface AlignmentResult {
  /** |⟨∇L, v1⟩|/‖∇L‖; NaN when ∇L = 0 (undefined direction). */
  cos: number;
  /** ‖∇L‖. */
  gradNorm: number;
  /** λ1 of the Hessian of the same loss. */
  lambda1: number;
  /** Its unit eigenvector v1. */
  v1: Float64Array;
  /** HVPs used by Lanczos. */
  matvecs: number;
}

/** |cos(∇L_B, v1(∇²L_B))| at x for the mean loss L_B over `batch` (full loss by default). */
export async function alignment(
  oracle: F64Oracle,
  x: Float64Array,
  opts: AlignmentOptions = {},
): Promise<AlignmentResult> {
  const g = new Float64Array(oracle.dim);
  await oracle.grad(x, g, opts.batch);
  const gradNorm = norm(g);
  const eig = await lanczos(hessianMatvec(oracle, x, opts.batch), oracle.dim, {
    k: 1,
    seed: opts.seed,
    tol: opts.tol,
    maxIter: opts.maxIter,
  });
  const v1 = eig.vectors[0];
  return {
    cos: gradNorm > 0 ? Math.abs(dot(g, v1)) / gradNorm : Number.NaN,
    gradNorm,
    lambda1: eig.values[0],
    v1,
    matvecs: eig.iterations,
  };
}

/** Options of {@link sampleAlignment}. */
export interface SampleAlignmentOptions extends Omit<AlignmentOptions, "batch"> {
  /**
   * At most this many samples k (default 32); when M is larger a seeded subset without replacement
   * is used. Each sample costs one gradient and one Lanczos run on ∇²L_k.
   */
  maxSamples?: number;
}

/** Result of {@link sampleAlignment}. */
export interface SampleAlignmentResult {
  /** Mean of |cos(∇L_k, v1(∇²L_k))| over the samples where it is defined (∇L_k ≠ 0); NaN if none. */
  mean: number;
  /** Minimum of the same; NaN if none. */
  min: number;
  /** Per-sample values (NaN where ∇L_k = 0), in the order of `samples`. */
  values: Float64Array;
  /** The unit top eigenvector v1(∇²L_k) of each sample, in the order of `samples`. */
  vectors: Float64Array[];
  /** The sample indices used. */
  samples: Int32Array;
}

/** Per-sample alignment |cos(∇L_k, v1(∇²L_k))| (batch = {k}), averaged and minimized over samples. */
export async function sampleAlignment(
  oracle: F64Oracle,
  x: Float64Array,
  opts: SampleAlignmentOptions = {},
): Promise<SampleAlignmentResult> {
  const total = oracle.numSamples, count = Math.min(total, opts.maxSamples ?? 32);
  const rng = new Rng(opts.seed ?? 0);
  const samples = count === total
    ? Int32Array.from({ length: total }, (_, i) => i)
    : rng.sampleWithoutReplacement(total, new Int32Array(count), new Int32Array(total)).sort();
  const values = new Float64Array(count), vectors: Float64Array[] = [];
  for (const [i, k] of samples.entries()) {
    const res = await alignment(oracle, x, { ...opts, batch: Int32Array.of(k) });
    values[i] = res.cos;
    vectors.push(res.v1);
  }
  const defined = values.filter((v) => !Number.isNaN(v));
  return {
    mean: defined.length > 0 ? defined.reduce((a, b) => a + b, 0) / defined.length : Number.NaN,
    min: defined.length > 0 ? defined.reduce((m, v) => Math.min(m, v), Infinity) : Number.NaN,
    values,
    vectors,
    samples,
  };
}
