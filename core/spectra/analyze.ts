/**
 * One call the pipeline's spectral stage makes per checkpoint: every spectral metric at a point,
 * as a flat map of snake_case names to numbers.
 * @module
 */
import type { F64Oracle } from "../engine/oracle.ts";
import { Rng } from "../rng.ts";
import { sampleAlignment } from "./alignment.ts";
import { lanczos } from "./lanczos.ts";
import { dot, hessianMatvec, norm } from "./linalg.ts";
import { phi } from "./manifold.ts";
import { sharpnessAsc, sharpnessAvg, sharpnessMax } from "./sharpness.ts";
import { trace } from "./trace.ts";

/** Options of {@link analyzePoint}. */
export interface AnalyzeOptions {
  /** Number of top eigenvalues reported as lambda_1..lambda_k (default 2, capped at D). */
  k?: number;
  /** Index of λ_m reported as lambda_m (default min(M, D): λ_M, the smallest non-zero on Γ). */
  m?: number;
  /** Radius ρ of the sharpness metrics; they are computed only when given. */
  rho?: number;
  /** Trace probe budget when D > exactTraceUpTo (Hutch++, default 30). */
  traceProbes?: number;
  /** Exact trace (D HVPs) when D ≤ this (default 32). */
  exactTraceUpTo?: number;
  /** Seed from which every random stream of the analysis is derived. */
  seed: number;
  /** Also evaluate the spectra at Φ(x) (phi_* metrics; default false). */
  atManifold?: boolean;
  /** Per-sample alignment metrics (default: M > 1). */
  perSample?: boolean;
  /** Random directions of R^Avg (default 64, each evaluated at ±u). */
  mcSamples?: number;
  /** Lanczos relative residual tolerance (default 1e-8; use ≥ 1e-5 with a float32 HVP). */
  lanczosTol?: number;
  /** Lanczos HVP cap per run (default min(D, 300)). */
  lanczosMaxIter?: number;
  /** Φ stops when ‖∇L‖ < this (default 1e-9; use ~1e-5 with float32 gradients). */
  phiGradTol?: number;
  /** Φ step cap (default 20 000 steps of 6 gradients). */
  phiMaxSteps?: number;
  /** At most this many samples for the per-sample alignment (default 32, a seeded subset). */
  maxSamples?: number;
}

/**
 * Spectral metrics at x. Keys present depend only on the options and D, never on x, so rows of
 * different checkpoints share columns. Values that are undefined at x are NaN.
 *
 * Always:
 * - `loss`: L(x). `grad_norm`: ‖∇L(x)‖.
 * - `lambda_1`..`lambda_k`: the k largest Hessian eigenvalues (Lanczos, HVPs in the engine's precision).
 * - `lambda_m`: the m-th largest eigenvalue (λ_M on Γ: the smallest non-zero one).
 * - `lanczos_converged`: 1 if every wanted Ritz pair met the residual tolerance, else 0.
 * - `trace`, `trace_se`: Tr ∇²L(x) and its standard error (0 when exact).
 * - `cos_align`: |cos(∇L, v1(∇²L))| (NaN when ∇L = 0).
 * - `dist_to_manifold`: ‖x − Φ(x)‖ (Φ by gradient flow; NaN if it did not converge).
 * - `phi_converged`: 1 if the flow reached ‖∇L‖ < phiGradTol, else 0.
 *
 * With `perSample`: `cos_align_sample_mean`, `cos_align_sample_min`: mean and minimum over samples
 * k of |cos(∇L_k, v1(∇²L_k))| (NaN where ∇L_k = 0 is skipped).
 *
 * With `rho`: `r_max` = max_{‖v‖≤1} L(x+ρv) − L(x) (best of projected ascent from ĝ, ±v1 and two
 * random starts), `r_asc` = L(x+ρĝ) − L(x), `r_avg`, `r_avg_se` = E_u L(x+ρu) − L(x) over the unit
 * sphere (antithetic Monte Carlo) and its standard error.
 *
 * With `atManifold` (all at Φ(x), even when the flow did not converge — check phi_converged):
 * `phi_loss`, `phi_lambda_1`..`phi_lambda_k`, `phi_lambda_m`, `phi_trace`, `phi_trace_se`, and for
 * D ≤ 8 the coordinates `phi_x_1`..`phi_x_D`.
 *
 * Cost (HVP = Hessian-vector product): Lanczos ≤ lanczosMaxIter HVPs at x (one run for both k and
 * m), plus the same at Φ(x) with atManifold; trace D HVPs (D ≤ exactTraceUpTo) or traceProbes,
 * twice with atManifold; Φ ≤ 6·phiMaxSteps + 1 gradients; per-sample min(M, maxSamples) × (1
 * gradient + ≤ lanczosMaxIter HVPs); sharpness ≤ 5·100 gradients and losses (R^Max) + 2·mcSamples + 3
 * losses (R^Avg, R^Asc).
 */
export async function analyzePoint(
  oracle: F64Oracle,
  x: Float64Array,
  opts: AnalyzeOptions,
): Promise<Record<string, number>> {
  const dim = oracle.dim;
  const k = Math.min(opts.k ?? 2, dim);
  const m = opts.m ?? Math.min(oracle.numSamples, dim);
  if (!(Number.isInteger(m) && m >= 1 && m <= dim)) {
    throw new RangeError(`m must be in [1, ${dim}] (got ${m})`);
  }
  const perSample = opts.perSample ?? oracle.numSamples > 1;
  const lanczosOpts = {
    k: Math.max(k, m),
    tol: opts.lanczosTol ?? 1e-8,
    maxIter: Math.max(k, m, Math.min(dim, opts.lanczosMaxIter ?? 300)),
  };
  const traceOpts = { exactUpTo: opts.exactTraceUpTo ?? 32, probes: opts.traceProbes ?? 30 };
  // Every stream gets its own seed, drawn in a fixed order so options do not shift the others.
  const seeds = new Rng(opts.seed);
  const seed = {
    lanczos: seeds.int(2 ** 31),
    trace: seeds.int(2 ** 31),
    phiLanczos: seeds.int(2 ** 31),
    phiTrace: seeds.int(2 ** 31),
    samples: seeds.int(2 ** 31),
    max: seeds.int(2 ** 31),
    avg: seeds.int(2 ** 31),
  };
  const out: Record<string, number> = {};

  const spectra = async (at: Float64Array, prefix: string, seeds: [number, number]) => {
    const h = hessianMatvec(oracle, at);
    const eig = await lanczos(h, dim, { ...lanczosOpts, seed: seeds[0] });
    for (let i = 0; i < k; i++) out[`${prefix}lambda_${i + 1}`] = eig.values[i];
    out[`${prefix}lambda_m`] = eig.values[m - 1];
    const tr = await trace(h, dim, { ...traceOpts, seed: seeds[1] });
    out[`${prefix}trace`] = tr.estimate;
    out[`${prefix}trace_se`] = tr.se;
    return eig;
  };

  out.loss = await oracle.loss(x);
  const g = new Float64Array(dim);
  await oracle.grad(x, g);
  const gradNorm = norm(g);
  out.grad_norm = gradNorm;
  const eig = await spectra(x, "", [seed.lanczos, seed.trace]);
  out.lanczos_converged = eig.converged ? 1 : 0;
  const v1 = eig.vectors[0];
  out.cos_align = gradNorm > 0 ? Math.abs(dot(g, v1)) / gradNorm : Number.NaN;

  const flow = await phi(oracle, x, { gradTol: opts.phiGradTol, maxSteps: opts.phiMaxSteps });
  let d2 = 0;
  for (let i = 0; i < dim; i++) d2 += (x[i] - flow.x[i]) ** 2;
  out.dist_to_manifold = flow.converged ? Math.sqrt(d2) : Number.NaN;
  out.phi_converged = flow.converged ? 1 : 0;

  if (perSample) {
    const s = await sampleAlignment(oracle, x, {
      seed: seed.samples,
      maxSamples: opts.maxSamples,
      tol: lanczosOpts.tol,
      maxIter: lanczosOpts.maxIter,
    });
    out.cos_align_sample_mean = s.mean;
    out.cos_align_sample_min = s.min;
  }

  if (opts.rho !== undefined) {
    const rho = opts.rho;
    const minusV1 = v1.map((v) => -v);
    out.r_max =
      (await sharpnessMax(oracle, x, { rho, starts: [v1, minusV1], seed: seed.max })).value;
    out.r_asc = await sharpnessAsc(oracle, x, { rho });
    const avg = await sharpnessAvg(oracle, x, { rho, samples: opts.mcSamples, seed: seed.avg });
    out.r_avg = avg.estimate;
    out.r_avg_se = avg.se;
  }

  if (opts.atManifold) {
    out.phi_loss = await oracle.loss(flow.x);
    await spectra(flow.x, "phi_", [seed.phiLanczos, seed.phiTrace]);
    if (dim <= 8) { for (let i = 0; i < dim; i++) out[`phi_x_${i + 1}`] = flow.x[i]; }
  }
  return out;
}
