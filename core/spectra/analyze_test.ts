import { assert, assertClose, assertEquals } from "../../testing/assert.ts";
import { analyzePoint } from "./analyze.ts";
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
