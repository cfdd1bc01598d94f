/**
 * One call the pipeline's spectral stage makes per checkpoint: every spectral metric at a point,
 * as a flat map of snake_case names to numbers.
 * @module
 */
import type { F64Oracle } from "../engine/oracle.ts";
import { Rng } from "../rng.ts";
import { sampleAlignment } from "./alignment.ts";
import { gaussNewtonProjection, gramEigenvalues, type ResidualModel } from "./gauss_newton.ts";
import { lanczos } from "./lanczos.ts";
import { denseHessian, dot, hessianMatvec, norm, symmetricEigen } from "./linalg.ts";
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
  /** Φ stops when ‖∇L‖ < this (default 1e-10; use ~1e-4 with float32 gradients). */
  phiGradTol?: number;
  /** Explicit Φ step cap before the stiff solver takes over (default 2000 steps of 6 gradients). */
  phiMaxSteps?: number;
  /** Stiff Φ step cap (default 2000 steps of 2 gradients and D HVPs). */
  phiStiffMaxSteps?: number;
  /** At most this many samples for the per-sample metrics (default 32, a seeded subset). */
  maxSamples?: number;
  /** Dense Hessians (D HVPs and a D×D eigendecomposition) when D ≤ this (default 128). */
  denseUpTo?: number;
  /**
   * Residuals r_k = f_k − y_k with their Jacobian and the scale c of ∇²L = c·JᵀJ on Γ (Setting
   * 5.1 models): enables phi_gn_distance and the Gram route for λ_M.
   */
  residualModel?: { model: ResidualModel; scale: number };
  /**
   * Scalars of a point reported under their own names at x and, with atManifold, prefixed `phi_`
   * at Φ(x) (the stage passes the held-out `test_loss` and the problem's point metrics).
   */
  pointMetrics?: (x: Float64Array) => Record<string, number>;
  /**
   * How Φ(x) is found: "flow" (default) integrates the gradient flow; "gauss-newton" (needs
   * `residualModel`) takes the Levenberg–Marquardt projection P_GN(x) onto Γ = {r = 0} instead,
   * which agrees with Φ(x) to first order in ‖x − Φ(x)‖ (its error is O(‖x − Φ(x)‖²)) at the cost of
   * a few Jacobians: the route for networks whose flow to Γ costs thousands of gradients.
   */
  phiVia?: "flow" | "gauss-newton";
}

/** Codes of `phi_method`. */
export const PHI_METHOD_CODE = { explicit: 1, stiff: 2, gaussNewton: 3 } as const;
/** Codes of `phi_rank_method`: how λ_M and λ_{M+1} at Φ were computed. */
export const RANK_METHOD_CODE = { dense: 1, lanczos: 2, gram: 3 } as const;

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
 * - `eigengap`: (λ1 − λ2)/λ1 (NaN when D = 1 or λ1 = 0).
 * - `cos_align_topk`: ‖P_{span(v1…vk)} ĝ‖, ĝ = ∇L/‖∇L‖ (NaN when ∇L = 0).
 * - `cos_align_m`: |cos(∇L, v_m)|, v_m the m-th eigenvector (dense when D ≤ denseUpTo, else the
 *   m-th Lanczos vector; NaN when ∇L = 0).
 * - `dist_to_manifold`: ‖x − Φ(x)‖ (Φ by gradient flow; NaN if it did not converge).
 * - `phi_converged`: 1 if the flow reached ‖∇L‖ < phiGradTol, else 0.
 * - `phi_method` (1 explicit Dormand–Prince, 2 stiff exponential Rosenbrock, 3 the Gauss–Newton
 *   projection of `phiVia: "gauss-newton"`), `phi_flow_time` (NaN for 3), `phi_steps` (attempted,
 *   both integrators; Levenberg–Marquardt iterations for 3), `phi_grad_norm` = ‖∇L(Φ)‖. With
 *   method 3, `phi_converged` is 1 when the RMS residual reached 1e-10 and ‖∇L‖ < phiGradTol.
 * - `phi_gn_distance`: ‖Φ(x) − P_GN(x)‖, P_GN the Levenberg–Marquardt projection of x onto Γ (only
 *   with `residualModel`; NaN when it did not converge or Φ did not).
 *
 * With `perSample`: `cos_align_sample_mean`, `cos_align_sample_min`: mean and minimum over samples
 * k of |cos(∇L_k, v1(∇²L_k))| (NaN where ∇L_k = 0 is skipped).
 *
 * With `rho`: `r_max` = max_{‖v‖≤1} L(x+ρv) − L(x) (best of projected ascent from ĝ, ±v1 and two
 * random starts), `r_asc` = L(x+ρĝ) − L(x), `r_avg`, `r_avg_se` = E_u L(x+ρu) − L(x) over the unit
 * sphere (antithetic Monte Carlo) and its standard error. With `rho` and `perSample`:
 * `r_max_sample_mean` = mean over the samples k of R^Max_{k,ρ}(x) = max_{‖v‖≤1} L_k(x+ρv) − L_k(x)
 * (same ascent, from ĝ_k, ±v1(∇²L_k) and two random starts).
 *
 * With `pointMetrics`: its keys at x, and with atManifold the same prefixed `phi_` at Φ(x).
 *
 * With `atManifold` (all at Φ(x), even when the flow did not converge — check phi_converged):
 * `phi_loss`, `phi_lambda_1`..`phi_lambda_k`, `phi_lambda_m`, `phi_trace`, `phi_trace_se`,
 * `phi_eigengap`, for D ≤ 8 the coordinates `phi_x_1`..`phi_x_D`, and
 * - `phi_lambda_m_next` = λ_{M+1}(Φ) and `phi_rank_ratio` = λ_M/max(|λ_{M+1}|, 2⁻⁵²λ1) (the rank-M
 *   check on Γ; M = numSamples), computed as `phi_rank_method` says: 1 dense (D ≤ denseUpTo), 2
 *   Lanczos with k = M + 1, 3 neither fits but a residual model exists (λ_{M+1} and the ratio
 *   NaN: `phi_lambda_m_gram` still gives λ_M); NaN when M ≥ D.
 * - with `residualModel`: `phi_lambda_m_gram` = the M-th eigenvalue of c·JJᵀ at Φ, which on Γ is
 *   λ_M exactly whatever D (the non-zero spectrum of ∇²L = c·JᵀJ), and likewise
 *   `phi_lambda_1_gram`, `phi_lambda_2_gram` (λ1, λ2; NaN when M = 1) and `phi_trace_gram` (Tr,
 *   the sum of the M eigenvalues): the exact values the Lanczos and Hutch++ ones are checked against.
 * - `dist_top_k` = ‖P(x − Φ)‖ and `dist_rest` = ‖(I − P)(x − Φ)‖, P the projection onto
 *   span(v1…vk) at Φ.
 *
 * Cost (HVP = Hessian-vector product): Lanczos ≤ lanczosMaxIter HVPs at x (one run for both k and
 * m), plus the same at Φ(x) with atManifold; trace D HVPs (D ≤ exactTraceUpTo) or traceProbes,
 * twice with atManifold; Φ ≤ 6·phiMaxSteps + 1 gradients, then ≤ 2000 stiff steps of 2 gradients
 * and D HVPs; dense Hessians D HVPs each (at x, and at Φ with atManifold); per-sample
 * min(M, maxSamples) × (1 gradient + ≤ lanczosMaxIter HVPs, plus R^Max with rho); sharpness ≤ 5·100
 * gradients and losses (R^Max) + 2·mcSamples + 3 losses (R^Avg, R^Asc).
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
  const denseUpTo = opts.denseUpTo ?? 128;
  const lanczosOpts = {
    k: Math.max(k, m, Math.min(2, dim)),
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
    sampleMax: seeds.int(2 ** 31),
    rank: seeds.int(2 ** 31),
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
  Object.assign(out, opts.pointMetrics?.(x));
  const g = new Float64Array(dim);
  await oracle.grad(x, g);
  const gradNorm = norm(g);
  out.grad_norm = gradNorm;
  const eig = await spectra(x, "", [seed.lanczos, seed.trace]);
  out.lanczos_converged = eig.converged ? 1 : 0;
  const v1 = eig.vectors[0];
  out.cos_align = gradNorm > 0 ? Math.abs(dot(g, v1)) / gradNorm : Number.NaN;
  out.eigengap = eigengap(eig.values);
  let top2 = 0;
  for (let i = 0; i < k; i++) top2 += dot(g, eig.vectors[i]) ** 2;
  out.cos_align_topk = gradNorm > 0 ? Math.sqrt(top2) / gradNorm : Number.NaN;
  const vm = dim <= denseUpTo
    ? symmetricEigen(await denseHessian(oracle, x), dim).vectors[m - 1]
    : eig.vectors[m - 1];
  out.cos_align_m = gradNorm > 0 ? Math.abs(dot(g, vm)) / gradNorm : Number.NaN;

  const flow = await manifoldPoint(oracle, x, opts);
  const displacement = x.map((xi, i) => xi - flow.x[i]);
  out.dist_to_manifold = flow.converged ? norm(displacement) : Number.NaN;
  out.phi_converged = flow.converged ? 1 : 0;
  out.phi_method = PHI_METHOD_CODE[flow.method];
  out.phi_flow_time = flow.time;
  out.phi_steps = flow.steps;
  out.phi_grad_norm = flow.gradNorm;
  out.phi_gn_distance = Number.NaN;
  if (opts.residualModel && flow.converged && flow.method !== "gaussNewton") {
    const gn = gaussNewtonProjection(opts.residualModel.model, x);
    if (gn.converged) out.phi_gn_distance = norm(gn.x.map((v, i) => v - flow.x[i]));
  }

  let samples: Awaited<ReturnType<typeof sampleAlignment>> | undefined;
  if (perSample) {
    samples = await sampleAlignment(oracle, x, {
      seed: seed.samples,
      maxSamples: opts.maxSamples,
      tol: lanczosOpts.tol,
      maxIter: lanczosOpts.maxIter,
    });
    out.cos_align_sample_mean = samples.mean;
    out.cos_align_sample_min = samples.min;
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
    if (samples) {
      const rng = new Rng(seed.sampleMax);
      let sum = 0;
      for (const [i, sample] of samples.samples.entries()) {
        const v = samples.vectors[i];
        const res = await sharpnessMax(oracle, x, {
          rho,
          batch: Int32Array.of(sample),
          starts: [v, v.map((a) => -a)],
          seed: rng.int(2 ** 31),
        });
        sum += res.value;
      }
      out.r_max_sample_mean = sum / samples.samples.length;
    }
  }

  if (opts.atManifold) {
    out.phi_loss = await oracle.loss(flow.x);
    for (const [key, value] of Object.entries(opts.pointMetrics?.(flow.x) ?? {})) {
      out[`phi_${key}`] = value;
    }
    const phiEig = await spectra(flow.x, "phi_", [seed.phiLanczos, seed.phiTrace]);
    out.phi_eigengap = eigengap(phiEig.values);
    if (dim <= 8) { for (let i = 0; i < dim; i++) out[`phi_x_${i + 1}`] = flow.x[i]; }
    const rank = await rankAtManifold(oracle, flow.x, {
      denseUpTo,
      lanczos: { ...lanczosOpts, seed: seed.rank },
      residualModel: opts.residualModel,
    });
    out.phi_lambda_m_next = rank.next;
    out.phi_rank_ratio = rank.ratio;
    out.phi_rank_method = rank.method;
    if (opts.residualModel) {
      const { model, scale } = opts.residualModel;
      const gram = gramEigenvalues(model, flow.x, scale);
      out.phi_lambda_m_gram = gram[model.numSamples - 1];
      out.phi_lambda_1_gram = gram[0];
      out.phi_lambda_2_gram = gram.length > 1 ? gram[1] : Number.NaN;
      out.phi_trace_gram = gram.reduce((a, b) => a + b, 0);
    }
    const basis = rank.vectors ?? phiEig.vectors;
    let top = 0;
    for (let i = 0; i < k; i++) top += dot(displacement, basis[i]) ** 2;
    const total = dot(displacement, displacement);
    out.dist_top_k = Math.sqrt(top);
    out.dist_rest = Math.sqrt(Math.max(0, total - top));
  }
  return out;
}

/** Φ(x) by the route `opts.phiVia` names, with the record the tables report. */
async function manifoldPoint(
  oracle: F64Oracle,
  x: Float64Array,
  opts: AnalyzeOptions,
): Promise<{
  x: Float64Array;
  converged: boolean;
  method: keyof typeof PHI_METHOD_CODE;
  time: number;
  steps: number;
  gradNorm: number;
}> {
  const gradTol = opts.phiGradTol ?? 1e-10;
  if ((opts.phiVia ?? "flow") === "flow") {
    return await phi(oracle, x, {
      gradTol,
      maxSteps: opts.phiMaxSteps,
      stiffMaxSteps: opts.phiStiffMaxSteps,
    });
  }
  if (!opts.residualModel) {
    throw new RangeError('phiVia "gauss-newton" needs a model with residuals (Setting 5.1)');
  }
  const gn = gaussNewtonProjection(opts.residualModel.model, x, { tol: 1e-10 });
  const g = new Float64Array(oracle.dim);
  await oracle.grad(gn.x, g);
  const gradNorm = norm(g);
  return {
    x: gn.x,
    converged: gn.converged && gradNorm < gradTol,
    method: "gaussNewton",
    time: Number.NaN,
    steps: gn.iterations,
    gradNorm,
  };
}

/** (λ1 − λ2)/λ1 of descending eigenvalues; NaN with fewer than two or λ1 = 0. */
function eigengap(values: Float64Array): number {
  return values.length >= 2 && values[0] !== 0 ? (values[0] - values[1]) / values[0] : Number.NaN;
}

/**
 * λ_{M+1} at Φ, the ratio λ_M/max(|λ_{M+1}|, 2⁻⁵²λ1), and (dense route) all eigenvectors, by the
 * cheapest route that gives λ_M: dense, Lanczos with k = M + 1, or the Gram matrix.
 */
async function rankAtManifold(
  oracle: F64Oracle,
  at: Float64Array,
  opts: {
    denseUpTo: number;
    lanczos: { tol: number; maxIter: number; seed: number };
    residualModel?: { model: ResidualModel; scale: number };
  },
): Promise<{ next: number; ratio: number; method: number; vectors?: Float64Array[] }> {
  const dim = oracle.dim, mm = oracle.numSamples;
  const ratio = (values: ArrayLike<number>) => {
    const floor = 2 ** -52 * Math.abs(values[0]);
    return values[mm - 1] / Math.max(Math.abs(values[mm]), floor);
  };
  if (dim <= opts.denseUpTo) {
    const eig = symmetricEigen(await denseHessian(oracle, at), dim);
    const defined = mm < dim;
    return {
      next: defined ? eig.values[mm] : Number.NaN,
      ratio: defined ? ratio(eig.values) : Number.NaN,
      method: RANK_METHOD_CODE.dense,
      vectors: eig.vectors,
    };
  }
  // Lanczos resolves λ_{M+1} when its iterations span the whole space (D ≤ the cap: exact), or
  // with room to spare beyond its M + 1 Ritz pairs; otherwise they would be unconverged Ritz
  // values, and the Gram route serves instead.
  const cap = opts.lanczos.maxIter;
  if (mm + 1 <= dim && (dim <= cap || 2 * (mm + 1) <= cap)) {
    const eig = await lanczos(hessianMatvec(oracle, at), dim, { ...opts.lanczos, k: mm + 1 });
    return { next: eig.values[mm], ratio: ratio(eig.values), method: RANK_METHOD_CODE.lanczos };
  }
  const method = opts.residualModel ? RANK_METHOD_CODE.gram : Number.NaN;
  return { next: Number.NaN, ratio: Number.NaN, method };
}
