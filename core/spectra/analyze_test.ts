import { assert, assertClose, assertEquals, assertRejects } from "../../testing/assert.ts";
import { f64Engine } from "../engine/f64.ts";
import { oracleFrom } from "../engine/oracle.ts";
import { createF64Problem, initialPoint, makeDataset } from "../problems/registry.ts";
import { Rng } from "../rng.ts";
import { analyzePoint } from "./analyze.ts";
import { gaussNewtonProjection, type ResidualModel } from "./gauss_newton.ts";
import { symmetricEigen } from "./linalg.ts";
import { denseMul, matrixWithSpectrum, quadraticsOracle, sanityOracle } from "./testing_oracles.ts";

Deno.test("analyzePoint: quadratic — every metric against its closed form", async () => {
  const s = matrixWithSpectrum([4, 2, 1, 0.5], 1);
  const oracle = quadraticsOracle([s.a], 4);
  const x = new Float64Array([0.2, -0.1, 0.3, 0.05]), rho = 0.05;
  const r = await analyzePoint(oracle, x, { seed: 1, rho, k: 3, atManifold: true, mcSamples: 200 });
  const expectedKeys = [
    "loss",
    "grad_norm",
    "lambda_1",
    "lambda_2",
    "lambda_3",
    "lambda_m",
    "trace",
    "trace_se",
    "lanczos_converged",
    "cos_align",
    "dist_to_manifold",
    "phi_converged",
    "r_max",
    "r_asc",
    "r_avg",
    "r_avg_se",
    "phi_loss",
    "phi_lambda_1",
    "phi_lambda_2",
    "phi_lambda_3",
    "phi_lambda_m",
    "phi_trace",
    "phi_trace_se",
    "phi_x_1",
    "phi_x_2",
    "phi_x_3",
    "phi_x_4",
    "eigengap",
    "cos_align_topk",
    "cos_align_m",
    "phi_method",
    "phi_flow_time",
    "phi_steps",
    "phi_grad_norm",
    "phi_gn_distance",
    "phi_eigengap",
    "phi_lambda_m_next",
    "phi_rank_ratio",
    "phi_rank_method",
    "dist_top_k",
    "dist_rest",
  ];
  assertEquals(Object.keys(r).sort(), expectedKeys.sort());
  const ax = new Float64Array(4), a2x = new Float64Array(4);
  denseMul(s.a, 4, x, ax);
  denseMul(s.a, 4, ax, a2x);
  const nAx = Math.hypot(...ax);
  assertClose(r.loss, x.reduce((acc, v, i) => acc + v * ax[i], 0) / 2, { rtol: 1e-13 });
  assertClose(r.grad_norm, nAx, { rtol: 1e-13 });
  assertClose([r.lambda_1, r.lambda_2, r.lambda_3, r.lambda_m], [4, 2, 1, 4], { rtol: 1e-10 });
  assertClose([r.trace, r.trace_se], [7.5, 0], { rtol: 1e-13 });
  const c1 = x.reduce((acc, v, i) => acc + v * s.q[0][i], 0);
  assertClose(r.cos_align, 4 * Math.abs(c1) / nAx, { rtol: 1e-9 });
  assertClose(r.dist_to_manifold, Math.hypot(...x), { rtol: 1e-8 });
  assertEquals([r.phi_converged, r.lanczos_converged], [1, 1]);
  const xA3x = ax.reduce((acc, v, i) => acc + v * a2x[i], 0);
  assertClose(r.r_asc, rho * nAx + rho * rho / 2 * xA3x / (nAx * nAx), { rtol: 1e-12 });
  assert(
    Math.abs(r.r_avg - rho * rho / 8 * 7.5) <= 3 * r.r_avg_se,
    `r_avg ${r.r_avg} ± ${r.r_avg_se}`,
  );
  // max over the ball ≥ the ascent direction's value, and ≤ ρ‖Ax‖ + (ρ²/2)λ1.
  assert(
    r.r_max >= r.r_asc - 1e-15 && r.r_max <= rho * nAx + rho * rho / 2 * 4,
    `r_max ${r.r_max}`,
  );
  assertClose([r.phi_x_1, r.phi_x_2, r.phi_x_3, r.phi_x_4], [0, 0, 0, 0], { atol: 1e-8 });
  assertClose([r.phi_lambda_1, r.phi_trace, r.phi_loss], [4, 7.5, 0], { rtol: 1e-10, atol: 1e-16 });
  // The new metrics, from the known eigenpairs (λ = 4, 2, 1, 0.5; M = 1, k = 3).
  const c = s.q.map((q) => x.reduce((acc, v, i) => acc + v * q[i], 0));
  assertClose([r.eigengap, r.phi_eigengap], [0.5, 0.5], { rtol: 1e-9 });
  const top = Math.hypot(4 * c[0], 2 * c[1], 1 * c[2]);
  assertClose(r.cos_align_topk, top / nAx, { rtol: 1e-9 });
  assertClose(r.cos_align_m, r.cos_align, { rtol: 1e-9 });
  assertEquals([r.phi_method, r.phi_rank_method], [1, 1]);
  assert(r.phi_flow_time > 0 && r.phi_steps > 0 && r.phi_grad_norm < 1e-10);
  assert(Number.isNaN(r.phi_gn_distance), "no residual model");
  assertClose([r.phi_lambda_m_next, r.phi_rank_ratio], [2, 2], { rtol: 1e-10 });
  // Φ = 0, so x − Φ = x: its parts along v1..v3 and along v4.
  assertClose([r.dist_top_k, r.dist_rest], [Math.hypot(c[0], c[1], c[2]), Math.abs(c[3])], {
    rtol: 1e-8,
  });
});

Deno.test("analyzePoint: ½(1 − x1x2)² at Φ has eigenvalues (x1² + x2², 0) at the closed-form Φ", async () => {
  const x = new Float64Array([2, 0.3]);
  const r = await analyzePoint(sanityOracle(), x, { seed: 2, atManifold: true });
  const c = 4 - 0.09, x1 = Math.sqrt((c + Math.sqrt(c * c + 4)) / 2), x2 = 1 / x1;
  assertClose([r.phi_x_1, r.phi_x_2], [x1, x2], { rtol: 1e-8 });
  assertClose([r.phi_lambda_1, r.phi_lambda_2], [x1 * x1 + x2 * x2, 0], { rtol: 1e-8, atol: 1e-8 });
  assertClose(r.phi_trace, x1 * x1 + x2 * x2, { rtol: 1e-8 });
  assertClose(r.dist_to_manifold, Math.hypot(x1 - 2, x2 - 0.3), { rtol: 1e-7 });
  assert(!("r_max" in r) && !("cos_align_sample_mean" in r), "metrics that were not asked for");
  assert(!("phi_lambda_m_gram" in r) && !("r_max_sample_mean" in r));
  const withPoint = await analyzePoint(sanityOracle(), x, {
    seed: 2,
    atManifold: true,
    pointMetrics: (p) => ({ product: p[0] * p[1] }),
  });
  assertClose([withPoint.product, withPoint.phi_product], [0.6, 1], { rtol: 1e-9 });
  // Rank 1 on Γ: λ_2 = 0, so the ratio is large; dense and Lanczos routes agree.
  assertClose(r.phi_lambda_m_next, 0, { atol: 1e-8 });
  assert(r.phi_rank_ratio > 1e6, `ratio ${r.phi_rank_ratio}`);
  const model: ResidualModel = {
    dim: 2,
    numSamples: 1,
    residuals: (p, out) => void (out[0] = p[0] * p[1] - 1),
    jacobian: (p, out) => void out.set([p[1], p[0]]),
  };
  const l = await analyzePoint(sanityOracle(), x, {
    seed: 2,
    atManifold: true,
    denseUpTo: 0,
    residualModel: { model, scale: 1 },
  });
  assertEquals(l.phi_rank_method, 2);
  assertClose(l.phi_lambda_m_next, 0, { atol: 1e-8 });
  // On Γ the Gram "matrix" JJᵀ = x1² + x2², λ_M of the Hessian.
  assertClose(l.phi_lambda_m_gram, x1 * x1 + x2 * x2, { rtol: 1e-8 });
  // The Levenberg–Marquardt projection lands on Γ near Φ, closer than x is.
  assert(l.phi_gn_distance > 0 && l.phi_gn_distance < 0.5 * l.dist_to_manifold);
});

Deno.test("analyzePoint: per-sample metrics for M > 1, NaN alignment at a minimizer, reproducible", async () => {
  const s0 = matrixWithSpectrum([3, 1, 0.2], 2), s1 = matrixWithSpectrum([2, 1.5, 0.1], 3);
  const oracle = quadraticsOracle([s0.a, s1.a], 3);
  const x = new Float64Array([0.5, -0.4, 0.8]);
  const a = await analyzePoint(oracle, x, { seed: 5, rho: 0.1 });
  const b = await analyzePoint(oracle, x, { seed: 5, rho: 0.1 });
  assertEquals(a, b);
  assert(a.cos_align_sample_min <= a.cos_align_sample_mean && a.cos_align_sample_mean <= 1);
  const z = await analyzePoint(oracle, new Float64Array(3), { seed: 5 });
  assert(Number.isNaN(z.cos_align) && Number.isNaN(z.cos_align_sample_mean));
  assertEquals(z.dist_to_manifold, 0);
  // m defaults to M = 2: λ_2 of (A0 + A1)/2.
  assertEquals(z.lambda_m, z.lambda_2);
});

/** max_{‖v‖≤1} ρgᵀv + (ρ²/2)vᵀAv for PSD A = Σ λ_i q_i q_iᵀ: v = ρ(μ − ρ²A)⁻¹g with ‖v‖ = 1. */
function trustRegionMax(
  s: { eigenvalues: Float64Array; q: Float64Array[] },
  g: Float64Array,
  rho: number,
) {
  const gi = s.q.map((q) => q.reduce((acc, v, i) => acc + v * g[i], 0));
  const lam = Array.from(s.eigenvalues);
  const normV = (mu: number) =>
    Math.hypot(...gi.map((c, i) => rho * c / (mu - rho * rho * lam[i])));
  let lo = rho * rho * Math.max(...lam), hi = lo + rho * Math.hypot(...gi) + 1;
  for (let it = 0; it < 200; it++) {
    const mid = (lo + hi) / 2;
    if (normV(mid) > 1) lo = mid;
    else hi = mid;
  }
  const v = gi.map((c, i) => rho * c / (hi - rho * rho * lam[i]));
  return v.reduce((acc, vi, i) => acc + rho * gi[i] * vi + rho * rho / 2 * lam[i] * vi * vi, 0);
}

Deno.test("analyzePoint: r_max_sample_mean is the mean of the per-sample trust-region maxima", async () => {
  const s0 = matrixWithSpectrum([3, 1, 0.2], 2), s1 = matrixWithSpectrum([2, 1.5, 0.1], 3);
  const oracle = quadraticsOracle([s0.a, s1.a], 3);
  const x = new Float64Array([0.5, -0.4, 0.8]), rho = 0.3;
  const r = await analyzePoint(oracle, x, { seed: 5, rho, perSample: true });
  const expected = [s0, s1].map((s) => {
    const g = new Float64Array(3);
    denseMul(s.a, 3, x, g);
    return trustRegionMax(s, g, rho);
  });
  assertClose(r.r_max_sample_mean, (expected[0] + expected[1]) / 2, { rtol: 1e-8 });
  // cos_align_m with m = M = 2: against the dense eigenvector of (A0 + A1)/2.
  const mean = s0.a.map((v, i) => (v + s1.a[i]) / 2);
  const eig = symmetricEigen(mean, 3), g = new Float64Array(3);
  denseMul(mean, 3, x, g);
  const cos = Math.abs(eig.vectors[1].reduce((acc, v, i) => acc + v * g[i], 0)) / Math.hypot(...g);
  assertClose(r.cos_align_m, cos, { rtol: 1e-10 });
});

Deno.test("analyzePoint: the Gauss–Newton route to Φ agrees with the flow to O(δ²), Gram values with Lanczos and the exact trace", async () => {
  const ds = makeDataset({ kind: "mlp", source: "teacher", hidden: 6, d: 3, n: 5, nTest: 0 }, {
    seed: 2,
  });
  const problem = createF64Problem(ds);
  const model = {
    dim: problem.dim,
    numSamples: problem.numSamples,
    residuals: problem.residuals!.bind(problem),
    jacobian: problem.jacobian!.bind(problem),
  };
  const oracle = oracleFrom(f64Engine.ops(problem.dim), problem);
  const onGamma = gaussNewtonProjection(model, initialPoint(ds, { seed: 1 }), { tol: 1e-13 }).x;
  const direction = new Rng(5).fillNormal(new Float64Array(problem.dim));
  const scaleTo = (delta: number) => {
    const n = Math.hypot(...direction);
    return onGamma.map((v, i) => v + delta * direction[i] / n);
  };
  const opts = { seed: 0, k: 2, atManifold: true, perSample: false, exactTraceUpTo: 64 };
  const residualModel = { model, scale: problem.gaussNewtonScale! };
  const gaps: number[] = [];
  for (const delta of [2e-2, 1e-2]) {
    const x = scaleTo(delta);
    const flow = await analyzePoint(oracle, x, { ...opts, residualModel });
    const gn = await analyzePoint(oracle, x, { ...opts, residualModel, phiVia: "gauss-newton" });
    assertEquals([flow.phi_converged, gn.phi_converged, gn.phi_method], [1, 1, 3]);
    assert(Number.isNaN(gn.phi_gn_distance) && Number.isNaN(gn.phi_flow_time));
    // On Γ (both routes end there) the Gram spectrum is the Hessian's non-zero spectrum.
    for (const r of [flow, gn]) {
      assertClose(r.phi_lambda_1_gram, r.phi_lambda_1, { rtol: 1e-7 });
      assertClose(r.phi_lambda_2_gram, r.phi_lambda_2, { rtol: 1e-7 });
      assertClose(r.phi_trace_gram, r.phi_trace, { rtol: 1e-7 });
    }
    gaps.push(flow.phi_gn_distance);
    assertClose(gn.phi_lambda_1, flow.phi_lambda_1, { rtol: 20 * delta ** 2 });
  }
  // Halving δ quarters the gap between the two end points (second order): ratio 4 within 30%.
  assertClose(gaps[0] / gaps[1], 4, { rtol: 0.3 });
});

Deno.test("analyzePoint: phiVia gauss-newton without residuals is a RangeError", async () => {
  const s = matrixWithSpectrum([2, 1], 1);
  await assertRejects(
    () =>
      analyzePoint(quadraticsOracle([s.a], 2), new Float64Array([0.1, 0.2]), {
        seed: 0,
        phiVia: "gauss-newton",
      }),
    /needs a model with residuals/,
  );
});
